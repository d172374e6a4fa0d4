import type { RemovalPolicy } from 'aws-cdk-lib';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';

/**
 * The one way the project creates a CloudWatch log group: explicitly (never a `LogRetention`
 * custom resource, which adds a Lambda function with a role on `*` per stack), with a retention
 * in days that CloudWatch accepts (`monitoring.logRetentionDays` of the environment) and an
 * explicit removal policy.
 */
export interface ManagedLogGroupProps {
  /** Physical name (from lib/config/naming.ts); generated when absent. */
  readonly logGroupName?: string;
  /** Retention in days, one of the values CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, …). */
  readonly retentionDays: number;
  /** RETAIN for logs people read after a teardown; DESTROY for a function's own logs. */
  readonly removalPolicy: RemovalPolicy;
  /** Customer managed key the group's events are encrypted with. @default AWS owned key */
  readonly encryptionKey?: kms.IKey;
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
    ...(props.encryptionKey && { encryptionKey: props.encryptionKey }),
  });
}
