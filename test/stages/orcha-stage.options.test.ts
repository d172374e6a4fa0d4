/**
 * The roadmap options as a matrix over prod: everything off (the original design), prod as
 * committed, everything on. For each configuration: no open cdk-nag finding and no acknowledgement
 * left without its finding; each option's resources exist exactly when it is on; and turning
 * options on or off never replaces a stateful resource: the logical IDs of the database, its
 * subnet group, the buckets, queues, repository, secret and zone, and every property of theirs
 * except the ones an option changes in place (Multi-AZ, the ECR lifecycle policy), are identical.
 */
import { Match, Template } from 'aws-cdk-lib/assertions';
import { nagFindings, unusedAcknowledgements } from '../../lib/nag';
import type { OrchaStage } from '../../lib/stages/orcha-stage';
import { buildVariant, type Variant } from '../helpers/app';

/** Every option of the original's roadmap on, or every one off (the original design). */
const everyOption =
  (on: boolean): Variant =>
  (i) => ({
    ...i,
    network: {
      ...i.network,
      s3GatewayEndpoint: on,
      interfaceEndpoints: on,
      natGateway: on ? 'perAz' : 'none',
    },
    ecr: { ...i.ecr, maxImageCount: on ? 10 : 5 },
    compute: {
      ...i.compute,
      minCapacity: on ? 2 : 1,
      maxCapacity: on ? 3 : 2,
      waf: { enabled: on, mode: on ? 'block' : 'count', rateLimitPerFiveMinutes: 2000 },
    },
    database: { ...i.database, multiAz: on },
  });
const allOff = everyOption(false);
const allOn = everyOption(true);

const CONFIGURATIONS = { 'all off': allOff, 'prod as committed': (i) => i, 'all on': allOn } satisfies Record<
  string,
  Variant
>;
type Name = keyof typeof CONFIGURATIONS;
const NAMES = Object.keys(CONFIGURATIONS) as Name[];

const stages = {} as Record<Name, OrchaStage>;
const templates = {} as Record<Name, Record<'foundation' | 'data' | 'compute' | 'ops', Template>>;
beforeAll(() => {
  for (const name of NAMES) {
    const stage = (stages[name] = buildVariant('prod', CONFIGURATIONS[name]));
    templates[name] = {
      foundation: Template.fromStack(stage.foundation),
      data: Template.fromStack(stage.data),
      compute: Template.fromStack(stage.compute),
      ops: Template.fromStack(stage.ops),
    };
  }
});

describe.each(NAMES)('%s', (name) => {
  test('no open cdk-nag finding', () => {
    expect(nagFindings(stages[name])).toEqual([]);
  });

  test('no acknowledgement without its finding', () => {
    expect(unusedAcknowledgements(stages[name])).toEqual([]);
  });
});

test('switched off, no option leaves a trace', () => {
  const t = templates['all off'];
  t.foundation.resourceCountIs('AWS::EC2::VPCEndpoint', 0);
  t.foundation.resourceCountIs('AWS::EC2::NatGateway', 0);
  t.foundation.resourceCountIs('AWS::EC2::Instance', 1); // the migration test's NAT instance
  t.compute.resourceCountIs('AWS::WAFv2::WebACL', 0);
  t.compute.resourceCountIs('AWS::WAFv2::LoggingConfiguration', 0);
  t.compute.hasResourceProperties('AWS::AutoScaling::AutoScalingGroup', { MinSize: '1' });
  t.data.hasResourceProperties('AWS::RDS::DBInstance', { MultiAZ: false });
  t.ops.hasResourceProperties('AWS::CodeDeploy::DeploymentGroup', {
    DeploymentConfigName: 'CodeDeployDefault.AllAtOnce',
  });
  expect(JSON.stringify(t.ops.toJSON())).not.toContain('alb-degraded');
});

test('switched on, every option is there', () => {
  const t = templates['all on'];
  expect(Object.keys(t.foundation.findResources('AWS::EC2::VPCEndpoint'))).toHaveLength(10);
  t.foundation.resourceCountIs('AWS::EC2::NatGateway', 2);
  t.foundation.resourceCountIs('AWS::EC2::Instance', 0);
  t.compute.resourceCountIs('AWS::WAFv2::WebACL', 1);
  t.compute.resourceCountIs('AWS::WAFv2::WebACLAssociation', 1);
  t.compute.hasResourceProperties('AWS::AutoScaling::AutoScalingGroup', { MinSize: '2' });
  t.data.hasResourceProperties('AWS::RDS::DBInstance', { MultiAZ: true });
  t.ops.hasResourceProperties('AWS::CodeDeploy::DeploymentGroup', {
    DeploymentConfigName: 'CodeDeployDefault.OneAtATime',
    LoadBalancerInfo: { TargetGroupInfoList: [{ Name: Match.anyValue() }] },
  });
  t.ops.hasResourceProperties('AWS::CloudWatch::Alarm', {
    AlarmName: 'v1-orcha-alb-degraded',
    Threshold: 2,
    ComparisonOperator: 'LessThanThreshold',
  });
  // Multi-AZ is the database's own: the migration test still restores a single-AZ instance.
  expect(JSON.stringify(t.ops.toJSON())).not.toMatch(/MultiAZ.{0,5}true/);
});

/** Stateful resource types, and the properties an option may change in place. */
const STATEFUL: Record<string, readonly string[]> = {
  'AWS::RDS::DBInstance': ['MultiAZ'],
  'AWS::RDS::DBSubnetGroup': [],
  'AWS::S3::Bucket': [],
  'AWS::SQS::Queue': [],
  'AWS::ECR::Repository': ['LifecyclePolicy'],
  'AWS::SecretsManager::Secret': [],
  'AWS::Route53::HostedZone': [],
};

function stateful(name: Name): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const template of Object.values(templates[name])) {
    for (const [type, inPlace] of Object.entries(STATEFUL)) {
      for (const [id, resource] of Object.entries(template.findResources(type))) {
        // What CloudFormation acts on: properties and policies (the metadata holds nag notes).
        const {
          Properties = {},
          DeletionPolicy,
          UpdateReplacePolicy,
        } = resource as Record<string, unknown> & {
          Properties?: Record<string, unknown>;
        };
        const kept = Object.fromEntries(Object.entries(Properties).filter(([k]) => !inPlace.includes(k)));
        out[`${type} ${id}`] = { DeletionPolicy, UpdateReplacePolicy, Properties: kept };
      }
    }
  }
  return out;
}

test('stateful resources: the same logical IDs and properties in every configuration', () => {
  const reference = stateful('prod as committed');
  const types = new Set(Object.keys(reference).map((k) => k.split(' ')[0]));
  expect(types).toEqual(new Set(Object.keys(STATEFUL)));
  for (const name of NAMES) expect([name, stateful(name)]).toEqual([name, reference]);
});
