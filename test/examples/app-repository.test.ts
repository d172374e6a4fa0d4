import * as fs from 'node:fs';
import * as path from 'node:path';
import { BUILD_SPEC, IMAGE_ENV_FILE } from '../../lib/constructs/app-pipeline';
import { loadEnvironment } from '../../lib/config/load';
import { projectPath } from '../../lib/config/project';

/**
 * The reference application repository (examples/app-repository) fits what the app pipeline and
 * the instances expect. Its hooks are run in test/assets/boot/boot.deploy-path.test.ts; Docker is not
 * available here, so the Dockerfile is checked for its contract, not built.
 */

const EXAMPLE = projectPath('examples', 'app-repository');
const read = (f: string): string => fs.readFileSync(path.join(EXAMPLE, f), 'utf8');

test('the Dockerfile has the `test` stage the build targets, and the runtime stage last', () => {
  const stages = [...read('Dockerfile').matchAll(/^FROM\s+\S+\s+AS\s+(\S+)\s*$/gim)].map((m) => m[1]);
  expect(stages).toContain('test');
  expect(stages[stages.length - 1]).toBe('runtime');
  const commands = BUILD_SPEC.phases.build.commands.join('\n');
  expect(commands).toContain('docker build --target test');
  // The image serves the app port of the environments and dispatches serve / worker / migrate.
  expect(read('Dockerfile')).toMatch(new RegExp(`^EXPOSE ${loadEnvironment('prod').compute.appPort}$`, 'm'));
  const entry = read('docker-entrypoint.sh');
  for (const command of ['serve', 'worker', ...loadEnvironment('prod').migrationTest.command]) {
    expect(entry).toContain(command);
  }
});

test('appspec.yml: version 0.0, linux, hooks that exist, are executable and are in the bundle the build uploads', () => {
  const appspec = read('appspec.yml');
  expect(appspec).toMatch(/^version: 0\.0$/m);
  expect(appspec).toMatch(/^os: linux$/m);
  const locations = [...appspec.matchAll(/^ {4}- location: (\S+)$/gm)].map((m) => m[1]!);
  expect(locations).toEqual(['scripts/application-start.sh', 'scripts/validate-service.sh']);
  for (const location of locations) {
    expect(fs.statSync(path.join(EXAMPLE, location)).mode & 0o111).not.toBe(0);
  }
  expect(BUILD_SPEC.artifacts.files).toEqual(['appspec.yml', 'scripts/**/*', IMAGE_ENV_FILE]);
});
