import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { projectPath, readProjectJson } from '../../../lib/config/project';
import { main } from '../../../scripts/cdk/env';

/** Runs the program in-process; `cdk` is a recorder. */
function run(args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const calls: (readonly string[])[] = [];
  const code = main(['node', 'env.ts', ...args], {
    out: (l) => out.push(l),
    err: (l) => err.push(l),
    runCdk: (a) => {
      calls.push(a);
      return 0;
    },
  });
  return { code, out: out.join('\n'), err: err.join('\n'), calls };
}

describe('the composed cdk commands', () => {
  test.each([
    [
      ['diff', '--env', 'prod'],
      ['diff', '-c', 'env=prod', 'Prod/*', '--no-notices'],
    ],
    [
      ['diff', '--env', 'staging', '--profile', 'orcha-prod'],
      ['diff', '-c', 'env=staging', 'Staging/*', '--profile', 'orcha-prod', '--no-notices'],
    ],
    [
      ['deploy', '--env', 'dev'],
      ['deploy', '-c', 'env=dev', 'Dev/*', '--no-notices'],
    ],
    [
      ['destroy', '--env', 'dev'],
      ['destroy', '-c', 'env=dev', 'Dev/*', '--no-notices'],
    ],
    [['deploy-pipeline'], ['deploy', 'v1-orcha-infra-pipeline', '--no-notices']],
    [
      ['diff', '--env', 'dev', '--', '--security-only'],
      ['diff', '-c', 'env=dev', 'Dev/*', '--no-notices', '--security-only'],
    ],
  ])('%j → cdk %j', (args, expected) => {
    const { code, out, calls } = run(args);
    expect(code).toBe(0);
    expect(calls).toEqual([expected]);
    expect(out.split('\n')[0]).toBe(`cdk ${expected.map((a) => (a.includes('*') ? `'${a}'` : a)).join(' ')}`);
  });

  test.each([
    [['diff', '--env', 'qa'], 'Error: Invalid configuration: env = "qa": unknown environment'],
    [
      ['deploy', '--env', 'prod'],
      'Error: deploy --env prod: only dev is deployed from here; the pipeline deploys prod',
    ],
    [['destroy'], "error: required option '--env <env>' not specified"],
  ])('%j is refused with exit 2 and one line, without running cdk', (args, message) => {
    const { code, err, calls } = run(args);
    expect(code).toBe(2);
    expect(err).toContain(message);
    expect(err).not.toMatch(/\n\s+at /);
    expect(calls).toEqual([]);
  });
});

describe('npm scripts, up to the AWS boundary (a recording `cdk` first on PATH)', () => {
  let dir: string;
  let log: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'orcha-cdk-stub-'));
    log = path.join(dir, 'calls.log');
    writeFileSync(
      path.join(dir, 'cdk'),
      `#!/bin/bash\nprintf '%s\\n' "$*" >> "${log}"\nexit "\${CDK_STUB_STATUS:-0}"\n`,
    );
    chmodSync(path.join(dir, 'cdk'), 0o755);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const scripts = readProjectJson<{ scripts: Record<string, string> }>('package.json').scripts;

  test.each([
    ['diff', ['--env', 'prod'], 'diff -c env=prod Prod/* --no-notices'],
    ['deploy:dev', [], 'deploy -c env=dev Dev/* --no-notices'],
    ['destroy:dev', [], 'destroy -c env=dev Dev/* --no-notices'],
    [
      'deploy:pipeline',
      ['--profile', 'orcha-prod'],
      'deploy v1-orcha-infra-pipeline --profile orcha-prod --no-notices',
    ],
  ])('npm run %s -- %j runs cdk %s', (script, args, expected) => {
    expect(scripts[script]).toBeDefined();
    writeFileSync(log, '');
    // What `npm run <script> -- <args>` runs: the script's command with the arguments appended,
    // with node_modules/.bin on PATH (here after the stub, which takes the place of the real cdk).
    const result = spawnSync('bash', ['-c', `${scripts[script]} "$@"`, script, ...args], {
      cwd: projectPath(),
      encoding: 'utf8',
      // No socket on stdin: bash would take itself for an ssh session and read ~/.bashrc.
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        PATH: [dir, projectPath('node_modules', '.bin'), process.env.PATH].join(path.delimiter),
        CDK_STUB_STATUS: '3',
      },
    });
    expect(readFileSync(log, 'utf8')).toBe(`${expected}\n`);
    // cdk's exit code is the script's.
    expect(result.status).toBe(3);
  });
});
