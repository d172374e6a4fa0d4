import type { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import type { RDSClient } from '@aws-sdk/client-rds';
import type { SchedulerClient } from '@aws-sdk/client-scheduler';
import { DEFAULT_HOLD_MINUTES, sleepAfterWakeSettings } from '../../../lib/util/office-hours-clock';
import type { STSClient } from '@aws-sdk/client-sts';
import { verifyAccount, type AwsTarget } from '../aws';
import { resolveEnvironment } from '../environment';
import { OperationError } from '../errors';
import type { Output } from '../output';
import { scheduleSleepAfterWake, wakePass, type WakeTarget } from '../wake-pass';

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
   * Outside office hours: hours it stays awake before it sleeps again (0: until the next daily
   * `stop`). Within office hours the daily `stop` applies.
   */
  holdHours?: number;
  /**
   * Nothing deployed yet (no database, or the wake role cannot be assumed because the stage that
   * creates it has not been deployed): say so and succeed. The pipeline's first deploy needs it.
   */
  allowMissing?: boolean;
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
    scheduler(target: AwsTarget): SchedulerClient;
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
 * Wakes an environment that sleeps outside office hours: repeats {@link wakePass} every
 * `pollSeconds` until the database is available and `compute.minCapacity` instances are in
 * service and healthy, or `waitSeconds` have passed (`0`: one pass, start and return). It goes
 * back to sleep at the next scheduled stop (every day at `officeHours.stop`).
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
  // The partition of the caller's ARN (arn:aws:…), for the schedule role's ARN.
  let partition: string;
  try {
    const { arn } = await verifyAccount(deps.clients.sts(target), {
      account: config.account,
      envName: config.name,
      profile: options.profile,
    });
    partition = arn.split(':')[1] || 'aws';
  } catch (err) {
    // The wake role is created by the environment's own deploy.
    if (options.allowMissing && options.roleArn && isAssumeRoleDenied(err)) {
      return notDeployed(`${options.roleArn} cannot be assumed`);
    }
    throw err;
  }
  const clients = { rds: deps.clients.rds(target), autoscaling: deps.clients.autoscaling(target) };
  const waitSeconds = options.waitSeconds ?? 1800;
  const deadline = deps.now() + waitSeconds * 1000;
  const pollMs = (options.pollSeconds ?? 30) * 1000;
  const wakeTarget: WakeTarget = {
    dbInstance: naming.dbInstance,
    autoScalingGroup: naming.autoScalingGroup,
    minCapacity: config.compute.minCapacity,
    maxCapacity: config.compute.maxCapacity,
  };

  let startedDatabase = false;
  let resizedGroup = false;
  let said = '';
  let first = true;
  const holdHours = options.holdHours ?? DEFAULT_HOLD_MINUTES / 60;
  for (;;) {
    const progress = await wakePass(wakeTarget, clients, out);
    if (progress.state === 'no-database') {
      if (options.allowMissing) return notDeployed(`no database ${naming.dbInstance}`);
      throw new OperationError(`Database ${naming.dbInstance} not found: is ${config.name} deployed?`);
    }
    startedDatabase ||= progress.startedDatabase;
    resizedGroup ||= progress.resizedGroup;
    if (first && holdHours > 0) {
      // Outside office hours: back to sleep after --hold hours, not at tomorrow's stop.
      await scheduleSleepAfterWake(
        sleepAfterWakeSettings(
          config,
          naming,
          `arn:${partition}:iam::${config.account}:role/${naming.dbScheduleRole}`,
          holdHours * 60,
        ),
        { autoscaling: clients.autoscaling, scheduler: deps.clients.scheduler(target) },
        new Date(deps.now()),
        out,
      );
    }
    first = false;
    if (progress.state === 'awake') {
      out.info(
        `${config.name} is awake: ${progress.inService} instance(s) in service, ${naming.dbInstance} available.`,
      );
      break;
    }
    // Progress, once per change rather than once per poll.
    const status = `${naming.dbInstance} is ${progress.database}; ${progress.inService} of ${wakeTarget.minCapacity} instance(s) in service.`;
    if (status !== said) out.info((said = status));
    // --wait 0: start what can be started and return (a database still stopping cannot be).
    if (waitSeconds === 0 && progress.database !== 'stopping') {
      out.info(`${config.name} is waking; not waiting (--wait 0).`);
      break;
    }
    if (deps.now() >= deadline) {
      throw new OperationError(
        `${progress.waitingFor}: still not the case after ${waitSeconds} s (it may still come; check the console)`,
      );
    }
    await deps.sleep(pollMs);
  }
  return { outcome: startedDatabase || resizedGroup ? 'started' : 'awake', startedDatabase, resizedGroup };
}
