import { Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type { Construct } from 'constructs';
import type { Naming } from '../config/naming';
import type { EnvironmentConfig } from '../config/schema';
import { OfficeHoursDatabase } from '../constructs/office-hours';
import { acknowledge } from '../nag';
import { SubnetGroups } from './foundation-stack';
import { managedLogGroup } from '../constructs/log-group';

export interface DataStackProps extends StackProps {
  readonly config: EnvironmentConfig;
  readonly naming: Naming;
  /** The environment's key for its log groups (`FoundationStack.logEncryptionKey`). */
  readonly logEncryptionKey: kms.IKey;
  /** The VPC whose private subnets hold the database. */
  readonly vpc: ec2.IVpc;
  /** `v1-orcha-rds-sg`: 5432 from the application and CodeBuild. */
  readonly databaseSecurityGroup: ec2.ISecurityGroup;
  /**
   * `v1-orcha-rotation-sg` of the rotation function (FoundationStack writes its rules).
   * Required when `database.credentialRotation.enabled`.
   */
  readonly rotationSecurityGroup?: ec2.ISecurityGroup;
}

/** Database user the application connects as (the secret holds its password). */
export const DATABASE_USER = 'orcha';

/** PostgreSQL logs exported to CloudWatch Logs. */
const DB_LOG_EXPORTS = ['postgresql', 'upgrade'] as const;

/** RDS PostgreSQL and its credentials. */
export class DataStack extends Stack {
  public readonly database: rds.DatabaseInstance;
  public readonly credentials: secretsmanager.Secret;
  public readonly subnetGroup: rds.SubnetGroup;
  /** The rotation schedule of the credentials; only where `database.credentialRotation.enabled`. */
  public readonly rotation?: secretsmanager.RotationSchedule;

  constructor(scope: Construct, id: string, props: DataStackProps) {
    super(scope, id, props);
    const { config, naming } = props;
    const db = config.database;

    this.credentials = new secretsmanager.Secret(this, 'DbCredentials', {
      secretName: naming.dbSecret,
      description: `Master credentials of ${naming.dbInstance}`,
      generateSecretString: {
        secretStringTemplate: JSON.stringify({ username: DATABASE_USER }),
        generateStringKey: 'password',
        passwordLength: 32,
        excludeCharacters: ' %+~`#$&*()|[]{}:;<>?!\'/@"\\',
      },
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.subnetGroup = new rds.SubnetGroup(this, 'SubnetGroup', {
      vpc: props.vpc,
      description: `Private subnets of ${naming.dbInstance}`,
      vpcSubnets: { subnetGroupName: SubnetGroups.PRIVATE },
      removalPolicy: RemovalPolicy.RETAIN,
    });

    // The exported logs' groups, created here with their retention rather than by RDS (no retention)
    // or by a LogRetention custom resource (a Lambda function per stack).
    const logGroups = DB_LOG_EXPORTS.map((kind) =>
      managedLogGroup(this, `DbLogGroup-${kind}`, {
        logGroupName: `/aws/rds/instance/${naming.dbInstance}/${kind}`,
        retentionDays: config.monitoring.logRetentionDays,
        removalPolicy: RemovalPolicy.DESTROY,
        encryptionKey: props.logEncryptionKey,
      }),
    );

    this.database = new rds.DatabaseInstance(this, 'Database', {
      instanceIdentifier: naming.dbInstance,
      engine: rds.DatabaseInstanceEngine.postgres({
        // The major version only: RDS creates the instance at the default minor version of that
        // major and keeps it current (autoMinorVersionUpgrade), so the template never names a
        // minor version that RDS deprecates or that is lower than the running one.
        version: rds.PostgresEngineVersion.of(db.engineVersion, db.engineVersion),
      }),
      instanceType: new ec2.InstanceType(db.instanceClass.replace(/^db\./, '')),
      credentials: rds.Credentials.fromSecret(this.credentials),
      databaseName: naming.dbName,
      vpc: props.vpc,
      subnetGroup: this.subnetGroup,
      securityGroups: [props.databaseSecurityGroup],
      publiclyAccessible: false,
      multiAz: db.multiAz,
      storageType: rds.StorageType.GP3,
      allocatedStorage: db.allocatedStorageGiB,
      maxAllocatedStorage: db.maxAllocatedStorageGiB,
      storageEncrypted: true,
      backupRetention: Duration.days(db.backupRetentionDays),
      deletionProtection: db.deletionProtection,
      // Minor versions are applied by RDS in the maintenance window below (runbook:
      // docs/runbooks/database-engine.md). Off, RDS would still force them at the end of a minor
      // version's support, at a time of its choosing.
      autoMinorVersionUpgrade: true,
      copyTagsToSnapshot: true,
      // Into the log groups above, which set the retention. (`cloudwatchLogsRetention` would add
      // a LogRetention custom resource: a Lambda function with a role on "*".)
      cloudwatchLogsExports: [...DB_LOG_EXPORTS],
      enablePerformanceInsights: true,
      preferredBackupWindow: '01:00-02:00',
      preferredMaintenanceWindow: 'sun:02:30-sun:03:30',
      removalPolicy: db.deletionProtection ? RemovalPolicy.RETAIN : RemovalPolicy.SNAPSHOT,
    });
    logGroups.forEach((group) => this.database.node.addDependency(group));

    if (config.officeHours.enabled) {
      new OfficeHoursDatabase(this, 'OfficeHours', {
        schedule: config.officeHours,
        dbInstanceIdentifier: naming.dbInstance,
        startScheduleName: naming.dbStartSchedule,
        stopScheduleName: naming.dbStopSchedule,
        roleName: naming.dbScheduleRole,
      });
    }

    if (!db.multiAz) {
      acknowledge(
        this.database,
        'AwsSolutions-RDS3',
        'Single-AZ by configuration (database.multiAz), as in the original design: 14-day automated backups and snapshots restore the instance; Multi-AZ doubles the instance cost. Revisit with the roadmap item RDS Multi-AZ (set database.multiAz).',
      );
    }
    if (!db.deletionProtection) {
      acknowledge(
        this.database,
        'AwsSolutions-RDS10',
        `Deletion protection is off by configuration in ${config.name} only (prod has it on): this environment is torn down and rebuilt freely, and its removal policy still takes a final snapshot.`,
      );
    }
    acknowledge(
      this.database,
      'NIST.800.53.R5-RDSInBackupPlan',
      `Backed up by RDS itself rather than an AWS Backup plan: automated backups with point-in-time recovery for ${db.backupRetentionDays} days (database.backupRetentionDays), daily in the 01:00-02:00 UTC window, storage encrypted, snapshots tagged (restore-database.md). An AWS Backup plan would keep a second copy of the same snapshots.`,
    );
    acknowledge(
      this.database,
      'NIST.800.53.R5-RDSEnhancedMonitoringEnabled',
      'Performance Insights and the standard one-minute RDS metrics (CPU, connections, storage, alarmed in the Ops stack) cover what the team reads; Enhanced Monitoring would add an OS-metrics role with an AWS managed policy and CloudWatch Logs ingestion for process-level detail no alarm or runbook uses. Revisit if a tuning question needs OS metrics.',
    );
    if (!db.multiAz) {
      acknowledge(
        this.database,
        'NIST.800.53.R5-RDSMultiAZSupport',
        `Single-AZ by configuration (database.multiAz) in ${config.name}, as in the original design: point-in-time recovery and snapshots restore the instance within the documented recovery time; Multi-AZ doubles the instance cost (about $57/month in prod). Revisit with the roadmap option (set database.multiAz).`,
      );
    }
    if (!db.deletionProtection) {
      acknowledge(
        this.database,
        'NIST.800.53.R5-RDSInstanceDeletionProtectionEnabled',
        `Deletion protection is off by configuration in ${config.name} only (prod has it on): this environment is torn down and rebuilt freely, and its removal policy takes a final snapshot before the instance is deleted.`,
      );
    }
    acknowledge(
      this.database,
      'AwsSolutions-RDS11',
      'PostgreSQL keeps its standard port 5432 (the specification, the application and the migration test use it); the instance is not publicly accessible, sits in isolated subnets, and its security group admits 5432 only from the application and CodeBuild groups.',
    );
    if (db.credentialRotation.enabled) {
      this.rotation = this.rotateCredentials(props, db.credentialRotation.everyDays);
    } else {
      acknowledge(
        this.credentials,
        'AwsSolutions-SMG4',
        `Rotation is off by configuration in ${config.name} (database.credentialRotation.enabled; prod rotates every 30 days): the secret is read only by the application service role and an operator changes it when needed (docs/runbooks/credential-rotation.md).`,
      );
      acknowledge(
        this.credentials,
        'NIST.800.53.R5-SecretsManagerRotationEnabled',
        `Rotation is off by configuration in ${config.name} (database.credentialRotation.enabled; prod rotates every 30 days): the rotation's function and NAT path would be this environment's largest fixed cost; the secret is read only by the application service role (docs/runbooks/credential-rotation.md).`,
      );
    }
    acknowledge(
      this.credentials,
      'NIST.800.53.R5-SecretsManagerUsingKMSKey',
      "Encrypted with Secrets Manager's AWS managed key (aws/secretsmanager): only principals of this account that IAM allows secretsmanager:GetSecretValue on this secret (the application service role, the rotation) can decrypt it. A customer managed key would add a key policy, kms:Decrypt grants for every reader and $1/month for the same boundary.",
    );
  }

  /**
   * Secrets Manager's hosted PostgreSQL single-user rotation (the instance's master user, which
   * the application connects as), in the `build` subnets: PostgreSQL to the database, HTTPS to
   * the Secrets Manager API through the NAT instance. Not at deploy time: the first rotation
   * comes with the schedule (or `rotate-secret`, docs/runbooks/credential-rotation.md).
   */
  private rotateCredentials(props: DataStackProps, everyDays: number): secretsmanager.RotationSchedule {
    const { config, naming } = props;
    if (!props.rotationSecurityGroup) {
      throw new Error('DataStack: database.credentialRotation.enabled needs rotationSecurityGroup');
    }
    // The function's log group with the environment's retention (Lambda would create it without one).
    managedLogGroup(this, 'RotationLogs', {
      logGroupName: `/aws/lambda/${naming.rotationFunction}`,
      retentionDays: config.monitoring.logRetentionDays,
      removalPolicy: RemovalPolicy.DESTROY,
      encryptionKey: props.logEncryptionKey,
    });
    return this.credentials.addRotationSchedule('Rotation', {
      hostedRotation: secretsmanager.HostedRotation.postgreSqlSingleUser({
        functionName: naming.rotationFunction,
        vpc: props.vpc,
        vpcSubnets: { subnetGroupName: SubnetGroups.BUILD },
        securityGroups: [props.rotationSecurityGroup],
      }),
      automaticallyAfter: Duration.days(everyDays),
      rotateImmediatelyOnUpdate: false,
    });
  }
}
