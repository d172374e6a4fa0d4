/**
 * The application pipeline's Wake action (lambda/environment-wake): one pass per invocation, and
 * CodePipeline told the outcome — success when awake, success with a continuation token while
 * waking (CodePipeline invokes it again), failure after the wait or on an error. AWS is mocked
 * with aws-sdk-client-mock; the environment is simulated across invocations.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import {
  AutoScalingClient,
  DescribeAutoScalingGroupsCommand,
  PutScheduledUpdateGroupActionCommand,
  UpdateAutoScalingGroupCommand,
} from '@aws-sdk/client-auto-scaling';
import {
  CodePipelineClient,
  PutJobFailureResultCommand,
  PutJobSuccessResultCommand,
} from '@aws-sdk/client-codepipeline';
import { DescribeDBInstancesCommand, RDSClient, StartDBInstanceCommand } from '@aws-sdk/client-rds';
import { CreateScheduleCommand, SchedulerClient } from '@aws-sdk/client-scheduler';
import type { CodePipelineEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import {
  handler,
  parseContinuation,
  settingsFromEnv,
  wakeForDeploy,
  type WakeSettings,
} from '../../lambda/environment-wake';
import { awsError, simulateEnvironment, STAGING_SLEEP_AFTER_WAKE } from '../helpers/ops';

const rds = mockClient(RDSClient);
const autoscaling = mockClient(AutoScalingClient);
const codepipeline = mockClient(CodePipelineClient);
const scheduler = mockClient(SchedulerClient);

const SETTINGS: WakeSettings = {
  dbInstance: 'v1-orcha-staging-db',
  autoScalingGroup: 'v1-orcha-staging-asg',
  minCapacity: 1,
  maxCapacity: 2,
  waitSeconds: 2400,
};
/** Temporary credentials CodePipeline puts in every event: they must never be logged. */
const SECRET_KEY = 'artifact-secret-access-key-that-must-not-leak';

function event(continuationToken?: string): CodePipelineEvent {
  return {
    'CodePipeline.job': {
      id: 'job-1',
      accountId: '700558745280',
      data: {
        actionConfiguration: {
          configuration: { FunctionName: 'v1-orcha-staging-deploy-wake', UserParameters: '' },
        },
        inputArtifacts: [],
        outputArtifacts: [],
        artifactCredentials: { accessKeyId: 'AKIA', secretAccessKey: SECRET_KEY, sessionToken: 'token' },
        ...(continuationToken ? { continuationToken } : {}),
      },
    },
  };
}

/** A sleeping staging that wakes as time passes: its instance is in service after some polls. */
function sleepingEnvironment(opts: { dbStates: string[]; bootedAfterPolls: number }) {
  simulateEnvironment(rds, autoscaling, {
    dbStates: opts.dbStates,
    desired: 0,
    healthy: (desired, n) => (desired > 0 && n > opts.bootedAfterPolls ? desired : 0),
  });
}

let printed: string[];
let clock: number;
beforeEach(() => {
  rds.reset();
  autoscaling.reset();
  codepipeline.reset();
  scheduler.reset();
  scheduler.on(CreateScheduleCommand).resolves({ ScheduleArn: 'arn' });
  codepipeline.on(PutJobSuccessResultCommand).resolves({});
  codepipeline.on(PutJobFailureResultCommand).resolves({});
  clock = Date.UTC(2026, 10, 30, 22, 0, 0);
  printed = [];
  for (const stream of [process.stdout, process.stderr]) {
    jest.spyOn(stream, 'write').mockImplementation((chunk: unknown) => {
      printed.push(String(chunk));
      return true;
    });
  }
  process.env.POWERTOOLS_LOG_LEVEL = 'DEBUG';
});
afterEach(() => {
  jest.restoreAllMocks();
  process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
});

const deps = () => ({
  rds: rds as unknown as RDSClient,
  autoscaling: autoscaling as unknown as AutoScalingClient,
  scheduler: scheduler as unknown as SchedulerClient,
  codepipeline: codepipeline as unknown as CodePipelineClient,
  logger: new Logger({ serviceName: 'environment-wake' }),
  now: () => clock,
});

/** Invokes the function as CodePipeline does: again with the token while it answers one. */
async function runJob(pollSeconds: number, settings: WakeSettings = SETTINGS) {
  let token: string | undefined;
  for (let i = 1; i <= 100; i++) {
    const answer = await wakeForDeploy(event(token), settings, deps());
    if (answer.result !== 'waking') return { answer, invocations: i };
    token = answer.continuationToken;
    clock += pollSeconds * 1000;
  }
  throw new Error('never answered');
}

test('asleep: starts the database and restores the group once, then answers "in progress" until awake', async () => {
  sleepingEnvironment({ dbStates: ['stopped', 'starting', 'starting', 'available'], bootedAfterPolls: 5 });
  const { answer, invocations } = await runJob(60);
  expect(answer).toEqual({
    result: 'awake',
    summary: `Awake: v1-orcha-staging-db available, 1 instance(s) in service in v1-orcha-staging-asg (woken in ${(invocations - 1) * 60} s).`,
  });
  expect(rds.commandCalls(StartDBInstanceCommand)).toHaveLength(1);
  expect(autoscaling.commandCalls(UpdateAutoScalingGroupCommand).map((c) => c.args[0].input)).toEqual([
    { AutoScalingGroupName: 'v1-orcha-staging-asg', MinSize: 1, MaxSize: 2, DesiredCapacity: 1 },
  ]);
  // Every invocation but the last answered with the token; the last without one.
  const successes = codepipeline.commandCalls(PutJobSuccessResultCommand).map((c) => c.args[0].input);
  expect(successes).toHaveLength(invocations);
  for (const s of successes.slice(0, -1)) {
    expect(s.jobId).toBe('job-1');
    expect(JSON.parse(s.continuationToken!)).toEqual({ since: Date.UTC(2026, 10, 30, 22, 0, 0) });
  }
  expect(successes[0]!.executionDetails!.summary).toBe(
    'Starting v1-orcha-staging-db. v1-orcha-staging-asg: min 1, desired 1, max 2. Waiting for v1-orcha-staging-db available (0 s so far).',
  );
  expect(successes.at(-1)).toEqual({
    jobId: 'job-1',
    executionDetails: { summary: answer.result === 'awake' ? answer.summary : '' },
  });
  expect(codepipeline.commandCalls(PutJobFailureResultCommand)).toHaveLength(0);
  // The event's credentials never reach the log; the job id does.
  expect(printed.join('')).not.toContain(SECRET_KEY);
  expect(printed.join('')).toContain('job-1');
});

test('awake (office hours): one invocation, only described, success at once', async () => {
  rds.on(DescribeDBInstancesCommand).resolves({ DBInstances: [{ DBInstanceStatus: 'available' }] });
  autoscaling.on(DescribeAutoScalingGroupsCommand).resolves({
    AutoScalingGroups: [
      {
        AutoScalingGroupName: 'v1-orcha-staging-asg',
        MinSize: 1,
        MaxSize: 2,
        DesiredCapacity: 1,
        DefaultCooldown: 300,
        AvailabilityZones: [],
        HealthCheckType: 'ELB',
        CreatedTime: new Date(),
        Instances: [{ LifecycleState: 'InService', HealthStatus: 'Healthy' } as never],
      },
    ],
  });
  const { answer, invocations } = await runJob(60);
  expect([answer.result, invocations]).toEqual(['awake', 1]);
  expect(rds.commandCalls(StartDBInstanceCommand)).toHaveLength(0);
  expect(autoscaling.commandCalls(UpdateAutoScalingGroupCommand)).toHaveLength(0);
  expect(
    codepipeline.commandCalls(PutJobSuccessResultCommand)[0]!.args[0].input.continuationToken,
  ).toBeUndefined();
});

test('a database still stopping (the evening sleep just began) is started once it has stopped', async () => {
  sleepingEnvironment({
    dbStates: ['stopping', 'stopping', 'stopped', 'starting', 'available'],
    bootedAfterPolls: 3,
  });
  const { answer } = await runJob(60);
  expect(answer.result).toBe('awake');
  expect(rds.commandCalls(StartDBInstanceCommand)).toHaveLength(1);
  expect(
    codepipeline.commandCalls(PutJobSuccessResultCommand)[0]!.args[0].input.executionDetails!.summary,
  ).toMatch(/Waiting for v1-orcha-staging-db stopped \(to start it again\)/);
});

test('not awake within WAIT_SECONDS: the action fails, naming what is missing', async () => {
  sleepingEnvironment({ dbStates: ['stopped', 'starting'], bootedAfterPolls: 1000 });
  const { answer, invocations } = await runJob(300);
  expect(invocations).toBe(SETTINGS.waitSeconds / 300 + 1);
  expect(answer.result).toBe('failed');
  const failure = codepipeline.commandCalls(PutJobFailureResultCommand)[0]!.args[0].input;
  expect(failure.jobId).toBe('job-1');
  expect(failure.failureDetails).toEqual({
    type: 'JobFailed',
    message:
      'Not awake after 2400 s: waiting for v1-orcha-staging-db available (v1-orcha-staging-db is starting, 0 of 1 instance(s) in service). ' +
      "Look at the RDS events and the group's activity history, then Retry the stage (docs/runbooks/office-hours.md).",
  });
});

test('an AWS error fails the action with its message (no retry storm, no timeout)', async () => {
  rds
    .on(DescribeDBInstancesCommand)
    .rejects(awsError('AccessDenied', 'not authorized to perform: rds:DescribeDBInstances'));
  const answer = await wakeForDeploy(event(), SETTINGS, deps());
  expect(answer.result).toBe('failed');
  expect(
    codepipeline.commandCalls(PutJobFailureResultCommand)[0]!.args[0].input.failureDetails!.message,
  ).toBe(
    'Could not wake the environment: Cannot describe v1-orcha-staging-db: AccessDenied: not authorized to perform: rds:DescribeDBInstances (the credentials lack this permission)',
  );
  expect(codepipeline.commandCalls(PutJobSuccessResultCommand)).toHaveLength(0);
});

test('no database: the action fails with one sentence (the app pipeline never runs before the Data stack)', async () => {
  sleepingEnvironment({ dbStates: ['missing'], bootedAfterPolls: 0 });
  const answer = await wakeForDeploy(event(), SETTINGS, deps());
  expect(answer).toEqual({
    result: 'failed',
    message:
      "Database v1-orcha-staging-db not found: the environment's Data stack must be deployed before its application.",
  });
  expect(autoscaling.calls()).toHaveLength(0);
});

test('woken outside office hours (a push at 23:00 Berlin): the first invocation sets the sleep 2 hours on, later ones do not', async () => {
  sleepingEnvironment({ dbStates: ['stopped', 'starting', 'available'], bootedAfterPolls: 3 });
  autoscaling.on(PutScheduledUpdateGroupActionCommand).resolves({});
  const sleepAfterWake = STAGING_SLEEP_AFTER_WAKE;
  const started = clock;
  const { answer, invocations } = await runJob(60, { ...SETTINGS, sleepAfterWake });
  expect(answer.result).toBe('awake');
  expect(invocations).toBeGreaterThan(1);
  expect(
    autoscaling.commandCalls(PutScheduledUpdateGroupActionCommand).map((c) => c.args[0].input.StartTime),
  ).toEqual([new Date(started + 2 * 3600 * 1000)]);
  expect(scheduler.commandCalls(CreateScheduleCommand)).toHaveLength(1);
  // The first answer tells the console when it sleeps again.
  expect(
    codepipeline.commandCalls(PutJobSuccessResultCommand)[0]!.args[0].input.executionDetails!.summary,
  ).toContain('Outside office hours: it sleeps again at Tue 01:00 Europe/Berlin');
});

test('the continuation token: its own is read back, anything else starts the clock anew', () => {
  expect(parseContinuation(JSON.stringify({ since: 5 }), 99)).toEqual({ since: 5 });
  for (const token of [undefined, '', 'not json', '{"since":"5"}', '{}', 'null']) {
    expect(parseContinuation(token, 99)).toEqual({ since: 99 });
  }
});

test('settings from the function environment; a wrong value is named', () => {
  const env = {
    DB_INSTANCE_IDENTIFIER: 'v1-orcha-staging-db',
    AUTO_SCALING_GROUP_NAME: 'v1-orcha-staging-asg',
    MIN_CAPACITY: '1',
    MAX_CAPACITY: '2',
    WAIT_SECONDS: '2400',
  };
  expect(settingsFromEnv(env)).toEqual(SETTINGS);
  expect(() => settingsFromEnv({ ...env, SLEEP_AFTER_WAKE: '{"holdMinutes":120}' })).toThrow(
    'SLEEP_AFTER_WAKE lacks schedule, leadMinutes, dbInstance, autoScalingGroup, maxCapacity, groupActionName, databaseScheduleName, databaseScheduleRoleArn',
  );
  expect(() => settingsFromEnv({ ...env, SLEEP_AFTER_WAKE: 'x' })).toThrow(
    'SLEEP_AFTER_WAKE must be JSON, got "x"',
  );
  expect(() => settingsFromEnv({ ...env, WAIT_SECONDS: '40m' })).toThrow(
    'WAIT_SECONDS must be a whole number, got "40m"',
  );
  expect(() => settingsFromEnv({ ...env, AUTO_SCALING_GROUP_NAME: undefined })).toThrow(
    'AUTO_SCALING_GROUP_NAME is not set',
  );
});

test('a misconfigured function fails the job at once instead of leaving the action to time out', async () => {
  const saved = process.env.DB_INSTANCE_IDENTIFIER;
  delete process.env.DB_INSTANCE_IDENTIFIER;
  try {
    const answer = await handler(event());
    expect(answer).toEqual({
      result: 'failed',
      message: 'The wake function is misconfigured: DB_INSTANCE_IDENTIFIER is not set',
    });
    expect(codepipeline.commandCalls(PutJobFailureResultCommand)[0]!.args[0].input).toEqual({
      jobId: 'job-1',
      failureDetails: {
        type: 'ConfigurationError',
        message: answer.result === 'failed' ? answer.message : '',
      },
    });
  } finally {
    if (saved !== undefined) process.env.DB_INSTANCE_IDENTIFIER = saved;
  }
});
