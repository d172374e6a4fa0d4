import {
  BatchGetBuildsCommand,
  CodeBuildClient,
  ResourceNotFoundException,
  StartBuildCommand,
  type Build,
} from '@aws-sdk/client-codebuild';
import { mockClient } from 'aws-sdk-client-mock';
import { runTrigger, TRIGGER_EXIT } from '../../../codebuild/migration-test/trigger';

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
