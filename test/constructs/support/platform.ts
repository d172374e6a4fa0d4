import * as fs from 'node:fs';
import * as path from 'node:path';
import { App, Stack, Stage, type StackProps } from 'aws-cdk-lib';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import type { Construct } from 'constructs';
import { loadEnvironment } from '../../../lib/config/load';
import { Naming } from '../../../lib/config/naming';
import type { EnvironmentConfig } from '../../../lib/config/schema';
import { DataStack } from '../../../lib/stacks/data-stack';
import { FoundationStack } from '../../../lib/stacks/foundation-stack';
import { OpsStack } from '../../../lib/stacks/ops-stack';

/** An App with the feature flags of cdk.json, so that tests synthesize what `cdk synth` does. */
export function appWithProjectContext(): App {
  const cdkJson = JSON.parse(fs.readFileSync(path.join(__dirname, '../../../cdk.json'), 'utf8')) as {
    context: Record<string, unknown>;
  };
  return new App({ context: cdkJson.context });
}

export interface FakeComputeProps extends StackProps {
  readonly vpc: ec2.IVpc;
  readonly naming: Naming;
  readonly zoneName: string;
  /** Group metrics the ASG collects; `[]` for none. @default [GroupMetrics.all()] */
  readonly groupMetrics?: autoscaling.GroupMetrics[];
}

/**
 * What ComputeStack exposes to OpsStack (ALB, target group, ASG, certificate), in its simplest
 * form, so that OpsStack is tested without depending on ComputeStack's progress.
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

/** One environment: the real Foundation and Data stacks, a fake compute stack, and OpsStack. */
export interface Platform {
  readonly config: EnvironmentConfig;
  readonly naming: Naming;
  readonly foundation: FoundationStack;
  readonly data: DataStack;
  readonly compute: FakeComputeStack;
  readonly ops: OpsStack;
}

export function buildPlatform(
  app: App,
  envName: string,
  overrides: (config: EnvironmentConfig) => EnvironmentConfig = (c) => c,
): Platform {
  const config = overrides(loadEnvironment(envName));
  const naming = new Naming(config.name);
  const stage = new Stage(app, envName.charAt(0).toUpperCase() + envName.slice(1), {
    env: { account: config.account, region: config.region },
  });
  const common = { config, naming };
  const foundation = new FoundationStack(stage, 'Foundation', common);
  const data = new DataStack(stage, 'Data', {
    ...common,
    vpc: foundation.vpc,
    databaseSecurityGroup: foundation.rdsSecurityGroup,
  });
  const compute = new FakeComputeStack(stage, 'Compute', {
    vpc: foundation.vpc,
    naming,
    zoneName: config.dns.zoneName,
  });
  const ops = new OpsStack(stage, 'Ops', {
    ...common,
    repository: foundation.repository,
    ingest: foundation.ingest,
    emailAcquire: foundation.emailAcquire,
    codeBuildLogGroup: foundation.codeBuildLogGroup,
    database: data.database,
    loadBalancer: compute.loadBalancer,
    targetGroup: compute.targetGroup,
    autoScalingGroup: compute.autoScalingGroup,
    certificate: compute.certificate,
    vpc: foundation.vpc,
    codeBuildSecurityGroup: foundation.codeBuildSecurityGroup,
    databaseSecurityGroup: foundation.rdsSecurityGroup,
    databaseSubnetGroup: data.subnetGroup,
  });
  return { config, naming, foundation, data, compute, ops };
}
