/**
 * codebuild/wake.ts, run as the pipeline's Staging-Wake step runs it (a real process, offline):
 * it is the ops command `wake` (tested against mocked AWS in test/scripts/ops/commands/wake.test.ts
 * and, with the step's own command line, in test/pipeline/wake-step.test.ts).
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../../lib/config/project';

const tsx = join(PROJECT_ROOT, 'node_modules', '.bin', 'tsx');
const env = { ...process.env, AWS_PROFILE: '', AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '' };
const run = (...args: string[]) =>
  spawnSync(tsx, ['codebuild/wake.ts', ...args], { cwd: PROJECT_ROOT, encoding: 'utf8', env });

test('an environment without office hours: nothing to wake, exit 0, no AWS call; bad input: exit 2 naming it', () => {
  const prod = run('--env', 'prod', '--allow-missing');
  expect([prod.status, prod.stderr]).toEqual([0, '']);
  expect(prod.stdout).toContain('prod has no office hours (officeHours.enabled is false): it never sleeps.');

  const bad = run('--env', 'staging', '--wait', 'soon');
  expect(bad.status).toBe(2);
  expect(bad.stderr).toMatch(/--wait.*soon/);
});
