import { RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

/**
 * The one way the project creates a CloudWatch log group: explicitly (never a `LogRetention`
 * custom resource, which adds a Lambda function with a role on `*` per stack), with a retention
 * in days that CloudWatch accepts (`monitoring.logRetentionDays` of the environment), an
 * explicit removal policy and the environment's {@link LogEncryptionKey}.
 */
export interface ManagedLogGroupProps {
  /** Physical name (from lib/config/naming.ts); generated when absent. */
  readonly logGroupName?: string;
  /** Retention in days, one of the values CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, …). */
  readonly retentionDays: number;
  /** RETAIN for logs people read after a teardown; DESTROY for a function's own logs. */
  readonly removalPolicy: RemovalPolicy;
  /**
   * Customer managed key the group's events are encrypted with: the environment's (or the
   * pipeline stack's) {@link LogEncryptionKey}. Required: NIST 800-53 R5 (AU-9, SC-13, SC-28)
   * asks for log groups encrypted with a key the account controls.
   */
  readonly encryptionKey: kms.IKey;
}

const VALID_RETENTION_DAYS = Object.values(logs.RetentionDays).filter(
  (v): v is number => typeof v === 'number' && v !== logs.RetentionDays.INFINITE,
);

/** `logs.RetentionDays` for a number of days CloudWatch Logs accepts; throws on any other number. */
export function retentionDays(days: number): logs.RetentionDays {
  if (!VALID_RETENTION_DAYS.includes(days)) {
    throw new Error(`Log retention of ${days} days: must be one of ${VALID_RETENTION_DAYS.join(', ')}`);
  }
  return days as logs.RetentionDays;
}

/** A log group with the project's settings; the construct is created directly under `scope` with `id`. */
export function managedLogGroup(scope: Construct, id: string, props: ManagedLogGroupProps): logs.LogGroup {
  // Absent properties are left out rather than passed as undefined: the CDK records the keys
  // of construct props in the template's AWS::CDK::Metadata.
  return new logs.LogGroup(scope, id, {
    ...(props.logGroupName !== undefined && { logGroupName: props.logGroupName }),
    retention: retentionDays(props.retentionDays),
    removalPolicy: props.removalPolicy,
    encryptionKey: props.encryptionKey,
  });
}

/** The KMS actions CloudWatch Logs needs on a key that encrypts log groups (CloudWatch Logs user guide). */
export const LOGS_KEY_ACTIONS = [
  'kms:Encrypt*',
  'kms:Decrypt*',
  'kms:ReEncrypt*',
  'kms:GenerateDataKey*',
  'kms:Describe*',
] as const;

export interface LogEncryptionKeyProps {
  /** Says whose log groups the key encrypts, e.g. `Orcha dev: CloudWatch log groups`. */
  readonly description: string;
}

/**
 * The customer managed KMS key that encrypts the log groups of one environment (or of the
 * pipeline stack): one key per environment, not per log group, because a key costs $1/month
 * (plus $1/month for each of the first two yearly rotations, and $0.03 per 10,000 requests;
 * CloudWatch Logs caches data keys, so requests stay in the hundreds a day).
 *
 * Its policy (CloudWatch Logs user guide, "Encrypt log data in CloudWatch Logs using AWS KMS")
 * lets the CloudWatch Logs service principal of the key's region use it only for log groups of
 * the key's account and region: the condition on `kms:EncryptionContext:aws:logs:arn`, which
 * CloudWatch Logs sets to the log group's ARN. People and roles that read the logs need no KMS
 * permission: CloudWatch Logs decrypts on their behalf. Rotated yearly. Retained on teardown:
 * retained log groups (application, user data, builds, sessions) stay readable only while their
 * key exists; schedule its deletion after the last of them is gone.
 */
export class LogEncryptionKey extends Construct {
  public readonly key: kms.Key;

  constructor(scope: Construct, id: string, props: LogEncryptionKeyProps) {
    super(scope, id);
    const { region, account, partition } = Stack.of(this);
    this.key = new kms.Key(this, 'Key', {
      description: props.description,
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudWatchLogsOfThisAccountAndRegion',
        principals: [new iam.ServicePrincipal(`logs.${region}.amazonaws.com`)],
        actions: [...LOGS_KEY_ACTIONS],
        resources: ['*'],
        conditions: {
          ArnLike: {
            'kms:EncryptionContext:aws:logs:arn': `arn:${partition}:logs:${region}:${account}:log-group:*`,
          },
        },
      }),
    );
  }
}
