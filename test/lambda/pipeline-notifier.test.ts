import {
  CodePipelineClient,
  GetPipelineExecutionCommand,
  ListActionExecutionsCommand,
} from '@aws-sdk/client-codepipeline';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { format, handler, type PipelineEvent } from '../../lambda/pipeline-notifier';

const sns = mockClient(SNSClient);
const codepipeline = mockClient(CodePipelineClient);

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
  codepipeline.reset();
  codepipeline.on(GetPipelineExecutionCommand).resolves({ pipelineExecution: {} });
  codepipeline.on(ListActionExecutionsCommand).resolves({ actionExecutionDetails: [] });
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

/** A push to master whose prod smoke test failed: what CodePipeline returns for it. */
function recordedFailure() {
  codepipeline.on(GetPipelineExecutionCommand).resolves({
    pipelineExecution: {
      pipelineName: 'v1-orcha-infra',
      pipelineExecutionId: 'abc-123',
      status: 'Failed',
      artifactRevisions: [
        {
          name: 'getorcha_orcha-infrastructure_Source',
          revisionId: '9f1c2d3e4b5a69788776655443322110ffeeddcc',
          revisionSummary: JSON.stringify({
            ProviderType: 'GitHub',
            CommitMessage: 'Raise the ingest visibility timeout\n\nLong documents take longer.',
          }),
          revisionUrl:
            'https://github.com/getorcha/orcha-infrastructure/commit/9f1c2d3e4b5a69788776655443322110ffeeddcc',
        },
      ],
      trigger: {
        triggerType: 'WebhookV2',
        triggerDetail: 'arn:aws:codeconnections:eu-central-1:700558745280:connection/1b2c3d4e',
      },
    },
  });
  codepipeline.on(ListActionExecutionsCommand).resolvesOnce({
    actionExecutionDetails: [
      {
        stageName: 'Staging',
        actionName: 'Deploy',
        status: 'Succeeded',
        startTime: new Date('2026-11-27T09:40:00Z'),
      },
    ],
    nextToken: 'page-2',
  });
  codepipeline.on(ListActionExecutionsCommand, { nextToken: 'page-2' }).resolves({
    actionExecutionDetails: [
      {
        stageName: 'Prod',
        actionName: 'Prod-SmokeTest',
        status: 'Failed',
        startTime: new Date('2026-11-27T09:58:00Z'),
        output: {
          executionResult: {
            externalExecutionSummary:
              'Build terminated with state: FAILED. Phase: BUILD, Code: COMMAND_EXECUTION_ERROR\nMessage: Error while executing command',
            externalExecutionUrl:
              'https://eu-central-1.console.aws.amazon.com/codebuild/home?region=eu-central-1#/builds/ProdSmokeTest:77/view/new',
          },
        },
      },
      {
        stageName: 'Prod',
        actionName: 'Later',
        status: 'Failed',
        startTime: new Date('2026-11-27T10:05:00Z'),
      },
    ],
  });
}

describe('a failed execution', () => {
  test('the e-mail names the failing action, its first error line, the commit and the trigger', async () => {
    recordedFailure();
    sns.on(PublishCommand).resolves({ MessageId: 'm-1' });
    const n = await handler(event('CodePipeline Pipeline Execution State Change', { state: 'FAILED' }));
    expect(n.subject).toBe(
      '[Orcha infra] v1-orcha-infra: FAILED at Prod-SmokeTest (9f1c2d3 Raise the ingest visibility timeout)',
    );
    expect(n.message).toBe(
      [
        'Pipeline:  v1-orcha-infra',
        'Event:     FAILED at Prod-SmokeTest',
        'Stage:     Prod',
        'Action:    Prod-SmokeTest',
        'Error:     Build terminated with state: FAILED. Phase: BUILD, Code: COMMAND_EXECUTION_ERROR',
        'Commit:    9f1c2d3e4b5a69788776655443322110ffeeddcc Raise the ingest visibility timeout',
        '           https://github.com/getorcha/orcha-infrastructure/commit/9f1c2d3e4b5a69788776655443322110ffeeddcc',
        'Trigger:   a push to GitHub (arn:aws:codeconnections:eu-central-1:700558745280:connection/1b2c3d4e)',
        'Execution: abc-123',
        'Time:      2026-11-27T10:00:00Z',
        'Account:   700558745280 (eu-central-1)',
        '',
        'Execution: https://eu-central-1.console.aws.amazon.com/codesuite/codepipeline/pipelines/v1-orcha-infra/executions/abc-123/timeline?region=eu-central-1',
        "Failed action's details and logs: https://eu-central-1.console.aws.amazon.com/codebuild/home?region=eu-central-1#/builds/ProdSmokeTest:77/view/new",
      ].join('\n'),
    );
    // One e-mail for the event, with exactly that text.
    const calls = sns.commandCalls(PublishCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0].args[0].input).toMatchObject({ Subject: n.subject, Message: n.message });
    expect(codepipeline.commandCalls(GetPipelineExecutionCommand)[0].args[0].input).toEqual({
      pipelineName: 'v1-orcha-infra',
      pipelineExecutionId: 'abc-123',
    });
    expect(codepipeline.commandCalls(ListActionExecutionsCommand)[0].args[0].input).toMatchObject({
      pipelineName: 'v1-orcha-infra',
      filter: { pipelineExecutionId: 'abc-123' },
    });
  });

  test('an action error message wins over the summary', async () => {
    codepipeline.on(ListActionExecutionsCommand).resolves({
      actionExecutionDetails: [
        {
          stageName: 'Prod',
          actionName: 'Data.Deploy',
          status: 'Failed',
          output: {
            executionResult: {
              externalExecutionSummary: 'Stack update failed',
              errorDetails: {
                code: 'JobFailed',
                message: '\nResource handler returned message: "Cannot delete protected DB instance"\nmore',
              },
            },
          },
        },
      ],
    });
    sns.on(PublishCommand).resolves({});
    const n = await handler(event('CodePipeline Pipeline Execution State Change', { state: 'FAILED' }));
    expect(n.message).toContain(
      'Error:     Resource handler returned message: "Cannot delete protected DB instance"\n',
    );
  });

  test('a lookup that fails still sends the one e-mail, with what the event says', async () => {
    codepipeline
      .on(GetPipelineExecutionCommand)
      .rejects(Object.assign(new Error('not authorized'), { name: 'AccessDeniedException' }));
    sns.on(PublishCommand).resolves({});
    const n = await handler(
      event('CodePipeline Pipeline Execution State Change', {
        state: 'FAILED',
        'execution-trigger': {
          'trigger-type': 'StartPipelineExecution',
          'trigger-detail': 'arn:aws:sts::1:assumed-role/Admin/alice',
        },
      }),
    );
    expect(sns.commandCalls(PublishCommand)).toHaveLength(1);
    expect(n.subject).toBe('[Orcha infra] v1-orcha-infra: FAILED');
    expect(n.message).toContain(
      'Trigger:   a manual "Release change" (arn:aws:sts::1:assumed-role/Admin/alice)',
    );
    expect(n.message).toContain('(Some details are missing: AccessDeniedException: not authorized)');
  });
});

test('a success names the commit and the trigger, and looks no actions up', async () => {
  recordedFailure();
  sns.on(PublishCommand).resolves({});
  const n = await handler(event('CodePipeline Pipeline Execution State Change', { state: 'SUCCEEDED' }));
  expect(n.subject).toBe(
    '[Orcha infra] v1-orcha-infra: succeeded (9f1c2d3 Raise the ingest visibility timeout)',
  );
  expect(n.message).not.toContain('Error:');
  expect(n.message).toContain(
    'Commit:    9f1c2d3e4b5a69788776655443322110ffeeddcc Raise the ingest visibility timeout',
  );
  expect(codepipeline.commandCalls(ListActionExecutionsCommand)).toHaveLength(0);
});

test("the approval e-mail carries the stage's change summary, report links and IAM check", async () => {
  codepipeline.on(ListActionExecutionsCommand).resolves({
    actionExecutionDetails: [
      {
        stageName: 'Staging',
        actionName: 'Staging-Review',
        status: 'Succeeded',
        output: { outputVariables: { CHANGE_SUMMARY: 'staging only' } },
      },
      {
        stageName: 'Prod',
        actionName: 'Prod-MigrationTest',
        status: 'Succeeded',
        output: {
          outputVariables: {
            MIGRATION_SUMMARY: 'passed: 2 migrations, no data loss',
            MIGRATION_REPORT_URL:
              'https://eu-central-1.console.aws.amazon.com/codesuite/codebuild/700558745280/projects/v1-orcha-migration-test/build/v1-orcha-migration-test%3Aabc/reports?region=eu-central-1',
          },
        },
      },
      {
        stageName: 'Prod',
        actionName: 'Prod-Review',
        status: 'Succeeded',
        output: {
          outputVariables: {
            CHANGE_SUMMARY: 'STATEFUL RESOURCE AT RISK: DatabaseB269D8BB (RDS::DBInstance) replaced.',
            REVIEW_URL:
              'https://eu-central-1.console.aws.amazon.com/s3/buckets/b?region=eu-central-1&prefix=reviews%2Fabc-123%2F',
            PERMISSIONS_CHECK: 'no broadening found.',
          },
        },
      },
    ],
  });
  sns.on(PublishCommand).resolves({});
  const n = await handler(
    event('CodePipeline Action Execution State Change', {
      state: 'STARTED',
      stage: 'Prod',
      action: 'Prod-Approve',
      type: { category: 'Approval' },
    }),
  );
  expect(n.message).toContain(
    [
      'Before approving:',
      '- Change: STATEFUL RESOURCE AT RISK: DatabaseB269D8BB (RDS::DBInstance) replaced.',
      '- Change summary and compliance report: https://eu-central-1.console.aws.amazon.com/s3/buckets/b?region=eu-central-1&prefix=reviews%2Fabc-123%2F',
      '- Migration test: passed: 2 migrations, no data loss',
      '- Migration report: https://eu-central-1.console.aws.amazon.com/codesuite/codebuild/700558745280/projects/v1-orcha-migration-test/build/v1-orcha-migration-test%3Aabc/reports?region=eu-central-1',
      '- IAM check: no broadening found.',
      '',
      'Review and approve: https://',
    ].join('\n'),
  );
  expect(n.message).not.toContain('staging only');
});
