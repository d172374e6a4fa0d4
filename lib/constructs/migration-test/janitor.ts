import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import type { Construct } from 'constructs';
import { JANITOR_ENV, PURPOSE_TAG } from '../../config/migration-test-contract';
import { projectPath } from '../../config/project';
import { LAMBDA_NODEJS_RUNTIME } from '../../config/toolchain';
import { acknowledge, acknowledgeInlinePolicy } from '../../nag';
import { lambdaCode } from '../esbuild-bundling';
import { managedLogGroup } from '../log-group';
import { nagString, rdsArns } from './arns';
import { TEMP_INSTANCES_REASON } from './project';

const JANITOR_ENTRY = projectPath('lambda', 'migration-janitor', 'index.ts');

export interface MigrationJanitorProps {
  /** Function name (`v1-orcha-migration-janitor`); its log group is `/aws/lambda/<name>`. */
  readonly functionName: string;
  /** Reserved prefix of the temporary instances: the only ones it may delete. */
  readonly instancePrefix: string;
  /** The source instance (for the account's RDS ARNs only). */
  readonly sourceInstanceId: string;
  /** Retention of its log group in days (`monitoring.logRetentionDays`). */
  readonly logRetentionDays: number;
  /** Key of the log group (the environment's or the pipeline stack's `LogEncryptionKey`). */
  readonly logEncryptionKey: kms.IKey;
}

/**
 * The janitor: a Lambda (lambda/migration-janitor) deleting, hourly, temporary instances past
 * their `ExpiresAt` tag that carry `Purpose=migration-test` and the reserved prefix.
 *
 * A piece of {@link MigrationTest}: it adds its resources (`JanitorLogs`, `JanitorRole`, `Janitor`,
 * `JanitorSchedule`) to the given scope, so their logical ids stay those of the original construct.
 */
export class MigrationJanitor {
  public readonly function: nodejs.NodejsFunction;
  public readonly schedule: events.Rule;
  public readonly role: iam.Role;

  constructor(scope: Construct, props: MigrationJanitorProps) {
    const stack = Stack.of(scope);
    const arns = rdsArns(stack, props.sourceInstanceId, props.instancePrefix);
    const logGroup = managedLogGroup(scope, 'JanitorLogs', {
      logGroupName: `/aws/lambda/${props.functionName}`,
      retentionDays: props.logRetentionDays,
      removalPolicy: RemovalPolicy.DESTROY,
      encryptionKey: props.logEncryptionKey,
    });
    // Its own role: its own log group and the RDS statements below, nothing else.
    this.role = new iam.Role(scope, 'JanitorRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `${props.functionName}: its logs, list instances, delete expired ${props.instancePrefix}* instances`,
    });
    logGroup.grantWrite(this.role);
    this.function = new nodejs.NodejsFunction(scope, 'Janitor', {
      role: this.role,
      functionName: props.functionName,
      description: `Deletes ${props.instancePrefix}* instances tagged ${PURPOSE_TAG.Key}=${PURPOSE_TAG.Value} after their ExpiresAt tag`,
      code: lambdaCode(JANITOR_ENTRY),
      handler: 'index.handler',
      // Named, not NODEJS_LATEST: with NODEJS_LATEST the CDK would bundle the whole AWS SDK.
      runtime: LAMBDA_NODEJS_RUNTIME,
      architecture: lambda.Architecture.ARM_64,
      memorySize: 256,
      timeout: Duration.minutes(2),
      // One sweep at a time: a run that deletes database instances never overlaps another.
      reservedConcurrentExecutions: 1,
      logGroup,
      environment: {
        [JANITOR_ENV.instancePrefix]: props.instancePrefix,
        POWERTOOLS_SERVICE_NAME: 'migration-janitor',
        NODE_OPTIONS: '--enable-source-maps',
      },
    });
    // Listing all instances is authorized against every instance ARN of the account and region.
    this.function.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'ListInstances',
        actions: ['rds:DescribeDBInstances'],
        resources: [arns.allInstances],
      }),
    );
    this.function.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'DeleteExpiredTemporaryInstances',
        actions: ['rds:DeleteDBInstance'],
        resources: [arns.tempInstances],
        conditions: { StringEquals: { [`aws:ResourceTag/${PURPOSE_TAG.Key}`]: PURPOSE_TAG.Value } },
      }),
    );
    this.schedule = new events.Rule(scope, 'JanitorSchedule', {
      description: 'Hourly clean-up of migration-test instances',
      schedule: events.Schedule.rate(Duration.hours(1)),
      targets: [new targets.LambdaFunction(this.function, { retryAttempts: 2 })],
    });

    acknowledgeInlinePolicy(
      this.role,
      'The migration-test janitor role may write its own log group, list the database instances and delete expired temporary instances with the reserved prefix and tag',
    );
    acknowledge(
      this.function,
      'NIST.800.53.R5-LambdaDLQ',
      'The janitor runs hourly on a schedule and each run sweeps every expired temporary instance again, so an event that fails after its two retries is repeated by the next run an hour later; a dead-letter queue would hold only schedule ticks that carry no data.',
    );
    acknowledge(
      this.function,
      'NIST.800.53.R5-LambdaInsideVPC',
      'The janitor calls only the RDS API (describe and delete instances), a public AWS endpoint, and reads no data in the VPC; in the VPC it would need the NAT instance or an RDS interface endpoint (about $8/month per AZ) to reach it.',
    );
    const arn = (value: string): string => nagString(stack, value);
    acknowledge(this.role, `AwsSolutions-IAM5[Resource::${arn(arns.tempInstances)}]`, TEMP_INSTANCES_REASON);
    acknowledge(
      this.role,
      `AwsSolutions-IAM5[Resource::${arn(arns.allInstances)}]`,
      'The janitor lists every instance of the account and region (rds:DescribeDBInstances is authorized against ' +
        'each instance ARN) to find expired temporary ones; deleting is a separate statement limited to the ' +
        'reserved prefix and the Purpose tag.',
    );
  }
}
