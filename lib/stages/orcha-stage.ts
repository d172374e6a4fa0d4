import { Stage, Tags, type StageProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { ENVIRONMENT_TAG, Naming } from '../config/naming';
import type { EnvironmentConfig } from '../config/schema';
import { ComputeStack } from '../stacks/compute-stack';
import { DataStack } from '../stacks/data-stack';
import { FoundationStack } from '../stacks/foundation-stack';
import { OpsStack } from '../stacks/ops-stack';

export interface OrchaStageProps extends StageProps {
  /** The validated environment this stage deploys. */
  readonly config: EnvironmentConfig;
  /**
   * Account of the infrastructure pipeline that deploys this stage, when it is another
   * account than the environment's (it may then start the migration test).
   * @default - the pipeline runs in the environment's account, or there is no pipeline
   */
  readonly pipelineAccount?: string;
}

/** Orcha in one environment: the four stacks, in dependency order. */
export class OrchaStage extends Stage {
  public readonly config: EnvironmentConfig;
  public readonly naming: Naming;
  public readonly foundation: FoundationStack;
  public readonly data: DataStack;
  public readonly compute: ComputeStack;
  public readonly ops: OpsStack;

  constructor(scope: Construct, id: string, props: OrchaStageProps) {
    const { config } = props;
    super(scope, id, { ...props, env: { account: config.account, region: config.region } });
    this.config = config;
    const naming = (this.naming = new Naming(config.name));
    const common = { config, naming, terminationProtection: config.database.deletionProtection };

    this.foundation = new FoundationStack(this, 'Foundation', {
      ...common,
      stackName: naming.stackName('Foundation'),
      description: `Orcha ${config.name}: VPC, security groups, S3, SQS, ECR, Route53 zone`,
    });
    const f = this.foundation;
    const logEncryptionKey = f.logEncryptionKey;

    this.data = new DataStack(this, 'Data', {
      ...common,
      stackName: naming.stackName('Data'),
      description: `Orcha ${config.name}: RDS PostgreSQL and its credentials`,
      logEncryptionKey,
      vpc: f.vpc,
      databaseSecurityGroup: f.rdsSecurityGroup,
      rotationSecurityGroup: f.rotationSecurityGroup,
    });

    this.compute = new ComputeStack(this, 'Compute', {
      ...common,
      stackName: naming.stackName('Compute'),
      description: `Orcha ${config.name}: ALB, Auto Scaling group, certificate, DNS, IAM`,
      logEncryptionKey,
      vpc: f.vpc,
      albSecurityGroup: f.albSecurityGroup,
      ec2SecurityGroup: f.ec2SecurityGroup,
      hostedZone: f.hostedZone,
      documentsBucket: f.documentsBucket,
      ingest: f.ingest,
      emailAcquire: f.emailAcquire,
      tenantQueues: f.tenantQueues,
      repository: f.repository,
      imageId: f.ami.imageId,
      database: this.data.database,
      databaseSecret: this.data.credentials,
      applicationLogGroup: f.applicationLogGroup,
      userDataLogGroup: f.userDataLogGroup,
      accessLogsBucket: f.accessLogsBucket,
      instanceSubnets: f.instanceSubnets,
      instancesArePublic: f.instancesArePublic,
    });

    this.ops = new OpsStack(this, 'Ops', {
      ...common,
      stackName: naming.stackName('Ops'),
      description: `Orcha ${config.name}: alarms, alerts, application pipeline, budget`,
      logEncryptionKey,
      repository: f.repository,
      ingest: f.ingest,
      emailAcquire: f.emailAcquire,
      tenantQueues: f.tenantQueues,
      databaseSecret: this.data.credentials,
      codeBuildLogGroup: f.codeBuildLogGroup,
      database: this.data.database,
      loadBalancer: this.compute.loadBalancer,
      targetGroup: this.compute.targetGroup,
      autoScalingGroup: this.compute.autoScalingGroup,
      certificate: this.compute.certificate,
      vpc: f.vpc,
      codeBuildSecurityGroup: f.codeBuildSecurityGroup,
      databaseSecurityGroup: f.rdsSecurityGroup,
      databaseSubnetGroup: this.data.subnetGroup,
      pipelineAccount: props.pipelineAccount,
    });

    Tags.of(this).add('Project', 'orcha');
    Tags.of(this).add(ENVIRONMENT_TAG, config.name);
    Tags.of(this).add('ManagedBy', 'cdk');
  }
}
