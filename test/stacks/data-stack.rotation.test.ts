import { Template } from 'aws-cdk-lib/assertions';
import { environments } from '../../lib/config/environments';
import type { EnvironmentInput } from '../../lib/config/schema';
import { listAcknowledgements, nagFindings } from '../../lib/nag';
import type { OrchaStage } from '../../lib/stages/orcha-stage';
import { buildStagesFrom, resourcesOf, subnetsOf } from '../helpers';

// Rotation of the database credentials: the schedule from configuration, and the rotation
// function's network path (as test/constructs/migration-test/index.network.test.ts tests the migration test's).
const weekly: Record<string, EnvironmentInput> = {
  ...environments,
  staging: {
    ...environments.staging!,
    database: { ...environments.staging!.database, credentialRotation: { enabled: true, everyDays: 7 } },
  },
};
// prod and dev load from the same set unchanged.
const { prod, staging, dev } = buildStagesFrom(weekly, 'prod', 'staging', 'dev');
const data = Template.fromStack(prod.data);
/** The stage's SMG4 acknowledgements (rotation not implemented / off). */
const smg4 = (stage: OrchaStage) =>
  listAcknowledgements(stage).filter(
    (a) => a.id === 'AwsSolutions-SMG4' && a.path.startsWith(`${stage.node.path}/`),
  );
const foundation = Template.fromStack(prod.foundation);

const sgId = (t: Template, name: string) =>
  resourcesOf(t, 'AWS::EC2::SecurityGroup').find(([, p]) => p.GroupName === name)![0];
const subnetIds = (t: Template, group: string) => subnetsOf(t, group).map(([id]) => id);

describe('schedule', () => {
  test('prod: hosted PostgreSQL single-user rotation every 30 days, not at deploy time', () => {
    const schedules = resourcesOf(data, 'AWS::SecretsManager::RotationSchedule');
    expect(schedules).toHaveLength(1);
    const [, s] = schedules[0]!;
    expect(s).toMatchObject({
      SecretId: { Ref: expect.stringMatching(/^DbCredentials/) },
      RotationRules: { ScheduleExpression: 'rate(30 days)' },
      RotateImmediatelyOnUpdate: false,
      HostedRotationLambda: {
        RotationType: 'PostgreSQLSingleUser',
        RotationLambdaName: 'v1-orcha-db-rotation',
      },
    });
    // The hosted function is a transform's nested stack.
    expect(JSON.stringify(data.toJSON().Transform)).toContain('AWS::SecretsManager-');
  });

  test('the schedule comes from configuration (staging set to 7 days here)', () => {
    const [, s] = resourcesOf(Template.fromStack(staging.data), 'AWS::SecretsManager::RotationSchedule')[0]!;
    expect(s.RotationRules).toEqual({ ScheduleExpression: 'rate(7 days)' });
  });

  test('off (dev): no schedule, no rotation security group, and SMG4 acknowledged with the reason', () => {
    const devData = Template.fromStack(dev.data);
    devData.resourceCountIs('AWS::SecretsManager::RotationSchedule', 0);
    expect(
      resourcesOf(Template.fromStack(dev.foundation), 'AWS::EC2::SecurityGroup').map(([, p]) => p.GroupName),
    ).not.toContain('v1-orcha-dev-rotation-sg');
    expect(smg4(dev)).toHaveLength(1);
  });

  test('on (prod): SMG4 is not acknowledged and not found', () => {
    expect(smg4(prod)).toEqual([]);
    expect(nagFindings(prod.data).filter((f) => f.includes('SMG4'))).toEqual([]);
  });

  test('the rotation function logs with the environment retention', () => {
    const group = resourcesOf(data, 'AWS::Logs::LogGroup').find(
      ([, p]) => p.LogGroupName === '/aws/lambda/v1-orcha-db-rotation',
    );
    expect(group?.[1].RetentionInDays).toBe(30);
  });

  test('the secret carries the host, port and engine the rotation function reads (target attachment)', () => {
    const [, attachment] = resourcesOf(data, 'AWS::SecretsManager::SecretTargetAttachment')[0]!;
    expect(attachment).toMatchObject({
      TargetType: 'AWS::RDS::DBInstance',
      SecretId: { Ref: expect.any(String) },
    });
  });
});

describe('network path of the rotation function', () => {
  const [, schedule] = resourcesOf(data, 'AWS::SecretsManager::RotationSchedule')[0]!;
  const hosted = schedule.HostedRotationLambda as { VpcSubnetIds: unknown; VpcSecurityGroupIds: unknown };

  test('runs in the build subnets (egress through the NAT instance) with v1-orcha-rotation-sg', () => {
    const subnets = JSON.stringify(hosted.VpcSubnetIds);
    const build = subnetIds(foundation, 'build');
    expect(build).toHaveLength(2);
    for (const id of build) expect(subnets).toContain(id);
    for (const id of subnetIds(foundation, 'private')) expect(subnets).not.toContain(id);
    expect(JSON.stringify(hosted.VpcSecurityGroupIds)).toContain(sgId(foundation, 'v1-orcha-rotation-sg'));
  });

  test('v1-orcha-rotation-sg: out only to PostgreSQL on the database group and HTTPS (Secrets Manager API, via the NAT instance)', () => {
    const rotation = sgId(foundation, 'v1-orcha-rotation-sg');
    const [, group] = resourcesOf(foundation, 'AWS::EC2::SecurityGroup').find(([id]) => id === rotation)!;
    expect(group.SecurityGroupIngress).toBeUndefined();
    const inline = (group.SecurityGroupEgress as Record<string, unknown>[] | undefined) ?? [];
    const separate = resourcesOf(foundation, 'AWS::EC2::SecurityGroupEgress')
      .filter(([, p]) => JSON.stringify(p.GroupId).includes(rotation))
      .map(([, p]) => p);
    const rules = [...inline, ...separate].map((r) => ({
      to: r.DestinationSecurityGroupId ?? r.CidrIp,
      port: [r.FromPort, r.ToPort],
    }));
    expect(rules).toEqual(
      expect.arrayContaining([
        { to: { 'Fn::GetAtt': [sgId(foundation, 'v1-orcha-rds-sg'), 'GroupId'] }, port: [5432, 5432] },
        { to: '0.0.0.0/0', port: [443, 443] },
      ]),
    );
    // The third is the NAT group's (CDK's connections add both sides of the NAT rule): also 443.
    expect(rules).toHaveLength(3);
    expect(rules.filter((r) => r.port[0] !== 443)).toHaveLength(1);
  });

  test('the database admits PostgreSQL from the rotation function', () => {
    const rotation = sgId(foundation, 'v1-orcha-rotation-sg');
    const rds = sgId(foundation, 'v1-orcha-rds-sg');
    const rules = resourcesOf(foundation, 'AWS::EC2::SecurityGroupIngress').filter(
      ([, p]) =>
        JSON.stringify(p.GroupId).includes(rds) && JSON.stringify(p.SourceSecurityGroupId).includes(rotation),
    );
    expect(rules.map(([, p]) => [p.IpProtocol, p.FromPort, p.ToPort])).toEqual([['tcp', 5432, 5432]]);
  });

  test('the build subnets route 0.0.0.0/0 to the NAT instance, which admits HTTPS from the rotation group', () => {
    const [natId, nat] = resourcesOf(foundation, 'AWS::EC2::Instance')[0]!;
    for (const subnet of subnetIds(foundation, 'build')) {
      const association = resourcesOf(foundation, 'AWS::EC2::SubnetRouteTableAssociation').find(
        ([, p]) => JSON.stringify(p.SubnetId) === JSON.stringify({ Ref: subnet }),
      )![1];
      const routes = resourcesOf(foundation, 'AWS::EC2::Route').filter(
        ([, p]) =>
          JSON.stringify(p.RouteTableId) === JSON.stringify(association.RouteTableId) &&
          p.DestinationCidrBlock === '0.0.0.0/0',
      );
      expect(routes.map(([, p]) => p.InstanceId)).toEqual([{ Ref: natId }]);
    }
    const natSg = resourcesOf(foundation, 'AWS::EC2::SecurityGroup').find(([id]) =>
      JSON.stringify(nat.NetworkInterfaces).includes(id),
    )![0];
    const rotation = sgId(foundation, 'v1-orcha-rotation-sg');
    const fromRotation = resourcesOf(foundation, 'AWS::EC2::SecurityGroupIngress').filter(
      ([, p]) =>
        JSON.stringify(p.GroupId).includes(natSg) &&
        JSON.stringify(p.SourceSecurityGroupId).includes(rotation),
    );
    expect(fromRotation.map(([, p]) => [p.FromPort, p.ToPort])).toEqual([[443, 443]]);
  });

  test('an environment with rotation but no migration test still gets the build subnets and NAT instance', () => {
    const stagingFoundation = Template.fromStack(staging.foundation);
    expect(subnetIds(stagingFoundation, 'build')).toHaveLength(2);
    stagingFoundation.resourceCountIs('AWS::EC2::Instance', 1);
  });
});
