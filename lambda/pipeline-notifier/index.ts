import { Logger } from '@aws-lambda-powertools/logger';
import {
  CodePipelineClient,
  GetPipelineExecutionCommand,
  ListActionExecutionsCommand,
  type ActionExecutionDetail,
  type PipelineExecution,
} from '@aws-sdk/client-codepipeline';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import type { EventBridgeEvent } from 'aws-lambda';

/**
 * Turns CodePipeline state-change events into e-mails people read: one e-mail per event, whose
 * subject says which pipeline did what, and whose body names the stage, the action, the commit
 * (id and message), what triggered the execution, the first line of a failure and the links
 * (execution, failed action's logs; for an approval, the change summary and the reports).
 */

const logger = new Logger({ serviceName: 'pipeline-notifier' });
const sns = new SNSClient({});
const codepipeline = new CodePipelineClient({});

interface PipelineExecutionDetail {
  readonly pipeline: string;
  readonly 'execution-id': string;
  readonly state: string;
  readonly stage?: string;
  readonly action?: string;
  readonly type?: { readonly category?: string };
  readonly 'execution-trigger'?: { readonly 'trigger-type'?: string; readonly 'trigger-detail'?: string };
}

export type PipelineEvent = EventBridgeEvent<string, PipelineExecutionDetail>;

export interface Notification {
  readonly subject: string;
  readonly message: string;
}

/** What the notifier looked up about the execution (each part may be missing). */
export interface ExecutionFacts {
  readonly commit?: { readonly id: string; readonly message?: string; readonly url?: string };
  readonly trigger?: string;
  /** The first failed action of the execution. */
  readonly failure?: {
    readonly stage: string;
    readonly action: string;
    readonly firstLine: string;
    readonly url?: string;
  };
  /** Variables the approval's stage exported before it (change summary, review link, IAM check, migration report). */
  readonly review?: Readonly<Record<string, string>>;
  /** Why some facts are missing (a lookup failed); the e-mail goes out regardless. */
  readonly lookupError?: string;
}

const WORDS: Record<string, string> = {
  STARTED: 'started',
  SUCCEEDED: 'succeeded',
  FAILED: 'FAILED',
  SUPERSEDED: 'was superseded',
  STOPPED: 'was stopped',
  RESUMED: 'resumed',
};

/** Output variables, in the order the approval e-mail shows them, with their labels. */
export const REVIEW_VARIABLES: readonly (readonly [string, string])[] = [
  ['CHANGE_SUMMARY', 'Change'],
  ['REVIEW_URL', 'Change summary and compliance report'],
  ['MIGRATION_SUMMARY', 'Migration test'],
  ['MIGRATION_REPORT_URL', 'Migration report'],
  ['PERMISSIONS_CHECK', 'IAM check'],
];

/** SNS subjects: at most 100 printable ASCII characters. */
function subjectLine(text: string): string {
  const ascii = text.replace(/[^\x20-\x7e]/g, '?');
  return ascii.length > 100 ? `${ascii.slice(0, 97)}...` : ascii;
}

function firstLine(text: string | undefined): string | undefined {
  return text
    ?.split(/\r?\n/)
    .map((l) => l.trim())
    .find((l) => l.length > 0);
}

/** A CodeConnections revision summary is JSON (`{"ProviderType":"GitHub","CommitMessage":"…"}`). */
function commitMessage(summary: string | undefined): string | undefined {
  if (!summary) return undefined;
  try {
    const parsed = JSON.parse(summary) as { CommitMessage?: unknown };
    if (typeof parsed.CommitMessage === 'string') return firstLine(parsed.CommitMessage);
  } catch {
    // a plain-text summary
  }
  return firstLine(summary);
}

const TRIGGERS: Record<string, string> = {
  WebhookV2: 'a push to GitHub',
  Webhook: 'a push to GitHub',
  PutActionRevision: 'a new source revision',
  CloudWatchEvent: 'an EventBridge event',
  PollForSourceChanges: 'a source change (polling)',
  StartPipelineExecution: 'a manual "Release change"',
  CreatePipeline: 'the pipeline being created or updated',
  ManualRollback: 'a manual rollback',
  AutomatedRollback: 'an automatic rollback',
};

function describeTrigger(type: string | undefined, detail: string | undefined): string | undefined {
  if (!type) return undefined;
  const what = TRIGGERS[type] ?? type;
  return detail ? `${what} (${detail})` : what;
}

function factsOfExecution(
  execution: PipelineExecution | undefined,
): Pick<ExecutionFacts, 'commit' | 'trigger'> {
  const revision = execution?.artifactRevisions?.find((r) => r.revisionId);
  const message = commitMessage(revision?.revisionSummary);
  return {
    ...(revision?.revisionId
      ? {
          commit: {
            id: revision.revisionId,
            ...(message ? { message } : {}),
            ...(revision.revisionUrl ? { url: revision.revisionUrl } : {}),
          },
        }
      : {}),
    ...(execution?.trigger?.triggerType
      ? { trigger: describeTrigger(execution.trigger.triggerType, execution.trigger.triggerDetail) }
      : {}),
  };
}

function failureOf(actions: readonly ActionExecutionDetail[]): ExecutionFacts['failure'] {
  const failed = actions
    .filter((a) => a.status === 'Failed')
    .sort((a, b) => (a.startTime?.getTime() ?? 0) - (b.startTime?.getTime() ?? 0))[0];
  if (!failed) return undefined;
  const result = failed.output?.executionResult;
  const line =
    firstLine(result?.errorDetails?.message) ??
    firstLine(result?.externalExecutionSummary) ??
    'no error message';
  return {
    stage: failed.stageName ?? '?',
    action: failed.actionName ?? '?',
    firstLine: line,
    ...(result?.externalExecutionUrl ? { url: result.externalExecutionUrl } : {}),
  };
}

function reviewOf(
  actions: readonly ActionExecutionDetail[],
  stage: string | undefined,
): Record<string, string> {
  const review: Record<string, string> = {};
  for (const action of actions) {
    if (stage && action.stageName !== stage) continue;
    for (const [name] of REVIEW_VARIABLES) {
      const value = action.output?.outputVariables?.[name];
      if (value) review[name] = value;
    }
  }
  return review;
}

async function actionsOf(client: CodePipelineClient, pipeline: string, executionId: string) {
  const actions: ActionExecutionDetail[] = [];
  let nextToken: string | undefined;
  do {
    const page = await client.send(
      new ListActionExecutionsCommand({
        pipelineName: pipeline,
        filter: { pipelineExecutionId: executionId },
        ...(nextToken ? { nextToken } : {}),
      }),
    );
    actions.push(...(page.actionExecutionDetails ?? []));
    nextToken = page.nextToken;
  } while (nextToken);
  return actions;
}

/** Looks the execution up; a failed lookup is recorded, never thrown (the e-mail still goes out). */
export async function gatherFacts(client: CodePipelineClient, event: PipelineEvent): Promise<ExecutionFacts> {
  const d = event.detail;
  const fromEvent = describeTrigger(
    d['execution-trigger']?.['trigger-type'],
    d['execution-trigger']?.['trigger-detail'],
  );
  try {
    const out = await client.send(
      new GetPipelineExecutionCommand({ pipelineName: d.pipeline, pipelineExecutionId: d['execution-id'] }),
    );
    const facts = factsOfExecution(out.pipelineExecution);
    const isApproval = d.type?.category === 'Approval';
    const needsActions = d.state === 'FAILED' || isApproval;
    const actions = needsActions ? await actionsOf(client, d.pipeline, d['execution-id']) : [];
    const failure = d.state === 'FAILED' ? failureOf(actions) : undefined;
    const review = isApproval ? reviewOf(actions, d.stage) : {};
    return {
      ...facts,
      ...(facts.trigger ? {} : fromEvent ? { trigger: fromEvent } : {}),
      ...(failure ? { failure } : {}),
      ...(Object.keys(review).length > 0 ? { review } : {}),
    };
  } catch (error) {
    const lookupError = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    return { ...(fromEvent ? { trigger: fromEvent } : {}), lookupError };
  }
}

export function format(event: PipelineEvent, prefix: string, facts: ExecutionFacts = {}): Notification {
  const d = event.detail;
  const console = `https://${event.region}.console.aws.amazon.com/codesuite/codepipeline/pipelines/${encodeURIComponent(d.pipeline)}/executions/${d['execution-id']}/timeline?region=${event.region}`;
  const isApproval =
    event['detail-type'] === 'CodePipeline Action Execution State Change' && d.type?.category === 'Approval';
  const failure = d.state === 'FAILED' ? facts.failure : undefined;
  const what = isApproval
    ? `waiting for approval at ${d.stage ?? 'a stage'} (${d.action ?? 'approval'})`
    : event['detail-type'] === 'CodePipeline Stage Execution State Change'
      ? `stage ${d.stage ?? '?'} ${WORDS[d.state] ?? d.state.toLowerCase()}`
      : failure
        ? `FAILED at ${failure.action}`
        : (WORDS[d.state] ?? d.state.toLowerCase());
  const shortCommit = facts.commit ? facts.commit.id.slice(0, 7) : undefined;
  const subject = subjectLine(
    `${prefix} ${d.pipeline}: ${what}${shortCommit ? ` (${shortCommit}${facts.commit?.message ? ` ${facts.commit.message}` : ''})` : ''}`,
  );

  const stage = failure?.stage ?? d.stage;
  const action = failure?.action ?? d.action;
  const lines = [
    `Pipeline:  ${d.pipeline}`,
    `Event:     ${what}`,
    ...(stage ? [`Stage:     ${stage}`] : []),
    ...(action ? [`Action:    ${action}`] : []),
    ...(failure ? [`Error:     ${failure.firstLine}`] : []),
    ...(facts.commit
      ? [
          `Commit:    ${facts.commit.id}${facts.commit.message ? ` ${facts.commit.message}` : ''}`,
          ...(facts.commit.url ? [`           ${facts.commit.url}`] : []),
        ]
      : []),
    ...(facts.trigger ? [`Trigger:   ${facts.trigger}`] : []),
    `Execution: ${d['execution-id']}`,
    `Time:      ${event.time}`,
    `Account:   ${event.account} (${event.region})`,
  ];
  if (isApproval && facts.review) {
    lines.push('', 'Before approving:');
    for (const [name, label] of REVIEW_VARIABLES) {
      const value = facts.review[name];
      if (value) lines.push(`- ${label}: ${value}`);
    }
  }
  lines.push('', isApproval ? `Review and approve: ${console}` : `Execution: ${console}`);
  if (failure?.url) lines.push(`Failed action's details and logs: ${failure.url}`);
  if (facts.lookupError) lines.push('', `(Some details are missing: ${facts.lookupError})`);
  return { subject, message: lines.join('\n') };
}

export async function handler(event: PipelineEvent): Promise<Notification> {
  const topicArn = process.env.TOPIC_ARN;
  if (!topicArn) throw new Error('TOPIC_ARN is not set');
  const facts = await gatherFacts(codepipeline, event);
  if (facts.lookupError) logger.warn('execution lookup failed', { error: facts.lookupError });
  const notification = format(event, process.env.SUBJECT_PREFIX ?? '[Orcha]', facts);
  // The last call: a failure before it is retried by Lambda (nothing was sent yet); nothing after
  // it can fail, so an event is never mailed twice.
  await sns.send(
    new PublishCommand({ TopicArn: topicArn, Subject: notification.subject, Message: notification.message }),
  );
  logger.info('notified', { subject: notification.subject, executionId: event.detail['execution-id'] });
  return notification;
}
