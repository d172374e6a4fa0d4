import { CustomResource, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import { Construct } from 'constructs';
import { LAMBDA_NODEJS_RUNTIME } from '../config/toolchain';
import { lambdaCode } from './esbuild-bundling';
import { projectPath } from '../config/project';
import { managedLogGroup } from './log-group';
import { acknowledgeInlinePolicy, acknowledgeProviderFunction } from '../nag';
import { accountNames } from '../config/naming';

/** The name Session Manager reads its account-wide preferences from (one per account and region). */
const SESSION_MANAGER_PREFERENCES_DOCUMENT = accountNames.sessionManagerDocument;

/** CloudFormation type of the upsert. */
export const SESSION_PREFERENCES_RESOURCE_TYPE = 'Custom::SessionManagerPreferences';

const HANDLER_ENTRY = projectPath('lambda', 'session-preferences', 'index.ts');

export interface SessionManagerPreferencesProps {
  /**
   * Name of the log group every session of the account is streamed to. Every environment's
   * instance role must be allowed to write to it, or its sessions are not logged.
   */
  readonly logGroupName: string;
  /** Name of the function that upserts the document (its log group is `/aws/lambda/<name>`). */
  readonly functionName: string;
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
  /** Retention of the function's own log group, in days (the environment's `monitoring.logRetentionDays`). */
  readonly functionLogRetentionDays: number;
  /** Key of the log group (the environment's or the pipeline stack's `LogEncryptionKey`). */
  readonly logEncryptionKey: kms.IKey;
}

/**
 * Session Manager preferences of the account and region: every session's input and output
 * streamed to one CloudWatch log group, idle sessions closed.
 *
 * The document `SSM-SessionManagerRunShell` usually exists already (the console creates it), so
 * it is upserted by a custom resource (lambda/session-preferences): created when absent, a new
 * default version when its content differs, left alone when equal. Deleting the stack leaves the
 * document in place. Only one stack per account and region may hold this construct.
 */
export class SessionManagerPreferences extends Construct {
  /** The custom resource; its `DocumentVersion` attribute is the default version after the upsert. */
  public readonly resource: CustomResource;
  public readonly function: nodejs.NodejsFunction;
  /** The document's content (what Session Manager reads). */
  public readonly content: Record<string, unknown>;

  constructor(scope: Construct, id: string, props: SessionManagerPreferencesProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const idle = props.idleSessionTimeoutMinutes ?? 20;
    if (!Number.isInteger(idle) || idle < 1 || idle > 60) {
      throw new Error(`idleSessionTimeoutMinutes must be an integer from 1 to 60, got ${idle}`);
    }
    this.content = {
      schemaVersion: '1.0',
      description: 'Session Manager preferences: session logs to CloudWatch Logs',
      sessionType: 'Standard_Stream',
      inputs: {
        s3BucketName: '',
        s3KeyPrefix: '',
        s3EncryptionEnabled: false,
        cloudWatchLogGroupName: props.logGroupName,
        cloudWatchEncryptionEnabled: props.logGroupEncrypted ?? false,
        cloudWatchStreamingEnabled: true,
        idleSessionTimeout: String(idle),
        kmsKeyId: '',
        runAsEnabled: false,
        runAsDefaultUser: '',
        shellProfile: { linux: '', windows: '' },
      },
    };

    const documentArn = stack.formatArn({
      service: 'ssm',
      resource: 'document',
      resourceName: SESSION_MANAGER_PREFERENCES_DOCUMENT,
    });
    const functionLogs = managedLogGroup(this, 'FunctionLogs', {
      logGroupName: `/aws/lambda/${props.functionName}`,
      retentionDays: props.functionLogRetentionDays,
      removalPolicy: RemovalPolicy.DESTROY,
      encryptionKey: props.logEncryptionKey,
    });
    // Its own role: its log group and the one document, nothing else.
    const role = new iam.Role(this, 'FunctionRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `${props.functionName}: its logs, read and write ${SESSION_MANAGER_PREFERENCES_DOCUMENT}`,
    });
    functionLogs.grantWrite(role);
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'UpsertSessionPreferences',
        actions: [
          'ssm:GetDocument',
          'ssm:ListDocumentVersions',
          'ssm:CreateDocument',
          'ssm:UpdateDocument',
          'ssm:UpdateDocumentDefaultVersion',
        ],
        resources: [documentArn],
      }),
    );

    this.function = new nodejs.NodejsFunction(this, 'Function', {
      role,
      functionName: props.functionName,
      description: `Creates or updates ${SESSION_MANAGER_PREFERENCES_DOCUMENT} (account-wide Session Manager preferences)`,
      code: lambdaCode(HANDLER_ENTRY),
      handler: 'index.handler',
      // The Lambda runtime of record (lib/config/toolchain.ts).
      runtime: LAMBDA_NODEJS_RUNTIME,
      architecture: lambda.Architecture.ARM_64,
      memorySize: 256,
      timeout: Duration.minutes(2),
      logGroup: functionLogs,
      environment: { POWERTOOLS_SERVICE_NAME: 'session-preferences', NODE_OPTIONS: '--enable-source-maps' },
    });
    acknowledgeInlinePolicy(
      role,
      'The Session Manager preferences function role may write its own log group and create or update the one preferences document',
    );
    acknowledgeProviderFunction(
      this.function,
      'The Session Manager preferences function',
      'the SSM API for one document',
    );

    this.resource = new CustomResource(this, 'Resource', {
      serviceToken: this.function.functionArn,
      resourceType: SESSION_PREFERENCES_RESOURCE_TYPE,
      properties: {
        DocumentName: SESSION_MANAGER_PREFERENCES_DOCUMENT,
        Content: stack.toJsonString(this.content),
      },
      // The document is account-wide and may predate the stack: never deleted (the handler's
      // Delete is a no-op too, so that a stack handing ownership over cannot remove it).
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }
}
