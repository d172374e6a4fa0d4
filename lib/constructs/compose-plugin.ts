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

const MIRROR_ENTRY = projectPath('lambda', 'tool-mirror', 'index.ts');

/**
 * The docker compose plugin the instances install: pinned release and its SHA-256
 * (`docker-compose-linux-aarch64`). The checksum is the one Docker's official `docker` image
 * verifies for the same release in its Dockerfile (docker-library, `DOCKER_COMPOSE_VERSION=2.33.0`,
 * `sha256sum -c`), so it is a published value, not one computed here. To move it forward, change
 * the three values together from such a source (see docs/runbooks/update-ami.md, "Tools the
 * instances install"); a wrong checksum fails the Compute stack update at the copy, before any
 * instance boots.
 */
export const COMPOSE_PLUGIN = {
  version: 'v2.33.0',
  url: 'https://github.com/docker/compose/releases/download/v2.33.0/docker-compose-linux-aarch64',
  sha256: '03a42a0fc0614ffc3c9ebca521cab75e02c427b68e45e3f6867d9510b9a28818',
} as const;

export interface ComposePluginProps {
  /** Bucket the instances may read (the environment's pipeline artifacts bucket), by name. */
  readonly bucketName: string;
  /** Retention of the mirror function's log group. */
  readonly logRetentionDays: number;
  /** Key of the log group (the environment's or the pipeline stack's `LogEncryptionKey`). */
  readonly logEncryptionKey: kms.IKey;
  /** @default COMPOSE_PLUGIN */
  readonly release?: { readonly version: string; readonly url: string; readonly sha256: string };
}

/**
 * The pinned docker compose plugin in S3. A custom resource copies the release from its URL into
 * `s3://<bucket>/tools/docker-compose/<version>/docker-compose-linux-aarch64` once per version,
 * at deploy time, refusing a file whose SHA-256 differs from the pin; the boot script installs it
 * from there (checking the SHA-256 again). So instances that launch never download from GitHub,
 * and a GitHub outage or a changed release fails a deployment, not a scale-out.
 *
 * Why not a CDK asset: the binary (about 60 MB) is not in this repository and cannot be fetched
 * by a synth that runs offline; the deploy-time copy needs internet only in AWS (Lambda).
 */
export class ComposePlugin extends Construct {
  /** `s3://bucket/key` of the plugin, for the boot script. */
  public readonly s3Uri: string;
  public readonly sha256: string;
  public readonly objectKey: string;
  /** Depend on it so that no instance boots before the copy exists. */
  public readonly resource: CustomResource;
  public readonly function: nodejs.NodejsFunction;

  constructor(scope: Construct, id: string, props: ComposePluginProps) {
    super(scope, id);
    const release = props.release ?? COMPOSE_PLUGIN;
    if (!/^[0-9a-f]{64}$/.test(release.sha256)) {
      throw new Error(`ComposePlugin: sha256 must be 64 hex digits, got ${release.sha256}`);
    }
    if (!/^v\d+\.\d+\.\d+$/.test(release.version) || !release.url.includes(`/${release.version}/`)) {
      throw new Error(`ComposePlugin: ${release.url} is not the URL of version ${release.version}`);
    }
    const stack = Stack.of(this);
    this.sha256 = release.sha256;
    this.objectKey = `tools/docker-compose/${release.version}/docker-compose-linux-aarch64`;
    this.s3Uri = `s3://${props.bucketName}/${this.objectKey}`;

    const logGroup = managedLogGroup(this, 'Logs', {
      retentionDays: props.logRetentionDays,
      removalPolicy: RemovalPolicy.DESTROY,
      encryptionKey: props.logEncryptionKey,
    });
    const role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Copies the pinned docker compose plugin to s3://${props.bucketName}/tools/docker-compose/`,
    });
    logGroup.grantWrite(role);
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'WriteThePinnedPlugin',
        // HeadObject is authorized by s3:GetObject.
        actions: ['s3:GetObject', 's3:PutObject'],
        resources: [`arn:${stack.partition}:s3:::${props.bucketName}/${this.objectKey}`],
      }),
    );
    this.function = new nodejs.NodejsFunction(this, 'Function', {
      role,
      description: 'Custom::ToolMirror: copies a pinned release (URL + SHA-256) into S3 at deploy time',
      code: lambdaCode(MIRROR_ENTRY),
      handler: 'index.handler',
      runtime: LAMBDA_NODEJS_RUNTIME,
      architecture: lambda.Architecture.ARM_64,
      memorySize: 512,
      timeout: Duration.minutes(3),
      logGroup,
    });
    acknowledgeInlinePolicy(
      role,
      'The Compose plugin mirror function role may write its own log group and read and write the one pinned plugin object in the pipeline artifacts bucket',
    );
    acknowledgeProviderFunction(
      this.function,
      'The Compose plugin mirror function (Custom::ToolMirror)',
      'the HTTPS download of the pinned release and S3',
    );
    this.resource = new CustomResource(this, 'Copy', {
      serviceToken: this.function.functionArn,
      resourceType: 'Custom::ToolMirror',
      properties: {
        Url: release.url,
        Sha256: release.sha256,
        Bucket: props.bucketName,
        Key: this.objectKey,
      },
    });
  }
}
