import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { LAMBDA_NODEJS_RUNTIME } from '../config/toolchain';
import { acknowledge, acknowledgeInlinePolicy } from '../nag';
import { notifyingAlarm } from './alarms';
import { lambdaCode } from './esbuild-bundling';
import { projectPath } from '../config/project';
import { managedLogGroup } from './log-group';

const HANDLER_ENTRY = projectPath('lambda', 'app-restart', 'index.ts');

/** Where CloudTrail puts Secrets Manager's rotation events (service events, not API calls). */
const SECRETS_MANAGER_SERVICE_EVENT = 'AWS Service Event via CloudTrail';

/**
 * The pattern of Secrets Manager's rotation outcome `eventName` for one secret. The secret's id is
 * in `additionalEventData.SecretId` (AWS's published samples) or `serviceEventDetails.secretId`
 * (seen on newer events): either matches.
 */
export function rotationEventPattern(eventName: string, secretArn: string): events.EventPattern {
  return {
    source: ['aws.secretsmanager'],
    detailType: [SECRETS_MANAGER_SERVICE_EVENT],
    detail: {
      eventSource: ['secretsmanager.amazonaws.com'],
      eventName: [eventName],
      $or: [
        { additionalEventData: { SecretId: [secretArn] } },
        { serviceEventDetails: { secretId: [secretArn] } },
      ],
    },
  };
}

/** Auto Scaling's events of an instance refresh that did not complete, for one group. */
export function failedRefreshEventPattern(autoScalingGroupName: string): events.EventPattern {
  return {
    source: ['aws.autoscaling'],
    detailType: ['EC2 Auto Scaling Instance Refresh Failed', 'EC2 Auto Scaling Instance Refresh Cancelled'],
    detail: { AutoScalingGroupName: [autoScalingGroupName] },
  };
}

export interface RotationRestartProps {
  /** Environment name, in alert subjects. */
  readonly environment: string;
  /** The rotated secret. */
  readonly secret: secretsmanager.ISecret;
  /**
   * Its name (`/v1-orcha/db-credentials`), for descriptions and messages: a literal, where the
   * secret's `secretName` would split a cross-stack reference (cfn-lint E1022).
   */
  readonly secretName: string;
  /** Name of Secrets Manager's hosted rotation function (its Errors metric is alarmed). */
  readonly rotationFunctionName: string;
  /** Name of the restart function (`v1-orcha-app-restart`). */
  readonly functionName: string;
  /** Physical name of the Auto Scaling group whose instances run the application. */
  readonly autoScalingGroupName: string;
  /** Seconds a replacement instance needs before it counts (the group's health check grace). */
  readonly instanceWarmupSeconds: number;
  readonly topic: sns.ITopic;
  /** The topic's KMS key (the function encrypts what it publishes). */
  readonly topicKey: kms.IKey;
  /** Gives an alarm its physical name from its key, e.g. `naming.alarm`. */
  readonly alarmName: (key: string) => string;
  /** Retention of the function's log group, in days (the environment's `monitoring.logRetentionDays`). */
  readonly logRetentionDays: number;
  /** Key of the log group (the environment's or the pipeline stack's `LogEncryptionKey`). */
  readonly logEncryptionKey: kms.IKey;
}

/**
 * What follows a rotation of the database credentials:
 * - `RotationSucceeded` → the restart function, which replaces the application instances one at a
 *   time, launch before terminate (lambda/app-restart);
 * - `RotationFailed`, a failed or cancelled instance refresh of the group, and errors of either
 *   function → the alerts topic.
 *
 * EventBridge publishes to the topic as a role of its own (an execution role, which EventBridge
 * supports for every target since 2025): it may publish to the one topic and encrypt with its key,
 * and only EventBridge of this account may assume it. The topic's and the key's policies get no
 * statement for `events.amazonaws.com`, which would let any rule of any account publish.
 */
export class RotationRestart extends Construct {
  public readonly function: nodejs.NodejsFunction;
  public readonly succeededRule: events.Rule;
  public readonly failedRule: events.Rule;
  public readonly refreshFailedRule: events.Rule;
  public readonly alarms: cloudwatch.Alarm[];

  constructor(scope: Construct, id: string, props: RotationRestartProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const group = props.autoScalingGroupName;

    const logGroup = managedLogGroup(this, 'FunctionLogs', {
      logGroupName: `/aws/lambda/${props.functionName}`,
      retentionDays: props.logRetentionDays,
      removalPolicy: RemovalPolicy.DESTROY,
      encryptionKey: props.logEncryptionKey,
    });
    // Its own role: its log group, the group's instance refreshes and the alerts topic.
    const role = new iam.Role(this, 'FunctionRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `${props.functionName}: its logs, instance refresh of ${group}, publish alerts`,
    });
    logGroup.grantWrite(role);
    const groupArn = stack.formatArn({
      service: 'autoscaling',
      resource: 'autoScalingGroup',
      resourceName: `*:autoScalingGroupName/${group}`,
    });
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'RefreshTheGroup',
        actions: ['autoscaling:StartInstanceRefresh'],
        resources: [groupArn],
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'ReadRefreshes',
        actions: ['autoscaling:DescribeInstanceRefreshes'],
        resources: ['*'],
      }),
    );
    // Publish to the topic and encrypt with its key (explicit actions, no kms:GenerateDataKey*).
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'PublishAlerts',
        actions: ['sns:Publish'],
        resources: [props.topic.topicArn],
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'EncryptAlerts',
        actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
        resources: [props.topicKey.keyArn],
      }),
    );

    this.function = new nodejs.NodejsFunction(this, 'Function', {
      role,
      functionName: props.functionName,
      description: `Replaces the instances of ${group} (launch before terminate) after the DB credentials rotate`,
      code: lambdaCode(HANDLER_ENTRY),
      handler: 'index.handler',
      runtime: LAMBDA_NODEJS_RUNTIME,
      architecture: lambda.Architecture.ARM_64,
      memorySize: 256,
      timeout: Duration.minutes(1),
      // One restart at a time: two rotation events never replace the instances twice in parallel.
      reservedConcurrentExecutions: 1,
      logGroup,
      // A failed start is alerted by the function itself; a retry would alert again.
      retryAttempts: 0,
      environment: {
        ORCHA_ENVIRONMENT: props.environment,
        AUTO_SCALING_GROUP_NAME: group,
        SECRET_ARN: props.secret.secretArn,
        ALERT_TOPIC_ARN: props.topic.topicArn,
        INSTANCE_WARMUP_SECONDS: String(props.instanceWarmupSeconds),
        POWERTOOLS_SERVICE_NAME: 'app-restart',
        NODE_OPTIONS: '--enable-source-maps',
      },
    });

    acknowledgeInlinePolicy(
      role,
      `The app-restart function role may write its own log group, start an instance refresh of ${group} only and publish to the alerts topic with its key`,
    );
    acknowledge(
      this.function,
      'NIST.800.53.R5-LambdaDLQ',
      'A failed restart is not retried (a second instance refresh would only alert again): the function alerts the team itself, its Errors metric raises the RestartErrors alarm, and the runbook (credential-rotation.md) restarts the instances by hand; a dead-letter queue would hold an event nobody replays.',
    );
    acknowledge(
      this.function,
      'NIST.800.53.R5-LambdaInsideVPC',
      'The app-restart function calls only the Auto Scaling and SNS APIs, public AWS endpoints, and reads no data in the VPC; in the VPC it would need a NAT or two interface endpoints (about $16/month per AZ) to reach them.',
    );

    this.succeededRule = new events.Rule(this, 'RotationSucceeded', {
      description: `Rotation of ${props.secretName} succeeded: replace the application instances`,
      eventPattern: rotationEventPattern('RotationSucceeded', props.secret.secretArn),
      targets: [new targets.LambdaFunction(this.function, { retryAttempts: 2 })],
    });
    const publisher = new iam.Role(this, 'AlertPublisherRole', {
      assumedBy: new iam.ServicePrincipal('events.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
      }),
      description: `EventBridge rules of ${props.environment}: publish rotation and instance refresh alerts`,
    });
    publisher.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'PublishAlerts',
        actions: ['sns:Publish'],
        resources: [props.topic.topicArn],
      }),
    );
    // What SNS needs of a publisher to an encrypted topic (explicit actions, no kms:GenerateDataKey*).
    publisher.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'EncryptAlerts',
        actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
        resources: [props.topicKey.keyArn],
      }),
    );
    acknowledgeInlinePolicy(
      publisher,
      "The alert publisher role (assumed by this account's EventBridge only) may publish to the alerts topic with its key",
    );
    // Handed over immutable: the target would add its own grant with kms:GenerateDataKey*.
    const alert = (text: string) =>
      new targets.SnsTopic(props.topic, {
        message: events.RuleTargetInput.fromText(text),
        role: publisher.withoutPolicyUpdates(),
      });
    this.failedRule = new events.Rule(this, 'RotationFailed', {
      description: `Rotation of ${props.secretName} failed: alert`,
      eventPattern: rotationEventPattern('RotationFailed', props.secret.secretArn),
      targets: [
        alert(
          `Orcha ${props.environment}: the rotation of the database credentials FAILED at ${events.EventField.time}. ` +
            'The application keeps the current password (AWSCURRENT is unchanged). ' +
            `Runbook: docs/runbooks/credential-rotation.md ("A rotation failed"); logs: /aws/lambda/${props.rotationFunctionName}.`,
        ),
      ],
    });
    this.refreshFailedRule = new events.Rule(this, 'RefreshFailed', {
      description: `An instance refresh of ${group} failed or was cancelled: alert`,
      eventPattern: failedRefreshEventPattern(group),
      targets: [
        alert(
          `Orcha ${props.environment}: the instance refresh of ${group} did not complete (${events.EventField.fromPath('$.detail-type')}: ${events.EventField.fromPath('$.detail.StatusReason')}). ` +
            'After a credential rotation, instances still running the old password lose database connections as they reconnect. ' +
            'Runbook: docs/runbooks/credential-rotation.md ("The restart after a rotation failed").',
        ),
      ],
    });
    // No event reaches a target before its role may publish.
    for (const rule of [this.failedRule, this.refreshFailedRule]) rule.node.addDependency(publisher);

    // Errors of either function: the rotation's own failures also raise RotationFailed, but a
    // timeout or a crash of the restart function raises nothing else.
    const errors = (key: string, alarmKey: string, functionName: string, summary: string) =>
      notifyingAlarm(this, key, {
        alarmName: props.alarmName(alarmKey),
        topic: props.topic,
        definition: {
          severity: 'operational',
          summary,
          metric: new cloudwatch.Metric({
            namespace: 'AWS/Lambda',
            metricName: 'Errors',
            dimensionsMap: { FunctionName: functionName },
            statistic: 'Sum',
            period: Duration.minutes(5),
          }),
          threshold: 0,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
          evaluationPeriods: 1,
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        },
      });
    this.alarms = [
      errors(
        'RotationErrors',
        'db-rotation-errors',
        props.rotationFunctionName,
        'The DB credentials rotation function failed (docs/runbooks/credential-rotation.md).',
      ),
      errors(
        'RestartErrors',
        'app-restart-errors',
        props.functionName,
        'The app restart after a credential rotation failed (docs/runbooks/credential-rotation.md).',
      ),
    ];

    acknowledge(
      role,
      'AwsSolutions-IAM5[Resource::*]',
      'autoscaling:DescribeInstanceRefreshes has no resource-level permissions (it only lists refresh status); StartInstanceRefresh, the one action that changes anything, is scoped to the one group.',
    );
    acknowledge(
      role,
      `AwsSolutions-IAM5[Resource::${groupArn}]`,
      `An Auto Scaling group's ARN contains a UUID assigned at creation; the wildcard stands for that UUID only, the group name (${group}) is literal.`,
    );
  }
}
