import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { buildStages, resourcesOf, subnetsOf } from '../../helpers';

// The migration test's network path, end to end in prod: CodeBuild in the `build` subnets,
// whose only way out is the t4g.nano NAT instance, plus the free S3 gateway endpoint.
const { prod } = buildStages('prod');
const foundation = Template.fromStack(prod.foundation);
const ops = Template.fromStack(prod.ops);

const subnetIds = (group: string) => subnetsOf(foundation, group).map(([id]) => id);

test('the project runs in the build subnets with v1-orcha-codebuild-sg', () => {
  const [, project] = resourcesOf(ops, 'AWS::CodeBuild::Project').find(
    ([, p]) => p.Name === 'v1-orcha-migration-test',
  )!;
  const vpcConfig = JSON.stringify(project.VpcConfig);
  const build = subnetIds('build');
  expect(build).toHaveLength(2);
  for (const id of build) expect(vpcConfig).toContain(id);
  for (const id of subnetIds('private')) expect(vpcConfig).not.toContain(id);
  const sg = resourcesOf(foundation, 'AWS::EC2::SecurityGroup').find(
    ([, p]) => p.GroupName === 'v1-orcha-codebuild-sg',
  )![0];
  expect(JSON.stringify((project.VpcConfig as { SecurityGroupIds: unknown }).SecurityGroupIds)).toContain(sg);
});

test('the build subnets reach the internet only through the NAT instance; the RDS subnets not at all', () => {
  const [natId] = resourcesOf(foundation, 'AWS::EC2::Instance').map(([id]) => id);
  const routes = resourcesOf(foundation, 'AWS::EC2::Route');
  const defaultRoutes = (subnetId: string) => {
    const association = resourcesOf(foundation, 'AWS::EC2::SubnetRouteTableAssociation').find(
      ([, p]) => JSON.stringify(p.SubnetId) === JSON.stringify({ Ref: subnetId }),
    )![1];
    return routes.filter(
      ([, p]) =>
        JSON.stringify(p.RouteTableId) === JSON.stringify(association.RouteTableId) &&
        p.DestinationCidrBlock === '0.0.0.0/0',
    );
  };
  for (const id of subnetIds('build')) {
    const r = defaultRoutes(id);
    expect(r).toHaveLength(1);
    expect(r[0][1].InstanceId).toEqual({ Ref: natId });
  }
  for (const id of subnetIds('private')) expect(defaultRoutes(id)).toHaveLength(0);
});

test('the NAT instance accepts traffic from CodeBuild, and HTTPS from the rotation function, only', () => {
  const sgs = resourcesOf(foundation, 'AWS::EC2::SecurityGroup');
  const codeBuild = sgs.find(([, p]) => p.GroupName === 'v1-orcha-codebuild-sg')![0];
  const [, nat] = resourcesOf(foundation, 'AWS::EC2::Instance')[0];
  const natSgs = JSON.stringify(nat.NetworkInterfaces);
  const natSg = sgs.find(([id]) => natSgs.includes(id))!;
  const ingress = [
    ...((natSg[1].SecurityGroupIngress as Record<string, unknown>[] | undefined) ?? []),
    ...resourcesOf(foundation, 'AWS::EC2::SecurityGroupIngress')
      .filter(([, p]) => JSON.stringify(p.GroupId).includes(natSg[0]))
      .map(([, p]) => p),
  ];
  const rotation = sgs.find(([, p]) => p.GroupName === 'v1-orcha-rotation-sg')![0];
  expect(ingress).toHaveLength(2);
  const from = (sg: string) => ingress.filter((r) => JSON.stringify(r.SourceSecurityGroupId).includes(sg));
  expect(from(codeBuild)).toHaveLength(1);
  expect(from(rotation)).toEqual([
    expect.objectContaining({ IpProtocol: 'tcp', FromPort: 443, ToPort: 443 }),
  ]);
});

test('the S3 gateway endpoint serves the build subnets (ECR layers, CodeBuild sources stay off the NAT)', () => {
  const [, endpoint] = resourcesOf(foundation, 'AWS::EC2::VPCEndpoint')[0];
  const tables = JSON.stringify(endpoint.RouteTableIds);
  for (const id of subnetIds('build')) {
    const association = resourcesOf(foundation, 'AWS::EC2::SubnetRouteTableAssociation').find(
      ([, p]) => JSON.stringify(p.SubnetId) === JSON.stringify({ Ref: id }),
    )![1];
    expect(tables).toContain((association.RouteTableId as { Ref: string }).Ref);
  }
  expect(Stack.of(prod.foundation).stackName).toBe('v1-orcha-foundation');
});
