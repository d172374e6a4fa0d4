import {
  BatchGetBuildsCommand,
  CodeBuildClient,
  ResourceNotFoundException,
  StartBuildCommand,
  type Build,
} from '@aws-sdk/client-codebuild';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mockClient } from 'aws-sdk-client-mock';
import { main, runTrigger, TRIGGER_EXIT } from '../../../codebuild/migration-test/trigger';

const cbMock = mockClient(CodeBuildClient);
const ID = 'v1-orcha-migration-test:1234';
const running: Build = {
  id: ID,
  currentPhase: 'BUILD',
  buildComplete: false,
  logs: { deepLink: 'https://console/logs' },
};

function finished(status: string, exitCode?: string): Build {
  return {
    ...running,
    currentPhase: 'COMPLETED',
    buildComplete: true,
    buildStatus: status as Build['buildStatus'],
    exportedEnvironmentVariables: [
      { name: 'MIGRATION_SUMMARY', value: 'FAIL: columns dropped: public.customers.email' },
      ...(exitCode ? [{ name: 'MIGRATION_EXIT_CODE', value: exitCode }] : []),
    ],
  };
}

async function trigger(extra: Partial<Parameters<typeof runTrigger>[0]> = {}) {
  const lines: string[] = [];
  let t = 0;
  const code = await runTrigger({
    codebuild: new CodeBuildClient({ region: 'eu-central-1' }),
    projectName: 'v1-orcha-migration-test',
    log: (l) => lines.push(l),
    now: () => t,
    sleep: async (ms) => void (t += ms),
    ...extra,
  });
  return { code, output: lines.join('\n') };
}

beforeEach(() => cbMock.reset());

test('missing project: first deploy, exit 0', async () => {
  cbMock
    .on(StartBuildCommand)
    .rejects(new ResourceNotFoundException({ message: 'no such project', $metadata: {} }));
  const { code, output } = await trigger();
  expect(code).toBe(TRIGGER_EXIT.PASS);
  expect(output).toContain('does not exist yet: first deploy');
});

test('waits for the build, prints the log link and summary, passes the image tag', async () => {
  cbMock.on(StartBuildCommand).resolves({ build: running });
  cbMock
    .on(BatchGetBuildsCommand)
    .resolvesOnce({ builds: [running] })
    .resolves({
      builds: [
        {
          ...finished('SUCCEEDED'),
          exportedEnvironmentVariables: [
            { name: 'MIGRATION_SUMMARY', value: 'PASS: 2 migration(s) applied' },
          ],
        },
      ],
    });
  const { code, output } = await trigger({ imageTag: 'abc123' });
  expect(code).toBe(TRIGGER_EXIT.PASS);
  expect(cbMock.commandCalls(StartBuildCommand)[0]?.args[0].input).toEqual({
    projectName: 'v1-orcha-migration-test',
    environmentVariablesOverride: [{ name: 'MIGRATION_IMAGE_TAG', value: 'abc123', type: 'PLAINTEXT' }],
  });
  expect(output).toContain('Logs: https://console/logs');
  expect(output).toContain('Report: PASS: 2 migration(s) applied');
});

test('the verdict (exit 1) and errors (exit 2) are told apart', async () => {
  cbMock.on(StartBuildCommand).resolves({ build: running });
  cbMock.on(BatchGetBuildsCommand).resolves({ builds: [finished('FAILED', '1')] });
  expect((await trigger()).code).toBe(TRIGGER_EXIT.FAIL);

  cbMock.on(BatchGetBuildsCommand).resolves({ builds: [finished('FAILED', '2')] });
  expect((await trigger()).code).toBe(TRIGGER_EXIT.ERROR);

  cbMock.on(BatchGetBuildsCommand).resolves({ builds: [finished('TIMED_OUT')] });
  expect((await trigger()).code).toBe(TRIGGER_EXIT.ERROR);
});

test('gives up after its timeout', async () => {
  cbMock.on(StartBuildCommand).resolves({ build: running });
  cbMock.on(BatchGetBuildsCommand).resolves({ builds: [running] });
  const { code, output } = await trigger({ timeoutMs: 60_000, pollIntervalMs: 20_000 });
  expect(code).toBe(TRIGGER_EXIT.ERROR);
  expect(output).toContain('Gave up waiting');
  expect(cbMock.commandCalls(BatchGetBuildsCommand).length).toBe(4);
});

describe('--start and --wait: the test runs while staging deploys', () => {
  const env = { MIGRATION_TEST_PROJECT: 'v1-orcha-migration-test', AWS_REGION: 'eu-central-1' };
  let out: string[];
  let err: string[];
  const saved = { ...process.env };
  beforeEach(() => {
    out = [];
    err = [];
    jest.spyOn(console, 'log').mockImplementation((line: string) => void out.push(line));
    jest.spyOn(console, 'error').mockImplementation((line: string) => void err.push(line));
  });
  afterEach(() => {
    jest.restoreAllMocks();
    process.env = { ...saved };
  });
  const run = async (argv: string[], extra: Record<string, string> = {}) => {
    process.env = { ...saved, ...env, ...extra };
    return main(argv);
  };
  const REAL_ID = 'v1-orcha-migration-test:0b6f7c1e-2f1d-4c1e-9a53-6f0e1d2c3b4a';

  test('--start prints only the build id on stdout (the step exports it) and does not wait', async () => {
    cbMock.on(StartBuildCommand).resolves({ build: { ...running, id: REAL_ID } });
    expect(await run(['--start'], { MIGRATION_IMAGE_TAG: 'deployed-prod' })).toBe(TRIGGER_EXIT.PASS);
    expect(out).toEqual([REAL_ID]);
    expect(err.join('\n')).toContain(`Started ${REAL_ID}`);
    expect(cbMock.commandCalls(BatchGetBuildsCommand)).toHaveLength(0);
    expect(cbMock.commandCalls(StartBuildCommand)[0].args[0].input.environmentVariablesOverride).toEqual([
      { name: 'MIGRATION_IMAGE_TAG', value: 'deployed-prod', type: 'PLAINTEXT' },
    ]);
  });

  test('--start with no project yet prints none; --wait for none passes without asking CodeBuild', async () => {
    cbMock.on(StartBuildCommand).rejects(new ResourceNotFoundException({ message: 'x', $metadata: {} }));
    expect(await run(['--start'])).toBe(TRIGGER_EXIT.PASS);
    expect(out).toEqual(['none']);
    expect(await run(['--wait'], { MIGRATION_BUILD_ID: 'none' })).toBe(TRIGGER_EXIT.PASS);
    expect(cbMock.commandCalls(BatchGetBuildsCommand)).toHaveLength(0);
  });

  test('--wait returns the verdict of the started build, without starting another', async () => {
    cbMock.on(BatchGetBuildsCommand).resolves({ builds: [{ ...finished('FAILED', '1'), id: REAL_ID }] });
    expect(await run(['--wait'], { MIGRATION_BUILD_ID: REAL_ID })).toBe(TRIGGER_EXIT.FAIL);
    expect(cbMock.commandCalls(StartBuildCommand)).toHaveLength(0);
    expect(cbMock.commandCalls(BatchGetBuildsCommand)[0].args[0].input.ids).toEqual([REAL_ID]);
  });

  describe('--wait writes the summary and the report link for the step to export', () => {
    let dir: string;
    beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'trigger-result-'))));
    afterEach(() => rmSync(dir, { recursive: true, force: true }));
    const written = () => ({
      summary: readFileSync(join(dir, 'summary.txt'), 'utf8'),
      url: readFileSync(join(dir, 'report-url.txt'), 'utf8'),
    });
    const ARN = `arn:aws:codebuild:eu-central-1:700558745280:build/${REAL_ID}`;
    const PAGE =
      'https://eu-central-1.console.aws.amazon.com/codesuite/codebuild/700558745280/projects/v1-orcha-migration-test' +
      '/build/v1-orcha-migration-test%3A0b6f7c1e-2f1d-4c1e-9a53-6f0e1d2c3b4a/reports?region=eu-central-1';

    test('a finished build: its summary, and the reports page of the build derived from its ARN', async () => {
      cbMock
        .on(BatchGetBuildsCommand)
        .resolves({ builds: [{ ...finished('SUCCEEDED'), id: REAL_ID, arn: ARN }] });
      expect(await run(['--wait'], { MIGRATION_BUILD_ID: REAL_ID, MIGRATION_RESULT_DIR: dir })).toBe(
        TRIGGER_EXIT.PASS,
      );
      expect(written()).toEqual({
        summary: 'FAIL: columns dropped: public.customers.email\n',
        url: `${PAGE}\n`,
      });
      expect(out.join('\n')).toContain(`Report page: ${PAGE}`);
    });

    test('the link the build exported wins; a failing verdict still writes both (the log shows them)', async () => {
      const exportedUrl =
        'https://eu-central-1.console.aws.amazon.com/codesuite/codebuild/1/projects/p/build/p%3Ax/reports';
      const build = finished('FAILED', '1');
      cbMock.on(BatchGetBuildsCommand).resolves({
        builds: [
          {
            ...build,
            id: REAL_ID,
            arn: ARN,
            exportedEnvironmentVariables: [
              ...build.exportedEnvironmentVariables!,
              { name: 'MIGRATION_REPORT_URL', value: exportedUrl },
            ],
          },
        ],
      });
      expect(await run(['--wait'], { MIGRATION_BUILD_ID: REAL_ID, MIGRATION_RESULT_DIR: dir })).toBe(
        TRIGGER_EXIT.FAIL,
      );
      expect(written().url).toBe(`${exportedUrl}\n`);
    });

    test('one line each, the summary cut at 150 characters with an ellipsis, no link without an ARN', async () => {
      const long = `FAIL: columns dropped:\n${Array.from({ length: 40 }, (_, i) => `public.t.c${i}`).join(', ')}`;
      cbMock.on(BatchGetBuildsCommand).resolves({
        builds: [
          {
            ...finished('FAILED', '1'),
            id: REAL_ID,
            exportedEnvironmentVariables: [{ name: 'MIGRATION_SUMMARY', value: long }],
          },
        ],
      });
      await run(['--wait'], { MIGRATION_BUILD_ID: REAL_ID, MIGRATION_RESULT_DIR: dir });
      const { summary, url } = written();
      expect(summary.trimEnd()).toHaveLength(150);
      expect(summary).toMatch(/^FAIL: columns dropped: public\.t\.c0, .*…\n$/);
      expect(summary.trimEnd()).not.toContain('\n');
      expect(url).toBe('none\n');
    });

    test('nothing started (first deploy): says so, and there is no report to link', async () => {
      expect(await run(['--wait'], { MIGRATION_BUILD_ID: 'none', MIGRATION_RESULT_DIR: dir })).toBe(
        TRIGGER_EXIT.PASS,
      );
      expect(written()).toEqual({ summary: 'not run: first deploy, nothing to test yet\n', url: 'none\n' });
    });
  });

  test('--wait without a build id is an error that says so', async () => {
    expect(await run(['--wait'])).toBe(TRIGGER_EXIT.ERROR);
    expect(err.join('\n')).toContain('MIGRATION_BUILD_ID: required with --wait');
  });
});
