/**
 * Restarts the application on every instance after the database credentials were rotated, without
 * dropping traffic: an instance refresh of the Auto Scaling group that launches each replacement
 * before it terminates the instance it replaces (MinHealthyPercentage 100, MaxHealthyPercentage
 * 200). A new instance boots, reads the rotated secret (orcha-prepare, at every start of
 * orcha.service), gets the last deployed revision from CodeDeploy's launch hook and passes the
 * load balancer's health check before the old one is deregistered (with connection draining) and
 * terminated. One instance at a time, whatever the group's size, the single-instance group of
 * prod included.
 *
 * Invoked by the EventBridge rule on Secrets Manager's `RotationSucceeded` for the environment's
 * credentials. Anything that keeps the refresh from starting is published to the alerts topic and
 * rethrown; a refresh that fails later is reported by Auto Scaling's own event (a second rule).
 * Nothing logged or published holds a secret value: the handler reads only the secret's id from the
 * event, and never the event as a whole.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import {
  AutoScalingClient,
  DescribeInstanceRefreshesCommand,
  StartInstanceRefreshCommand,
} from '@aws-sdk/client-auto-scaling';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';

/** Instance refresh states in which another refresh cannot start. */
const ACTIVE_STATES = new Set(['Pending', 'InProgress', 'Cancelling', 'RollbackInProgress', 'Baking']);

export interface RestartSettings {
  /** The environment (`prod`), for the alert's subject. */
  readonly environment: string;
  /** The Auto Scaling group whose instances run the application. */
  readonly autoScalingGroupName: string;
  /** Full ARN of the rotated secret; events for any other secret are ignored. */
  readonly secretArn: string;
  /** The alerts topic. */
  readonly alertTopicArn: string;
  /** Seconds a new instance needs after launch before it counts (the group's grace period). */
  readonly instanceWarmupSeconds: number;
}

export interface RestartDeps {
  readonly autoScaling: AutoScalingClient;
  readonly sns: SNSClient;
  readonly logger: Logger;
}

/** The parts of the CloudTrail event that are read: where the rotated secret's id can be. */
export interface RotationEvent {
  readonly detail?: {
    readonly eventName?: string;
    readonly additionalEventData?: { readonly SecretId?: string };
    readonly serviceEventDetails?: { readonly secretId?: string };
  };
}

export type RestartOutcome =
  | { readonly outcome: 'started'; readonly instanceRefreshId: string }
  | { readonly outcome: 'ignored'; readonly reason: string };

/** The rotated secret's id in a `RotationSucceeded` event (either shape CloudTrail uses). */
export function rotatedSecretId(event: RotationEvent): string | undefined {
  return event.detail?.additionalEventData?.SecretId ?? event.detail?.serviceEventDetails?.secretId;
}

/** SNS subjects: at most 100 printable ASCII characters. */
function subjectLine(text: string): string {
  const ascii = text.replace(/[^\x20-\x7e]/g, '?');
  return ascii.length > 100 ? `${ascii.slice(0, 97)}...` : ascii;
}

function describeError(err: unknown): string {
  if (err instanceof Error) return `${err.name}: ${err.message}`;
  return String(err);
}

/**
 * Starts the instance refresh (after checking that none is running), or alerts and throws. An
 * event for another secret, or not a `RotationSucceeded`, is ignored (the rule should not send one).
 */
export async function restartAfterRotation(
  event: RotationEvent,
  settings: RestartSettings,
  deps: RestartDeps,
): Promise<RestartOutcome> {
  const { autoScaling, sns, logger } = deps;
  const group = settings.autoScalingGroupName;
  const secretId = rotatedSecretId(event);
  if (event.detail?.eventName !== 'RotationSucceeded' || secretId !== settings.secretArn) {
    const reason = `not a RotationSucceeded of ${settings.secretArn}`;
    logger.warn('Ignoring the event', { reason, eventName: event.detail?.eventName, secretId });
    return { outcome: 'ignored', reason };
  }
  logger.info('Credentials rotated: replacing the application instances', { secretId, group });

  try {
    const running = await autoScaling.send(
      new DescribeInstanceRefreshesCommand({ AutoScalingGroupName: group, MaxRecords: 10 }),
    );
    const active = (running.InstanceRefreshes ?? []).find((r) => ACTIVE_STATES.has(r.Status ?? ''));
    if (active) {
      throw new Error(
        `instance refresh ${active.InstanceRefreshId} of ${group} is ${active.Status}: instances it launched before the rotation may hold the old password`,
      );
    }
    const started = await autoScaling.send(
      new StartInstanceRefreshCommand({
        AutoScalingGroupName: group,
        Strategy: 'Rolling',
        Preferences: {
          // Launch before terminate: never fewer healthy instances than the group's desired capacity.
          MinHealthyPercentage: 100,
          MaxHealthyPercentage: 200,
          InstanceWarmup: settings.instanceWarmupSeconds,
          // Every instance, although none of them differs from the launch template.
          SkipMatching: false,
        },
      }),
    );
    const instanceRefreshId = started.InstanceRefreshId ?? '(no id returned)';
    logger.info('Instance refresh started', { group, instanceRefreshId });
    return { outcome: 'started', instanceRefreshId };
  } catch (err) {
    const problem = describeError(err);
    logger.error('Could not start the instance refresh', { group, problem });
    await sns.send(
      new PublishCommand({
        TopicArn: settings.alertTopicArn,
        Subject: subjectLine(
          `Orcha ${settings.environment}: app restart after DB credential rotation FAILED`,
        ),
        Message: [
          `The database credentials (${secretId}) were rotated, but the application instances of ${group} could not be replaced: ${problem}`,
          '',
          'Instances still running the old password lose database connections as they reconnect.',
          'Runbook: docs/runbooks/credential-rotation.md ("The restart after a rotation failed").',
        ].join('\n'),
      }),
    );
    throw err;
  }
}

function requiredEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}

const logger = new Logger({ serviceName: 'app-restart' });
const autoScaling = new AutoScalingClient({});
const sns = new SNSClient({});

export async function handler(event: RotationEvent): Promise<RestartOutcome> {
  return restartAfterRotation(
    event,
    {
      environment: requiredEnv('ORCHA_ENVIRONMENT'),
      autoScalingGroupName: requiredEnv('AUTO_SCALING_GROUP_NAME'),
      secretArn: requiredEnv('SECRET_ARN'),
      alertTopicArn: requiredEnv('ALERT_TOPIC_ARN'),
      instanceWarmupSeconds: Number(requiredEnv('INSTANCE_WARMUP_SECONDS')),
    },
    { autoScaling, sns, logger },
  );
}
