import {
  DescribeAutoScalingGroupsCommand,
  UpdateAutoScalingGroupCommand,
  type AutoScalingClient,
} from '@aws-sdk/client-auto-scaling';
import { DescribeDBInstancesCommand, StartDBInstanceCommand, type RDSClient } from '@aws-sdk/client-rds';
import type { STSClient } from '@aws-sdk/client-sts';
import { toOpsError, verifyAccount, type AwsTarget } from '../aws';
import { resolveEnvironment } from '../environment';
import { OperationError } from '../errors';
import type { Output } from '../output';

export interface WakeOptions {
  env: string;
  profile?: string;
  region?: string;
  /** Role assumed with the profile's (or the default) credentials, e.g. by the pipeline. */
  roleArn?: string;
  /** Seconds to wait for the database and the instances; 0: start them and return. */
  waitSeconds?: number;
  /** Seconds between checks. */
  pollSeconds?: number;
  /**
   * Nothing deployed yet (no database, or the wake role cannot be assumed because the stage that
   * creates it has not been deployed): say so and succeed. The pipeline's first deploy needs it.
   */
  allowMissing?: boolean;
}

/** What {@link wake}'s status check returns for a database that does not exist. */
const NOT_FOUND = 'not found';

function errorName(err: unknown): string {
  return err instanceof Error ? err.name : '';
}

/** STS refused the role: it does not exist yet, or does not trust the caller. */
function isAssumeRoleDenied(err: unknown): boolean {
  return err instanceof Error && /AccessDenied/.test(err.message) && /AssumeRole/.test(err.message);
}

export interface WakeDeps {
  clients: {
    sts(target: AwsTarget): STSClient;
    rds(target: AwsTarget): RDSClient;
    autoscaling(target: AwsTarget): AutoScalingClient;
  };
  out: Output;
  sleep(ms: number): Promise<void>;
  now(): number;
}

export type WakeOutcome = 'always-on' | 'awake' | 'started' | 'not-deployed';

export interface WakeResult {
  outcome: WakeOutcome;
  /** Whether this run started the database. */
  startedDatabase: boolean;
  /** Whether this run restored the group's sizes. */
  resizedGroup: boolean;
}

/**
 * Wakes an environment that sleeps outside office hours: starts its database (waiting for a
 * `stopping` one to stop first), restores the Auto Scaling group's configured sizes, and waits
 * until the database is available and `compute.minCapacity` instances are in service and
 * healthy (booted and deployed by CodeDeploy's launch hook). Idempotent: an awake environment
 * is left alone. It goes back to sleep at the next scheduled stop (every day at
 * `officeHours.stop`).
 */
export async function wake(options: WakeOptions, deps: WakeDeps): Promise<WakeResult> {
  const { config, naming } = resolveEnvironment(options.env);
  const { out } = deps;
  if (!config.officeHours.enabled) {
    out.info(`${config.name} has no office hours (officeHours.enabled is false): it never sleeps.`);
    return { outcome: 'always-on', startedDatabase: false, resizedGroup: false };
  }
  const target: AwsTarget = {
    region: options.region ?? config.region,
    profile: options.profile,
    roleArn: options.roleArn,
  };
  const notDeployed = (why: string): WakeResult => {
    out.info(`${config.name} is not deployed yet (${why}): nothing to wake.`);
    return { outcome: 'not-deployed', startedDatabase: false, resizedGroup: false };
  };
  try {
    await verifyAccount(deps.clients.sts(target), {
      account: config.account,
      envName: config.name,
      profile: options.profile,
    });
  } catch (err) {
    // The wake role is created by the environment's own deploy.
    if (options.allowMissing && options.roleArn && isAssumeRoleDenied(err)) {
      return notDeployed(`${options.roleArn} cannot be assumed`);
    }
    throw err;
  }
  const rds = deps.clients.rds(target);
  const autoscaling = deps.clients.autoscaling(target);
  const deadline = deps.now() + (options.waitSeconds ?? 1800) * 1000;
  const pollMs = (options.pollSeconds ?? 30) * 1000;
  const wait = options.waitSeconds !== 0;
  const db = naming.dbInstance;
  const group = naming.autoScalingGroup;
  const { minCapacity, maxCapacity } = config.compute;

  const dbStatus = async (): Promise<string> => {
    try {
      const res = await rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: db }));
      return res.DBInstances?.[0]?.DBInstanceStatus ?? 'unknown';
    } catch (err) {
      if (errorName(err) === 'DBInstanceNotFoundFault') return NOT_FOUND;
      throw toOpsError(err, `Cannot describe ${db}`);
    }
  };
  const until = async (what: string, done: () => Promise<boolean>): Promise<void> => {
    while (!(await done())) {
      if (deps.now() >= deadline) {
        throw new OperationError(
          `${what}: still not the case after ${options.waitSeconds ?? 1800} s (it may still come; check the console)`,
        );
      }
      await deps.sleep(pollMs);
    }
  };

  // --- Database
  let status = await dbStatus();
  if (status === NOT_FOUND) {
    if (options.allowMissing) return notDeployed(`no database ${db}`);
    throw new OperationError(`Database ${db} not found: is ${config.name} deployed?`);
  }
  let startedDatabase = false;
  if (status === 'stopping') {
    out.info(`${db} is stopping; waiting until it has stopped to start it again.`);
    await until(`${db} stopped`, async () => (status = await dbStatus()) === 'stopped');
  }
  if (status === 'stopped') {
    try {
      await rds.send(new StartDBInstanceCommand({ DBInstanceIdentifier: db }));
    } catch (err) {
      throw toOpsError(err, `Cannot start ${db}`);
    }
    startedDatabase = true;
    out.info(`Starting ${db}.`);
  } else {
    out.info(`${db} is ${status}.`);
  }

  // --- Instances (the database is starting meanwhile: the application retries its connection)
  let groupInfo;
  try {
    groupInfo = (
      await autoscaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [group] }))
    ).AutoScalingGroups?.[0];
  } catch (err) {
    throw toOpsError(err, `Cannot describe ${group}`);
  }
  if (!groupInfo)
    throw new OperationError(`Auto Scaling group ${group} not found: is ${config.name} deployed?`);
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
  } else {
    out.info(`${group} already runs ${groupInfo.DesiredCapacity} instance(s).`);
  }

  if (wait) {
    await until(`${db} available`, async () => (await dbStatus()) === 'available');
    out.info(`${db} is available.`);
    await until(`${minCapacity} healthy instance(s) in service in ${group}`, async () => {
      const res = await autoscaling.send(
        new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [group] }),
      );
      const ready = (res.AutoScalingGroups?.[0]?.Instances ?? []).filter(
        (i) => i.LifecycleState === 'InService' && i.HealthStatus === 'Healthy',
      );
      return ready.length >= minCapacity;
    });
    out.info(`${config.name} is awake: ${minCapacity} instance(s) in service.`);
  }
  return {
    outcome: startedDatabase || resizedGroup ? 'started' : 'awake',
    startedDatabase,
    resizedGroup,
  };
}
