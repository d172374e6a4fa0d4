/**
 * The application pipeline's `Wake` action (lib/constructs/app-pipeline.ts), in an environment that
 * sleeps outside office hours: CodeDeploy fails a deployment that reaches no instance, so before
 * the Deploy action the environment is woken with the ops command's own procedure
 * (scripts/ops/commands/wake.ts `wakePass`: start the database, restore the Auto Scaling group).
 *
 * A CodePipeline Lambda invoke action. Each invocation runs one pass, which never waits, and tells
 * CodePipeline how it went:
 * - awake (the database available, `minCapacity` healthy instances in service) → success;
 * - still waking → success with a continuation token: CodePipeline invokes the function again
 *   (the same job, the token given back) until a final answer, within the action's 24 hours. The
 *   token carries when the wake began, so the function gives up after `WAIT_SECONDS`;
 * - not awake within `WAIT_SECONDS`, or an AWS error → failure, with a message that names what is
 *   missing; the pipeline stops before Deploy, and the failure notification names the action.
 *
 * The event carries temporary credentials for the artifact bucket (`artifactCredentials`): it is
 * never logged, only the job id is.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import {
  CodePipelineClient,
  PutJobFailureResultCommand,
  PutJobSuccessResultCommand,
} from '@aws-sdk/client-codepipeline';
import { RDSClient } from '@aws-sdk/client-rds';
import { SchedulerClient } from '@aws-sdk/client-scheduler';
import type { CodePipelineEvent } from 'aws-lambda';
import type { SleepAfterWakeSettings } from '../../lib/util/office-hours-clock';
import { scheduleSleepAfterWake, wakePass, type WakeTarget } from '../../scripts/ops/wake-pass';

export interface WakeSettings extends WakeTarget {
  /** Seconds from the first invocation after which the action fails. */
  readonly waitSeconds: number;
  /**
   * Woken outside office hours, the environment sleeps again this long after the first
   * invocation (set then), not at the next daily stop.
   */
  readonly sleepAfterWake?: SleepAfterWakeSettings;
}

export interface WakeDeps {
  readonly rds: RDSClient;
  readonly autoscaling: AutoScalingClient;
  readonly scheduler: SchedulerClient;
  readonly codepipeline: CodePipelineClient;
  readonly logger: Logger;
  now(): number;
}

/** What the continuation token carries from one invocation to the next. */
interface Continuation {
  /** When the first invocation of this job began (ms since the epoch). */
  readonly since: number;
}

/** The token of a previous invocation; a token this function did not write starts the clock anew. */
export function parseContinuation(token: string | undefined, now: number): Continuation {
  if (token) {
    try {
      const parsed = JSON.parse(token) as Partial<Continuation>;
      if (typeof parsed.since === 'number' && Number.isFinite(parsed.since)) return { since: parsed.since };
    } catch {
      // not ours: fall through
    }
  }
  return { since: now };
}

export type WakeAnswer =
  | { readonly result: 'awake'; readonly summary: string }
  | { readonly result: 'waking'; readonly summary: string; readonly continuationToken: string }
  | { readonly result: 'failed'; readonly message: string };

/** CodePipeline's limits: executionDetails.summary ≤ 2048, failureDetails.message ≤ 5000 characters. */
function cut(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

function describeError(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** One invocation: one pass of waking, and CodePipeline told the outcome. */
export async function wakeForDeploy(
  event: CodePipelineEvent,
  settings: WakeSettings,
  deps: WakeDeps,
): Promise<WakeAnswer> {
  const job = event['CodePipeline.job'];
  const { logger } = deps;
  const started = parseContinuation(job.data.continuationToken, deps.now());
  const elapsedSeconds = Math.round((deps.now() - started.since) / 1000);
  const lines: string[] = [];
  const out = {
    info: (line: string) => void lines.push(line),
    error: (line: string) => void lines.push(line),
  };

  let answer: WakeAnswer;
  try {
    const progress = await wakePass(settings, deps, out);
    // The first invocation of the job: outside office hours, back to sleep a few hours from now.
    if (progress.state !== 'no-database' && !job.data.continuationToken && settings.sleepAfterWake) {
      await scheduleSleepAfterWake(settings.sleepAfterWake, deps, new Date(deps.now()), out);
    }
    if (progress.state === 'no-database') {
      answer = {
        result: 'failed',
        message: `Database ${settings.dbInstance} not found: the environment's Data stack must be deployed before its application.`,
      };
    } else if (progress.state === 'awake') {
      answer = {
        result: 'awake',
        summary: `Awake: ${settings.dbInstance} available, ${progress.inService} instance(s) in service in ${settings.autoScalingGroup}${elapsedSeconds > 0 ? ` (woken in ${elapsedSeconds} s)` : ''}.`,
      };
    } else if (elapsedSeconds >= settings.waitSeconds) {
      answer = {
        result: 'failed',
        message:
          `Not awake after ${elapsedSeconds} s: waiting for ${progress.waitingFor} (${settings.dbInstance} is ${progress.database}, ` +
          `${progress.inService} of ${settings.minCapacity} instance(s) in service). Look at the RDS events and the group's activity ` +
          'history, then Retry the stage (docs/runbooks/office-hours.md).',
      };
    } else {
      answer = {
        result: 'waking',
        summary: cut(
          [...lines, `Waiting for ${progress.waitingFor} (${elapsedSeconds} s so far).`].join(' '),
          2048,
        ),
        continuationToken: JSON.stringify(started),
      };
    }
  } catch (err) {
    answer = { result: 'failed', message: `Could not wake the environment: ${describeError(err)}` };
  }

  logger.info('Wake pass', { jobId: job.id, elapsedSeconds, ...answer, actions: lines });
  if (answer.result === 'failed') {
    await deps.codepipeline.send(
      new PutJobFailureResultCommand({
        jobId: job.id,
        failureDetails: { type: 'JobFailed', message: cut(answer.message, 5000) },
      }),
    );
  } else {
    await deps.codepipeline.send(
      new PutJobSuccessResultCommand({
        jobId: job.id,
        executionDetails: { summary: cut(answer.summary, 2048) },
        ...(answer.result === 'waking' ? { continuationToken: answer.continuationToken } : {}),
      }),
    );
  }
  return answer;
}

/** The function's settings, from its environment (set by lib/constructs/office-hours.ts `EnvironmentWakeFunction`). */
export function settingsFromEnv(env: NodeJS.ProcessEnv): WakeSettings {
  const text = (name: string): string => {
    const value = env[name];
    if (!value) throw new Error(`${name} is not set`);
    return value;
  };
  const count = (name: string): number => {
    const value = Number(text(name));
    if (!Number.isInteger(value) || value < 0) {
      throw new Error(`${name} must be a whole number, got ${JSON.stringify(env[name])}`);
    }
    return value;
  };
  return {
    dbInstance: text('DB_INSTANCE_IDENTIFIER'),
    autoScalingGroup: text('AUTO_SCALING_GROUP_NAME'),
    minCapacity: count('MIN_CAPACITY'),
    maxCapacity: count('MAX_CAPACITY'),
    waitSeconds: count('WAIT_SECONDS'),
    ...(env.SLEEP_AFTER_WAKE ? { sleepAfterWake: sleepSettings(env.SLEEP_AFTER_WAKE) } : {}),
  };
}

/** SLEEP_AFTER_WAKE: the JSON of {@link SleepAfterWakeSettings} (written by the construct). */
function sleepSettings(json: string): SleepAfterWakeSettings {
  let parsed: Partial<SleepAfterWakeSettings>;
  try {
    parsed = JSON.parse(json) as Partial<SleepAfterWakeSettings>;
  } catch {
    throw new Error(`SLEEP_AFTER_WAKE must be JSON, got ${JSON.stringify(json.slice(0, 40))}`);
  }
  const missing = (
    [
      'schedule',
      'holdMinutes',
      'leadMinutes',
      'dbInstance',
      'autoScalingGroup',
      'maxCapacity',
      'groupActionName',
      'databaseScheduleName',
      'databaseScheduleRoleArn',
    ] as const
  ).filter((key) => parsed[key] === undefined);
  if (missing.length > 0) throw new Error(`SLEEP_AFTER_WAKE lacks ${missing.join(', ')}`);
  return parsed as SleepAfterWakeSettings;
}

const logger = new Logger({ serviceName: 'environment-wake' });
const clients = {
  rds: new RDSClient({}),
  autoscaling: new AutoScalingClient({}),
  scheduler: new SchedulerClient({}),
  codepipeline: new CodePipelineClient({}),
};

export async function handler(event: CodePipelineEvent): Promise<WakeAnswer> {
  let settings: WakeSettings;
  try {
    settings = settingsFromEnv(process.env);
  } catch (err) {
    // A broken deployment of this function: fail the action now rather than let it time out.
    const message = `The wake function is misconfigured: ${describeError(err)}`;
    logger.error(message, { jobId: event['CodePipeline.job'].id });
    await clients.codepipeline.send(
      new PutJobFailureResultCommand({
        jobId: event['CodePipeline.job'].id,
        failureDetails: { type: 'ConfigurationError', message },
      }),
    );
    return { result: 'failed', message };
  }
  return wakeForDeploy(event, settings, { ...clients, logger, now: Date.now });
}
