import { Stack, type StackProps } from 'aws-cdk-lib';
import type * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import type * as acm from 'aws-cdk-lib/aws-certificatemanager';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as ecr from 'aws-cdk-lib/aws-ecr';
import type * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as rds from 'aws-cdk-lib/aws-rds';
import type * as route53 from 'aws-cdk-lib/aws-route53';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import type { Naming } from '../config/naming';
import type { EnvironmentConfig } from '../config/schema';
import type { QueuePair } from './foundation-stack';

export interface ComputeStackProps extends StackProps {
  readonly config: EnvironmentConfig;
  readonly naming: Naming;
  readonly vpc: ec2.IVpc;
  readonly albSecurityGroup: ec2.ISecurityGroup;
  readonly ec2SecurityGroup: ec2.ISecurityGroup;
  readonly hostedZone: route53.IHostedZone;
  readonly documentsBucket: s3.IBucket;
  readonly ingest: QueuePair;
  readonly emailAcquire: QueuePair;
  readonly repository: ecr.IRepository;
  readonly database: rds.IDatabaseInstance;
  readonly databaseSecret: secretsmanager.ISecret;
  readonly applicationLogGroup: logs.ILogGroup;
  readonly userDataLogGroup: logs.ILogGroup;
  readonly ssmSessionsLogGroup: logs.ILogGroup;
}

/** ALB, Auto Scaling group, certificate, DNS record and the instances' IAM role. */
export class ComputeStack extends Stack {
  public readonly loadBalancer!: elbv2.ApplicationLoadBalancer;
  public readonly targetGroup!: elbv2.ApplicationTargetGroup;
  public readonly autoScalingGroup!: autoscaling.AutoScalingGroup;
  public readonly certificate!: acm.Certificate;
  public readonly serviceRole!: iam.Role;

  constructor(scope: Construct, id: string, props: ComputeStackProps) {
    super(scope, id, props);
  }
}
