import * as path from 'node:path';
import { ArnFormat, AssetHashType, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
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
import { Construct, type IConstruct } from 'constructs';
import { pipelineNames, type Naming } from '../config/naming';
import { CODEBUILD_NODEJS_RUNTIME, ESBUILD_NODE_TARGET, LAMBDA_NODEJS_RUNTIME } from '../config/toolchain';
import type { EnvironmentConfig } from '../config/schema';
import { acknowledge } from '../nag';
import { esbuildBundling, lambdaCode } from './esbuild-bundling';
import { repositoryUriOf } from './image-repository';
import { projectPath } from '../config/project';
import { managedLogGroup } from './log-group';

const RUNNER_DIR = projectPath('codebuild', 'migration-test');
const JANITOR_ENTRY = projectPath('lambda', 'migration-janitor', 'index.ts');

/** Tags the runner puts on every temporary instance (see codebuild/migration-test/orchestrator.ts). */
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
   * Bucket receiving the report files as build artifacts (under `<project>/<build id>/`),
   * e.g. the environment's pipeline artifacts bucket as an `ArtifactBucket`.
   */
  readonly artifactsBucket: s3.IBucket;
}

/**
 * The migration test before prod: a CodeBuild project (in the VPC) running the bundled
 * runner (codebuild/migration-test), which restores the newest snapshot into a temporary
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
    // The source's identifier by its fixed name, so that IAM ARNs (and cdk-nag ids) are literals.
    const dbId = naming.dbInstance;
    const rdsArn = (resource: string, resourceName: string): string =>
      stack.formatArn({ service: 'rds', resource, resourceName, arnFormat: ArnFormat.COLON_RESOURCE_NAME });
    const tempInstances = rdsArn('db', `${prefix}*`);

    // --- The runner, bundled by the installed esbuild (no Docker) into an S3 asset.
    const runner = new Asset(this, 'Runner', {
      path: RUNNER_DIR,
      assetHashType: AssetHashType.OUTPUT,
      bundling: esbuildBundling({
        entry: path.join(RUNNER_DIR, 'main.ts'),
        outfile: 'runner.js',
        target: ESBUILD_NODE_TARGET,
        external: ['pg-native', 'pg-cloudflare'],
      }),
    });

    this.reportGroup = new codebuild.ReportGroup(this, 'Reports', {
      reportGroupName: naming.migrationTestReportGroup,
      type: codebuild.ReportGroupType.TEST,
      removalPolicy: RemovalPolicy.DESTROY,
    });

    this.artifactsBucket = props.artifactsBucket;

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
        TEMP_INSTANCE_CLASS: env(settings.instanceClass ?? config.database.instanceClass),
        TIMEOUT_MINUTES: env(String(settings.timeoutMinutes)),
        INSTANCE_TTL_HOURS: env(String(settings.instanceTtlHours)),
        MIGRATION_IMAGE: env(repositoryUriOf(props.repository)),
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
          install: { 'runtime-versions': { nodejs: CODEBUILD_NODEJS_RUNTIME } },
          pre_build: {
            commands: [`curl -fsSL --retry 3 -o /tmp/rds-ca.pem ${RDS_CA_BUNDLE_URL}`],
          },
          build: {
            commands: [
              // 0 pass / no snapshot / no image yet (a warning), 1 the migrations failed or lost data, 2 the test could not run.
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
    const janitorLogs = managedLogGroup(this, 'JanitorLogs', {
      logGroupName: `/aws/lambda/${naming.migrationJanitor}`,
      retentionDays: config.monitoring.logRetentionDays,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    // Its own role: its own log group and the RDS statements below, nothing else.
    const janitorRole = new iam.Role(this, 'JanitorRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `${naming.migrationJanitor}: its logs, list instances, delete expired ${prefix}* instances`,
    });
    janitorLogs.grantWrite(janitorRole);
    this.janitor = new nodejs.NodejsFunction(this, 'Janitor', {
      role: janitorRole,
      functionName: naming.migrationJanitor,
      description: `Deletes ${prefix}* instances tagged Purpose=${PURPOSE} after their ExpiresAt tag`,
      code: lambdaCode(JANITOR_ENTRY),
      handler: 'index.handler',
      // Named, not NODEJS_LATEST: with NODEJS_LATEST the CDK would bundle the whole AWS SDK.
      runtime: LAMBDA_NODEJS_RUNTIME,
      architecture: lambda.Architecture.ARM_64,
      memorySize: 256,
      timeout: Duration.minutes(2),
      logGroup: janitorLogs,
      environment: {
        INSTANCE_PREFIX: prefix,
        POWERTOOLS_SERVICE_NAME: 'migration-janitor',
        NODE_OPTIONS: '--enable-source-maps',
      },
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
      tempInstances,
      snapshots: [rdsArn('snapshot', `rds:${dbId}-*`), rdsArn('snapshot', `${dbId}-*`)],
      defaultGroups: [rdsArn('og', '*'), rdsArn('pg', '*')],
      allInstances: rdsArn('db', '*'),
    });

    // --- Cross-account start from the infrastructure pipeline.
    if (props.pipelineAccount && props.pipelineAccount !== stack.account) {
      this.triggerRole = new iam.Role(this, 'TriggerRole', {
        roleName: naming.migrationTestTriggerRole,
        description: `Lets the infrastructure pipeline (${props.pipelineAccount}) run ${naming.migrationTestProject}`,
        // Only the pipeline step's own role (fixed name), not every principal of that account.
        assumedBy: new iam.ArnPrincipal(
          `arn:${stack.partition}:iam::${props.pipelineAccount}:role/${pipelineNames.migrationTestStepRole(config.name)}`,
        ),
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

  /**
   * The findings this construct accepts, each on the role (or resource) that carries it, with
   * why (see lib/nag).
   */
  private acknowledgeFindings(o: {
    tempInstances: string;
    snapshots: string[];
    defaultGroups: string[];
    allInstances: string;
  }): void {
    const stack = Stack.of(this);
    const role = this.project.role!;
    const janitorRole = this.janitor.role!;
    const iam5 = (on: IConstruct, finding: string, reason: string): void =>
      acknowledge(on, `AwsSolutions-IAM5[${finding}]`, reason);
    const arn = (value: string): string => nagString(stack, value);

    iam5(
      role,
      'Resource::*',
      'rds:DescribeDBSnapshots is a list call that IAM authorizes against "*" (the source instance is a request ' +
        'filter, not a resource), and ecr:GetAuthorizationToken has no resource; both are read-only. Revisit if ' +
        'RDS adds resource-level permissions for DescribeDBSnapshots.',
    );
    const temp =
      'The temporary instances get build-specific names (<prefix><build id>), unknown until the build runs; the ' +
      'prefix is reserved for the migration test, and modify/delete also require the Purpose=migration-test tag.';
    iam5(role, `Resource::${arn(o.tempInstances)}`, temp);
    iam5(janitorRole, `Resource::${arn(o.tempInstances)}`, temp);
    for (const snapshot of o.snapshots) {
      iam5(
        role,
        `Resource::${arn(snapshot)}`,
        'Restores may use any snapshot of the source instance only: ' +
          'snapshot names carry their date (automated rds:<db>-<date>, manual <db>-<label>), so they are ' +
          'matched by the source instance name prefix; restores must also carry the runner tags.',
      );
    }
    for (const group of o.defaultGroups) {
      iam5(
        role,
        `Resource::${arn(group)}`,
        'A restore is authorized against the option and parameter groups the new instance gets (the defaults ' +
          'of the engine, whose names depend on the engine version); the statement also requires the runner tags ' +
          'on the request, and only RestoreDBInstanceFromDBSnapshot is allowed on them.',
      );
    }
    iam5(
      role,
      'Resource::arn:<AWS::Partition>:ec2:<AWS::Region>:<AWS::AccountId>:network-interface/*',
      'CodeBuild in a VPC creates and deletes its own network interfaces, whose ids are not known in advance; ' +
        'the CDK conditions the permission on ec2:Subnet (the build subnets) and ec2:AuthorizedService.',
    );
    iam5(
      this.project.node.findChild('PolicyDocument'),
      'Resource::*',
      'The policy CodeBuild needs to run a build in a VPC: create/delete its network interface and describe ' +
        'subnets, security groups, VPCs and DHCP options. These EC2 actions have no resource-level permissions ' +
        'for create/describe; the CDK writes this policy for every VPC project.',
    );
    const project = this.project.node.defaultChild as codebuild.CfnProject;
    const inAccount = (rest: string): string =>
      arn(`arn:${stack.partition}:${rest.replace('{R}', stack.region).replace('{A}', stack.account)}`);
    iam5(
      role,
      `Resource::${inAccount(`logs:{R}:{A}:log-group:/aws/codebuild/${project.ref}:*`)}`,
      "CDK's default CodeBuild grant for the project's own /aws/codebuild/<project> log streams (stream names " +
        'are generated per build); the build itself logs to the environment codebuild log group.',
    );
    iam5(
      role,
      `Resource::${inAccount(`codebuild:{R}:{A}:report-group/${project.ref}-*`)}`,
      "CDK's default CodeBuild grant for report groups named after this project (<project>-*); the JUnit " +
        'report goes to the explicit report group of this construct.',
    );
    for (const action of ['s3:GetObject*', 's3:GetBucket*', 's3:List*']) {
      iam5(
        role,
        `Action::${action}`,
        'Reading the runner bundle, the source of the project, from the CDK assets bucket: the CDK grants that ' +
          'read with these action groups, on the asset bucket and key only.',
      );
    }
    iam5(
      role,
      `Resource::${arn(this.artifactsBucket.bucketArn)}/*`,
      'The build uploads its two report files under <project>/<build id>/ of the artifacts bucket; build ids are ' +
        'generated per build, so the object keys cannot be named in advance. Put and multipart abort only.',
    );
    iam5(
      janitorRole,
      `Resource::${arn(o.allInstances)}`,
      'The janitor lists every instance of the account and region (rds:DescribeDBInstances is authorized against ' +
        'each instance ARN) to find expired temporary ones; deleting is a separate statement limited to the ' +
        'reserved prefix and the Purpose tag.',
    );
    acknowledge(
      this.project,
      'AwsSolutions-CB4',
      'The build keeps no data at rest: its artifacts are the migration report files (table names and row ' +
        'counts, no rows, no passwords), SSE-S3 encrypted in the artifacts bucket. Revisit if reports ever ' +
        'include row contents.',
    );
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
