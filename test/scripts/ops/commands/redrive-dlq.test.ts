import {
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ListMessageMoveTasksCommand,
  SQSClient,
  StartMessageMoveTaskCommand,
} from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { environments } from '../../../../lib/config/environments';
import type { EnvironmentInput } from '../../../../lib/config/schema';
import { redriveDlq, type RedriveDlqOptions } from '../../../../scripts/ops/commands/redrive-dlq';
import { ExitCode } from '../../../../scripts/ops/errors';
import {
  ACCOUNT,
  OTHER_ACCOUNT,
  REGION,
  awsError,
  captureOutput,
  factory,
  mockedSts,
} from '../../../helpers/ops';

/** prod with one large tenant (queues.tenants). */
const WITH_TENANT: Record<string, EnvironmentInput> = {
  ...environments,
  prod: {
    ...environments.prod!,
    queues: { ...environments.prod!.queues, tenants: [{ name: 'acme', workers: 1 }] },
  },
};

const arn = (name: string) => `arn:aws:sqs:${REGION}:${ACCOUNT}:${name}`;
const url = (name: string) => `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/${name}`;

function setup(opts: { account?: string; dlqMessages?: number } = {}) {
  const sts = mockedSts(opts.account ?? ACCOUNT);
  const sqs = new SQSClient({ region: REGION });
  const sqsMock = mockClient(sqs);
  sqsMock
    .on(GetQueueUrlCommand)
    .callsFake((input: { QueueName: string }) => ({ QueueUrl: url(input.QueueName) }));
  sqsMock.on(GetQueueAttributesCommand).callsFake((input: { QueueUrl: string }) => {
    const name = input.QueueUrl.split('/').pop() ?? '';
    const isDlq = name.endsWith('-dlq');
    return {
      Attributes: {
        QueueArn: arn(name),
        ApproximateNumberOfMessages: String(isDlq ? (opts.dlqMessages ?? 7) : 0),
        ApproximateNumberOfMessagesNotVisible: isDlq ? '2' : '0',
      },
    };
  });
  sqsMock.on(ListMessageMoveTasksCommand).resolves({ Results: [] });
  sqsMock.on(StartMessageMoveTaskCommand).resolves({ TaskHandle: 'handle-1' });
  const clients = factory({ sts: () => sts.client, sqs: () => sqs });
  const out = captureOutput();
  let clock = 0;
  const slept: number[] = [];
  const deps = {
    clients,
    out,
    sleep: async (ms: number) => {
      slept.push(ms);
      clock += ms;
    },
    now: () => clock,
  };
  const run = (extra: Partial<RedriveDlqOptions> = {}) =>
    redriveDlq(
      { env: 'prod', queue: 'ingest', profile: 'orcha-prod', ...extra },
      { ...deps, environments: WITH_TENANT },
    );
  return { sts, sqsMock, clients, out, slept, run };
}

const running = (moved: number, handle = 'handle-1') => ({
  TaskHandle: handle,
  Status: 'RUNNING',
  SourceArn: arn('v1-orcha-global-ingest-dlq'),
  ApproximateNumberOfMessagesMoved: moved,
  ApproximateNumberOfMessagesToMove: 7,
  StartedTimestamp: 1000,
});
const finished = (status: string, moved: number, extra: Record<string, unknown> = {}) => ({
  Status: status,
  SourceArn: arn('v1-orcha-global-ingest-dlq'),
  ApproximateNumberOfMessagesMoved: moved,
  ApproximateNumberOfMessagesToMove: 7,
  StartedTimestamp: 1000,
  ...extra,
});

describe('redrive-dlq', () => {
  test('moves the ingest DLQ back to its source queue and follows the task to the end', async () => {
    const { sqsMock, out, slept, run } = setup();
    sqsMock
      .on(ListMessageMoveTasksCommand)
      .resolvesOnce({ Results: [finished('COMPLETED', 3, { StartedTimestamp: 1 })] })
      .resolvesOnce({ Results: [running(3)] })
      .resolvesOnce({ Results: [running(3)] })
      .resolves({ Results: [finished('COMPLETED', 7), finished('COMPLETED', 3, { StartedTimestamp: 1 })] });

    const result = await run({ pollSeconds: 2 });

    expect(result).toEqual({
      outcome: 'completed',
      dlq: 'v1-orcha-global-ingest-dlq',
      source: 'v1-orcha-global-ingest',
      approximateMessages: 7,
      moved: 7,
    });
    expect(sqsMock.commandCalls(StartMessageMoveTaskCommand).map((c) => c.args[0].input)).toEqual([
      { SourceArn: arn('v1-orcha-global-ingest-dlq'), DestinationArn: arn('v1-orcha-global-ingest') },
    ]);
    expect(sqsMock.commandCalls(ListMessageMoveTasksCommand)[0]?.args[0].input).toEqual({
      SourceArn: arn('v1-orcha-global-ingest-dlq'),
      MaxResults: 10,
    });
    expect(slept).toEqual([2000, 2000, 2000]);
    expect(out.stdout()).toContain('~7 messages (+2 in flight');
    // Progress is shown once per change, then the result.
    expect(out.stdout().match(/RUNNING, moved 3 of ~7/g)).toHaveLength(1);
    expect(out.stdout()).toContain(
      'Completed: moved 7 messages from v1-orcha-global-ingest-dlq to v1-orcha-global-ingest.',
    );
  });

  test('email-acquire in staging uses the staging queue names and the rate limit', async () => {
    const { sqsMock, run } = setup();
    sqsMock
      .on(ListMessageMoveTasksCommand)
      .resolvesOnce({ Results: [] })
      .resolves({ Results: [finished('COMPLETED', 7)] });
    await run({ env: 'staging', queue: 'email-acquire', maxPerSecond: 10 });
    expect(sqsMock.commandCalls(GetQueueUrlCommand).map((c) => c.args[0].input.QueueName)).toEqual([
      'v1-orcha-staging-global-email-acquire-dlq',
      'v1-orcha-staging-global-email-acquire',
    ]);
    expect(sqsMock.commandCalls(StartMessageMoveTaskCommand)[0]?.args[0].input).toEqual({
      SourceArn: arn('v1-orcha-staging-global-email-acquire-dlq'),
      DestinationArn: arn('v1-orcha-staging-global-email-acquire'),
      MaxNumberOfMessagesPerSecond: 10,
    });
  });

  test('dry run shows the approximate number of messages and moves nothing', async () => {
    const { sqsMock, out, run } = setup({ dlqMessages: 42 });
    const result = await run({ dryRun: true });
    expect(result).toMatchObject({ outcome: 'dry-run', approximateMessages: 42, moved: 0 });
    expect(sqsMock.commandCalls(StartMessageMoveTaskCommand)).toHaveLength(0);
    expect(out.stdout()).toContain(
      'Dry run: would move ~42 messages from v1-orcha-global-ingest-dlq to v1-orcha-global-ingest. Nothing was moved.',
    );
  });

  test('a rerun on an empty DLQ does nothing', async () => {
    const { sqsMock, out, run } = setup({ dlqMessages: 0 });
    await expect(run()).resolves.toMatchObject({ outcome: 'empty', moved: 0 });
    expect(sqsMock.commandCalls(StartMessageMoveTaskCommand)).toHaveLength(0);
    expect(out.stdout()).toContain('Nothing to redrive: v1-orcha-global-ingest-dlq is empty.');
  });

  test('a rerun while a task runs follows that task instead of starting another', async () => {
    const { sqsMock, out, run } = setup();
    sqsMock
      .on(ListMessageMoveTasksCommand)
      .resolvesOnce({ Results: [running(5, 'handle-old')] })
      .resolves({ Results: [finished('COMPLETED', 7)] });
    await expect(run()).resolves.toMatchObject({ outcome: 'completed', moved: 7 });
    expect(sqsMock.commandCalls(StartMessageMoveTaskCommand)).toHaveLength(0);
    expect(out.stdout()).toContain('following it instead of starting another');
  });

  test("a tenant's DLQ goes back to the tenant's queue", async () => {
    const { sqsMock, run } = setup();
    sqsMock
      .on(ListMessageMoveTasksCommand)
      .resolvesOnce({ Results: [] })
      .resolves({ Results: [finished('COMPLETED', 7)] });
    await expect(run({ queue: 'tenant:acme' })).resolves.toMatchObject({
      outcome: 'completed',
      dlq: 'v1-orcha-tenant-acme-ingest-dlq',
      source: 'v1-orcha-tenant-acme-ingest',
    });
    expect(sqsMock.commandCalls(StartMessageMoveTaskCommand)[0]!.args[0].input).toEqual({
      SourceArn: arn('v1-orcha-tenant-acme-ingest-dlq'),
      DestinationArn: arn('v1-orcha-tenant-acme-ingest'),
    });
  });

  describe('bad input (exit 2)', () => {
    test('a tenant that is not configured in the environment', async () => {
      const { sts, run } = setup();
      await expect(run({ queue: 'tenant:globex' })).rejects.toMatchObject({
        exitCode: ExitCode.Usage,
        message:
          '--queue tenant:globex: environment prod has no tenant "globex" in queues.tenants (configured: acme)',
      });
      await expect(run({ env: 'staging', queue: 'tenant:acme' })).rejects.toMatchObject({
        message: expect.stringContaining('(configured: none)'),
      });
      expect(sts.mock.calls()).toHaveLength(0);
    });

    test('an unknown queue', async () => {
      const { sts, run } = setup();
      await expect(run({ queue: 'ingest-dlq' })).rejects.toMatchObject({
        exitCode: ExitCode.Usage,
        message: expect.stringContaining('--queue must be one of ingest, email-acquire'),
      });
      expect(sts.mock.calls()).toHaveLength(0);
    });

    test('an unknown environment', async () => {
      const { sts, run } = setup();
      await expect(run({ env: 'Prod' })).rejects.toMatchObject({ exitCode: ExitCode.Usage });
      expect(sts.mock.calls()).toHaveLength(0);
    });
  });

  test('wrong account (exit 3) touches no queue', async () => {
    const { sqsMock, run } = setup({ account: OTHER_ACCOUNT });
    await expect(run()).rejects.toMatchObject({
      exitCode: ExitCode.Credentials,
      message: expect.stringContaining('Wrong account'),
    });
    expect(sqsMock.calls()).toHaveLength(0);
  });

  describe('failures (exit 1)', () => {
    test('a missing queue', async () => {
      const { sqsMock, run } = setup();
      sqsMock
        .on(GetQueueUrlCommand)
        .rejects(awsError('QueueDoesNotExist', 'The specified queue does not exist.'));
      await expect(run()).rejects.toMatchObject({
        exitCode: ExitCode.Failed,
        message: expect.stringContaining('Queue v1-orcha-global-ingest-dlq does not exist'),
      });
    });

    test('the move cannot start: nothing was moved', async () => {
      const { sqsMock, run } = setup();
      sqsMock
        .on(StartMessageMoveTaskCommand)
        .rejects(awsError('UnsupportedOperation', 'Source queue must be configured as a Dead Letter Queue.'));
      await expect(run()).rejects.toMatchObject({
        exitCode: ExitCode.Failed,
        message:
          'Cannot start the move from v1-orcha-global-ingest-dlq to v1-orcha-global-ingest (nothing was moved): ' +
          'UnsupportedOperation: Source queue must be configured as a Dead Letter Queue.',
      });
    });

    test('progress cannot be read after the start: says the task continues and to rerun', async () => {
      const { sqsMock, run } = setup();
      sqsMock
        .on(ListMessageMoveTasksCommand)
        .resolvesOnce({ Results: [] })
        .rejects(awsError('ThrottlingException', 'Rate exceeded'));
      await expect(run()).rejects.toMatchObject({
        exitCode: ExitCode.Failed,
        message: expect.stringMatching(
          /was started.*continues in AWS.*Rerun the same command.*Rate exceeded/,
        ),
      });
      expect(sqsMock.commandCalls(StartMessageMoveTaskCommand)).toHaveLength(1);
    });

    test('the task fails part-way: reports how many moved and why', async () => {
      const { sqsMock, run } = setup();
      sqsMock
        .on(ListMessageMoveTasksCommand)
        .resolvesOnce({ Results: [] })
        .resolves({
          Results: [finished('FAILED', 4, { FailureReason: 'AccessDenied on kms:GenerateDataKey' })],
        });
      await expect(run()).rejects.toMatchObject({
        exitCode: ExitCode.Failed,
        message:
          'The move task FAILED after moving 4 of ~7 messages: AccessDenied on kms:GenerateDataKey. Rerun to move the rest.',
      });
    });

    test('a task still running at the timeout: reports progress and how to follow it', async () => {
      const { sqsMock, slept, run } = setup();
      sqsMock
        .on(ListMessageMoveTasksCommand)
        .resolvesOnce({ Results: [] })
        .resolves({ Results: [running(2)] });
      await expect(run({ pollSeconds: 10, timeoutSeconds: 30 })).rejects.toMatchObject({
        exitCode: ExitCode.Failed,
        message: expect.stringContaining('Still running after 30 s (RUNNING, moved 2 of ~7)'),
      });
      expect(slept).toEqual([10000, 10000, 10000]);
    });
  });
});
