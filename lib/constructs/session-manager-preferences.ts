import type * as logs from 'aws-cdk-lib/aws-logs';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';

/** The name Session Manager reads its account-wide preferences from (one per account and region). */
export const SESSION_MANAGER_PREFERENCES_DOCUMENT = 'SSM-SessionManagerRunShell';

export interface SessionManagerPreferencesProps {
  /** Sessions are streamed to this log group. */
  readonly logGroup: logs.ILogGroup;
  /**
   * Whether Session Manager requires the log group to be encrypted with a KMS key. Must be
   * false for a group without a KMS key, or sessions fail to start.
   * @default false
   */
  readonly logGroupEncrypted?: boolean;
  /**
   * Minutes of inactivity after which a session ends (1-60).
   * @default 20
   */
  readonly idleSessionTimeoutMinutes?: number;
}

/**
 * Session Manager preferences of the account and region: every session's input and output
 * streamed to a CloudWatch log group, idle sessions closed. The document name is fixed by
 * Session Manager, so only one stack per account and region may create it.
 */
export class SessionManagerPreferences extends Construct {
  public readonly document: ssm.CfnDocument;

  constructor(scope: Construct, id: string, props: SessionManagerPreferencesProps) {
    super(scope, id);
    const idle = props.idleSessionTimeoutMinutes ?? 20;
    if (!Number.isInteger(idle) || idle < 1 || idle > 60) {
      throw new Error(`idleSessionTimeoutMinutes must be an integer from 1 to 60, got ${idle}`);
    }
    this.document = new ssm.CfnDocument(this, 'Document', {
      name: SESSION_MANAGER_PREFERENCES_DOCUMENT,
      documentType: 'Session',
      documentFormat: 'JSON',
      // The name is fixed: a content change must add a version, not replace the document.
      updateMethod: 'NewVersion',
      content: {
        schemaVersion: '1.0',
        description: 'Session Manager preferences: session logs to CloudWatch Logs',
        sessionType: 'Standard_Stream',
        inputs: {
          s3BucketName: '',
          s3KeyPrefix: '',
          s3EncryptionEnabled: false,
          cloudWatchLogGroupName: props.logGroup.logGroupName,
          cloudWatchEncryptionEnabled: props.logGroupEncrypted ?? false,
          cloudWatchStreamingEnabled: true,
          idleSessionTimeout: String(idle),
          kmsKeyId: '',
          runAsEnabled: false,
          runAsDefaultUser: '',
          shellProfile: { linux: '', windows: '' },
        },
      },
    });
  }
}
