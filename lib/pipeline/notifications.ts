import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type * as codepipeline from 'aws-cdk-lib/aws-codepipeline';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import { lambdaCode } from '../constructs/esbuild-bundling';
import { LAMBDA_NODEJS_RUNTIME } from '../config/toolchain';
import { projectPath } from '../config/project';
import { managedLogGroup } from '../constructs/log-group';
import { acknowledge, acknowledgeInlinePolicy } from '../nag';

export interface PipelineNotificationsProps {
  /** Name of the topic the team subscribes to. */
  readonly topicName: string;
  /** Address subscribed to the topic (confirmed once by e-mail). */
  readonly email: string;
  /** Words in front of every subject, e.g. `[Orcha infra]`. */
  readonly subjectPrefix: string;
  /** Retention of the notifier function's logs. */
  readonly logRetentionDays: number;
  /** Key of the log group (the environment's or the pipeline stack's `LogEncryptionKey`). */
  readonly logEncryptionKey: kms.IKey;
}

/** The execution states that reach people. */
export const NOTIFIED_PIPELINE_STATES = ['STARTED', 'SUCCEEDED', 'FAILED'] as const;

/**
 * Pipeline events by e-mail with a readable subject: EventBridge rules on the pipeline's
 * execution states and on its approval actions → a small function that looks the execution up
 * (commit, trigger, failed action and its first error line, the approval's review links) and
 * writes the subject and body → an SNS topic with the team's address. One e-mail per event.
 */
export class PipelineNotifications extends Construct {
  public readonly topic: sns.Topic;
  private readonly notifier: lambda.Function;

  constructor(scope: Construct, id: string, props: PipelineNotificationsProps) {
    super(scope, id);
    this.topic = new sns.Topic(this, 'Topic', {
      topicName: props.topicName,
      displayName: props.subjectPrefix,
      enforceSSL: true,
    });
    this.topic.addSubscription(new subscriptions.EmailSubscription(props.email));

    const logGroup = managedLogGroup(this, 'NotifierLogs', {
      retentionDays: props.logRetentionDays,
      removalPolicy: RemovalPolicy.DESTROY,
      encryptionKey: props.logEncryptionKey,
    });
    // Its own role: write to its own log group and publish to the topic, nothing else.
    const role = new iam.Role(this, 'NotifierRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'Pipeline notifier: its own logs and the pipeline events topic',
    });
    logGroup.grantWrite(role);
    const notifier = new nodejs.NodejsFunction(this, 'Notifier', {
      role,
      code: lambdaCode(projectPath('lambda', 'pipeline-notifier', 'index.ts')),
      handler: 'index.handler',
      // Named, not NODEJS_LATEST: with NODEJS_LATEST the CDK would bundle the whole AWS SDK.
      runtime: LAMBDA_NODEJS_RUNTIME,
      architecture: lambda.Architecture.ARM_64,
      memorySize: 256,
      timeout: Duration.seconds(30),
      logGroup,
      environment: {
        TOPIC_ARN: this.topic.topicArn,
        SUBJECT_PREFIX: props.subjectPrefix,
        NODE_OPTIONS: '--enable-source-maps',
      },
    });
    this.topic.grantPublish(notifier);
    this.notifier = notifier;
    this.acknowledgeFindings(role);
  }

  /** NIST 800-53 R5 findings of the notifier and its topic, each on its resource. */
  private acknowledgeFindings(role: iam.IRole): void {
    acknowledgeInlinePolicy(
      role,
      "The pipeline notifier's role may write its own log group, publish to the pipeline events topic and read this pipeline's executions",
    );
    acknowledge(
      this.notifier,
      'NIST.800.53.R5-LambdaConcurrency',
      'The notifier sends one e-mail per pipeline event (a few dozen a day at most); reserved concurrency would bound no risk, since it only reads this pipeline and publishes to one topic, and would take from the account pool.',
    );
    acknowledge(
      this.notifier,
      'NIST.800.53.R5-LambdaDLQ',
      'EventBridge retries a failed notification twice; after that the mail is lost but nothing else is: the pipeline, its approvals and its history in the CodePipeline console are unaffected, so a dead-letter queue would hold events nobody replays.',
    );
    acknowledge(
      this.notifier,
      'NIST.800.53.R5-LambdaInsideVPC',
      'The notifier calls only the CodePipeline and SNS APIs, public AWS endpoints, and the pipeline stack has no VPC; one would add a NAT or two interface endpoints (about $16/month per AZ) for no data it protects.',
    );
    acknowledge(
      this.topic,
      'NIST.800.53.R5-SNSEncryptedKMS',
      'The pipeline events topic carries the e-mails of pipeline events (stage, action, commit id and message, console links; no secrets), delivered to its subscribers by plain e-mail anyway; SNS holds each message for seconds, so a customer managed key ($1/month, plus key grants for the notifier and the review step) would protect nothing that the mail does not expose.',
    );
  }

  /**
   * Notifies on the pipeline's execution start, success and failure, and when one of
   * `manualApprovals` (action names) waits for a person. Approval actions that approve
   * themselves (such as CDK Pipelines' permissions-broadening check, which confirms itself when
   * nothing broadens) are left out, so that an "approval waiting" mail always means someone has
   * to act.
   */
  public watch(pipeline: codepipeline.IPipeline, manualApprovals: readonly string[]): void {
    // The e-mail names the commit, the trigger, the failed action and the approval's review links:
    // read this pipeline's executions and action executions, nothing else.
    this.notifier.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['codepipeline:GetPipelineExecution', 'codepipeline:ListActionExecutions'],
        resources: [pipeline.pipelineArn],
      }),
    );
    const target = new targets.LambdaFunction(this.notifier, { retryAttempts: 2 });
    new events.Rule(this, 'ExecutionStateRule', {
      description: `${pipeline.pipelineName}: execution started, succeeded or failed`,
      eventPattern: {
        source: ['aws.codepipeline'],
        detailType: ['CodePipeline Pipeline Execution State Change'],
        resources: [pipeline.pipelineArn],
        detail: { state: [...NOTIFIED_PIPELINE_STATES] },
      },
      targets: [target],
    });
    if (manualApprovals.length === 0) return;
    new events.Rule(this, 'ApprovalRule', {
      description: `${pipeline.pipelineName}: waiting for a manual approval`,
      eventPattern: {
        source: ['aws.codepipeline'],
        detailType: ['CodePipeline Action Execution State Change'],
        resources: [pipeline.pipelineArn],
        detail: { state: ['STARTED'], type: { category: ['Approval'] }, action: [...manualApprovals] },
      },
      targets: [target],
    });
  }
}
