import {
  CfnOutput,
  DefaultStackSynthesizer,
  Duration,
  Fn,
  RemovalPolicy,
  Stack,
  type StackProps,
} from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { deployedImageTagPrefix } from '../config/app-contract';
import type { EnvironmentConfig, TenantConfig } from '../config/schema';
import { accountNames, type Naming } from '../config/naming';
import { InterfaceEndpoints } from '../constructs/interface-endpoints';
import { NatInstanceBoot } from '../constructs/nat-instance-boot';
import { PinnedAmi } from '../constructs/pinned-ami';
import { applyS3EndpointPolicy } from '../constructs/s3-endpoint-policy';
import { acknowledge, acknowledgeInlinePolicy } from '../nag';
import { LogEncryptionKey, managedLogGroup } from '../constructs/log-group';

export interface FoundationStackProps extends StackProps {
  /** The validated environment. */
  readonly config: EnvironmentConfig;
  /** Physical names of the environment. */
  readonly naming: Naming;
}

/** A work queue and its dead-letter queue. */
export interface QueuePair {
  readonly queue: sqs.IQueue;
  readonly deadLetterQueue: sqs.IQueue;
}

/** A large tenant's dedicated ingest queue and its dead-letter queue. */
export interface TenantQueues extends QueuePair {
  readonly tenant: TenantConfig;
}

/** Days a deleted or overwritten access-log object stays recoverable. */
export const ACCESS_LOGS_NONCURRENT_DAYS = 30;

/** Subnet group names of the VPC. */
export const SubnetGroups = {
  /** The ALB, and the EC2 instances unless `network.natGateway` moves them into `app`. */
  PUBLIC: 'public',
  /** RDS: no route to the internet. */
  PRIVATE: 'private',
  /**
   * The migration test's CodeBuild and the credentials' rotation function (only where the test or
   * the rotation runs): egress through a NAT instance, or through the NAT gateways when
   * `network.natGateway` is on.
   */
  BUILD: 'build',
  /** The application instances when `network.natGateway` is on: private, egress through NAT gateways. */
  APP: 'app',
} as const;

/**
 * The network and the stateful building blocks every other stack uses: VPC, security
 * groups, buckets, queues, the image repository, the hosted zone and the log groups.
 */
export class FoundationStack extends Stack {
  public readonly vpc: ec2.Vpc;
  public readonly albSecurityGroup: ec2.SecurityGroup;
  public readonly ec2SecurityGroup: ec2.SecurityGroup;
  public readonly rdsSecurityGroup: ec2.SecurityGroup;
  public readonly codeBuildSecurityGroup: ec2.SecurityGroup;
  /**
   * `v1-orcha-rotation-sg`, of the credentials' rotation function: PostgreSQL to the database,
   * HTTPS to the Secrets Manager API. Present only where `database.credentialRotation.enabled`.
   */
  public readonly rotationSecurityGroup?: ec2.SecurityGroup;
  /**
   * Where the application instances run: the `public` subnets (with public IPv4 addresses, the
   * original design) or, with `network.natGateway`, the private `app` subnets.
   */
  public readonly instanceSubnets: ec2.SubnetSelection;
  /** Whether the instances need a public IPv4 address (no NAT gateway: they reach AWS directly). */
  public readonly instancesArePublic: boolean;
  /** The interface endpoints, when `network.interfaceEndpoints`. */
  public readonly interfaceEndpoints?: InterfaceEndpoints;
  /** NAT instance of the `build` subnets; present only when the migration test runs here without NAT gateways. */
  public readonly natProvider?: ec2.NatInstanceProviderV2;
  /** The environment's pinned Amazon Linux release (compute.amiName), resolved to this region's image id. */
  public readonly ami: PinnedAmi;
  public readonly accessLogsBucket: s3.Bucket;
  public readonly documentsBucket: s3.Bucket;
  public readonly pipelineArtifactsBucket: s3.Bucket;
  public readonly repository: ecr.Repository;
  public readonly ingest: QueuePair;
  public readonly emailAcquire: QueuePair;
  /** One per configured tenant (`queues.tenants`), in configuration order. */
  public readonly tenantQueues: readonly TenantQueues[];
  public readonly hostedZone: route53.PublicHostedZone;
  public readonly applicationLogGroup: logs.LogGroup;
  public readonly userDataLogGroup: logs.LogGroup;
  public readonly codeBuildLogGroup: logs.LogGroup;
  /**
   * The account's session log group (`/v1-orcha/ssm-sessions`), used by every environment of the
   * account; created only by the environment that owns the account-wide singletons.
   */
  public readonly ssmSessionsLogGroup?: logs.LogGroup;
  /** The environment's key for every log group of its stacks (see {@link LogEncryptionKey}). */
  public readonly logEncryptionKey: kms.IKey;

  constructor(scope: Construct, id: string, props: FoundationStackProps) {
    super(scope, id, props);
    const { config, naming } = props;
    const retentionDays = config.monitoring.logRetentionDays;
    const logEncryptionKey = (this.logEncryptionKey = new LogEncryptionKey(this, 'LogEncryptionKey', {
      description: `Orcha ${config.name}: encrypts the CloudWatch log groups of the environment`,
    }).key);

    // --- Network
    // Subnets with egress (NAT instance or NAT gateways), for the migration test's builds and for
    // the credentials' rotation function (which calls the Secrets Manager API).
    const rotation = config.database.credentialRotation.enabled;
    const buildSubnets = config.migrationTest.enabled || rotation;
    // Roadmap "NAT gateway": the instances move into private `app` subnets, egress through NAT
    // gateways (one, or one per AZ), which also serve the build subnets; no NAT instance.
    const natGateways =
      config.network.natGateway === 'none'
        ? 0
        : config.network.natGateway === 'single'
          ? 1
          : config.availabilityZones.length;
    // The NAT instance's own boot code (retries, forwarding and masquerading persisted, a
    // self-check, cfn-signal) on the environment's pinned image: it is replaced only when the
    // pin moves (CloudFormation starts the new one, waits for its signal, moves the route, then
    // terminates the old one).
    this.ami = new PinnedAmi(this, 'Ami', {
      imageName: config.compute.amiName,
      logRetentionDays: retentionDays,
      logEncryptionKey,
    });
    const natBoot = buildSubnets && natGateways === 0 ? new NatInstanceBoot(this) : undefined;
    if (natBoot) {
      this.natProvider = ec2.NatProvider.instanceV2({
        instanceType: new ec2.InstanceType('t4g.nano'),
        machineImage: this.ami.machineImage(config.region),
        userData: natBoot.userData,
        defaultAllowedTraffic: ec2.NatTrafficDirection.OUTBOUND_ONLY,
        associatePublicIpAddress: true,
        creditSpecification: ec2.CpuCredits.STANDARD,
      });
    }
    const egress = natGateways > 0 || buildSubnets;
    this.vpc = new ec2.Vpc(this, 'Vpc', {
      vpcName: naming.vpc,
      ipAddresses: ec2.IpAddresses.cidr(config.network.vpcCidr),
      availabilityZones: config.availabilityZones,
      natGatewayProvider: natGateways > 0 ? ec2.NatProvider.gateway() : this.natProvider,
      natGateways: natGateways > 0 ? natGateways : buildSubnets ? 1 : 0,
      natGatewaySubnets: egress ? { subnetGroupName: SubnetGroups.PUBLIC } : undefined,
      // CIDRs are allocated in this order: a group is only ever appended (or reserved), so that
      // turning an option on or off never renumbers, and so replaces, an existing subnet.
      subnetConfiguration: [
        {
          name: SubnetGroups.PUBLIC,
          subnetType: ec2.SubnetType.PUBLIC,
          cidrMask: 24,
          mapPublicIpOnLaunch: true,
        },
        { name: SubnetGroups.PRIVATE, subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 24 },
        {
          name: SubnetGroups.BUILD,
          subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS,
          cidrMask: 24,
          // Without the migration test its CIDRs stay reserved: the app subnets come after them.
          reserved: !buildSubnets,
        },
        ...(natGateways > 0
          ? [{ name: SubnetGroups.APP, subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 24 }]
          : []),
      ],
      restrictDefaultSecurityGroup: true,
      flowLogs: {
        Rejected: {
          destination: ec2.FlowLogDestination.toCloudWatchLogs(
            managedLogGroup(this, 'FlowLogs', {
              logGroupName: naming.vpcFlowLogGroup,
              retentionDays,
              removalPolicy: RemovalPolicy.DESTROY,
              encryptionKey: logEncryptionKey,
            }),
          ),
          trafficType: ec2.FlowLogTrafficType.REJECT,
        },
      },
    });
    this.instancesArePublic = natGateways === 0;
    this.instanceSubnets = {
      subnetGroupName: this.instancesArePublic ? SubnetGroups.PUBLIC : SubnetGroups.APP,
    };
    if (this.natProvider && natBoot) {
      this.hardenNatInstances(this.natProvider);
      for (const instance of this.natProvider.gatewayInstances) natBoot.attach(instance);
    }
    this.acknowledgeNetwork(config);
    if (config.network.s3GatewayEndpoint) {
      // Every subnet's route table (the application's, the database's and the build subnets):
      // S3 traffic stays in AWS, limited by the endpoint policy to this environment's buckets and
      // the AWS-owned buckets the instances and the migration test read.
      const endpoint = this.vpc.addGatewayEndpoint('S3Endpoint', {
        service: ec2.GatewayVpcEndpointAwsService.S3,
      });
      applyS3EndpointPolicy(endpoint, {
        region: config.region,
        environmentBuckets: [
          naming.documentsBucket(config.account),
          naming.pipelineArtifactsBucket(config.account),
        ],
        // The migration test's CodeBuild downloads its runner (a file asset) from the CDK bootstrap bucket.
        readOnlyBuckets: buildSubnets
          ? [`cdk-${DefaultStackSynthesizer.DEFAULT_QUALIFIER}-assets-${config.account}-${config.region}`]
          : [],
      });
    }

    // --- Security groups: every rule is written here, once; other stacks import them immutable.
    this.albSecurityGroup = new ec2.SecurityGroup(this, 'AlbSecurityGroup', {
      vpc: this.vpc,
      securityGroupName: naming.albSecurityGroup,
      description: 'ALB: 80 and 443 from the internet',
      allowAllOutbound: false,
    });
    this.ec2SecurityGroup = new ec2.SecurityGroup(this, 'Ec2SecurityGroup', {
      vpc: this.vpc,
      securityGroupName: naming.ec2SecurityGroup,
      description: 'EC2 application instances: app port from the ALB only',
      allowAllOutbound: true,
    });
    this.rdsSecurityGroup = new ec2.SecurityGroup(this, 'RdsSecurityGroup', {
      vpc: this.vpc,
      securityGroupName: naming.rdsSecurityGroup,
      description: 'RDS PostgreSQL: 5432 from EC2 and CodeBuild only',
      allowAllOutbound: false,
    });
    this.codeBuildSecurityGroup = new ec2.SecurityGroup(this, 'CodeBuildSecurityGroup', {
      vpc: this.vpc,
      securityGroupName: naming.codeBuildSecurityGroup,
      description: 'CodeBuild in the VPC: outbound only',
      allowAllOutbound: true,
    });
    const appPort = ec2.Port.tcp(config.compute.appPort);
    for (const port of [80, 443]) {
      this.albSecurityGroup.addIngressRule(
        ec2.Peer.anyIpv4(),
        ec2.Port.tcp(port),
        `HTTP(S) ${port} from the internet (IPv4)`,
      );
      this.albSecurityGroup.addIngressRule(
        ec2.Peer.anyIpv6(),
        ec2.Port.tcp(port),
        `HTTP(S) ${port} from the internet (IPv6)`,
      );
    }
    acknowledge(
      this.albSecurityGroup,
      'AwsSolutions-EC23',
      'The internet-facing ALB must accept 80 and 443 from any IPv4 and IPv6 address: it serves the public web app; no other port is open and 80 only redirects to HTTPS. Filtering by request content is the job of the web ACL (compute.waf), not of the security group.',
    );
    this.albSecurityGroup.addEgressRule(this.ec2SecurityGroup, appPort, 'To the application instances');
    this.ec2SecurityGroup.addIngressRule(this.albSecurityGroup, appPort, 'Application port from the ALB');
    this.rdsSecurityGroup.addIngressRule(
      this.ec2SecurityGroup,
      ec2.Port.tcp(5432),
      'PostgreSQL from the application',
    );
    this.rdsSecurityGroup.addIngressRule(
      this.codeBuildSecurityGroup,
      ec2.Port.tcp(5432),
      'PostgreSQL from CodeBuild (migration test)',
    );
    if (rotation) {
      this.rotationSecurityGroup = new ec2.SecurityGroup(this, 'RotationSecurityGroup', {
        vpc: this.vpc,
        securityGroupName: naming.rotationSecurityGroup,
        description: 'DB credentials rotation function: PostgreSQL to RDS, HTTPS to Secrets Manager',
        allowAllOutbound: false,
      });
      this.rotationSecurityGroup.addEgressRule(
        this.rdsSecurityGroup,
        ec2.Port.tcp(5432),
        'PostgreSQL to the database (ALTER USER)',
      );
      // Through the NAT instance, or an interface endpoint of Secrets Manager where one exists.
      this.rotationSecurityGroup.addEgressRule(
        ec2.Peer.anyIpv4(),
        ec2.Port.tcp(443),
        'HTTPS to the Secrets Manager API',
      );
      this.rdsSecurityGroup.addIngressRule(
        this.rotationSecurityGroup,
        ec2.Port.tcp(5432),
        'PostgreSQL from the credentials rotation function',
      );
    }
    if (this.natProvider) {
      // The NAT instance's own group: only the migration test's builds and the rotation function
      // send traffic through it.
      this.natProvider.connections.allowFrom(
        this.codeBuildSecurityGroup,
        ec2.Port.allTraffic(),
        'NAT for CodeBuild',
      );
      if (this.rotationSecurityGroup) {
        this.natProvider.connections.allowFrom(
          this.rotationSecurityGroup,
          ec2.Port.tcp(443),
          'NAT for the rotation function (HTTPS)',
        );
      }
    }

    if (config.network.interfaceEndpoints) {
      // In the isolated subnets, whatever the NAT option: turning NAT on or off never moves them.
      this.interfaceEndpoints = new InterfaceEndpoints(this, 'InterfaceEndpoints', {
        vpc: this.vpc,
        subnets: { subnetGroupName: SubnetGroups.PRIVATE },
        securityGroup: new ec2.SecurityGroup(this, 'EndpointsSecurityGroup', {
          vpc: this.vpc,
          securityGroupName: naming.endpointsSecurityGroup,
          description: 'VPC interface endpoints: 443 from the application and CodeBuild only',
          allowAllOutbound: false,
        }),
      });
      this.interfaceEndpoints.allowFrom(this.ec2SecurityGroup, 'HTTPS to AWS APIs from the application');
      this.interfaceEndpoints.allowFrom(this.codeBuildSecurityGroup, 'HTTPS to AWS APIs from CodeBuild');
      if (this.rotationSecurityGroup) {
        this.interfaceEndpoints.allowFrom(
          this.rotationSecurityGroup,
          'HTTPS to Secrets Manager from the rotation function',
        );
      }
    }

    // --- Buckets
    this.accessLogsBucket = new s3.Bucket(this, 'AccessLogsBucket', {
      bucketName: naming.accessLogsBucket(config.account),
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      // Access logs are audit records (NIST 800-53 AU-9): versioned, so that an overwrite or a
      // deletion leaves the previous object recoverable for 30 days. Log objects are written once
      // and never overwritten, so the only extra storage is the 30 days after the lifecycle
      // expiry (about 8% of the bucket's few cents a month).
      versioned: true,
      lifecycleRules: [
        {
          id: 'expire-access-logs',
          expiration: Duration.days(365),
          noncurrentVersionExpiration: Duration.days(ACCESS_LOGS_NONCURRENT_DAYS),
        },
      ],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.documentsBucket = new s3.Bucket(this, 'DocumentsBucket', {
      bucketName: naming.documentsBucket(config.account),
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      versioned: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      serverAccessLogsBucket: this.accessLogsBucket,
      serverAccessLogsPrefix: 'documents/',
      lifecycleRules: [
        {
          id: 'expire-noncurrent-versions',
          noncurrentVersionExpiration: Duration.days(config.storage.noncurrentVersionExpirationDays),
          abortIncompleteMultipartUploadAfter: Duration.days(7),
        },
      ],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.pipelineArtifactsBucket = new s3.Bucket(this, 'PipelineArtifactsBucket', {
      bucketName: naming.pipelineArtifactsBucket(config.account),
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      versioned: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      serverAccessLogsBucket: this.accessLogsBucket,
      serverAccessLogsPrefix: 'pipeline-artifacts/',
      lifecycleRules: [
        // No expiration of current objects: CodeDeploy deploys the last successful revision
        // from here to every instance the Auto Scaling group launches, however old it is.
        {
          id: 'expire-superseded-artifacts',
          noncurrentVersionExpiration: Duration.days(7),
          abortIncompleteMultipartUploadAfter: Duration.days(7),
        },
      ],
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.acknowledgeBuckets(config);

    // --- Image repository
    // ECR evaluates rules by priority, and an image that matches the tag selection of a rule
    // can never be expired by a rule of lower priority: rule 1 keeps the newest deployed images
    // (tagged by the app pipeline after each successful deployment) whatever is pushed; rule 2
    // counts every push (builds waiting for approval included) but cannot expire those.
    const deployedPrefix = deployedImageTagPrefix(config.name);
    this.repository = new ecr.Repository(this, 'Repository', {
      repositoryName: naming.ecrRepository,
      imageScanOnPush: true,
      lifecycleRules: [
        {
          rulePriority: 1,
          description: `Keep the ${config.ecr.deployedImageCount} newest images deployed to ${config.name} (${deployedPrefix}*): the running one and its rollback targets`,
          tagStatus: ecr.TagStatus.TAGGED,
          tagPrefixList: [deployedPrefix],
          maxImageCount: config.ecr.deployedImageCount,
        },
        {
          rulePriority: 2,
          description: `Keep the last ${config.ecr.maxImageCount} images pushed (never a deployed image: rule 1)`,
          tagStatus: ecr.TagStatus.ANY,
          maxImageCount: config.ecr.maxImageCount,
        },
      ],
      removalPolicy: RemovalPolicy.RETAIN,
    });

    // --- Queues
    this.ingest = this.queuePair(
      'Ingest',
      naming.ingestQueue,
      naming.ingestDlq,
      config.queues.ingestVisibilityTimeoutSeconds,
      config,
    );
    this.emailAcquire = this.queuePair(
      'EmailAcquire',
      naming.emailAcquireQueue,
      naming.emailAcquireDlq,
      config.queues.emailAcquireVisibilityTimeoutSeconds,
      config,
    );

    // Large tenants: a dedicated pair each, like the shared ones (encrypted, TLS only, retained:
    // removing a tenant from the configuration leaves its queues and their messages in place,
    // docs/runbooks/tenants.md).
    this.tenantQueues = config.queues.tenants.map((tenant) => ({
      tenant,
      ...this.queuePair(
        `Tenant${pascalCase(tenant.name)}`,
        naming.tenantIngestQueue(tenant.name),
        naming.tenantIngestDlq(tenant.name),
        tenant.visibilityTimeoutSeconds ?? config.queues.ingestVisibilityTimeoutSeconds,
        config,
      ),
    }));

    // --- DNS
    this.hostedZone = new route53.PublicHostedZone(this, 'HostedZone', {
      zoneName: config.dns.zoneName,
      comment: `Orcha ${config.name}: delegated from the management account's parent zone`,
    });
    this.hostedZone.applyRemovalPolicy(RemovalPolicy.RETAIN);
    // What the delegation in the management account needs (docs/runbooks/delegate-subdomain.md).
    new CfnOutput(this, 'HostedZoneId', {
      description: `Id of ${config.dns.zoneName}: npm run ops -- delegate-subdomain ${config.name} <this id>`,
      value: this.hostedZone.hostedZoneId,
    });
    new CfnOutput(this, 'HostedZoneNameServers', {
      description: `Name servers of ${config.dns.zoneName}, to delegate from the parent zone`,
      value: Fn.join(',', this.hostedZone.hostedZoneNameServers!),
    });

    // --- Log groups (here, so that the instances, builds and sessions of later stacks find them)
    const logGroup = (id: string, logGroupName: string) =>
      managedLogGroup(this, id, {
        logGroupName,
        retentionDays,
        removalPolicy: RemovalPolicy.RETAIN,
        encryptionKey: logEncryptionKey,
      });
    this.applicationLogGroup = logGroup('ApplicationLogGroup', naming.applicationLogGroup);
    this.userDataLogGroup = logGroup('UserDataLogGroup', naming.userDataLogGroup);
    this.codeBuildLogGroup = logGroup('CodeBuildLogGroup', naming.codeBuildLogGroup);
    if (config.compute.sessionManagerPreferences) {
      this.ssmSessionsLogGroup = logGroup('SsmSessionsLogGroup', accountNames.ssmSessionsLogGroup);
    }
  }

  /** NIST 800-53 R5 findings of the buckets: replication and customer-managed keys, not bought. */
  private acknowledgeBuckets(config: EnvironmentConfig): void {
    const region = `one region (${config.region})`;
    acknowledge(
      this.documentsBucket,
      'NIST.800.53.R5-S3BucketReplicationEnabled',
      `Customers' documents stay in ${region}: the bucket is versioned (deleted or overwritten documents recoverable for ${config.storage.noncurrentVersionExpirationDays} days) and retained on teardown; a replica in a second region would double storage and add transfer for a product without a disaster-recovery region. Revisit when one is chosen.`,
    );
    acknowledge(
      this.documentsBucket,
      'NIST.800.53.R5-S3DefaultEncryptionKMS',
      "Encrypted at rest with SSE-S3 (AES-256); access is bounded by the bucket policy (TLS only, no public access) and IAM (the application role, by prefix). A customer managed key would add a key policy as a second boundary for $1/month plus requests (with an S3 Bucket Key). Revisit when a customer's contract asks for customer managed keys.",
    );
    acknowledge(
      this.accessLogsBucket,
      'NIST.800.53.R5-S3BucketReplicationEnabled',
      `Access logs stay in ${region}: the bucket is versioned (deleted or overwritten logs recoverable for ${ACCESS_LOGS_NONCURRENT_DAYS} days) and retained on teardown; a replica in a second region would double the cost of evidence that already lives next to what it describes. Revisit with a disaster-recovery region.`,
    );
    acknowledge(
      this.accessLogsBucket,
      'NIST.800.53.R5-S3DefaultEncryptionKMS',
      'S3 server access logs and ALB access logs can only be delivered to a bucket whose default encryption is SSE-S3 (neither service can use a KMS key on the target bucket), so this bucket keeps SSE-S3 (AES-256); it is private, TLS-only and versioned.',
    );
    acknowledge(
      this.pipelineArtifactsBucket,
      'NIST.800.53.R5-S3BucketReplicationEnabled',
      `Deployment bundles and build outputs of the application pipeline, rebuilt from the application repository by the next run; they stay in ${region} with the environment they deploy, and a replica elsewhere would only be read by a region that has no environment.`,
    );
    acknowledge(
      this.pipelineArtifactsBucket,
      'NIST.800.53.R5-S3DefaultEncryptionKMS',
      'Holds deployment bundles and build outputs (appspec, scripts, image tags; no secrets, no customer data), encrypted with SSE-S3 (AES-256), private and TLS-only; a customer managed key would cost $1/month plus requests and a key policy every pipeline role must be added to, for artifacts a rebuild reproduces.',
    );
  }

  /** NIST 800-53 R5 findings of the VPC that are its design: public subnets with a route to the internet. */
  private acknowledgeNetwork(config: EnvironmentConfig): void {
    acknowledgeInlinePolicy(
      this.vpc.node.findChild('Rejected').node.findChild('IAMRole'),
      `The VPC flow logs' delivery role of ${config.name} may write only to the flow-log group of its VPC`,
    );
    for (const subnet of this.vpc.publicSubnets) {
      acknowledge(
        subnet,
        'NIST.800.53.R5-VPCSubnetAutoAssignPublicIpDisabled',
        `Public subnet of ${config.name}: it holds the internet-facing ALB and, as in the original design, the application instances and the NAT instance, which need a public address to reach the internet without a NAT gateway (${'$'}31/month, roadmap option). Inbound is limited by security groups: the ALB takes 80/443, the instances only 8888 from the ALB, no SSH.`,
      );
      acknowledge(
        subnet,
        'NIST.800.53.R5-VPCNoUnrestrictedRouteToIGW',
        `Public subnet of ${config.name}: its 0.0.0.0/0 route to the internet gateway is what makes the ALB reachable and lets the instances and the NAT instance reach AWS APIs and package mirrors; the private (database) subnets have no such route, and security groups admit only the ALB's 80/443 from the internet.`,
      );
    }
  }

  /**
   * The NAT instance of the `build` subnets (only where the migration test runs): encrypted root
   * volume, and the acknowledged findings with their reasons.
   */
  private hardenNatInstances(provider: ec2.NatInstanceProviderV2): void {
    for (const instance of provider.gatewayInstances) {
      const cfn = instance.instance;
      // The image's root device (Amazon Linux 2023), encrypted with the account's default EBS
      // key; its size stays the image's.
      cfn.blockDeviceMappings = [
        {
          deviceName: '/dev/xvda',
          ebs: { encrypted: true, volumeType: 'gp3', deleteOnTermination: true },
        },
      ];
      acknowledge(
        instance,
        'AwsSolutions-EC28',
        'Basic 5-minute metrics suffice for this t4g.nano NAT instance: it forwards traffic only while the migration test runs before a prod deploy, and no alarm reads its metrics; detailed monitoring (about $2 a month) would add more than half of its cost. Revisit if application traffic goes through NAT (roadmap: EC2 in private subnets).',
      );
      acknowledge(
        instance,
        'AwsSolutions-EC29',
        'The NAT instance holds no state and CloudFormation replaces it when the pinned image (compute.amiName) moves; termination protection would make those stack updates, and removing the build subnets, fail. A replacement only delays a migration test.',
      );
      acknowledgeInlinePolicy(
        instance.role,
        'The NAT instance role may read its boot settings, signal CloudFormation and be reached by Session Manager; it carries no data permission',
      );
      acknowledge(
        instance,
        'NIST.800.53.R5-EC2InstanceNoPublicIp',
        "A NAT instance forwards the build subnets' traffic to the internet, which needs a public address in a public subnet; its security group admits traffic only from the CodeBuild and rotation groups inside the VPC (no inbound from the internet). Revisit with the NAT gateway option (network.natGateway).",
      );
      acknowledge(
        instance,
        'NIST.800.53.R5-EC2InstancesInVPC',
        "The NAT instance is in the VPC: CDK attaches it to a public subnet through a network interface (NetworkInterfaces with SubnetId), which this rule does not read; it only looks at the instance's own SubnetId property.",
      );
      acknowledge(
        instance,
        'NIST.800.53.R5-EC2IMDSv2Enabled',
        "CDK's NatInstanceProviderV2 creates the instance without a launch template, and IMDSv2 can only be required through one (adding it replaces the instance). The instance runs no application code, only forwarding and its boot check, and its role allows Session Manager and its own cfn-signal. Revisit if CDK's NAT provider takes a launch template.",
      );
    }
    const natSecurityGroup = provider.securityGroup;
    acknowledge(
      natSecurityGroup,
      'NIST.800.53.R5-EC2RestrictedCommonPorts',
      "The NAT instance's group admits all traffic from the CodeBuild (and rotation) security groups only, never from an address range: a NAT forwards whatever port its clients use (443 to AWS and package mirrors, 5432 is not routed through it). No port is open to the internet.",
    );
  }

  private queuePair(
    id: string,
    queueName: string,
    dlqName: string,
    visibilityTimeoutSeconds: number,
    config: EnvironmentConfig,
  ): QueuePair {
    const deadLetterQueue = new sqs.Queue(this, `${id}Dlq`, {
      queueName: dlqName,
      retentionPeriod: Duration.days(config.queues.dlqRetentionDays),
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const queue = new sqs.Queue(this, `${id}Queue`, {
      queueName,
      visibilityTimeout: Duration.seconds(visibilityTimeoutSeconds),
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      deadLetterQueue: { queue: deadLetterQueue, maxReceiveCount: config.queues.maxReceiveCount },
      removalPolicy: RemovalPolicy.RETAIN,
    });
    return { queue, deadLetterQueue };
  }
}

/** `big-co` → `BigCo` (construct ids). */
export function pascalCase(name: string): string {
  return name
    .split('-')
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('');
}
