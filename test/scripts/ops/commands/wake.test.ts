import {
  AutoScalingClient,
  DescribeAutoScalingGroupsCommand,
  UpdateAutoScalingGroupCommand,
} from '@aws-sdk/client-auto-scaling';
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

function setup(opts: { account?: string; dbStates: string[]; desired: number; inService: number[] }) {
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
  let clock = 0;
  const out = captureOutput();
  const deps = {
    clients: factory({ sts: () => sts.client, rds: () => rds, autoscaling: () => asg }),
    out,
    sleep: async (ms: number) => void (clock += ms),
    now: () => clock,
  };
  return { rdsMock, asgMock, out, deps, sts };
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
