/**
 * One pass of waking an environment that sleeps outside office hours, shared by the ops command
 * `wake` (scripts/ops/commands/wake.ts, which repeats it until the environment is awake) and the
 * application pipeline's Wake action (lambda/environment-wake, one pass per invocation). It
 * imports the SDK clients it calls and the error types only, so that the Lambda bundle does not
 * carry the ops tools' credential handling.
 */
import {
  DescribeAutoScalingGroupsCommand,
  DescribeScheduledActionsCommand,
  PutScheduledUpdateGroupActionCommand,
  UpdateAutoScalingGroupCommand,
  type AutoScalingClient,
} from '@aws-sdk/client-auto-scaling';
import { DescribeDBInstancesCommand, StartDBInstanceCommand, type RDSClient } from '@aws-sdk/client-rds';
import {
  CreateScheduleCommand,
  UpdateScheduleCommand,
  type CreateScheduleCommandInput,
  type SchedulerClient,
} from '@aws-sdk/client-scheduler';
import { sleepAfterWake, type SleepAfterWakeSettings } from '../../lib/util/office-hours-clock';
import { describeAwsError, OperationError, toOpsError } from './errors';
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

/**
 * Outside office hours, puts the woken environment back to sleep `holdMinutes` from `now`
 * rather than at the next daily `stop` (up to a day later): a one-time scheduled action of the
 * group (min 0, desired 0) and a one-time EventBridge Scheduler schedule that stops the database,
 * which deletes itself once it ran. Both are named, so a later wake moves them, never earlier
 * (the group's action tells when they are set for). Nothing is
 * scheduled within office hours, when the daily `stop` comes first, or when the next scheduled
 * wake does (lib/util/office-hours-clock.ts `sleepAfterWake`). Returns when it sleeps, if set;
 * an AWS error is a warning (it stays awake until the daily `stop`, as without this).
 */
export async function scheduleSleepAfterWake(
  settings: SleepAfterWakeSettings,
  clients: { autoscaling: AutoScalingClient; scheduler: SchedulerClient },
  now: Date,
  out: Output,
): Promise<Date | undefined> {
  const at = sleepAfterWake(settings.schedule, now, settings.holdMinutes, settings.leadMinutes);
  if (!at) return undefined;
  const group = settings.autoScalingGroup;
  const partition = settings.databaseScheduleRoleArn.split(':')[1] || 'aws';
  const schedule: CreateScheduleCommandInput = {
    Name: settings.databaseScheduleName,
    Description: `Stops ${settings.dbInstance}, woken outside office hours (set by the wake; deleted once run)`,
    ScheduleExpression: `at(${at.toISOString().slice(0, 19)})`,
    ScheduleExpressionTimezone: 'UTC',
    FlexibleTimeWindow: { Mode: 'OFF' },
    ActionAfterCompletion: 'DELETE',
    Target: {
      Arn: `arn:${partition}:scheduler:::aws-sdk:rds:stopDBInstance`,
      RoleArn: settings.databaseScheduleRoleArn,
      Input: JSON.stringify({ DbInstanceIdentifier: settings.dbInstance }),
      RetryPolicy: { MaximumRetryAttempts: 2 },
    },
  };
  const local = (when: Date) =>
    `${when.toLocaleString('en-GB', {
      timeZone: settings.schedule.timeZone,
      weekday: 'short',
      hour: '2-digit',
      minute: '2-digit',
    })} ${settings.schedule.timeZone} (${when.toISOString()})`;
  try {
    // A wake asked for longer (--hold 6) earlier tonight: never bring it forward.
    const existing = await clients.autoscaling.send(
      new DescribeScheduledActionsCommand({
        AutoScalingGroupName: group,
        ScheduledActionNames: [settings.groupActionName],
      }),
    );
    const set = existing?.ScheduledUpdateGroupActions?.[0]?.StartTime;
    if (set && set.getTime() >= at.getTime()) {
      out.info(`Outside office hours: it sleeps again at ${local(set)}, as an earlier wake set.`);
      return set;
    }
    await clients.autoscaling.send(
      new PutScheduledUpdateGroupActionCommand({
        AutoScalingGroupName: group,
        ScheduledActionName: settings.groupActionName,
        StartTime: at,
        MinSize: 0,
        DesiredCapacity: 0,
        MaxSize: settings.maxCapacity,
      }),
    );
    try {
      await clients.scheduler.send(new CreateScheduleCommand(schedule));
    } catch (err) {
      // A wake earlier tonight set it: move it.
      if (errorName(err) !== 'ConflictException') throw err;
      await clients.scheduler.send(new UpdateScheduleCommand(schedule));
    }
  } catch (err) {
    // The environment is awake all the same: only the early sleep is lost, so the wake (and the
    // deploy after it) goes on, and says so.
    out.error(
      `Warning: ${describeAwsError(err)}: ${group} and ${settings.dbInstance} stay awake until the next daily stop (${settings.schedule.stop} ${settings.schedule.timeZone}).`,
    );
    return undefined;
  }
  out.info(`Outside office hours: it sleeps again at ${local(at)} unless woken again.`);
  return at;
}
