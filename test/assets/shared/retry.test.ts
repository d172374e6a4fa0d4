import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import {
  inlineShellLibraries,
  renderBootScript,
  SHELL_LIBRARY_DIR,
} from '../../../lib/constructs/app-instance-boot';
import { projectPath } from '../../../lib/config/project';
import { renderNatBootScript } from '../../../lib/constructs/nat-instance-boot';
import { SAMPLE_VALUES } from '../../fixtures/boot-script-values';

const LIBRARY = path.join(SHELL_LIBRARY_DIR, 'retry.sh');

describe('assets/shared/retry.sh, run', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'orcha-retry-'));
    // sleep records its argument instead of sleeping.
    writeFileSync(path.join(dir, 'sleep'), `#!/bin/bash\necho "$1" >> "${dir}/sleeps"\n`);
    chmodSync(path.join(dir, 'sleep'), 0o755);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** Sources the library (as a test may, unrendered) and runs `retry <attempts>` on a command that fails `failures` times. */
  function retry(attempts: number, failures: number) {
    rmSync(path.join(dir, 'sleeps'), { force: true });
    rmSync(path.join(dir, 'count'), { force: true });
    const script = `
set -euo pipefail
log() { echo "LOG $*"; }
source "${LIBRARY}"
flaky() { n=$(( $(cat "${dir}/count" 2>/dev/null || echo 0) + 1 )); echo "$n" > "${dir}/count"; (( n > ${failures} )); }
retry ${attempts} flaky arg && echo "RESULT ok" || echo "RESULT failed"`;
    const r = spawnSync('bash', ['-c', script], {
      encoding: 'utf8',
      // No socket on stdin: bash would take itself for an ssh session and read ~/.bashrc.
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, PATH: `${dir}${path.delimiter}${process.env.PATH}` },
    });
    const read = (f: string) => {
      try {
        return readFileSync(path.join(dir, f), 'utf8').trim().split('\n').filter(Boolean);
      } catch {
        return [];
      }
    };
    return { stdout: r.stdout, runs: Number(read('count')[0] ?? 0), sleeps: read('sleeps') };
  }

  test('succeeds on the first run without sleeping', () => {
    expect(retry(5, 0)).toEqual({ stdout: 'RESULT ok\n', runs: 1, sleeps: [] });
  });

  test('retries with 5, 10, 20 s between runs until the command succeeds', () => {
    const r = retry(5, 3);
    expect(r.runs).toBe(4);
    expect(r.sleeps).toEqual(['5', '10', '20']);
    expect(r.stdout).toContain('LOG attempt 1/5 failed, again in 5s: flaky arg');
    expect(r.stdout).toContain('RESULT ok');
  });

  test('gives up after <attempts> runs, delays capped at 60 s, and returns 1', () => {
    const r = retry(6, 99);
    expect(r.runs).toBe(6);
    expect(r.sleeps).toEqual(['5', '10', '20', '40', '60']);
    expect(r.stdout).toContain('LOG giving up after 6 attempts: flaky arg');
    expect(r.stdout).toContain('RESULT failed');
  });
});

describe('one copy, shipped with both boot scripts', () => {
  const definitions = (script: string) => script.match(/^retry\(\) \{$/gm)?.length ?? 0;

  test.each(['assets/boot/boot.sh', 'assets/nat/nat-boot.sh'])(
    '%s sources it and defines no retry of its own',
    (file) => {
      const template = readFileSync(projectPath(file), 'utf8');
      expect(definitions(template)).toBe(0);
      expect(template).toContain('source "$(dirname "${BASH_SOURCE[0]}")/../shared/retry.sh"');
    },
  );

  test('the rendered user data of both holds the library inline, once, and sources nothing', () => {
    const nat = renderNatBootScript({ region: 'eu-central-1', stackName: 'S', signalResource: 'R' });
    const boot = renderBootScript(SAMPLE_VALUES);
    for (const script of [nat, boot]) {
      expect(definitions(script)).toBe(1);
      expect(script).not.toMatch(/shared\/retry\.sh/);
    }
  });

  test('a source line of another shape is refused, not shipped unresolved', () => {
    expect(() => inlineShellLibraries('#!/bin/bash\n. ../shared/retry.sh\n', 'x.sh')).toThrow(
      /x\.sh: a shared library/,
    );
  });
});
