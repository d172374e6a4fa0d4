import { Stack, type StackProps } from 'aws-cdk-lib';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import type { Construct } from 'constructs';
import type { Naming } from '../../lib/config/naming';

export interface FakeComputeProps extends StackProps {
  readonly vpc: ec2.IVpc;
  readonly naming: Naming;
  readonly zoneName: string;
  /** Group metrics the ASG collects; `[]` for none. @default [GroupMetrics.all()] */
  readonly groupMetrics?: autoscaling.GroupMetrics[];
}

/**
 * What ComputeStack exposes to the alarms (ALB, target group, ASG, certificate), in its
 * simplest form, so that the alarm set's own guards (e.g. group metrics) are tested alone.
 */
export class FakeComputeStack extends Stack {
  public readonly loadBalancer: elbv2.ApplicationLoadBalancer;
  public readonly listener: elbv2.ApplicationListener;
  public readonly targetGroup: elbv2.ApplicationTargetGroup;
  public readonly autoScalingGroup: autoscaling.AutoScalingGroup;
  public readonly certificate: acm.Certificate;

  constructor(scope: Construct, id: string, props: FakeComputeProps) {
    super(scope, id, props);
    this.certificate = new acm.Certificate(this, 'Certificate', {
      domainName: `app.${props.zoneName}`,
      validation: acm.CertificateValidation.fromDns(),
    });
    this.autoScalingGroup = new autoscaling.AutoScalingGroup(this, 'Asg', {
      autoScalingGroupName: props.naming.autoScalingGroup,
      vpc: props.vpc,
      vpcSubnets: { subnetType: ec2.SubnetType.PUBLIC },
      instanceType: new ec2.InstanceType('t4g.medium'),
      machineImage: ec2.MachineImage.latestAmazonLinux2023({ cpuType: ec2.AmazonLinuxCpuType.ARM_64 }),
      minCapacity: 1,
      maxCapacity: 1,
      groupMetrics: props.groupMetrics ?? [autoscaling.GroupMetrics.all()],
    });
    this.loadBalancer = new elbv2.ApplicationLoadBalancer(this, 'Alb', {
      vpc: props.vpc,
      internetFacing: true,
    });
    this.listener = this.loadBalancer.addListener('Https', {
      port: 443,
      certificates: [this.certificate],
      open: false,
    });
    this.targetGroup = this.listener.addTargets('App', {
      port: 8888,
      protocol: elbv2.ApplicationProtocol.HTTP,
      targets: [this.autoScalingGroup],
    });
  }
}
