import { Stack, type StackProps } from 'aws-cdk-lib';
import type * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import type * as acm from 'aws-cdk-lib/aws-certificatemanager';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as ecr from 'aws-cdk-lib/aws-ecr';
import type * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as rds from 'aws-cdk-lib/aws-rds';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type { Construct } from 'constructs';
import type { Naming } from '../config/naming';
import type { EnvironmentConfig } from '../config/schema';
import type { QueuePair } from './foundation-stack';

export interface OpsStackProps extends StackProps {
  readonly config: EnvironmentConfig;
  readonly naming: Naming;
  readonly repository: ecr.IRepository;
  readonly pipelineArtifactsBucket: s3.IBucket;
  readonly ingest: QueuePair;
  readonly emailAcquire: QueuePair;
  readonly codeBuildLogGroup: logs.ILogGroup;
  readonly database: rds.IDatabaseInstance;
  readonly loadBalancer: elbv2.IApplicationLoadBalancer;
  readonly targetGroup: elbv2.IApplicationTargetGroup;
  readonly autoScalingGroup: autoscaling.IAutoScalingGroup;
  readonly certificate: acm.ICertificate;
  /** For the migration test: the VPC, its CodeBuild and database groups and the DB subnet group. */
  readonly vpc: ec2.IVpc;
  readonly codeBuildSecurityGroup: ec2.ISecurityGroup;
  readonly databaseSecurityGroup: ec2.ISecurityGroup;
  readonly databaseSubnetGroup: rds.ISubnetGroup;
  /**
   * Account of the infrastructure pipeline when it differs from this environment's.
   * @default - same account
   */
  readonly pipelineAccount?: string;
}

/** Alarms, alerts topic, the application's deploy pipeline, budget and developer access. */
export class OpsStack extends Stack {
  public readonly alertsTopic!: sns.Topic;

  constructor(scope: Construct, id: string, props: OpsStackProps) {
    super(scope, id, props);
  }
}
