import * as path from 'node:path';
import { ArnFormat, DockerImage, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as codebuild from 'aws-cdk-lib/aws-codebuild';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Asset } from 'aws-cdk-lib/aws-s3-assets';
import { buildSync } from 'esbuild';
import { Construct } from 'constructs';
import type { Naming } from '../config/naming';
import type { EnvironmentConfig } from '../config/schema';
import { acknowledge } from '../nag';

const ROOT = path.join(__dirname, '..', '..');
const RUNNER_DIR = path.join(ROOT, 'scripts', 'migration-test');
const JANITOR_ENTRY = path.join(ROOT, 'lambda', 'migration-janitor', 'index.ts');

/** Tags the runner puts on every temporary instance (see scripts/migration-test/orchestrator.ts). */
const PURPOSE = 'migration-test';
const MANAGED_BY = 'migration-test-runner';
const TAG_KEYS = ['Purpose', 'CreatedBy', 'ExpiresAt', 'ManagedBy'];

/** Minutes CodeBuild waits beyond the runner's own deadline, so the runner can clean up first. */
export const CLEANUP_MARGIN_MINUTES = 20;
/** Where the buildspec puts the RDS CA bundle (verify-full TLS to the temporary instance). */
export const RDS_CA_BUNDLE_URL = 'https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem';

export interface MigrationTestProps {
  /** Physical names of the environment. */
  readonly naming: Naming;
  /** The environment's validated configuration (`migrationTest`, `monitoring.logRetentionDays`). */
  readonly config: EnvironmentConfig;
  /** The environment's VPC. */
  readonly vpc: ec2.IVpc;
  /**
   * Subnets of the build: private, with egress through the VPC's NAT instance (ECR, RDS and
   * CloudWatch Logs APIs, the RDS CA bundle).
   * @default { subnetGroupName: 'build' }
   */
  readonly subnets?: ec2.SubnetSelection;
  /** Security group of the build (`v1-orcha-codebuild-sg`; outbound only, allowed into the RDS group). */
  readonly securityGroup: ec2.ISecurityGroup;
  /** Security group given to the temporary instance (`v1-orcha-rds-sg`: 5432 from the build's group). */
  readonly databaseSecurityGroup: ec2.ISecurityGroup;
  /** The source instance (`v1-orcha-db`) whose newest snapshot is restored. */
  readonly database: rds.IDatabaseInstance;
  /** The source's DB subnet group (private subnets), used by the temporary instance. */
  readonly subnetGroup: rds.ISubnetGroup;
  /** The application image repository (`v1-orcha`); the build pulls the migration image from it. */
  readonly repository: ecr.IRepository;
  /** Log group of the build (`/v1-orcha/codebuild`). */
  readonly logGroup: logs.ILogGroup;
  /**
   * Account of the infrastructure pipeline. When it differs from the environment's account,
   * a role `v1-orcha-migration-test-trigger` trusted by that account may start and watch
   * this project (and nothing else).
   * @default - no trigger role (the pipeline runs in the environment's account)
   */
  readonly pipelineAccount?: string;
  /**
   * Customer-managed KMS key of the source's storage, if any: restoring its snapshots needs
   * grants on it. Not needed for the AWS-managed `aws/rds` key.
   * @default - the AWS-managed key
   */
  readonly encryptionKey?: kms.IKey;
  /**
   * Bucket receiving the Markdown report as a build artifact.
   * @default - a private, encrypted bucket whose objects expire after 90 days
   */
  readonly artifactsBucket?: s3.IBucket;
}

/**
 * The migration test before prod: a CodeBuild project (in the VPC) running the bundled
 * runner (scripts/migration-test), which restores the newest snapshot into a temporary
 * instance, runs the application's migrations against it, reports and always deletes the
 * instance; plus an hourly janitor Lambda deleting temporary instances past their TTL.
 */
export class MigrationTest extends Construct {
  public readonly project: codebuild.Project;
  public readonly reportGroup: codebuild.ReportGroup;
  public readonly janitor: nodejs.NodejsFunction;
  public readonly schedule: events.Rule;
  public readonly artifactsBucket: s3.IBucket;
  /** Present when `pipelineAccount` differs from the environment's account. */
  public readonly triggerRole?: iam.Role;

  constructor(scope: Construct, id: string, props: MigrationTestProps) {
    super(scope, id);
    const { naming, config } = props;
    const settings = config.migrationTest;
    const stack = Stack.of(this);
    const prefix = naming.migrationTestInstancePrefix;
    const dbId = props.database.instanceIdentifier;
    const rdsArn = (resource: string, resourceName: string): string =>
      stack.formatArn({ service: 'rds', resource, resourceName, arnFormat: ArnFormat.COLON_RESOURCE_NAME });
    const tempInstances = rdsArn('db', `${prefix}*`);

    // --- The runner, bundled by the installed esbuild (no Docker) into an S3 asset.
    const runner = new Asset(this, 'Runner', {
      path: RUNNER_DIR,
      bundling: {
        image: DockerImage.fromRegistry('public.ecr.aws/docker/library/node:20'), // never used: local bundling
        local: {
          tryBundle(outputDir: string): boolean {
            buildSync({
              entryPoints: [path.join(RUNNER_DIR, 'main.ts')],
              outfile: path.join(outputDir, 'runner.js'),
              bundle: true,
              platform: 'node',
              target: 'node20',
              format: 'cjs',
              sourcemap: true,
              minify: true,
              external: ['pg-native', 'pg-cloudflare'],
              logLevel: 'error',
            });
            return true;
          },
        },
      },
    });

    this.reportGroup = new codebuild.ReportGroup(this, 'Reports', {
      reportGroupName: `${naming.migrationTestProject}-reports`,
      type: codebuild.ReportGroupType.TEST,
      removalPolicy: RemovalPolicy.DESTROY,
    });

    this.artifactsBucket =
      props.artifactsBucket ??
      new s3.Bucket(this, 'Artifacts', {
        encryption: s3.BucketEncryption.S3_MANAGED,
        blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
        enforceSSL: true,
        lifecycleRules: [{ expiration: Duration.days(90) }],
        removalPolicy: RemovalPolicy.RETAIN,
      });

    const env = (value: string): codebuild.BuildEnvironmentVariable => ({ value });
    this.project = new codebuild.Project(this, 'Project', {
      projectName: naming.migrationTestProject,
      description: `Restores the newest snapshot of ${naming.dbInstance} and tests the application's migrations against it`,
      source: codebuild.Source.s3({ bucket: runner.bucket, path: runner.s3ObjectKey }),
      vpc: props.vpc,
      subnetSelection: props.subnets ?? { subnetGroupName: 'build' },
      securityGroups: [props.securityGroup],
      environment: {
        buildImage: codebuild.LinuxArmBuildImage.AMAZON_LINUX_2023_STANDARD_3_0,
        computeType: codebuild.ComputeType.SMALL,
        privileged: true, // `docker run` of the application image
      },
      timeout: Duration.minutes(settings.timeoutMinutes + CLEANUP_MARGIN_MINUTES),
      queuedTimeout: Duration.minutes(60),
      concurrentBuildLimit: 1,
      logging: { cloudWatch: { logGroup: props.logGroup, prefix: naming.migrationTestProject } },
      artifacts: codebuild.Artifacts.s3({
        bucket: this.artifactsBucket,
        path: naming.migrationTestProject,
        includeBuildId: true,
        packageZip: false,
      }),
      environmentVariables: {
        SOURCE_DB_INSTANCE_ID: env(dbId),
        TEMP_INSTANCE_PREFIX: env(prefix),
        DB_SUBNET_GROUP_NAME: env(props.subnetGroup.subnetGroupName),
        DB_SECURITY_GROUP_IDS: env(props.databaseSecurityGroup.securityGroupId),
        TEMP_INSTANCE_CLASS: env(settings.instanceClass),
        TIMEOUT_MINUTES: env(String(settings.timeoutMinutes)),
        INSTANCE_TTL_HOURS: env(String(settings.instanceTtlHours)),
        MIGRATION_IMAGE: env(props.repository.repositoryUri),
        MIGRATION_IMAGE_TAG: env(settings.imageTag),
        MIGRATION_COMMAND: env(JSON.stringify(settings.command)),
        ALLOW_DATA_LOSS: env(JSON.stringify(settings.allowDataLoss)),
        REPORT_DIR: env('reports'),
        DATABASE_NAME: env(naming.dbName),
        DB_SSL_CA_FILE: env('/tmp/rds-ca.pem'),
      },
      buildSpec: codebuild.BuildSpec.fromObject({
        version: '0.2',
        env: {
          shell: 'bash',
          'exported-variables': ['MIGRATION_EXIT_CODE', 'MIGRATION_SUMMARY'],
        },
        phases: {
          install: { 'runtime-versions': { nodejs: 20 } },
          pre_build: {
            commands: [`curl -fsSL --retry 3 -o /tmp/rds-ca.pem ${RDS_CA_BUNDLE_URL}`],
          },
          build: {
            commands: [
              // 0 pass / no snapshot, 1 the migrations failed or lost data, 2 the test could not run.
              'node --enable-source-maps runner.js && MIGRATION_EXIT_CODE=0 || MIGRATION_EXIT_CODE=$?',
              'export MIGRATION_EXIT_CODE',
              `export MIGRATION_SUMMARY="$(head -c 1000 reports/summary.txt 2>/dev/null || echo 'no report written')"`,
              'test "$MIGRATION_EXIT_CODE" -eq 0',
            ],
          },
        },
        reports: {
          [this.reportGroup.reportGroupArn]: {
            files: ['migration-report.xml'],
            'base-directory': 'reports',
            'file-format': 'JUNITXML',
          },
        },
        artifacts: {
          files: ['migration-report.md', 'migration-report.xml'],
          'base-directory': 'reports',
          'discard-paths': 'yes',
        },
      }),
    });
    this.reportGroup.grantWrite(this.project);
    props.repository.grantPull(this.project);

    const role = this.project.role;
    if (!role) throw new Error('the migration-test project has no role');
    // Describe of snapshots is a list call; IAM authorizes it against "*" (the filter by
    // source instance is a request parameter, not a resource). Read-only, no data.
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'DescribeSnapshots',
        actions: ['rds:DescribeDBSnapshots'],
        resources: ['*'],
      }),
    );
    // The runner describes only its own instance, by identifier.
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'DescribeTemporaryInstances',
        actions: ['rds:DescribeDBInstances'],
        resources: [tempInstances],
      }),
    );
    // A restore is authorized against the snapshot, the new instance, its subnet group and
    // the (default) option and parameter groups it is created with; the request must carry
    // the runner's tags and no others.
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'RestoreFromSourceSnapshots',
        actions: ['rds:RestoreDBInstanceFromDBSnapshot'],
        resources: [
          rdsArn('snapshot', `rds:${dbId}-*`),
          rdsArn('snapshot', `${dbId}-*`),
          tempInstances,
          rdsArn('subgrp', props.subnetGroup.subnetGroupName),
          rdsArn('og', '*'),
          rdsArn('pg', '*'),
        ],
        conditions: {
          StringEquals: { 'aws:RequestTag/Purpose': PURPOSE, 'aws:RequestTag/ManagedBy': MANAGED_BY },
          'ForAllValues:StringEquals': { 'aws:TagKeys': TAG_KEYS },
        },
      }),
    );
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'TagTemporaryInstancesOnCreate',
        actions: ['rds:AddTagsToResource'],
        resources: [tempInstances],
        conditions: {
          StringEquals: { 'aws:RequestTag/Purpose': PURPOSE },
          'ForAllValues:StringEquals': { 'aws:TagKeys': TAG_KEYS },
        },
      }),
    );
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'ModifyAndDeleteTemporaryInstances',
        actions: ['rds:ModifyDBInstance', 'rds:DeleteDBInstance'],
        resources: [tempInstances],
        conditions: { StringEquals: { 'aws:ResourceTag/Purpose': PURPOSE } },
      }),
    );
    if (props.encryptionKey) {
      props.encryptionKey.grant(role, 'kms:CreateGrant', 'kms:DescribeKey');
    }

    // --- The janitor: deletes temporary instances past their ExpiresAt tag, hourly.
    const janitorLogs = new logs.LogGroup(this, 'JanitorLogs', {
      logGroupName: `/aws/lambda/${naming.migrationJanitor}`,
      retention: retentionDays(config.monitoring.logRetentionDays),
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.janitor = new nodejs.NodejsFunction(this, 'Janitor', {
      functionName: naming.migrationJanitor,
      description: `Deletes ${prefix}* instances tagged Purpose=${PURPOSE} after their ExpiresAt tag`,
      entry: JANITOR_ENTRY,
      handler: 'handler',
      // The newest runtime (cdk-nag L1), named: with NODEJS_LATEST the CDK would bundle the whole AWS SDK.
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: 256,
      timeout: Duration.minutes(2),
      logGroup: janitorLogs,
      environment: {
        INSTANCE_PREFIX: prefix,
        POWERTOOLS_SERVICE_NAME: 'migration-janitor',
        NODE_OPTIONS: '--enable-source-maps',
      },
      bundling: { sourceMap: true, minify: true },
    });
    // Listing all instances is authorized against every instance ARN of the account and region.
    this.janitor.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'ListInstances',
        actions: ['rds:DescribeDBInstances'],
        resources: [rdsArn('db', '*')],
      }),
    );
    this.janitor.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'DeleteExpiredTemporaryInstances',
        actions: ['rds:DeleteDBInstance'],
        resources: [tempInstances],
        conditions: { StringEquals: { 'aws:ResourceTag/Purpose': PURPOSE } },
      }),
    );
    this.schedule = new events.Rule(this, 'JanitorSchedule', {
      description: 'Hourly clean-up of migration-test instances',
      schedule: events.Schedule.rate(Duration.hours(1)),
      targets: [new targets.LambdaFunction(this.janitor, { retryAttempts: 2 })],
    });

    this.acknowledgeFindings({
      ownArtifactsBucket: !props.artifactsBucket,
      wildcardArns: [
        tempInstances,
        rdsArn('snapshot', `rds:${dbId}-*`),
        rdsArn('snapshot', `${dbId}-*`),
        rdsArn('og', '*'),
        rdsArn('pg', '*'),
        rdsArn('db', '*'),
      ],
    });

    // --- Cross-account start from the infrastructure pipeline.
    if (props.pipelineAccount && props.pipelineAccount !== stack.account) {
      this.triggerRole = new iam.Role(this, 'TriggerRole', {
        roleName: naming.migrationTestTriggerRole,
        description: `Lets the infrastructure pipeline (${props.pipelineAccount}) run ${naming.migrationTestProject}`,
        assumedBy: new iam.AccountPrincipal(props.pipelineAccount),
        maxSessionDuration: Duration.hours(4),
      });
      this.triggerRole.addToPrincipalPolicy(
        new iam.PolicyStatement({
          sid: 'RunMigrationTest',
          actions: ['codebuild:StartBuild', 'codebuild:BatchGetBuilds', 'codebuild:ListBuildsForProject'],
          resources: [this.project.projectArn],
        }),
      );
    }
  }

  /** The findings this construct accepts, each with why (see lib/nag). */
  private acknowledgeFindings(o: { ownArtifactsBucket: boolean; wildcardArns: string[] }): void {
    const stack = Stack.of(this);
    const iam5 = (finding: string, reason: string): void =>
      acknowledge(this, `AwsSolutions-IAM5[${finding}]`, reason);
    iam5(
      'Resource::*',
      'rds:DescribeDBSnapshots is a list call that IAM authorizes against "*" (the source instance is a request filter, not a resource), and ecr:GetAuthorizationToken has no resource; both are read-only.',
    );
    for (const arn of o.wildcardArns) {
      iam5(
        `Resource::${nagString(stack, arn)}`,
        'The temporary instances have build-specific names under a fixed prefix, snapshots carry dates, and a restore names the default option/parameter groups; every write is further bound by Purpose tag conditions.',
      );
    }
    const project = this.project.node.defaultChild as codebuild.CfnProject;
    const inAccount = (rest: string): string =>
      nagString(
        stack,
        `arn:${stack.partition}:${rest.replace('{R}', stack.region).replace('{A}', stack.account)}`,
      );
    iam5(
      'Resource::arn:<AWS::Partition>:ec2:<AWS::Region>:<AWS::AccountId>:network-interface/*',
      'CodeBuild in a VPC creates and deletes its own network interfaces; the CDK scopes the permission with ec2:Subnet and ec2:AuthorizedService conditions.',
    );
    iam5(
      `Resource::${inAccount(`logs:{R}:{A}:log-group:/aws/codebuild/${project.ref}:*`)}`,
      'Default CodeBuild log permission generated by the CDK for the project own log streams; the build logs go to the given log group.',
    );
    iam5(
      `Resource::${inAccount(`codebuild:{R}:{A}:report-group/${project.ref}-*`)}`,
      'Default CodeBuild permission generated by the CDK for report groups named after this project only.',
    );
    for (const action of ['s3:GetObject*', 's3:GetBucket*', 's3:List*', 's3:DeleteObject*', 's3:Abort*']) {
      iam5(
        `Action::${action}`,
        'CDK grant patterns for reading the runner bundle and writing report artifacts; the resources are the asset object and the artifacts bucket only.',
      );
    }
    iam5(
      `Resource::${nagString(stack, this.artifactsBucket.bucketArn)}/*`,
      'The build writes its report files under a per-build prefix of the dedicated artifacts bucket.',
    );
    acknowledge(
      this.project,
      'AwsSolutions-CB4',
      'The build handles no secrets at rest: its artifacts are test reports (no data rows, no passwords), encrypted with the S3 and CodeBuild managed keys.',
    );
    acknowledge(
      this.janitor,
      'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      'The janitor only writes its own logs with this managed policy; its RDS permissions are inline, prefix- and tag-scoped.',
    );
    if (o.ownArtifactsBucket) {
      acknowledge(
        this.artifactsBucket,
        'AwsSolutions-S1',
        'The bucket holds only migration reports written by the build role, expiring after 90 days; CloudTrail records the API access.',
      );
    }
  }
}

/**
 * A string as cdk-nag prints it in finding ids: references become `<LogicalId>`,
 * `<LogicalId.Attribute>` or `<AWS::Partition>`.
 */
function nagString(stack: Stack, value: string): string {
  const render = (v: unknown): string => {
    if (typeof v === 'string') return v;
    const o = v as { Ref?: string; 'Fn::GetAtt'?: string[]; 'Fn::Join'?: [string, unknown[]] };
    if (o.Ref) return `<${o.Ref}>`;
    if (o['Fn::GetAtt']) return `<${o['Fn::GetAtt'].join('.')}>`;
    if (o['Fn::Join']) return o['Fn::Join'][1].map(render).join(o['Fn::Join'][0]);
    throw new Error(`cannot render ${JSON.stringify(v)} for a cdk-nag finding id`);
  };
  return render(stack.resolve(value));
}

/** `logs.RetentionDays` for a number of days the service accepts. */
function retentionDays(days: number): logs.RetentionDays {
  const valid = Object.values(logs.RetentionDays).filter((v): v is number => typeof v === 'number');
  if (!valid.includes(days)) {
    throw new Error(`monitoring.logRetentionDays = ${days}: must be one of ${valid.join(', ')}`);
  }
  return days as logs.RetentionDays;
}
