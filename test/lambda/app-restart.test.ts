import { Logger } from '@aws-lambda-powertools/logger';
import {
  AutoScalingClient,
  DescribeInstanceRefreshesCommand,
  StartInstanceRefreshCommand,
  type InstanceRefreshStatus,
} from '@aws-sdk/client-auto-scaling';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { restartAfterRotation, type RestartSettings } from '../../lambda/app-restart';
import sample from '../fixtures/events/secretsmanager-rotation-succeeded.json';

const autoScaling = mockClient(AutoScalingClient);
const sns = mockClient(SNSClient);

const SETTINGS: RestartSettings = {
  environment: 'prod',
  autoScalingGroupName: 'v1-orcha-asg',
  secretArn: sample.detail.additionalEventData.SecretId,
  alertTopicArn: 'arn:aws:sns:eu-central-1:700558745280:v1-orcha-alerts',
  instanceWarmupSeconds: 300,
};

/** A secret value that must never reach a log line or an alert. */
const PASSWORD = 'Sup3r-s3cret-passw0rd-that-must-not-leak';

let printed: string[];
let logger: Logger;
beforeEach(() => {
  autoScaling.reset();
  sns.reset();
  printed = [];
  // Powertools writes JSON lines to stdout/stderr; capture everything it prints at debug level
  // (the test setup silences it for other tests).
  for (const stream of [process.stdout, process.stderr]) {
    jest.spyOn(stream, 'write').mockImplementation((chunk: unknown) => {
      printed.push(String(chunk));
      return true;
    });
  }
  process.env.POWERTOOLS_LOG_LEVEL = 'DEBUG';
  logger = new Logger({ serviceName: 'app-restart' });
});
afterEach(() => {
  jest.restoreAllMocks();
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
});

const deps = () => ({
  autoScaling: autoScaling as unknown as AutoScalingClient,
  sns: sns as unknown as SNSClient,
  logger,
});
/** The sample event, carrying a secret value where a careless handler could print it. */
const event = () => ({ ...sample, detail: { ...sample.detail, responseElements: { password: PASSWORD } } });

test('starts one launch-before-terminate instance refresh of the group, after checking none runs', async () => {
  autoScaling.on(DescribeInstanceRefreshesCommand).resolves({
    InstanceRefreshes: [{ InstanceRefreshId: 'old', Status: 'Successful' }],
  });
  autoScaling.on(StartInstanceRefreshCommand).resolves({ InstanceRefreshId: 'r-1' });

  await expect(restartAfterRotation(event(), SETTINGS, deps())).resolves.toEqual({
    outcome: 'started',
    instanceRefreshId: 'r-1',
  });

  // Ordering: look first, then start; nothing else is called.
  expect(autoScaling.calls().map((c) => c.args[0].constructor.name)).toEqual([
    'DescribeInstanceRefreshesCommand',
    'StartInstanceRefreshCommand',
  ]);
  expect(autoScaling.commandCalls(DescribeInstanceRefreshesCommand)[0]!.args[0].input).toMatchObject({
    AutoScalingGroupName: 'v1-orcha-asg',
  });
  expect(autoScaling.commandCalls(StartInstanceRefreshCommand)[0]!.args[0].input).toEqual({
    AutoScalingGroupName: 'v1-orcha-asg',
    Strategy: 'Rolling',
    Preferences: {
      MinHealthyPercentage: 100,
      MaxHealthyPercentage: 200,
      InstanceWarmup: 300,
      SkipMatching: false,
    },
  });
  expect(sns.calls()).toHaveLength(0);
  expect(printed.join('\n')).toContain('r-1');
  expect(printed.join('\n')).not.toContain(PASSWORD);
});

test.each(['InProgress', 'Pending', 'Cancelling', 'RollbackInProgress', 'Baking'] as InstanceRefreshStatus[])(
  'a refresh already %s: no second one, an alert, and the invocation fails',
  async (status) => {
    autoScaling.on(DescribeInstanceRefreshesCommand).resolves({
      InstanceRefreshes: [{ InstanceRefreshId: 'busy', Status: status }],
    });
    await expect(restartAfterRotation(event(), SETTINGS, deps())).rejects.toThrow(/busy/);
    expect(autoScaling.commandCalls(StartInstanceRefreshCommand)).toHaveLength(0);
    expect(sns.commandCalls(PublishCommand)).toHaveLength(1);
  },
);

test('a refused refresh is alerted to the alerts topic, without any secret, and rethrown', async () => {
  autoScaling.on(DescribeInstanceRefreshesCommand).resolves({ InstanceRefreshes: [] });
  const refused = Object.assign(new Error('An Instance Refresh is already in progress'), {
    name: 'InstanceRefreshInProgressFault',
  });
  autoScaling.on(StartInstanceRefreshCommand).rejects(refused);
  sns.on(PublishCommand).resolves({ MessageId: 'm-1' });

  await expect(restartAfterRotation(event(), SETTINGS, deps())).rejects.toThrow('already in progress');

  const published = sns.commandCalls(PublishCommand);
  expect(published).toHaveLength(1);
  const input = published[0]!.args[0].input;
  expect(input.TopicArn).toBe(SETTINGS.alertTopicArn);
  expect(input.Subject).toBe('Orcha prod: app restart after DB credential rotation FAILED');
  expect(input.Subject!.length).toBeLessThanOrEqual(100);
  expect(input.Message).toContain(
    'InstanceRefreshInProgressFault: An Instance Refresh is already in progress',
  );
  expect(input.Message).toContain('v1-orcha-asg');
  expect(input.Message).toContain('docs/runbooks/credential-rotation.md');
  expect(`${input.Message}\n${printed.join('\n')}`).not.toContain(PASSWORD);
});

test('an event of another secret, or not a success, changes nothing', async () => {
  const other = {
    ...sample,
    detail: { ...sample.detail, additionalEventData: { SecretId: `${SETTINGS.secretArn}x` } },
  };
  await expect(restartAfterRotation(other, SETTINGS, deps())).resolves.toMatchObject({ outcome: 'ignored' });
  const failed = { ...sample, detail: { ...sample.detail, eventName: 'RotationFailed' } };
  await expect(restartAfterRotation(failed, SETTINGS, deps())).resolves.toMatchObject({ outcome: 'ignored' });
  expect(autoScaling.calls()).toHaveLength(0);
  expect(sns.calls()).toHaveLength(0);
});

test('the secret id may come as serviceEventDetails.secretId', async () => {
  autoScaling.on(DescribeInstanceRefreshesCommand).resolves({});
  autoScaling.on(StartInstanceRefreshCommand).resolves({ InstanceRefreshId: 'r-2' });
  const { additionalEventData: _ignored, ...detail } = sample.detail;
  const e = { ...sample, detail: { ...detail, serviceEventDetails: { secretId: SETTINGS.secretArn } } };
  await expect(restartAfterRotation(e, SETTINGS, deps())).resolves.toMatchObject({ outcome: 'started' });
});
