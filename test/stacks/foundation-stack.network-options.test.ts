/**
 * Options `network.natGateway` and `network.interfaceEndpoints`, and their combinations: NAT
 * gateway + interface endpoints (prod), HA + one NAT gateway per AZ (staging). Off (the
 * original design) is the default configuration: test/stacks/foundation-stack.test.ts, and
 * test/stages/orcha-stage.options.test.ts for every option at once.
 */
import { Template } from 'aws-cdk-lib/assertions';
import { resourcesOf } from '../helpers';
import { buildVariant } from '../helpers/app';

const prodStage = buildVariant('prod', (i) => ({
  ...i,
  network: { ...i.network, natGateway: 'single', interfaceEndpoints: true },
}));
const prod = Template.fromStack(prodStage.foundation);
const prodCompute = Template.fromStack(prodStage.compute);
const stagingStage = buildVariant('staging', (i) => ({
  ...i,
  network: { ...i.network, natGateway: 'perAz' },
  compute: { ...i.compute, minCapacity: 2, maxCapacity: 3 },
}));
const staging = Template.fromStack(stagingStage.foundation);
const stagingCompute = Template.fromStack(stagingStage.compute);

type Tag = { Key: string; Value: string };
const subnetsOf = (template: Template, group: string) =>
  resourcesOf(template, 'AWS::EC2::Subnet').filter(([, p]) =>
    (p.Tags as Tag[]).some((t) => t.Key === 'aws-cdk:subnet-name' && t.Value === group),
  );
const cidrs = (template: Template, group: string) => subnetsOf(template, group).map(([, p]) => p.CidrBlock);
/** Default route of a subnet's route table: its target (`NatGatewayId`, `GatewayId`, `InstanceId`). */
function defaultRoute(template: Template, subnetId: string): Record<string, unknown> | undefined {
  const association = resourcesOf(template, 'AWS::EC2::SubnetRouteTableAssociation').find(
    ([, p]) => (p.SubnetId as { Ref: string }).Ref === subnetId,
  )!;
  const table = (association[1].RouteTableId as { Ref: string }).Ref;
  return resourcesOf(template, 'AWS::EC2::Route').find(
    ([, p]) => (p.RouteTableId as { Ref: string }).Ref === table && p.DestinationCidrBlock === '0.0.0.0/0',
  )?.[1];
}

describe('NAT gateway (single) + interface endpoints, prod', () => {
  test('existing subnets keep their CIDRs; the app subnets are appended after the build subnets', () => {
    expect(cidrs(prod, 'public')).toEqual(['10.0.0.0/24', '10.0.1.0/24']);
    expect(cidrs(prod, 'private')).toEqual(['10.0.2.0/24', '10.0.3.0/24']);
    expect(cidrs(prod, 'build')).toEqual(['10.0.4.0/24', '10.0.5.0/24']);
    expect(cidrs(prod, 'app')).toEqual(['10.0.6.0/24', '10.0.7.0/24']);
    for (const [, p] of subnetsOf(prod, 'app')) expect(p.MapPublicIpOnLaunch).toBe(false);
  });

  test('one NAT gateway with its Elastic IP; the NAT instance is gone', () => {
    prod.resourceCountIs('AWS::EC2::NatGateway', 1);
    prod.resourceCountIs('AWS::EC2::EIP', 1);
    prod.resourceCountIs('AWS::EC2::Instance', 0);
  });

  test('app and build subnets leave through the NAT gateway; the database subnets have no route out', () => {
    const [natId] = resourcesOf(prod, 'AWS::EC2::NatGateway')[0]!;
    for (const [id] of [...subnetsOf(prod, 'app'), ...subnetsOf(prod, 'build')]) {
      expect(defaultRoute(prod, id)).toMatchObject({ NatGatewayId: { Ref: natId } });
    }
    for (const [id] of subnetsOf(prod, 'private')) expect(defaultRoute(prod, id)).toBeUndefined();
  });

  test('the instances run in the app subnets without a public IPv4 address; the ALB stays public', () => {
    const asg = resourcesOf(prodCompute, 'AWS::AutoScaling::AutoScalingGroup')[0]![1];
    const zones = JSON.stringify(asg.VPCZoneIdentifier);
    expect(zones).toMatch(/appSubnet1/);
    expect(zones).toMatch(/appSubnet2/);
    expect(zones).not.toMatch(/publicSubnet/);
    const [, lt] = resourcesOf(prodCompute, 'AWS::EC2::LaunchTemplate')[0]!;
    const data = lt.LaunchTemplateData as { NetworkInterfaces?: { AssociatePublicIpAddress?: boolean }[] };
    expect(data.NetworkInterfaces?.some((n) => n.AssociatePublicIpAddress === true) ?? false).toBe(false);
    const [, alb] = resourcesOf(prodCompute, 'AWS::ElasticLoadBalancingV2::LoadBalancer')[0]!;
    expect(alb.Scheme).toBe('internet-facing');
    expect(JSON.stringify(alb.Subnets)).toMatch(/publicSubnet/);
  });

  test('interface endpoints for what the instances and the migration test call, private DNS, in the isolated subnets', () => {
    const endpoints = resourcesOf(prod, 'AWS::EC2::VPCEndpoint').filter(
      ([, p]) => p.VpcEndpointType === 'Interface',
    );
    const services = endpoints.map(
      ([, p]) => /^com\.amazonaws\.eu-central-1\.(.+)$/.exec(String(p.ServiceName))?.[1],
    );
    expect(services.sort()).toEqual(
      [
        'ec2messages',
        'ecr.api',
        'ecr.dkr',
        'logs',
        'secretsmanager',
        'sqs',
        'ssm',
        'ssmmessages',
        'sts',
      ].sort(),
    );
    const isolated = subnetsOf(prod, 'private').map(([id]) => ({ Ref: id }));
    for (const [, p] of endpoints) {
      expect(p.PrivateDnsEnabled).toBe(true);
      expect(p.SubnetIds).toEqual(isolated);
    }
  });

  test('one security group for the endpoints: 443 from the application, CodeBuild and rotation groups only, no egress', () => {
    const [sgId, sg] = resourcesOf(prod, 'AWS::EC2::SecurityGroup').find(
      ([, p]) => p.GroupName === 'v1-orcha-endpoints-sg',
    )!;
    const endpoints = resourcesOf(prod, 'AWS::EC2::VPCEndpoint').filter(
      ([, p]) => p.VpcEndpointType === 'Interface',
    );
    for (const [, p] of endpoints) expect(p.SecurityGroupIds).toEqual([{ 'Fn::GetAtt': [sgId, 'GroupId'] }]);
    const groupOf = (name: string) =>
      resourcesOf(prod, 'AWS::EC2::SecurityGroup').find(([, p]) => p.GroupName === name)![0];
    const ingress = [
      ...((sg.SecurityGroupIngress as unknown[]) ?? []),
      ...resourcesOf(prod, 'AWS::EC2::SecurityGroupIngress')
        .filter(([, p]) => JSON.stringify(p.GroupId).includes(sgId))
        .map(([, p]) => p),
    ] as { FromPort: number; ToPort: number; SourceSecurityGroupId?: unknown; CidrIp?: string }[];
    expect(ingress.map((r) => [r.FromPort, r.ToPort, r.CidrIp, r.SourceSecurityGroupId])).toEqual(
      expect.arrayContaining([
        [443, 443, undefined, { 'Fn::GetAtt': [groupOf('v1-orcha-ec2-sg'), 'GroupId'] }],
        [443, 443, undefined, { 'Fn::GetAtt': [groupOf('v1-orcha-codebuild-sg'), 'GroupId'] }],
        [443, 443, undefined, { 'Fn::GetAtt': [groupOf('v1-orcha-rotation-sg'), 'GroupId'] }],
      ]),
    );
    expect(ingress).toHaveLength(3);
    expect(JSON.stringify(sg.SecurityGroupEgress)).toMatch(/255\.255\.255\.255\/32/); // CDK's "no egress" rule
  });
});

describe('HA + one NAT gateway per AZ, staging (no migration test)', () => {
  test("the build subnets' CIDRs stay reserved; the app subnets come after them", () => {
    expect(subnetsOf(staging, 'build')).toEqual([]);
    expect(cidrs(staging, 'app')).toEqual(['10.1.6.0/24', '10.1.7.0/24']);
  });

  test("a NAT gateway in each AZ, and each AZ's app subnet leaves through its own", () => {
    const nats = resourcesOf(staging, 'AWS::EC2::NatGateway');
    expect(nats).toHaveLength(2);
    const azOfSubnet = new Map(
      resourcesOf(staging, 'AWS::EC2::Subnet').map(([id, p]) => [id, p.AvailabilityZone as string]),
    );
    const natAz = new Map(nats.map(([id, p]) => [id, azOfSubnet.get((p.SubnetId as { Ref: string }).Ref)]));
    for (const [id, p] of subnetsOf(staging, 'app')) {
      const nat = (defaultRoute(staging, id)!.NatGatewayId as { Ref: string }).Ref;
      expect(natAz.get(nat)).toBe(p.AvailabilityZone);
    }
  });

  test('at least two instances across both AZs, replaced one at a time with two in service', () => {
    const [, asg] = resourcesOf(stagingCompute, 'AWS::AutoScaling::AutoScalingGroup')[0]!;
    expect(asg).toMatchObject({ MinSize: '2', MaxSize: '3' });
    expect((asg.VPCZoneIdentifier as unknown[]).length).toBe(2);
    const policy = Object.values(stagingCompute.findResources('AWS::AutoScaling::AutoScalingGroup'))[0]!
      .UpdatePolicy as { AutoScalingRollingUpdate: Record<string, unknown> };
    expect(policy.AutoScalingRollingUpdate).toMatchObject({ MaxBatchSize: 1, MinInstancesInService: 2 });
  });
});
