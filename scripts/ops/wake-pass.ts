/**
 * One pass of waking an environment that sleeps outside office hours, shared by the ops command
 * `wake` (scripts/ops/commands/wake.ts, which repeats it until the environment is awake) and the
 * application pipeline's Wake action (lambda/environment-wake, one pass per invocation). It
 * imports the SDK clients it calls and the error types only, so that the Lambda bundle does not
 * carry the ops tools' credential handling.
 */
import {
  DescribeAutoScalingGroupsCommand,
  UpdateAutoScalingGroupCommand,
  type AutoScalingClient,
} from '@aws-sdk/client-auto-scaling';
import { DescribeDBInstancesCommand, StartDBInstanceCommand, type RDSClient } from '@aws-sdk/client-rds';
import { OperationError, toOpsError } from './errors';
import type { Output } from './output';

function errorName(err: unknown): string {
  return err instanceof Error ? err.name : '';
}

/** What is woken: the environment's one database and one Auto Scaling group. */
export interface WakeTarget {
  /** Identifier of the RDS instance (`v1-orcha-staging-db`). */
  readonly dbInstance: string;
  /** Name of the Auto Scaling group (`v1-orcha-staging-asg`). */
  readonly autoScalingGroup: string;
  /** The group's configured sizes (`compute.minCapacity`/`maxCapacity`), restored on waking. */
  readonly minCapacity: number;
  readonly maxCapacity: number;
}

/** Where one {@link wakePass} left the environment. */
export type WakeProgress =
  | { readonly state: 'no-database' }
  | {
      readonly state: 'waking' | 'awake';
      /** The database's status as this pass found it (`stopped`, `starting`, `available`, …). */
      readonly database: string;
      /** Healthy instances in service in the group. */
      readonly inService: number;
      readonly startedDatabase: boolean;
      readonly resizedGroup: boolean;
      /** While waking: what is still missing, as a sentence ("v1-orcha-staging-db available"). */
      readonly waitingFor?: string;
    };

/**
 * One pass of waking, which never waits: starts the database if it is stopped (one still
 * `stopping` is started by a later pass), restores the group's sizes if a scheduled sleep set
 * them below `minCapacity`, and reports whether the database is `available` and `minCapacity`
 * instances are `InService` and `Healthy` (booted and deployed by CodeDeploy's launch hook).
 * Idempotent: an awake environment is only described. {@link wake} repeats it until awake; the
 * application pipeline's Wake action runs one pass per invocation (lambda/environment-wake).
 */
export async function wakePass(
  target: WakeTarget,
  clients: { rds: RDSClient; autoscaling: AutoScalingClient },
  out: Output,
): Promise<WakeProgress> {
  const { rds, autoscaling } = clients;
  const db = target.dbInstance;
  const group = target.autoScalingGroup;
  const { minCapacity, maxCapacity } = target;

  // --- Database
  let database: string;
  try {
    const res = await rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: db }));
    database = res.DBInstances?.[0]?.DBInstanceStatus ?? 'unknown';
  } catch (err) {
    if (errorName(err) === 'DBInstanceNotFoundFault') return { state: 'no-database' };
    throw toOpsError(err, `Cannot describe ${db}`);
  }
  let startedDatabase = false;
  if (database === 'stopped') {
    try {
      await rds.send(new StartDBInstanceCommand({ DBInstanceIdentifier: db }));
    } catch (err) {
      throw toOpsError(err, `Cannot start ${db}`);
    }
    startedDatabase = true;
    out.info(`Starting ${db}.`);
  }

  // --- Instances (the database starts meanwhile: the application retries its connection)
  const describeGroup = async () => {
    try {
      const res = await autoscaling.send(
        new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [group] }),
      );
      return res.AutoScalingGroups?.[0];
    } catch (err) {
      throw toOpsError(err, `Cannot describe ${group}`);
    }
  };
  const groupInfo = await describeGroup();
  if (!groupInfo) throw new OperationError(`Auto Scaling group ${group} not found: is it deployed?`);
  let resizedGroup = false;
  if ((groupInfo.DesiredCapacity ?? 0) < minCapacity || (groupInfo.MinSize ?? 0) < minCapacity) {
    try {
      await autoscaling.send(
        new UpdateAutoScalingGroupCommand({
          AutoScalingGroupName: group,
          MinSize: minCapacity,
          MaxSize: maxCapacity,
          DesiredCapacity: minCapacity,
        }),
      );
    } catch (err) {
      throw toOpsError(err, `Cannot resize ${group}`);
    }
    resizedGroup = true;
    out.info(`${group}: min ${minCapacity}, desired ${minCapacity}, max ${maxCapacity}.`);
  }
  const inService = (groupInfo.Instances ?? []).filter(
    (i) => i.LifecycleState === 'InService' && i.HealthStatus === 'Healthy',
  ).length;

  const waitingFor =
    database === 'stopping'
      ? `${db} stopped (to start it again)`
      : database !== 'available'
        ? `${db} available`
        : inService < minCapacity
          ? `${minCapacity} healthy instance(s) in service in ${group}`
          : undefined;
  return {
    state: waitingFor ? 'waking' : 'awake',
    database: startedDatabase ? 'starting' : database,
    inService,
    startedDatabase,
    resizedGroup,
    ...(waitingFor ? { waitingFor } : {}),
  };
}
