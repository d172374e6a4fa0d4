import { Duration, Stack, Tags, type StackProps } from 'aws-cdk-lib';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as ecr from 'aws-cdk-lib/aws-ecr';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import type * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as rds from 'aws-cdk-lib/aws-rds';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as route53targets from 'aws-cdk-lib/aws-route53-targets';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type { Construct } from 'constructs';
import { accountNames, type Naming } from '../config/naming';
import type { EnvironmentConfig } from '../config/schema';
import { AppInstanceBoot } from '../constructs/app-instance-boot';
import { AppServiceRole } from '../constructs/app-service-role';
import { ComposePlugin } from '../constructs/compose-plugin';
import { OfficeHoursInstances } from '../constructs/office-hours';
import { SessionManagerPreferences } from '../constructs/session-manager-preferences';
import { LoadBalancerWebAcl } from '../constructs/web-acl';
import { acknowledge, acknowledgeInlinePolicy } from '../nag';
import { SubnetGroups, type QueuePair, type TenantQueues } from './foundation-stack';

export interface ComputeStackProps extends StackProps {
  readonly config: EnvironmentConfig;
  readonly naming: Naming;
  /** The environment's key for its log groups (`FoundationStack.logEncryptionKey`). */
  readonly logEncryptionKey: kms.IKey;
  readonly vpc: ec2.IVpc;
  readonly albSecurityGroup: ec2.ISecurityGroup;
  readonly ec2SecurityGroup: ec2.ISecurityGroup;
  readonly hostedZone: route53.IHostedZone;
  readonly documentsBucket: s3.IBucket;
  readonly ingest: QueuePair;
  readonly emailAcquire: QueuePair;
  /** Large tenants' dedicated queues: the role consumes them, a compose service per tenant polls each. */
  readonly tenantQueues: readonly TenantQueues[];
  readonly repository: ecr.IRepository;
  /** This region's image id of the environment's pinned Amazon Linux release (FoundationStack.ami). */
  readonly imageId: string;
  readonly database: rds.IDatabaseInstance;
  readonly databaseSecret: secretsmanager.ISecret;
  readonly applicationLogGroup: logs.ILogGroup;
  readonly userDataLogGroup: logs.ILogGroup;
  /** Subnets of the instances (FoundationStack.instanceSubnets): public, or private `app` behind NAT gateways. */
  readonly instanceSubnets: ec2.SubnetSelection;
  /** Whether the instances get a public IPv4 address (FoundationStack.instancesArePublic). */
  readonly instancesArePublic: boolean;
  /** Receives the load balancer's access logs (under `alb/`); its bucket policy gets the ELB delivery statements. */
  readonly accessLogsBucket: s3.IBucket;
}

/** The URL SQS gives a queue of that name (`https://sqs.<region>.amazonaws.com/<account>/<name>`). */
export function sqsQueueUrl(region: string, account: string, queueName: string): string {
  return `https://sqs.${region}.amazonaws.com/${account}/${queueName}`;
}

/** Longest boot (packages, compose, agents) before the instance counts as failed. */
const BOOT_TIMEOUT = Duration.minutes(15);

/** ALB, Auto Scaling group, certificate, DNS record and the instances' IAM role. */
export class ComputeStack extends Stack {
  public readonly loadBalancer: elbv2.ApplicationLoadBalancer;
  public readonly targetGroup: elbv2.ApplicationTargetGroup;
  public readonly autoScalingGroup: autoscaling.AutoScalingGroup;
  public readonly certificate: acm.Certificate;
  public readonly serviceRole: iam.Role;
  public readonly launchTemplate: ec2.LaunchTemplate;
  /** The `app` alias record (`app.prod.getorcha.com`). */
  public readonly appRecord: route53.ARecord;
  /** `https://app.prod.getorcha.com` */
  public readonly appUrl: string;
  /** The ALB's web ACL, when `compute.waf.enabled`. */
  public readonly webAcl?: LoadBalancerWebAcl;
  /** Present in the one environment of the account that owns the account-wide singletons. */
  public readonly sessionManagerPreferences?: SessionManagerPreferences;

  constructor(scope: Construct, id: string, props: ComputeStackProps) {
    super(scope, id, props);
    const { config, naming } = props;
    const compute = config.compute;
    const appDomain = `${config.dns.appRecordName}.${config.dns.zoneName}`;
    this.appUrl = `https://${appDomain}`;

    // Every security group rule is written once, in FoundationStack: import both groups immutable.
    const albSecurityGroup = ec2.SecurityGroup.fromSecurityGroupId(
      this,
      'AlbSg',
      props.albSecurityGroup.securityGroupId,
      { mutable: false },
    );
    const instanceSecurityGroup = ec2.SecurityGroup.fromSecurityGroupId(
      this,
      'Ec2Sg',
      props.ec2SecurityGroup.securityGroupId,
      { mutable: false },
    );

    // --- Certificate and load balancer
    this.certificate = new acm.Certificate(this, 'Certificate', {
      domainName: appDomain,
      validation: acm.CertificateValidation.fromDns(props.hostedZone),
    });

    this.loadBalancer = new elbv2.ApplicationLoadBalancer(this, 'LoadBalancer', {
      loadBalancerName: naming.loadBalancer,
      vpc: props.vpc,
      vpcSubnets: { subnetGroupName: SubnetGroups.PUBLIC },
      internetFacing: true,
      securityGroup: albSecurityGroup,
      dropInvalidHeaderFields: true,
      deletionProtection: config.database.deletionProtection,
    });
    this.loadBalancer.logAccessLogs(props.accessLogsBucket, 'alb');
    if (compute.waf.enabled) {
      this.webAcl = new LoadBalancerWebAcl(this, 'Waf', {
        webAclName: naming.webAcl,
        logGroupName: naming.wafLogGroup,
        logRetentionDays: config.monitoring.logRetentionDays,
        logEncryptionKey: props.logEncryptionKey,
        loadBalancer: this.loadBalancer,
        mode: compute.waf.mode,
        rateLimitPerFiveMinutes: compute.waf.rateLimitPerFiveMinutes,
      });
    } else {
      acknowledge(
        this.loadBalancer,
        'NIST.800.53.R5-ALBWAFEnabled',
        `No web ACL in ${config.name} (compute.waf off), as in the original design: the ALB admits only 80 (redirected to HTTPS) and 443, drops invalid headers and forwards to one application port; AWS WAF costs about $12/month per environment. Revisit when handling sensitive customer data (turn compute.waf on).`,
      );
    }
    if (!config.database.deletionProtection) {
      acknowledge(
        this.loadBalancer,
        'NIST.800.53.R5-ELBDeletionProtectionEnabled',
        `Deletion protection follows database.deletionProtection, off in ${config.name} only (prod has it on): this environment is torn down and rebuilt freely, and the load balancer holds no data (its access logs are in the retained access-log bucket).`,
      );
    }

    this.targetGroup = new elbv2.ApplicationTargetGroup(this, 'TargetGroup', {
      targetGroupName: naming.targetGroup,
      vpc: props.vpc,
      targetType: elbv2.TargetType.INSTANCE,
      protocol: elbv2.ApplicationProtocol.HTTP,
      port: compute.appPort,
      deregistrationDelay: Duration.seconds(30),
      healthCheck: {
        path: config.dns.healthCheckPath,
        protocol: elbv2.Protocol.HTTP,
        port: 'traffic-port',
        healthyHttpCodes: '200',
        interval: Duration.seconds(15),
        timeout: Duration.seconds(5),
        healthyThresholdCount: 2,
        unhealthyThresholdCount: 3,
      },
    });

    this.loadBalancer.addListener('Https', {
      port: 443,
      protocol: elbv2.ApplicationProtocol.HTTPS,
      certificates: [this.certificate],
      sslPolicy: elbv2.SslPolicy.RECOMMENDED_TLS,
      defaultTargetGroups: [this.targetGroup],
      open: false,
    });
    const redirect = this.loadBalancer.addRedirect({
      sourceProtocol: elbv2.ApplicationProtocol.HTTP,
      sourcePort: 80,
      targetProtocol: elbv2.ApplicationProtocol.HTTPS,
      targetPort: 443,
      open: false,
    });
    acknowledge(
      redirect,
      'NIST.800.53.R5-ELBv2ACMCertificateRequired',
      'The port-80 listener answers every request with a 301 redirect to HTTPS on 443 and forwards nothing, so no content is served without TLS; the 443 listener uses the ACM certificate of the domain. A certificate cannot be attached to an HTTP listener.',
    );

    this.appRecord = new route53.ARecord(this, 'AppRecord', {
      zone: props.hostedZone,
      recordName: config.dns.appRecordName,
      target: route53.RecordTarget.fromAlias(new route53targets.LoadBalancerTarget(this.loadBalancer)),
      comment: `Orcha ${config.name}: the application's load balancer`,
    });

    // --- Instances
    const sessionLogs = logs.LogGroup.fromLogGroupName(this, 'SessionLogs', accountNames.ssmSessionsLogGroup);
    this.serviceRole = new AppServiceRole(this, 'ServiceRole', {
      roleName: naming.serviceRole,
      parameterRoot: naming.parameterRoot,
      databaseSecret: props.databaseSecret,
      documentsBucketName: naming.documentsBucket(config.account),
      // The tenants' queues too: every container of an instance shares this role, so the
      // instance (not each worker) is what IAM scopes (docs/runbooks/tenants.md).
      workQueues: [props.ingest.queue, props.emailAcquire.queue, ...props.tenantQueues.map((t) => t.queue)],
      repository: props.repository,
      // The account's session log group, by its fixed name: Session Manager streams every
      // environment's sessions there (the one preferences document of the account says so).
      logGroups: [props.applicationLogGroup, props.userDataLogGroup, sessionLogs],
      // By name (FoundationStack's bucket): the statement and its acknowledgement read a literal ARN.
      pipelineArtifactsBucketName: naming.pipelineArtifactsBucket(config.account),
    }).role;
    acknowledgeInlinePolicy(
      this.serviceRole,
      `The application instances' role (${naming.serviceRole}) may read its parameters and the database secret, use the documents bucket, its work queues, the image repository and its log groups, each by name`,
    );
    acknowledge(
      this.serviceRole,
      `AwsSolutions-IAM5[Resource::${sessionLogs.logGroupArn}]`,
      "Session Manager streams each session to a new log stream of the account's one session log group (named in the SSM-SessionManagerRunShell preferences, shared by every environment of the account); stream names are generated per session, so the streams of that one group are needed. Create stream and put events only.",
    );

    // The compose plugin, copied into the artifacts bucket (which the role reads) at deploy time.
    const composePlugin = new ComposePlugin(this, 'ComposePlugin', {
      bucketName: naming.pipelineArtifactsBucket(config.account),
      logRetentionDays: config.monitoring.logRetentionDays,
      logEncryptionKey: props.logEncryptionKey,
    });

    const boot = new AppInstanceBoot(this, 'Boot', {
      environment: config.name,
      parameterRoot: naming.parameterRoot,
      database: props.database,
      databaseName: naming.dbName,
      databaseSecret: props.databaseSecret,
      ingestQueue: props.ingest.queue,
      emailAcquireQueue: props.emailAcquire.queue,
      // Queue URLs from the names (a literal, so that the compose file needs no deploy-time value).
      tenantWorkers: props.tenantQueues.map(({ tenant }) => ({
        tenant: tenant.name,
        workers: tenant.workers,
        queueUrl: sqsQueueUrl(config.region, config.account, naming.tenantIngestQueue(tenant.name)),
      })),
      documentsBucket: props.documentsBucket,
      repository: props.repository,
      appPort: compute.appPort,
      replPort: compute.replPort,
      healthCheckPath: config.dns.healthCheckPath,
      applicationLogGroup: props.applicationLogGroup,
      userDataLogGroup: props.userDataLogGroup,
      composePlugin,
    });

    this.launchTemplate = new ec2.LaunchTemplate(this, 'LaunchTemplate', {
      launchTemplateName: naming.launchTemplate,
      instanceType: new ec2.InstanceType(compute.instanceType),
      // Pinned per environment (compute.amiName, resolved by FoundationStack.ami): AWS publishing
      // an image changes nothing here; moving the pin rolls the group (docs/runbooks/update-ami.md).
      machineImage: ec2.MachineImage.genericLinux({ [config.region]: props.imageId }),
      userData: boot.userData,
      role: this.serviceRole,
      securityGroup: instanceSecurityGroup,
      // The original design: instances in the public subnets, no NAT; behind NAT gateways none.
      associatePublicIpAddress: props.instancesArePublic,
      requireImdsv2: true,
      httpTokens: ec2.LaunchTemplateHttpTokens.REQUIRED,
      // Containers on Docker's bridge network are one hop further from IMDS.
      httpPutResponseHopLimit: 2,
      detailedMonitoring: true,
      blockDevices: [
        {
          deviceName: '/dev/xvda',
          volume: ec2.BlockDeviceVolume.ebs(compute.rootVolumeGiB, {
            volumeType: ec2.EbsDeviceVolumeType.GP3,
            encrypted: true,
            deleteOnTermination: true,
          }),
        },
      ],
    });

    this.autoScalingGroup = new autoscaling.AutoScalingGroup(this, 'AutoScalingGroup', {
      autoScalingGroupName: naming.autoScalingGroup,
      vpc: props.vpc,
      vpcSubnets: props.instanceSubnets,
      launchTemplate: this.launchTemplate,
      minCapacity: compute.minCapacity,
      maxCapacity: compute.maxCapacity,
      cooldown: Duration.minutes(5),
      // Free; the OpsStack alarm on GroupInServiceInstances reads them.
      groupMetrics: [autoscaling.GroupMetrics.all()],
      healthChecks: autoscaling.HealthChecks.withAdditionalChecks({
        additionalTypes: [autoscaling.AdditionalHealthCheckType.ELB],
        gracePeriod: Duration.seconds(compute.healthCheckGraceSeconds),
      }),
      // Replace instances one at a time, the new one in service (booted, signalled, its
      // revision deployed by CodeDeploy's launch hook) before an old one leaves: CloudFormation
      // launches into the headroom max - min (>= 1, enforced by the schema), waits for the
      // signal, then terminates. A replacing update would create a second group, which the
      // fixed group name and CodeDeploy's deployment group forbid.
      updatePolicy: autoscaling.UpdatePolicy.rollingUpdate({
        maxBatchSize: 1,
        minInstancesInService: compute.minCapacity,
        pauseTime: BOOT_TIMEOUT,
        waitOnResourceSignals: true,
      }),
      signals: autoscaling.Signals.waitForAll({ timeout: BOOT_TIMEOUT }),
    });
    boot.signalTo(this.autoScalingGroup);
    if (config.officeHours.enabled) {
      new OfficeHoursInstances(this, 'OfficeHours', {
        schedule: config.officeHours,
        autoScalingGroup: this.autoScalingGroup,
        minCapacity: compute.minCapacity,
        maxCapacity: compute.maxCapacity,
      });
    }
    // No instance boots before the plugin it installs is in S3.
    this.autoScalingGroup.node.addDependency(composePlugin.resource);
    Tags.of(this.autoScalingGroup).add('Name', naming.instanceName, { applyToLaunchedInstances: true });
    this.autoScalingGroup.attachToApplicationTargetGroup(this.targetGroup);

    if (compute.sessionManagerPreferences) {
      this.sessionManagerPreferences = new SessionManagerPreferences(this, 'SessionManagerPreferences', {
        logGroupName: accountNames.ssmSessionsLogGroup,
        functionName: accountNames.sessionPreferencesFunction,
        functionLogRetentionDays: config.monitoring.logRetentionDays,
        logEncryptionKey: props.logEncryptionKey,
      });
    }

    acknowledge(
      this.autoScalingGroup,
      'AwsSolutions-AS3',
      'The group has no scaling policies: it runs minCapacity instances, and maxCapacity (min + 1) is only the headroom of rolling updates; its failure modes alert through the OpsStack alarms on GroupInServiceInstances and HealthyHostCount to the alerts topic, which this stack cannot reference.',
    );
  }
}
