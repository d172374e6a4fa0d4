/**
 * One pass of waking (scripts/ops/wake-pass.ts), which never waits: what it starts, what it
 * resizes, and what it says is still missing. Repeated by the ops command (commands/wake.test.ts)
 * and by the application pipeline's Wake action (test/lambda/environment-wake.test.ts).
 */
import {
  AutoScalingClient,
  DescribeAutoScalingGroupsCommand,
  UpdateAutoScalingGroupCommand,
} from '@aws-sdk/client-auto-scaling';
import { DescribeDBInstancesCommand, RDSClient, StartDBInstanceCommand } from '@aws-sdk/client-rds';
import { mockClient } from 'aws-sdk-client-mock';
import { ExitCode } from '../../../scripts/ops/errors';
import { wakePass, type WakeTarget } from '../../../scripts/ops/wake-pass';
import { awsError, captureOutput } from '../../helpers/ops';

const rds = mockClient(RDSClient);
const autoscaling = mockClient(AutoScalingClient);
const TARGET: WakeTarget = {
  dbInstance: 'v1-orcha-staging-db',
  autoScalingGroup: 'v1-orcha-staging-asg',
  minCapacity: 2,
  maxCapacity: 4,
};

function environment(
  db: string,
  group: { desired: number; min: number; healthy: number; unhealthy?: number },
) {
  rds.on(DescribeDBInstancesCommand).resolves({ DBInstances: [{ DBInstanceStatus: db }] });
  rds.on(StartDBInstanceCommand).resolves({});
  autoscaling.on(DescribeAutoScalingGroupsCommand).resolves({
    AutoScalingGroups: [
      {
        DesiredCapacity: group.desired,
        MinSize: group.min,
        Instances: [
          ...Array.from({ length: group.healthy }, () => ({
            LifecycleState: 'InService',
            HealthStatus: 'Healthy',
          })),
          ...Array.from({ length: group.unhealthy ?? 0 }, () => ({
            LifecycleState: 'Pending:Wait',
            HealthStatus: 'Healthy',
          })),
        ],
      },
    ] as never,
  });
  autoscaling.on(UpdateAutoScalingGroupCommand).resolves({});
}

const pass = () => {
  const out = captureOutput();
  return {
    out,
    run: () =>
      wakePass(
        TARGET,
        { rds: rds as unknown as RDSClient, autoscaling: autoscaling as unknown as AutoScalingClient },
        out,
      ),
  };
};

beforeEach(() => {
  rds.reset();
  autoscaling.reset();
});

test('asleep: starts the database, restores both sizes, reports what is missing', async () => {
  environment('stopped', { desired: 0, min: 0, healthy: 0 });
  const { run, out } = pass();
  expect(await run()).toEqual({
    state: 'waking',
    database: 'starting',
    inService: 0,
    startedDatabase: true,
    resizedGroup: true,
    waitingFor: 'v1-orcha-staging-db available',
  });
  expect(autoscaling.commandCalls(UpdateAutoScalingGroupCommand)[0]!.args[0].input).toEqual({
    AutoScalingGroupName: 'v1-orcha-staging-asg',
    MinSize: 2,
    MaxSize: 4,
    DesiredCapacity: 2,
  });
  expect(out.stdout()).toBe('Starting v1-orcha-staging-db.\nv1-orcha-staging-asg: min 2, desired 2, max 4.');
});

test('awake: only described; an instance still booting does not count', async () => {
  environment('available', { desired: 2, min: 2, healthy: 2 });
  expect((await pass().run()).state).toBe('awake');
  expect(rds.commandCalls(StartDBInstanceCommand)).toHaveLength(0);
  expect(autoscaling.commandCalls(UpdateAutoScalingGroupCommand)).toHaveLength(0);

  environment('available', { desired: 2, min: 2, healthy: 1, unhealthy: 1 });
  expect(await pass().run()).toMatchObject({
    state: 'waking',
    inService: 1,
    waitingFor: '2 healthy instance(s) in service in v1-orcha-staging-asg',
  });
});

test('a minimum lowered below minCapacity (desired still fine) is restored too: the next scale-in would go below it', async () => {
  environment('available', { desired: 2, min: 0, healthy: 2 });
  expect(await pass().run()).toMatchObject({ state: 'awake', resizedGroup: true });
});

test('a database stopping is not started (RDS refuses): a later pass starts it', async () => {
  environment('stopping', { desired: 2, min: 2, healthy: 0 });
  expect(await pass().run()).toMatchObject({
    state: 'waking',
    database: 'stopping',
    startedDatabase: false,
    waitingFor: 'v1-orcha-staging-db stopped (to start it again)',
  });
  expect(rds.commandCalls(StartDBInstanceCommand)).toHaveLength(0);
});

test('no database is an answer, not an error; a missing group and a refused start are errors with their names', async () => {
  rds.on(DescribeDBInstancesCommand).rejects(awsError('DBInstanceNotFoundFault', 'not found'));
  expect(await pass().run()).toEqual({ state: 'no-database' });

  rds.reset();
  environment('available', { desired: 2, min: 2, healthy: 2 });
  autoscaling.on(DescribeAutoScalingGroupsCommand).resolves({ AutoScalingGroups: [] });
  await expect(pass().run()).rejects.toThrow(
    'Auto Scaling group v1-orcha-staging-asg not found: is it deployed?',
  );

  environment('stopped', { desired: 2, min: 2, healthy: 2 });
  rds
    .on(StartDBInstanceCommand)
    .rejects(awsError('ExpiredToken', 'The security token included in the request is expired'));
  await expect(pass().run()).rejects.toMatchObject({
    exitCode: ExitCode.Credentials,
    message: expect.stringMatching(/^Cannot start v1-orcha-staging-db: ExpiredToken/),
  });
});
