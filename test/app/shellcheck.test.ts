import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { BOOT_ASSETS_DIR, renderBootScript } from '../../lib/constructs/app-instance-boot';
import { SAMPLE_VALUES } from '../fixtures/boot-script-values';
import { projectPath } from '../../lib/config/project';

/**
 * shellcheck is required (CI installs it; locally `apt-get install -y shellcheck`): a boot
 * script that fails on the instance fails a deployment 15 minutes later, this fails now.
 */
function shellcheck(...files: string[]): { status: number | null; output: string } {
  const result = spawnSync(
    'shellcheck',
    ['--shell=bash', '--severity=style', '--external-sources', ...files],
    {
      encoding: 'utf8',
    },
  );
  if (result.error) {
    throw new Error(
      `shellcheck could not be run (${result.error.message}); install it: apt-get install -y shellcheck`,
    );
  }
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

const scripts = fs
  .readdirSync(BOOT_ASSETS_DIR)
  .filter((name) => name.endsWith('.sh'))
  .map((name) => path.join(BOOT_ASSETS_DIR, name));

describe('boot scripts pass shellcheck', () => {
  it('finds the scripts', () => {
    expect(scripts.map((s) => path.basename(s)).sort()).toEqual([
      'boot.sh',
      'orcha-prepare.sh',
      'orcha-refresh.sh',
    ]);
  });

  it.each(scripts.map((s) => [path.basename(s), s]))('%s', (_name, file) => {
    const { status, output } = shellcheck(file);
    expect(output).toBe('');
    expect(status).toBe(0);
  });

  it('the rendered user data (with the embedded files) passes too', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'orcha-boot-'));
    try {
      const file = path.join(dir, 'user-data.sh');
      fs.writeFileSync(file, renderBootScript(SAMPLE_VALUES));
      const { status, output } = shellcheck(file);
      expect(output).toBe('');
      expect(status).toBe(0);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it.each([
    'assets/nat/nat-boot.sh',
    'codebuild/tag-deployed-image.sh',
    'examples/app-repository/scripts/application-start.sh',
    'examples/app-repository/scripts/validate-service.sh',
    'examples/app-repository/docker-entrypoint.sh',
  ])('%s', (file) => {
    const { status, output } = shellcheck(projectPath(file));
    expect(output).toBe('');
    expect(status).toBe(0);
  });

  it('reports a real defect (the check is live)', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'orcha-boot-'));
    try {
      const file = path.join(dir, 'bad.sh');
      fs.writeFileSync(file, '#!/bin/bash\nrm -rf $1/*\n');
      const { status, output } = shellcheck(file);
      expect(status).not.toBe(0);
      expect(output).toMatch(/SC2086/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
