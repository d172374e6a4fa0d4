import type * as codebuild from 'aws-cdk-lib/aws-codebuild';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as ecr from 'aws-cdk-lib/aws-ecr';
import type * as events from 'aws-cdk-lib/aws-events';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as rds from 'aws-cdk-lib/aws-rds';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Stack } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { currentImageTag } from '../../config/app-contract';
import { pipelineNames, type Naming } from '../../config/naming';
import type { EnvironmentConfig } from '../../config/schema';
import { MigrationJanitor } from './janitor';
import { MigrationTestProject } from './project';
import { MigrationTestTrigger } from './trigger';

export { CLEANUP_MARGIN_MINUTES, RDS_CA_BUNDLE_URL, RUNNER_HOME, migrationTestBuildSpec } from './project';
export { MigrationJanitor } from './janitor';
export { MigrationTestProject } from './project';
export { MigrationTestTrigger } from './trigger';

export interface MigrationTestProps {
  /** Physical names of the environment. */
  readonly naming: Naming;
  /** The environment's validated configuration (`name`, `migrationTest`, `database.instanceClass`, `monitoring.logRetentionDays`). */
  readonly config: Pick<EnvironmentConfig, 'name' | 'migrationTest' | 'database' | 'monitoring'>;
  /** The environment's VPC. */
  readonly vpc: ec2.IVpc;
  /** Subnets of the build. @default { subnetGroupName: 'build' } */
  readonly subnets?: ec2.SubnetSelection;
  /** Security group of the build (`v1-orcha-codebuild-sg`; outbound only, allowed into the RDS group). */
  readonly securityGroup: ec2.ISecurityGroup;
  /** Security group given to the temporary instance (`v1-orcha-rds-sg`: 5432 from the build's group). */
  readonly databaseSecurityGroup: ec2.ISecurityGroup;
  /** The source instance (`v1-orcha-db`) whose newest snapshot is restored. */
  readonly database: rds.IDatabaseInstance;
  /** The source's DB subnet group (private subnets), used by the temporary instance. */
  readonly subnetGroup: rds.ISubnetGroup;
  /** The application image repository (`v1-orcha`). */
  readonly repository: ecr.IRepository;
  /** Log group of the build (`/v1-orcha/codebuild`). */
  readonly logGroup: logs.ILogGroup;
  /** Key of the janitor's log group (the environment's `LogEncryptionKey`). */
  readonly logEncryptionKey: kms.IKey;
  /**
   * Account of the infrastructure pipeline; when it differs from the environment's, a trigger
   * role lets that pipeline's step run the project.
   * @default - no trigger role
   */
  readonly pipelineAccount?: string;
  /** Customer-managed key of the source's storage, if any. @default - the AWS-managed key */
  readonly encryptionKey?: kms.IKey;
  /** Bucket receiving the report files (under `<project>/<build id>/`). */
  readonly artifactsBucket: s3.IBucket;
}

/**
 * The migration test of an environment, composed of three narrow pieces: the project
 * ({@link MigrationTestProject}), the janitor ({@link MigrationJanitor}) and, for a pipeline in
 * another account, the trigger role ({@link MigrationTestTrigger}). Their tag and variable
 * contract is lib/config/migration-test-contract.ts. The project's default image is the one the
 * environment runs now (`deployed-<env>`, moved by the app pipeline's Record stage); the app
 * pipeline overrides it per build with the image it just built.
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
    this.artifactsBucket = props.artifactsBucket;

    const project = new MigrationTestProject(this, {
      projectName: naming.migrationTestProject,
      reportGroupName: naming.migrationTestReportGroup,
      sourceInstanceId: naming.dbInstance,
      instancePrefix: naming.migrationTestInstancePrefix,
      databaseName: naming.dbName,
      instanceClass: settings.instanceClass ?? config.database.instanceClass,
      timeoutMinutes: settings.timeoutMinutes,
      instanceTtlHours: settings.instanceTtlHours,
      command: settings.command,
      allowDataLoss: settings.allowDataLoss,
      defaultImageTag: currentImageTag(config.name),
      repository: props.repository,
      vpc: props.vpc,
      ...(props.subnets ? { subnets: props.subnets } : {}),
      securityGroup: props.securityGroup,
      databaseSecurityGroup: props.databaseSecurityGroup,
      subnetGroup: props.subnetGroup,
      logGroup: props.logGroup,
      ...(props.encryptionKey ? { encryptionKey: props.encryptionKey } : {}),
      artifactsBucket: props.artifactsBucket,
    });
    this.project = project.project;
    this.reportGroup = project.reportGroup;

    const janitor = new MigrationJanitor(this, {
      functionName: naming.migrationJanitor,
      instancePrefix: naming.migrationTestInstancePrefix,
      sourceInstanceId: naming.dbInstance,
      logRetentionDays: config.monitoring.logRetentionDays,
      logEncryptionKey: props.logEncryptionKey,
    });
    this.janitor = janitor.function;
    this.schedule = janitor.schedule;

    if (props.pipelineAccount && props.pipelineAccount !== Stack.of(this).account) {
      this.triggerRole = new MigrationTestTrigger(this, {
        roleName: naming.migrationTestTriggerRole,
        project: this.project,
        projectName: naming.migrationTestProject,
        pipelineAccount: props.pipelineAccount,
        stepRoleName: pipelineNames.migrationTestStepRole(config.name),
      }).role;
    }
  }
}
