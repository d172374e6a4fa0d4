import { Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import type * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import type * as acm from 'aws-cdk-lib/aws-certificatemanager';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as ecr from 'aws-cdk-lib/aws-ecr';
import type * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as rds from 'aws-cdk-lib/aws-rds';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type { Construct } from 'constructs';
import { currentImageTag, deployedImageTagPrefix } from '../config/app-contract';
import { ENVIRONMENT_TAG, type Naming } from '../config/naming';
import type { EnvironmentConfig } from '../config/schema';
import { OrchaAlarms } from '../constructs/alarms';
import { AppPipeline } from '../constructs/app-pipeline';
import { ArtifactBucket } from '../constructs/artifact-bucket';
import { MonthlyCostBudget } from '../constructs/budget';
import { EnvironmentWakeFunction, OfficeHoursWakeRole } from '../constructs/office-hours';
import { DeveloperAccess } from '../constructs/developer-access';
import { MigrationTest } from '../constructs/migration-test';
import { RotationRestart } from '../constructs/rotation-restart';
import { TenantAlarms } from '../constructs/tenant-alarms';
import type { QueuePair, TenantQueues } from './foundation-stack';

export interface OpsStackProps extends StackProps {
  readonly config: EnvironmentConfig;
  readonly naming: Naming;
  /** The environment's key for its log groups (`FoundationStack.logEncryptionKey`). */
  readonly logEncryptionKey: kms.IKey;
  readonly repository: ecr.IRepository;
  readonly ingest: QueuePair;
  readonly emailAcquire: QueuePair;
  /** Large tenants' queues: a DLQ and a backlog alarm each. */
  readonly tenantQueues: readonly TenantQueues[];
  /** The database credentials: their rotation's outcome restarts the app or alerts. */
  readonly databaseSecret: secretsmanager.ISecret;
  readonly codeBuildLogGroup: logs.ILogGroup;
  readonly database: rds.IDatabaseInstance;
  /** Load balancer and target group of the application (their full-name attributes feed the alarms). */
  readonly loadBalancer: elbv2.ApplicationLoadBalancer;
  readonly targetGroup: elbv2.ApplicationTargetGroup;
  readonly autoScalingGroup: autoscaling.IAutoScalingGroup;
  readonly certificate: acm.ICertificate;
  /** For the migration test: the VPC, its CodeBuild and database groups and the DB subnet group. */
  readonly vpc: ec2.IVpc;
  readonly codeBuildSecurityGroup: ec2.ISecurityGroup;
  readonly databaseSecurityGroup: ec2.ISecurityGroup;
  readonly databaseSubnetGroup: rds.ISubnetGroup;
  /**
   * Account of the infrastructure pipeline when it differs from this environment's (it may then
   * start the migration test and, with office hours, wake the environment).
   * @default - same account
   */
  readonly pipelineAccount?: string;
}

/** AWS services that publish to the alerts topic. */
const PUBLISHERS = {
  cloudWatch: 'cloudwatch.amazonaws.com',
  budgets: 'budgets.amazonaws.com',
  codeStarNotifications: 'codestar-notifications.amazonaws.com',
} as const;

/** Alarms, alerts topic, the application's deploy pipeline, budget and developer access. */
export class OpsStack extends Stack {
  /** Every alarm, budget and approval notification; e-mailed to `config.alertEmail`. */
  public readonly alertsTopic: sns.Topic;
  /** Customer managed key of the alerts topic (AWS-managed SNS keys admit no service publishers). */
  public readonly alertsKey: kms.Key;
  public readonly alarms: OrchaAlarms;
  public readonly appPipeline: AppPipeline;
  public readonly budget: MonthlyCostBudget;
  public readonly developerAccess: DeveloperAccess;
  /** The migration test run before this environment is deployed; only where `migrationTest.enabled`. */
  public readonly migrationTest?: MigrationTest;
  /** Per large tenant: DLQ and backlog alarms. */
  public readonly tenantAlarms: TenantAlarms;
  /** After a credential rotation: the app restart and the alerts; only where rotation is on. */
  public readonly rotationRestart?: RotationRestart;

  constructor(scope: Construct, id: string, props: OpsStackProps) {
    super(scope, id, props);
    const { config, naming } = props;

    this.alertsKey = this.createAlertsKey(naming);
    this.alertsTopic = new sns.Topic(this, 'AlertsTopic', {
      topicName: naming.alertsTopic,
      displayName: `Orcha ${config.name} alerts`,
      masterKey: this.alertsKey,
      enforceSSL: true,
    });
    this.alertsTopic.addSubscription(new subscriptions.EmailSubscription(config.alertEmail));
    this.allowServicesToPublish(this.alertsTopic);

    this.alarms = new OrchaAlarms(this, 'Alarms', {
      alarmName: (key) => naming.alarm(key),
      topic: this.alertsTopic,
      targetGroup: props.targetGroup,
      loadBalancer: props.loadBalancer,
      autoScalingGroup: props.autoScalingGroup,
      database: props.database,
      ingestQueue: props.ingest.queue,
      ingestDeadLetterQueue: props.ingest.deadLetterQueue,
      emailAcquireDeadLetterQueue: props.emailAcquire.deadLetterQueue,
      certificate: props.certificate,
      pageOnCritical: config.monitoring.pageOnCriticalAlarms,
      minHealthyHosts: config.compute.minCapacity,
      sleepsOutsideOfficeHours: config.officeHours.enabled,
    });

    this.tenantAlarms = new TenantAlarms(this, 'TenantAlarms', {
      tenants: props.tenantQueues,
      alarmName: (key) => naming.alarm(key),
      topic: this.alertsTopic,
      pageOnCritical: config.monitoring.pageOnCriticalAlarms,
    });

    if (config.database.credentialRotation.enabled) {
      this.rotationRestart = new RotationRestart(this, 'RotationRestart', {
        environment: config.name,
        secret: props.databaseSecret,
        secretName: naming.dbSecret,
        rotationFunctionName: naming.rotationFunction,
        functionName: naming.restartFunction,
        autoScalingGroupName: naming.autoScalingGroup,
        instanceWarmupSeconds: config.compute.healthCheckGraceSeconds,
        topic: this.alertsTopic,
        topicKey: this.alertsKey,
        alarmName: (key) => naming.alarm(key),
        logRetentionDays: config.monitoring.logRetentionDays,
        logEncryptionKey: props.logEncryptionKey,
      });
    }

    // This environment's costs only (environments share the account), notified once: the topic.
    this.budget = new MonthlyCostBudget(this, 'Budget', {
      budgetName: naming.budget,
      limitUsd: config.monitoring.monthlyBudgetUsd,
      topic: this.alertsTopic,
      costAllocationTag: { key: ENVIRONMENT_TAG, value: config.name },
    });

    if (config.migrationTest.enabled) {
      this.migrationTest = new MigrationTest(this, 'MigrationTest', {
        naming,
        config,
        vpc: props.vpc,
        securityGroup: props.codeBuildSecurityGroup,
        databaseSecurityGroup: props.databaseSecurityGroup,
        database: props.database,
        subnetGroup: props.databaseSubnetGroup,
        repository: props.repository,
        logGroup: props.codeBuildLogGroup,
        logEncryptionKey: props.logEncryptionKey,
        pipelineAccount: props.pipelineAccount,
        // Reports go to the environment's pipeline artifact bucket (by its fixed name), under their own prefix.
        artifactsBucket: new ArtifactBucket(this, 'MigrationReportsBucket', {
          bucketName: naming.pipelineArtifactsBucket(config.account),
        }),
      });
    }
    // The pipeline in another account wakes a sleeping environment through this role before deploying it.
    if (config.officeHours.enabled && props.pipelineAccount && props.pipelineAccount !== config.account) {
      new OfficeHoursWakeRole(this, 'OfficeHoursWake', { pipelineAccount: props.pipelineAccount, naming });
    }

    // The application pipeline wakes a sleeping environment before it deploys it.
    const wake = config.officeHours.enabled
      ? new EnvironmentWakeFunction(this, 'DeployWake', {
          naming,
          schedule: config.officeHours,
          minCapacity: config.compute.minCapacity,
          maxCapacity: config.compute.maxCapacity,
          logRetentionDays: config.monitoring.logRetentionDays,
          logEncryptionKey: props.logEncryptionKey,
        })
      : undefined;

    this.appPipeline = new AppPipeline(this, 'AppPipeline', {
      pipelineName: naming.appPipeline,
      buildProjectName: naming.buildProject,
      applicationName: naming.codeDeployApplication,
      deploymentGroupName: naming.codeDeployGroup,
      connectionName: naming.appConnection,
      source: config.appPipeline.source,
      requireApproval: config.appPipeline.requireApproval,
      approvalTopic: this.alertsTopic,
      // FoundationStack's bucket, by name: the roles' statements read a literal ARN.
      artifactBucketName: naming.pipelineArtifactsBucket(config.account),
      repository: props.repository,
      buildLogGroup: props.codeBuildLogGroup,
      autoScalingGroup: props.autoScalingGroup,
      deployedImageTagPrefix: deployedImageTagPrefix(config.name),
      recordProjectName: naming.recordProject,
      currentImageTag: currentImageTag(config.name),
      // High availability: deploy one instance at a time, each taken out of the target group
      // while its containers restart, so the others keep serving.
      inServiceDeploys: config.compute.minCapacity >= 2 ? props.targetGroup : undefined,
      wake: wake?.function,
      ...(this.migrationTest && config.appPipeline.migrationTest !== 'off'
        ? {
            migrationTest: { project: this.migrationTest.project, verdict: config.appPipeline.migrationTest },
          }
        : {}),
    });

    this.developerAccess = new DeveloperAccess(this, 'DeveloperAccess', {
      managedPolicyName: naming.developerPolicy,
      instanceName: naming.instanceName,
      shellDocumentName: naming.sessionManagerDocument,
      replDocumentName: naming.replPortForwardingDocument,
      replPort: config.compute.replPort,
    });
  }

  /**
   * SNS encrypts with this key on behalf of each publisher, so the key policy names the services
   * that publish: CloudWatch alarms, Budgets and CodeStar notifications (as AWS documents for
   * each; the pipeline role's own permission comes from the topic's grantPublish).
   */
  private createAlertsKey(naming: Naming): kms.Key {
    const key = new kms.Key(this, 'AlertsKey', {
      alias: `alias/${naming.alertsTopic}`,
      description: `Encrypts the ${naming.alertsTopic} SNS topic`,
      enableKeyRotation: true,
      // Messages are transient: nothing stays encrypted under this key once the topic is gone.
      removalPolicy: RemovalPolicy.DESTROY,
      pendingWindow: Duration.days(7),
    });
    for (const publisher of this.publishers()) {
      key.addToResourcePolicy(
        new iam.PolicyStatement({
          sid: publisher.sid,
          principals: [new iam.ServicePrincipal(publisher.service)],
          actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
          resources: ['*'],
          conditions: publisher.keyConditions,
        }),
      );
    }
    return key;
  }

  /** Topic policy: the three publishing services, each only on behalf of this account. */
  private allowServicesToPublish(topic: sns.Topic): void {
    for (const publisher of this.publishers()) {
      topic.addToResourcePolicy(
        new iam.PolicyStatement({
          sid: publisher.sid,
          principals: [new iam.ServicePrincipal(publisher.service)],
          actions: ['sns:Publish'],
          resources: [topic.topicArn],
          conditions: publisher.topicConditions,
        }),
      );
    }
  }

  /**
   * The services that publish to the alerts topic and the conditions AWS documents for each:
   * on the topic, only on behalf of this account (and, for alarms and budgets, from their own
   * ARNs); on the key, the same, except CodeStar notifications, which the key recognises by
   * SNS being the calling service.
   */
  private publishers(): {
    sid: string;
    service: string;
    topicConditions: Record<string, unknown>;
    keyConditions?: Record<string, unknown>;
  }[] {
    const sourceAccount = { 'aws:SourceAccount': this.account };
    const budgets = {
      StringEquals: sourceAccount,
      ArnLike: { 'aws:SourceArn': `arn:${this.partition}:budgets::${this.account}:*` },
    };
    return [
      {
        sid: 'AllowCloudWatchAlarms',
        service: PUBLISHERS.cloudWatch,
        topicConditions: {
          StringEquals: sourceAccount,
          ArnLike: {
            'aws:SourceArn': `arn:${this.partition}:cloudwatch:${this.region}:${this.account}:alarm:*`,
          },
        },
      },
      { sid: 'AllowBudgets', service: PUBLISHERS.budgets, topicConditions: budgets, keyConditions: budgets },
      {
        sid: 'AllowCodeStarNotifications',
        service: PUBLISHERS.codeStarNotifications,
        topicConditions: { StringEquals: sourceAccount },
        keyConditions: { StringEquals: { 'kms:ViaService': `sns.${this.region}.amazonaws.com` } },
      },
    ];
  }
}
