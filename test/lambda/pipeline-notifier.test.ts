import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { format, handler, type PipelineEvent } from '../../lambda/pipeline-notifier';

const sns = mockClient(SNSClient);

function event(detailType: string, detail: Record<string, unknown>): PipelineEvent {
  return {
    version: '0',
    id: 'e-1',
    'detail-type': detailType,
    source: 'aws.codepipeline',
    account: '700558745280',
    time: '2026-11-27T10:00:00Z',
    region: 'eu-central-1',
    resources: ['arn:aws:codepipeline:eu-central-1:700558745280:v1-orcha-infra'],
    detail: { pipeline: 'v1-orcha-infra', 'execution-id': 'abc-123', ...detail } as PipelineEvent['detail'],
  };
}

beforeEach(() => {
  sns.reset();
  process.env.TOPIC_ARN = 'arn:aws:sns:eu-central-1:700558745280:v1-orcha-infra-pipeline-events';
  process.env.SUBJECT_PREFIX = '[Orcha infra]';
});

test.each([
  ['STARTED', '[Orcha infra] v1-orcha-infra: started'],
  ['SUCCEEDED', '[Orcha infra] v1-orcha-infra: succeeded'],
  ['FAILED', '[Orcha infra] v1-orcha-infra: FAILED'],
])('execution %s has a readable subject', (state, subject) => {
  const n = format(event('CodePipeline Pipeline Execution State Change', { state }), '[Orcha infra]');
  expect(n.subject).toBe(subject);
  expect(n.message).toContain('Execution: abc-123');
  expect(n.message).toContain(
    'https://eu-central-1.console.aws.amazon.com/codesuite/codepipeline/pipelines/v1-orcha-infra/executions/abc-123/timeline?region=eu-central-1',
  );
});

test('an approval says where it waits and links to the review', () => {
  const n = format(
    event('CodePipeline Action Execution State Change', {
      state: 'STARTED',
      stage: 'Prod',
      action: 'Prod-Approve',
      type: { category: 'Approval' },
    }),
    '[Orcha infra]',
  );
  expect(n.subject).toBe('[Orcha infra] v1-orcha-infra: waiting for approval at Prod (Prod-Approve)');
  expect(n.message).toMatch(/^Review and approve: https:/m);
});

test('subjects stay within the SNS limit of 100 ASCII characters', () => {
  const n = format(
    event('CodePipeline Pipeline Execution State Change', {
      state: 'FAILED',
      pipeline: `p-${'x'.repeat(150)}-é`,
    }),
    '[Orcha infra]',
  );
  expect(n.subject.length).toBeLessThanOrEqual(100);
  expect(n.subject).toMatch(/^[\x20-\x7e]+$/);
});

test('the handler publishes subject and body to the topic', async () => {
  sns.on(PublishCommand).resolves({ MessageId: 'm-1' });
  await handler(event('CodePipeline Pipeline Execution State Change', { state: 'FAILED' }));
  const calls = sns.commandCalls(PublishCommand);
  expect(calls).toHaveLength(1);
  expect(calls[0].args[0].input).toMatchObject({
    TopicArn: 'arn:aws:sns:eu-central-1:700558745280:v1-orcha-infra-pipeline-events',
    Subject: '[Orcha infra] v1-orcha-infra: FAILED',
  });
});

test('a publishing error fails the invocation (EventBridge retries it)', async () => {
  sns.on(PublishCommand).rejects(new Error('AuthorizationError'));
  await expect(
    handler(event('CodePipeline Pipeline Execution State Change', { state: 'FAILED' })),
  ).rejects.toThrow('AuthorizationError');
});

test('without TOPIC_ARN the handler refuses', async () => {
  delete process.env.TOPIC_ARN;
  await expect(
    handler(event('CodePipeline Pipeline Execution State Change', { state: 'STARTED' })),
  ).rejects.toThrow('TOPIC_ARN is not set');
});
