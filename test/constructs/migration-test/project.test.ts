/**
 * The migration-test project's buildspec, RUN with a recording stub for `node` (the runner): its
 * exit status becomes the exported variables, and the build fails on a failed verdict or an
 * error unless the build is report-only.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPORT_URL_FILE, RUNNER_ENV, RUNNER_EXPORTS } from '../../../lib/config/migration-test-contract';
import { RUNNER_HOME, migrationTestBuildSpec } from '../../../lib/constructs/migration-test';

const spec = migrationTestBuildSpec('arn:aws:codebuild:eu-central-1:700558745280:report-group/r') as {
  phases: { build: { commands: string[] }; pre_build: { commands: string[] } };
  env: { 'exported-variables': string[] };
};

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'migtest-buildspec-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** Runs the build phase as CodeBuild does (one bash, stops at the first failing command). */
function build(runnerExit: number, verdict: string, reportUrl?: string) {
  const bin = join(dir, 'bin');
  spawnSync('mkdir', ['-p', bin, join(dir, 'reports')]);
  const url = reportUrl ? `echo "${reportUrl}" > reports/${REPORT_URL_FILE}\n` : '';
  writeFileSync(
    join(bin, 'node'),
    `#!/bin/bash\necho "$@" > "${dir}/node-args"\necho "summary of ${runnerExit}" > reports/summary.txt\n${url}exit ${runnerExit}\n`,
  );
  chmodSync(join(bin, 'node'), 0o755);
  const exported = spec.env['exported-variables'].map((v) => `echo "${v}=$${v}"`).join('; ');
  const script = ['set -e', ...spec.phases.build.commands, exported].join('\n');
  const r = spawnSync('bash', ['-c', script], {
    cwd: dir,
    encoding: 'utf8',
    // No socket on stdin: bash would take itself for an ssh session and read ~/.bashrc (~1.5 s a run here).
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { PATH: `${bin}:${process.env.PATH}`, [RUNNER_ENV.verdict]: verdict },
  });
  return { status: r.status, output: r.stdout + r.stderr };
}

test('the runner runs from the downloaded bundle, with source maps', () => {
  expect(spec.phases.pre_build.commands.join('\n')).toContain(`unzip -qo /tmp/runner.zip -d ${RUNNER_HOME}`);
  build(0, 'block');
  expect(readFileSync(join(dir, 'node-args'), 'utf8').trim()).toBe(
    `--enable-source-maps ${RUNNER_HOME}/runner.js`,
  );
});

test.each([
  [0, 'block', 0],
  [1, 'block', 1],
  [2, 'block', 1],
  [0, 'report-only', 0],
  [1, 'report-only', 0],
  [2, 'report-only', 0],
])(
  'runner exit %i, %s: build status %i; the status and summary are exported',
  (runnerExit, verdict, expected) => {
    const { status, output } = build(runnerExit, verdict);
    expect(status === 0 ? 0 : 1).toBe(expected);
    if (expected === 0) {
      expect(output).toContain(`${RUNNER_EXPORTS.exitCode}=${runnerExit}`);
      expect(output).toContain(`${RUNNER_EXPORTS.summary}=summary of ${runnerExit}`);
    }
    if (verdict === 'report-only' && runnerExit !== 0) expect(output).toContain('Report only');
  },
);

test("the link of the build's report page the runner wrote is exported; without one the export says so", () => {
  const page =
    'https://eu-central-1.console.aws.amazon.com/codesuite/codebuild/700558745280/projects/p/build/p%3Ax/reports';
  expect(spec.env['exported-variables']).toContain(RUNNER_EXPORTS.reportUrl);
  expect(build(0, 'block').output).toContain(`${RUNNER_EXPORTS.reportUrl}=no report written`);
  expect(build(1, 'report-only', page).output).toContain(`${RUNNER_EXPORTS.reportUrl}=${page}`);
});
