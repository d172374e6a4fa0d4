import * as path from 'node:path';
import { AssetHashType, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as codebuild from 'aws-cdk-lib/aws-codebuild';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as ecr from 'aws-cdk-lib/aws-ecr';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as rds from 'aws-cdk-lib/aws-rds';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Asset } from 'aws-cdk-lib/aws-s3-assets';
import type { Construct, IConstruct } from 'constructs';
import {
  MANAGED_BY_TAG,
  PURPOSE_TAG,
  REPORT_URL_FILE,
  RUNNER_ENV,
  RUNNER_EXPORTS,
  RUNNER_TAG_KEYS,
  type VerdictMode,
} from '../../config/migration-test-contract';
import { projectPath } from '../../config/project';
import { CODEBUILD_NODEJS_RUNTIME, ESBUILD_NODE_TARGET } from '../../config/toolchain';
import { acknowledge, acknowledgeInlinePolicy } from '../../nag';
import { esbuildBundling } from '../esbuild-bundling';
import { repositoryUriOf } from '../image-repository';
import { nagString, rdsArns } from './arns';

const RUNNER_DIR = projectPath('codebuild', 'migration-test');

/** Minutes CodeBuild waits beyond the runner's own deadline, so the runner can clean up first. */
export const CLEANUP_MARGIN_MINUTES = 20;
/** Where the buildspec puts the RDS CA bundle (verify-full TLS to the temporary instance). */
export const RDS_CA_BUNDLE_URL = 'https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem';
/** Where the buildspec unpacks the runner bundle (whatever source the build was given). */
export const RUNNER_HOME = '/tmp/migration-test-runner';

export interface MigrationTestProjectProps {
  /** `v1-orcha-migration-test`. */
  readonly projectName: string;
  /** `v1-orcha-migration-test-reports`. */
  readonly reportGroupName: string;
  /** The source instance (`v1-orcha-db`), by its fixed identifier: its newest snapshot is restored. */
  readonly sourceInstanceId: string;
  /** Reserved prefix of the temporary instances (`v1-orcha-migtest-`). */
  readonly instancePrefix: string;
  /** Database inspected and migrated (`orcha`). */
  readonly databaseName: string;
  /** Class of the temporary instance. */
  readonly instanceClass: string;
  /** Bound on one run, restore included. */
  readonly timeoutMinutes: number;
  /** Hours after which the janitor deletes a temporary instance. */
  readonly instanceTtlHours: number;
  /** Arguments given to the application image to run its migrations. */
  readonly command: readonly string[];
  /** Tables and columns whose loss is intended. */
  readonly allowDataLoss: readonly string[];
  /** The image tag a build migrates with unless the build overrides it (what the environment runs now). */
  readonly defaultImageTag: string;
  /** The application image repository (`v1-orcha`). */
  readonly repository: ecr.IRepository;
  readonly vpc: ec2.IVpc;
  /** Subnets of the build: private with egress. @default { subnetGroupName: 'build' } */
  readonly subnets?: ec2.SubnetSelection;
  /** Security group of the build (outbound only, allowed into the database group). */
  readonly securityGroup: ec2.ISecurityGroup;
  /** Security group given to the temporary instance. */
  readonly databaseSecurityGroup: ec2.ISecurityGroup;
  /** The source's DB subnet group, used by the temporary instance. */
  readonly subnetGroup: rds.ISubnetGroup;
  /** Log group of the build. */
  readonly logGroup: logs.ILogGroup;
  /** Customer-managed key of the source's storage, if any. @default - the AWS-managed key */
  readonly encryptionKey?: kms.IKey;
  /** Bucket receiving the report files (under `<project>/<build id>/`). */
  readonly artifactsBucket: s3.IBucket;
}

/**
 * The migration-test CodeBuild project (in the VPC): the runner (codebuild/migration-test),
 * bundled by the installed esbuild into an S3 asset that the buildspec downloads, so that the
 * project runs the same whether it is started by the infrastructure pipeline's trigger or as an
 * action of the app pipeline (which replaces a project's source with its own artifact). It
 * restores the newest snapshot into a temporary instance, runs the migrations, reports, and
 * always deletes the instance.
 *
 * A piece of {@link MigrationTest}: it adds its resources (`Runner`, `Reports`, `Project`) to the
 * given scope, so their logical ids stay those of the original single construct.
 */
export class MigrationTestProject {
  public readonly project: codebuild.Project;
  public readonly reportGroup: codebuild.ReportGroup;
  public readonly role: iam.IRole;

  constructor(scope: Construct, props: MigrationTestProjectProps) {
    const stack = Stack.of(scope);
    const arns = rdsArns(stack, props.sourceInstanceId, props.instancePrefix);

    const runner = new Asset(scope, 'Runner', {
      path: RUNNER_DIR,
      assetHashType: AssetHashType.OUTPUT,
      bundling: esbuildBundling({
        entry: path.join(RUNNER_DIR, 'main.ts'),
        outfile: 'runner.js',
        target: ESBUILD_NODE_TARGET,
        external: ['pg-native', 'pg-cloudflare'],
      }),
    });

    this.reportGroup = new codebuild.ReportGroup(scope, 'Reports', {
      reportGroupName: props.reportGroupName,
      type: codebuild.ReportGroupType.TEST,
      removalPolicy: RemovalPolicy.DESTROY,
    });

    const env = (value: string): codebuild.BuildEnvironmentVariable => ({ value });
    const verdict: VerdictMode = 'block';
    this.project = new codebuild.Project(scope, 'Project', {
      projectName: props.projectName,
      description: `Restores the newest snapshot of ${props.sourceInstanceId} and tests the application's migrations against it`,
      vpc: props.vpc,
      subnetSelection: props.subnets ?? { subnetGroupName: 'build' },
      securityGroups: [props.securityGroup],
      environment: {
        buildImage: codebuild.LinuxArmBuildImage.AMAZON_LINUX_2023_STANDARD_3_0,
        computeType: codebuild.ComputeType.SMALL,
        privileged: true, // `docker run` of the application image
      },
      timeout: Duration.minutes(props.timeoutMinutes + CLEANUP_MARGIN_MINUTES),
      queuedTimeout: Duration.minutes(60),
      concurrentBuildLimit: 1,
      logging: { cloudWatch: { logGroup: props.logGroup, prefix: props.projectName } },
      artifacts: codebuild.Artifacts.s3({
        bucket: props.artifactsBucket,
        path: props.projectName,
        includeBuildId: true,
        packageZip: false,
      }),
      environmentVariables: {
        RUNNER_BUNDLE: env(runner.s3ObjectUrl),
        [RUNNER_ENV.sourceInstanceId]: env(props.sourceInstanceId),
        [RUNNER_ENV.instancePrefix]: env(props.instancePrefix),
        [RUNNER_ENV.subnetGroupName]: env(props.subnetGroup.subnetGroupName),
        [RUNNER_ENV.securityGroupIds]: env(props.databaseSecurityGroup.securityGroupId),
        [RUNNER_ENV.instanceClass]: env(props.instanceClass),
        [RUNNER_ENV.timeoutMinutes]: env(String(props.timeoutMinutes)),
        [RUNNER_ENV.ttlHours]: env(String(props.instanceTtlHours)),
        [RUNNER_ENV.image]: env(repositoryUriOf(props.repository)),
        [RUNNER_ENV.imageTag]: env(props.defaultImageTag),
        [RUNNER_ENV.command]: env(JSON.stringify(props.command)),
        [RUNNER_ENV.allowDataLoss]: env(JSON.stringify(props.allowDataLoss)),
        [RUNNER_ENV.reportDir]: env('reports'),
        [RUNNER_ENV.databaseName]: env(props.databaseName),
        [RUNNER_ENV.sslCaFile]: env('/tmp/rds-ca.pem'),
        [RUNNER_ENV.verdict]: env(verdict),
      },
      buildSpec: codebuild.BuildSpec.fromObject(migrationTestBuildSpec(this.reportGroup.reportGroupArn)),
    });
    this.reportGroup.grantWrite(this.project);
    props.repository.grantPull(this.project);
    const role = this.project.role;
    if (!role) throw new Error('the migration-test project has no role');
    this.role = role;
    // The runner bundle, by its exact key (the buildspec downloads it).
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'ReadRunnerBundle',
        actions: ['s3:GetObject'],
        resources: [runner.bucket.arnForObjects(runner.s3ObjectKey)],
      }),
    );

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
        resources: [arns.tempInstances],
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
          ...arns.snapshots,
          arns.tempInstances,
          arns.of('subgrp', props.subnetGroup.subnetGroupName),
          ...arns.defaultGroups,
        ],
        conditions: {
          StringEquals: {
            [`aws:RequestTag/${PURPOSE_TAG.Key}`]: PURPOSE_TAG.Value,
            [`aws:RequestTag/${MANAGED_BY_TAG.Key}`]: MANAGED_BY_TAG.Value,
          },
          'ForAllValues:StringEquals': { 'aws:TagKeys': [...RUNNER_TAG_KEYS] },
        },
      }),
    );
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'TagTemporaryInstancesOnCreate',
        actions: ['rds:AddTagsToResource'],
        resources: [arns.tempInstances],
        conditions: {
          StringEquals: { [`aws:RequestTag/${PURPOSE_TAG.Key}`]: PURPOSE_TAG.Value },
          'ForAllValues:StringEquals': { 'aws:TagKeys': [...RUNNER_TAG_KEYS] },
        },
      }),
    );
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'ModifyAndDeleteTemporaryInstances',
        actions: ['rds:ModifyDBInstance', 'rds:DeleteDBInstance'],
        resources: [arns.tempInstances],
        conditions: { StringEquals: { [`aws:ResourceTag/${PURPOSE_TAG.Key}`]: PURPOSE_TAG.Value } },
      }),
    );
    if (props.encryptionKey) props.encryptionKey.grant(role, 'kms:CreateGrant', 'kms:DescribeKey');

    this.acknowledgeFindings(stack, role, props.artifactsBucket, arns);
  }

  /** The findings this piece accepts, each on the role (or resource) that carries it, with why. */
  private acknowledgeFindings(
    stack: Stack,
    role: iam.IRole,
    artifactsBucket: s3.IBucket,
    arns: ReturnType<typeof rdsArns>,
  ): void {
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
    iam5(role, `Resource::${arn(arns.tempInstances)}`, TEMP_INSTANCES_REASON);
    for (const snapshot of arns.snapshots) {
      iam5(
        role,
        `Resource::${arn(snapshot)}`,
        'Restores may use any snapshot of the source instance only: ' +
          'snapshot names carry their date (automated rds:<db>-<date>, manual <db>-<label>), so they are ' +
          'matched by the source instance name prefix; restores must also carry the runner tags.',
      );
    }
    for (const group of arns.defaultGroups) {
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
    acknowledgeInlinePolicy(
      role,
      'The migration test build role may restore the newest prod snapshot into a temporary tagged instance, delete that instance, read the image and write its logs and reports',
    );
    acknowledgeInlinePolicy(
      this.project.node.findChild('PolicyDocument'),
      "The migration test project's VPC policy (written by CDK for every CodeBuild project in a VPC) may create and delete the build's network interface in the build subnets and describe the network",
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
    iam5(
      role,
      `Resource::${arn(artifactsBucket.bucketArn)}/*`,
      'The build uploads its two report files under <project>/<build id>/ of the artifacts bucket, and, run by ' +
        'the app pipeline, reads its input artifact there; build ids and artifact keys are generated per run, ' +
        'so the object keys cannot be named in advance. No delete.',
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

export const TEMP_INSTANCES_REASON =
  'The temporary instances get build-specific names (<prefix><build id>), unknown until the build runs; the ' +
  'prefix is reserved for the migration test, and modify/delete also require the Purpose=migration-test tag.';

/**
 * The buildspec: fetch the RDS CA and the runner bundle, run the runner, export its exit status
 * and summary; a failed verdict (exit 1) or an error (exit 2) fails the build unless the build's
 * `MIGRATION_VERDICT` is `report-only`.
 */
export function migrationTestBuildSpec(reportGroupArn: string): Record<string, unknown> {
  const code = RUNNER_EXPORTS.exitCode;
  return {
    version: '0.2',
    env: { shell: 'bash', 'exported-variables': [code, RUNNER_EXPORTS.summary, RUNNER_EXPORTS.reportUrl] },
    phases: {
      install: { 'runtime-versions': { nodejs: CODEBUILD_NODEJS_RUNTIME } },
      pre_build: {
        commands: [
          `curl -fsSL --retry 3 -o /tmp/rds-ca.pem ${RDS_CA_BUNDLE_URL}`,
          `aws s3 cp --only-show-errors "$RUNNER_BUNDLE" /tmp/runner.zip && unzip -qo /tmp/runner.zip -d ${RUNNER_HOME}`,
        ],
      },
      build: {
        commands: [
          // 0 pass / no snapshot / no image yet (a warning), 1 the migrations failed or lost data, 2 the test could not run.
          `node --enable-source-maps ${RUNNER_HOME}/runner.js && ${code}=0 || ${code}=$?`,
          `export ${code}`,
          `export ${RUNNER_EXPORTS.summary}="$(head -c 1000 reports/summary.txt 2>/dev/null || echo 'no report written')"`,
          // The console page of this build's reports: the approvals and their e-mails link it.
          `export ${RUNNER_EXPORTS.reportUrl}="$(head -c 500 reports/${REPORT_URL_FILE} 2>/dev/null || echo 'no report written')"`,
          `if [ "$${RUNNER_ENV.verdict}" = report-only ] && [ "$${code}" -ne 0 ]; then echo "Report only: the migration test's status $${code} does not block this build"; else test "$${code}" -eq 0; fi`,
        ],
      },
    },
    reports: {
      [reportGroupArn]: {
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
  };
}
