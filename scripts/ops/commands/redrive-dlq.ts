import {
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ListMessageMoveTasksCommand,
  StartMessageMoveTaskCommand,
  type ListMessageMoveTasksResultEntry,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { STSClient } from '@aws-sdk/client-sts';
import { verifyAccount, type AwsTarget } from '../aws';
import { resolveEnvironment } from '../environment';
import { toOpsError, OperationError, UsageError } from '../errors';
import type { Output } from '../output';
import type { Naming } from '../../../lib/config/naming';
import type { EnvironmentConfig, EnvironmentInput } from '../../../lib/config/schema';

export const QUEUE_KINDS = ['ingest', 'email-acquire'] as const;
export type QueueKind = (typeof QUEUE_KINDS)[number];

/** `--queue tenant:<name>`: the dedicated queue of a tenant of `queues.tenants`. */
export const TENANT_QUEUE_PREFIX = 'tenant:';

/** What `--queue` accepts, for messages and help. */
export const QUEUE_CHOICES = `${QUEUE_KINDS.join(', ')} or ${TENANT_QUEUE_PREFIX}<name>`;

/** The DLQ and source queue that `--queue` names in an environment; bad values exit 2. */
export function queuePairNames(
  queue: string,
  config: EnvironmentConfig,
  naming: Naming,
): { dlq: string; source: string } {
  if (queue === 'ingest') return { dlq: naming.ingestDlq, source: naming.ingestQueue };
  if (queue === 'email-acquire') return { dlq: naming.emailAcquireDlq, source: naming.emailAcquireQueue };
  if (queue.startsWith(TENANT_QUEUE_PREFIX)) {
    const name = queue.slice(TENANT_QUEUE_PREFIX.length);
    const tenants = config.queues.tenants.map((t) => t.name);
    if (!tenants.includes(name)) {
      throw new UsageError(
        `--queue ${queue}: environment ${config.name} has no tenant ${JSON.stringify(name)} in queues.tenants (configured: ${tenants.length > 0 ? tenants.join(', ') : 'none'})`,
      );
    }
    return { dlq: naming.tenantIngestDlq(name), source: naming.tenantIngestQueue(name) };
  }
  throw new UsageError(`--queue must be one of ${QUEUE_CHOICES} (got ${JSON.stringify(queue)})`);
}

export interface RedriveDlqOptions {
  env: string;
  queue: string;
  dryRun?: boolean;
  profile?: string;
  region?: string;
  /** Seconds between progress checks. */
  pollSeconds?: number;
  /** Give up following the task after this many seconds (the task keeps running in AWS). */
  timeoutSeconds?: number;
  /** Limit of messages moved per second (SQS default: as fast as possible, up to 500/s). */
  maxPerSecond?: number;
}

export interface RedriveDlqDeps {
  clients: { sts(target: AwsTarget): STSClient; sqs(target: AwsTarget): SQSClient };
  out: Output;
  sleep(ms: number): Promise<void>;
  now(): number;
  /**
   * The environments' configuration.
   * @default lib/config/environments.ts
   */
  environments?: Record<string, EnvironmentInput>;
}

export type RedriveOutcome = 'dry-run' | 'empty' | 'completed';

export interface RedriveResult {
  outcome: RedriveOutcome;
  dlq: string;
  source: string;
  /** Approximate number of visible messages in the DLQ before the run. */
  approximateMessages: number;
  moved: number;
}

interface QueueInfo {
  name: string;
  arn: string;
  visible: number;
  inFlight: number;
}

/**
 * Moves the messages of a dead-letter queue back to its source queue with an SQS message
 * move task, and follows the task until it finishes. A rerun while a task is running follows
 * that task instead of starting a second one; a rerun on an empty DLQ does nothing.
 */
export async function redriveDlq(options: RedriveDlqOptions, deps: RedriveDlqDeps): Promise<RedriveResult> {
  const { config, naming } = resolveEnvironment(options.env, deps.environments);
  const names = queuePairNames(options.queue, config, naming);
  const pollMs = (options.pollSeconds ?? 5) * 1000;
  const timeoutMs = (options.timeoutSeconds ?? 900) * 1000;
  const { out } = deps;

  const target: AwsTarget = { region: options.region ?? config.region, profile: options.profile };
  const identity = await verifyAccount(deps.clients.sts(target), {
    account: config.account,
    envName: config.name,
    profile: options.profile,
  });
  const sqs = deps.clients.sqs(target);
  const dlq = await queueInfo(sqs, names.dlq);
  const source = await queueInfo(sqs, names.source);
  out.info(
    `DLQ ${dlq.name} (account ${identity.account}, ${target.region}): ~${dlq.visible} messages` +
      (dlq.inFlight > 0 ? ` (+${dlq.inFlight} in flight, not movable until visible again)` : ''),
  );
  const base = { dlq: dlq.name, source: source.name, approximateMessages: dlq.visible };

  let running: ListMessageMoveTasksResultEntry | undefined;
  try {
    running = (await listTasks(sqs, dlq.arn)).find((t) => t.Status === 'RUNNING');
  } catch (err) {
    throw toOpsError(err, `Cannot list the move tasks of ${dlq.name} (nothing was moved)`);
  }
  if (options.dryRun) {
    if (running) out.info(`A move task is already running: ${progress(running)}.`);
    out.info(
      `Dry run: would move ~${dlq.visible} messages from ${dlq.name} to ${source.name}. Nothing was moved.`,
    );
    return { ...base, outcome: 'dry-run', moved: 0 };
  }

  let handle: string | undefined;
  if (running) {
    handle = running.TaskHandle;
    out.info(
      `A move task is already running (${progress(running)}); following it instead of starting another.`,
    );
  } else {
    if (dlq.visible === 0) {
      out.info(`Nothing to redrive: ${dlq.name} is empty.`);
      return { ...base, outcome: 'empty', moved: 0 };
    }
    try {
      const started = await sqs.send(
        new StartMessageMoveTaskCommand({
          SourceArn: dlq.arn,
          DestinationArn: source.arn,
          ...(options.maxPerSecond ? { MaxNumberOfMessagesPerSecond: options.maxPerSecond } : {}),
        }),
      );
      handle = started.TaskHandle;
    } catch (err) {
      throw toOpsError(err, `Cannot start the move from ${dlq.name} to ${source.name} (nothing was moved)`);
    }
    out.info(`Started moving ~${dlq.visible} messages from ${dlq.name} to ${source.name}.`);
  }

  const startedAt = deps.now();
  let lastReported = -1;
  for (;;) {
    await deps.sleep(pollMs);
    let task: ListMessageMoveTasksResultEntry | undefined;
    try {
      task = pickTask(await listTasks(sqs, dlq.arn), handle);
    } catch (err) {
      throw toOpsError(
        err,
        `The move task was started, but its progress cannot be read; it continues in AWS. ` +
          `Rerun the same command to follow it`,
      );
    }
    if (!task) throw new OperationError(`The move task of ${dlq.name} is not listed by SQS; rerun to check`);
    const moved = task.ApproximateNumberOfMessagesMoved ?? 0;
    switch (task.Status) {
      case 'COMPLETED':
        out.info(`Completed: moved ${moved} messages from ${dlq.name} to ${source.name}.`);
        return { ...base, outcome: 'completed', moved };
      case 'FAILED':
        throw new OperationError(
          `The move task FAILED after moving ${moved} of ~${task.ApproximateNumberOfMessagesToMove ?? '?'} messages: ` +
            `${task.FailureReason ?? 'no reason given'}. Rerun to move the rest.`,
        );
      case 'CANCELLING':
      case 'CANCELLED':
        throw new OperationError(`The move task was cancelled after moving ${moved} messages.`);
      default:
        if (moved !== lastReported) {
          out.info(`  ${progress(task)}`);
          lastReported = moved;
        }
    }
    if (deps.now() - startedAt >= timeoutMs) {
      throw new OperationError(
        `Still running after ${Math.round(timeoutMs / 1000)} s (${progress(task)}); the task continues in AWS. ` +
          `Rerun the same command to follow it.`,
      );
    }
  }
}

function progress(task: ListMessageMoveTasksResultEntry): string {
  return `${task.Status ?? 'UNKNOWN'}, moved ${task.ApproximateNumberOfMessagesMoved ?? 0} of ~${task.ApproximateNumberOfMessagesToMove ?? '?'}`;
}

/** Our task: the one with our handle while it runs, else the most recently started one. */
function pickTask(
  tasks: ListMessageMoveTasksResultEntry[],
  handle: string | undefined,
): ListMessageMoveTasksResultEntry | undefined {
  const byHandle = handle ? tasks.find((t) => t.TaskHandle === handle) : undefined;
  if (byHandle) return byHandle;
  return [...tasks].sort((a, b) => (b.StartedTimestamp ?? 0) - (a.StartedTimestamp ?? 0))[0];
}

async function listTasks(sqs: SQSClient, sourceArn: string): Promise<ListMessageMoveTasksResultEntry[]> {
  const response = await sqs.send(new ListMessageMoveTasksCommand({ SourceArn: sourceArn, MaxResults: 10 }));
  return response.Results ?? [];
}

async function queueInfo(sqs: SQSClient, name: string): Promise<QueueInfo> {
  try {
    const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: name }));
    const { Attributes = {} } = await sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl,
        AttributeNames: ['QueueArn', 'ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
      }),
    );
    if (!Attributes.QueueArn) throw new OperationError(`SQS returned no ARN for queue ${name}`);
    return {
      name,
      arn: Attributes.QueueArn,
      visible: Number(Attributes.ApproximateNumberOfMessages ?? 0),
      inFlight: Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0),
    };
  } catch (err) {
    const errName = (err as Error).name;
    if (errName === 'QueueDoesNotExist' || errName === 'AWS.SimpleQueueService.NonExistentQueue') {
      throw new OperationError(
        `Queue ${name} does not exist in this account and region (is the environment's Foundation stack deployed?)`,
      );
    }
    throw toOpsError(err, `Cannot read queue ${name}`);
  }
}
