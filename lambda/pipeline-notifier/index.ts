import { Logger } from '@aws-lambda-powertools/logger';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import type { EventBridgeEvent } from 'aws-lambda';

/**
 * Turns CodePipeline state-change events into e-mails people read: a subject that says
 * which pipeline did what, and a body with the execution, the failing stage and a link.
 */

const logger = new Logger({ serviceName: 'pipeline-notifier' });
const sns = new SNSClient({});

interface PipelineExecutionDetail {
  readonly pipeline: string;
  readonly 'execution-id': string;
  readonly state: string;
  readonly stage?: string;
  readonly action?: string;
  readonly type?: { readonly category?: string };
}

export type PipelineEvent = EventBridgeEvent<string, PipelineExecutionDetail>;

export interface Notification {
  readonly subject: string;
  readonly message: string;
}

const WORDS: Record<string, string> = {
  STARTED: 'started',
  SUCCEEDED: 'succeeded',
  FAILED: 'FAILED',
  SUPERSEDED: 'was superseded',
  STOPPED: 'was stopped',
  RESUMED: 'resumed',
};

/** SNS subjects: at most 100 printable ASCII characters. */
function subjectLine(text: string): string {
  const ascii = text.replace(/[^\x20-\x7e]/g, '?');
  return ascii.length > 100 ? `${ascii.slice(0, 97)}...` : ascii;
}

export function format(event: PipelineEvent, prefix: string): Notification {
  const d = event.detail;
  const console = `https://${event.region}.console.aws.amazon.com/codesuite/codepipeline/pipelines/${encodeURIComponent(d.pipeline)}/executions/${d['execution-id']}/timeline?region=${event.region}`;
  const isApproval =
    event['detail-type'] === 'CodePipeline Action Execution State Change' && d.type?.category === 'Approval';
  const what = isApproval
    ? `waiting for approval at ${d.stage ?? 'a stage'} (${d.action ?? 'approval'})`
    : event['detail-type'] === 'CodePipeline Stage Execution State Change'
      ? `stage ${d.stage ?? '?'} ${WORDS[d.state] ?? d.state.toLowerCase()}`
      : (WORDS[d.state] ?? d.state.toLowerCase());
  const subject = subjectLine(`${prefix} ${d.pipeline}: ${what}`);
  const lines = [
    `Pipeline:  ${d.pipeline}`,
    `Event:     ${what}`,
    `Execution: ${d['execution-id']}`,
    `Time:      ${event.time}`,
    `Account:   ${event.account} (${event.region})`,
    '',
    isApproval ? `Review and approve: ${console}` : `Details: ${console}`,
  ];
  return { subject, message: lines.join('\n') };
}

export async function handler(event: PipelineEvent): Promise<Notification> {
  const topicArn = process.env.TOPIC_ARN;
  if (!topicArn) throw new Error('TOPIC_ARN is not set');
  const notification = format(event, process.env.SUBJECT_PREFIX ?? '[Orcha]');
  await sns.send(
    new PublishCommand({ TopicArn: topicArn, Subject: notification.subject, Message: notification.message }),
  );
  logger.info('notified', { subject: notification.subject, executionId: event.detail['execution-id'] });
  return notification;
}
