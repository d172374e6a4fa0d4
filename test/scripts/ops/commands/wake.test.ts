import {
  AutoScalingClient,
  DescribeAutoScalingGroupsCommand,
  DescribeScheduledActionsCommand,
  PutScheduledUpdateGroupActionCommand,
  UpdateAutoScalingGroupCommand,
} from '@aws-sdk/client-auto-scaling';
import { CreateScheduleCommand, SchedulerClient, UpdateScheduleCommand } from '@aws-sdk/client-scheduler';
import { DescribeDBInstancesCommand, RDSClient, StartDBInstanceCommand } from '@aws-sdk/client-rds';
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { wake } from '../../../../scripts/ops/commands/wake';
import { ExitCode } from '../../../../scripts/ops/errors';
import {
  OTHER_ACCOUNT,
  REGION,
  awsError,
  captureOutput,
  factory,
  mockedSts,
  simulateEnvironment,
} from '../../../helpers/ops';

/** Tuesday 1 December 2026, 10:00 in Berlin: within staging's office hours. */
const OFFICE_HOURS = Date.UTC(2026, 11, 1, 9, 0, 0);
/** Monday 30 November 2026, 23:00 in Berlin: asleep by schedule. */
const NIGHT = Date.UTC(2026, 10, 30, 22, 0, 0);

function setup(opts: {
  account?: string;
  dbStates: string[];
  desired: number;
  inService: number[];
  now?: number;
}) {
  const sts = mockedSts(opts.account);
  const rds = new RDSClient({ region: REGION });
  const rdsMock = mockClient(rds);
  const asg = new AutoScalingClient({ region: REGION });
  const asgMock = mockClient(asg);
  // The n-th describe of the group finds inService[n-1] healthy instances (the last one after).
  simulateEnvironment(rdsMock, asgMock, {
    dbStates: opts.dbStates,
    desired: opts.desired,
    healthy: (_, n) => opts.inService[Math.min(n, opts.inService.length) - 1]!,
  });
  const scheduler = new SchedulerClient({ region: REGION });
  const schedulerMock = mockClient(scheduler);
  schedulerMock.on(CreateScheduleCommand).resolves({ ScheduleArn: 'arn' });
  asgMock.on(PutScheduledUpdateGroupActionCommand).resolves({});
  let clock = opts.now ?? OFFICE_HOURS;
  const out = captureOutput();
  const deps = {
    clients: factory({
      sts: () => sts.client,
      rds: () => rds,
      autoscaling: () => asg,
      scheduler: () => scheduler,
    }),
    out,
    sleep: async (ms: number) => void (clock += ms),
    now: () => clock,
  };
  return { rdsMock, asgMock, schedulerMock, out, deps, sts };
}

test('a sleeping staging: starts the database, restores the group, waits until both are up', async () => {
  const { rdsMock, asgMock, deps, out } = setup({
    dbStates: ['stopped', 'starting', 'available'],
    desired: 0,
    inService: [0, 0, 1],
  });
  const result = await wake({ env: 'staging', pollSeconds: 10 }, deps);
  expect(result).toEqual({ outcome: 'started', startedDatabase: true, resizedGroup: true });
  expect(rdsMock.commandCalls(StartDBInstanceCommand)[0]!.args[0].input).toEqual({
    DBInstanceIdentifier: 'v1-orcha-staging-db',
  });
  expect(asgMock.commandCalls(UpdateAutoScalingGroupCommand)[0]!.args[0].input).toEqual({
    AutoScalingGroupName: 'v1-orcha-staging-asg',
    MinSize: 1,
    MaxSize: 2,
    DesiredCapacity: 1,
  });
  expect(rdsMock.commandCalls(StartDBInstanceCommand)).toHaveLength(1);
  expect(asgMock.commandCalls(UpdateAutoScalingGroupCommand)).toHaveLength(1);
  // Progress once per change, not once per poll.
  expect(out.stdout().trimEnd().split('\n')).toEqual([
    'Starting v1-orcha-staging-db.',
    'v1-orcha-staging-asg: min 1, desired 1, max 2.',
    'v1-orcha-staging-db is starting; 0 of 1 instance(s) in service.',
    'staging is awake: 1 instance(s) in service, v1-orcha-staging-db available.',
  ]);
});

test('--wait 0: one pass starts both and returns without waiting', async () => {
  const { rdsMock, asgMock, deps, out } = setup({
    dbStates: ['stopped', 'starting'],
    desired: 0,
    inService: [0],
  });
  expect(await wake({ env: 'staging', waitSeconds: 0 }, deps)).toEqual({
    outcome: 'started',
    startedDatabase: true,
    resizedGroup: true,
  });
  expect(rdsMock.commandCalls(DescribeDBInstancesCommand)).toHaveLength(1);
  expect(asgMock.commandCalls(DescribeAutoScalingGroupsCommand)).toHaveLength(1);
  expect(out.stdout()).toMatch(/staging is waking; not waiting \(--wait 0\)/);
});

test('--wait 0 with a database still stopping: one clear error, nothing started', async () => {
  const { rdsMock, deps } = setup({ dbStates: ['stopping'], desired: 1, inService: [1] });
  await expect(wake({ env: 'staging', waitSeconds: 0 }, deps)).rejects.toThrow(
    'v1-orcha-staging-db stopped (to start it again): still not the case after 0 s',
  );
  expect(rdsMock.commandCalls(StartDBInstanceCommand)).toHaveLength(0);
});

test('an awake staging is left alone', async () => {
  const { rdsMock, asgMock, deps } = setup({ dbStates: ['available'], desired: 1, inService: [1] });
  expect(await wake({ env: 'staging' }, deps)).toEqual({
    outcome: 'awake',
    startedDatabase: false,
    resizedGroup: false,
  });
  expect(rdsMock.commandCalls(StartDBInstanceCommand)).toHaveLength(0);
  expect(asgMock.commandCalls(UpdateAutoScalingGroupCommand)).toHaveLength(0);
});

test('a database still stopping is waited for, then started', async () => {
  const { rdsMock, deps } = setup({
    dbStates: ['stopping', 'stopping', 'stopped', 'available'],
    desired: 0,
    inService: [1],
  });
  await wake({ env: 'staging', pollSeconds: 5 }, deps);
  expect(rdsMock.commandCalls(StartDBInstanceCommand)).toHaveLength(1);
});

test('prod has no office hours: nothing to wake, no AWS call', async () => {
  const { rdsMock, deps } = setup({ dbStates: ['available'], desired: 1, inService: [1] });
  expect((await wake({ env: 'prod' }, deps)).outcome).toBe('always-on');
  expect(rdsMock.calls()).toHaveLength(0);
});

test('wrong account: exit 3 before anything is started', async () => {
  const { rdsMock, deps } = setup({
    account: OTHER_ACCOUNT,
    dbStates: ['stopped'],
    desired: 0,
    inService: [0],
  });
  await expect(wake({ env: 'staging' }, deps)).rejects.toMatchObject({ exitCode: ExitCode.Credentials });
  expect(rdsMock.calls()).toHaveLength(0);
});

test('not awake within --wait: one message naming what is missing', async () => {
  const { deps } = setup({ dbStates: ['stopped', 'starting'], desired: 0, inService: [0] });
  await expect(wake({ env: 'staging', waitSeconds: 60, pollSeconds: 10 }, deps)).rejects.toThrow(
    /v1-orcha-staging-db available: still not the case after 60 s/,
  );
});

test("the pipeline's first deploy: no database yet, nothing to wake, success", async () => {
  const { asgMock, deps, out } = setup({ dbStates: ['missing'], desired: 0, inService: [0] });
  expect((await wake({ env: 'staging', allowMissing: true }, deps)).outcome).toBe('not-deployed');
  expect(asgMock.calls()).toHaveLength(0);
  expect(out.stdout()).toMatch(/staging is not deployed yet \(no database v1-orcha-staging-db\)/);
});

test('without --allow-missing a missing database is one clear error', async () => {
  const { deps } = setup({ dbStates: ['missing'], desired: 0, inService: [0] });
  await expect(wake({ env: 'staging' }, deps)).rejects.toThrow(
    'Database v1-orcha-staging-db not found: is staging deployed?',
  );
});

test("another account: a wake role that cannot be assumed yet (before the stage's first deploy) is no error", async () => {
  const { deps, sts, rdsMock } = setup({ dbStates: ['stopped'], desired: 0, inService: [0] });
  sts.mock
    .on(GetCallerIdentityCommand)
    .rejects(
      awsError(
        'AccessDenied',
        'User: arn:aws:sts::700558745280:assumed-role/v1-orcha-infra-wake-staging/x is not authorized to perform: sts:AssumeRole',
      ),
    );
  const roleArn = 'arn:aws:iam::111122223333:role/v1-orcha-staging-wake';
  expect((await wake({ env: 'staging', roleArn, allowMissing: true }, deps)).outcome).toBe('not-deployed');
  expect(rdsMock.calls()).toHaveLength(0);
  // Without the flag the same refusal stops the command.
  await expect(wake({ env: 'staging', roleArn }, deps)).rejects.toMatchObject({
    exitCode: ExitCode.Credentials,
  });
});

/** Staging found awake at night (woken earlier tonight). */
const awakeAtNight = () => setup({ dbStates: ['available'], desired: 1, inService: [1], now: NIGHT });

describe("woken outside office hours, it sleeps again after --hold hours, not at tomorrow's stop", () => {
  test('a one-time scheduled action of the group and a one-time schedule that stops the database, 2 hours on', async () => {
    const { asgMock, schedulerMock, deps, out } = setup({
      dbStates: ['stopped', 'available'],
      desired: 0,
      inService: [0, 1],
      now: NIGHT,
    });
    await wake({ env: 'staging', pollSeconds: 10 }, deps);
    const at = new Date(NIGHT + 2 * 3600 * 1000);
    expect(asgMock.commandCalls(PutScheduledUpdateGroupActionCommand).map((c) => c.args[0].input)).toEqual([
      {
        AutoScalingGroupName: 'v1-orcha-staging-asg',
        ScheduledActionName: 'sleep-after-wake',
        StartTime: at,
        MinSize: 0,
        DesiredCapacity: 0,
        MaxSize: 2,
      },
    ]);
    expect(schedulerMock.commandCalls(CreateScheduleCommand).map((c) => c.args[0].input)).toEqual([
      {
        Name: 'v1-orcha-staging-db-sleep-after-wake',
        Description:
          'Stops v1-orcha-staging-db, woken outside office hours (set by the wake; deleted once run)',
        ScheduleExpression: 'at(2026-12-01T00:00:00)',
        ScheduleExpressionTimezone: 'UTC',
        FlexibleTimeWindow: { Mode: 'OFF' },
        ActionAfterCompletion: 'DELETE',
        Target: {
          Arn: 'arn:aws:scheduler:::aws-sdk:rds:stopDBInstance',
          RoleArn: 'arn:aws:iam::700558745280:role/v1-orcha-staging-db-office-hours',
          Input: '{"DbInstanceIdentifier":"v1-orcha-staging-db"}',
          RetryPolicy: { MaximumRetryAttempts: 2 },
        },
      },
    ]);
    expect(out.stdout()).toContain(
      'Outside office hours: it sleeps again at Tue 01:00 Europe/Berlin (2026-12-01T00:00:00.000Z) unless woken again.',
    );
  });

  test('a second wake the same night moves the schedule (it exists: update)', async () => {
    const { schedulerMock, deps } = awakeAtNight();
    schedulerMock
      .on(CreateScheduleCommand)
      .rejects(awsError('ConflictException', 'Schedule already exists.'));
    schedulerMock.on(UpdateScheduleCommand).resolves({ ScheduleArn: 'arn' });
    await wake({ env: 'staging', holdHours: 3 }, deps);
    expect(schedulerMock.commandCalls(UpdateScheduleCommand)[0]!.args[0].input.ScheduleExpression).toBe(
      'at(2026-12-01T01:00:00)',
    );
  });

  test('an earlier wake that asked for longer (--hold 6) is not brought forward by a pipeline’s 2 hours', async () => {
    const { asgMock, schedulerMock, deps, out } = awakeAtNight();
    const later = new Date(NIGHT + 6 * 3600 * 1000);
    asgMock.on(DescribeScheduledActionsCommand).resolves({
      ScheduledUpdateGroupActions: [{ ScheduledActionName: 'sleep-after-wake', StartTime: later }],
    });
    await wake({ env: 'staging' }, deps);
    expect(asgMock.commandCalls(PutScheduledUpdateGroupActionCommand)).toHaveLength(0);
    expect(schedulerMock.calls()).toHaveLength(0);
    expect(out.stdout()).toContain(
      'Outside office hours: it sleeps again at Tue 05:00 Europe/Berlin (2026-12-01T04:00:00.000Z), as an earlier wake set.',
    );
  });

  test('--hold 0 and wakes within office hours schedule nothing: the daily stop applies', async () => {
    for (const [now, holdHours] of [
      [NIGHT, 0],
      [OFFICE_HOURS, 2],
    ] as const) {
      const { asgMock, schedulerMock, deps } = setup({
        dbStates: ['available'],
        desired: 1,
        inService: [1],
        now,
      });
      await wake({ env: 'staging', holdHours }, deps);
      expect(asgMock.commandCalls(PutScheduledUpdateGroupActionCommand)).toHaveLength(0);
      expect(schedulerMock.calls()).toHaveLength(0);
    }
  });

  test('a refused schedule is a warning: the environment is awake all the same, the wake (and a deploy) goes on', async () => {
    const { schedulerMock, deps, out } = awakeAtNight();
    schedulerMock
      .on(CreateScheduleCommand)
      .rejects(awsError('AccessDeniedException', 'not authorized to perform: iam:PassRole'));
    expect((await wake({ env: 'staging' }, deps)).outcome).toBe('awake');
    expect(out.stderr()).toBe(
      'Warning: AccessDeniedException: not authorized to perform: iam:PassRole (the credentials lack this permission): v1-orcha-staging-asg and v1-orcha-staging-db stay awake until the next daily stop (20:00 Europe/Berlin).',
    );
  });
});
