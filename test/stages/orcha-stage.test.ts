import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { buildWholeApp } from '../helpers';

const built = buildWholeApp();
const envs = Object.values(built.stages);
const templates = envs.flatMap((stage) =>
  stage.node.children
    .filter((c): c is Stack => Stack.isStack(c))
    .map((stack) => ({
      env: stage.config.name,
      account: stage.config.account,
      stack,
      template: Template.fromStack(stack).toJSON(),
    })),
);

type Resource = { Type: string; Properties?: Record<string, unknown> };
const resources = (t: Record<string, unknown>) =>
  Object.entries((t.Resources ?? {}) as Record<string, Resource>);

/** Properties that hold a physical name, per resource type. */
const NAME_PROPERTIES: Record<string, string[]> = {
  'AWS::S3::Bucket': ['BucketName'],
  'AWS::SQS::Queue': ['QueueName'],
  'AWS::ECR::Repository': ['RepositoryName'],
  'AWS::RDS::DBInstance': ['DBInstanceIdentifier'],
  'AWS::SecretsManager::Secret': ['Name'],
  'AWS::EC2::SecurityGroup': ['GroupName'],
  'AWS::Logs::LogGroup': ['LogGroupName'],
  'AWS::IAM::Role': ['RoleName'],
  'AWS::IAM::ManagedPolicy': ['ManagedPolicyName'],
  'AWS::SNS::Topic': ['TopicName'],
  'AWS::CloudWatch::Alarm': ['AlarmName'],
  'AWS::CodePipeline::Pipeline': ['Name'],
  'AWS::CodeBuild::Project': ['Name'],
  'AWS::CodeDeploy::Application': ['ApplicationName'],
  'AWS::CodeDeploy::DeploymentGroup': ['DeploymentGroupName'],
  'AWS::ElasticLoadBalancingV2::LoadBalancer': ['Name'],
  'AWS::ElasticLoadBalancingV2::TargetGroup': ['Name'],
  'AWS::AutoScaling::AutoScalingGroup': ['AutoScalingGroupName'],
  'AWS::EC2::LaunchTemplate': ['LaunchTemplateName'],
  'AWS::CodeConnections::Connection': ['ConnectionName'],
  'AWS::Route53::HostedZone': ['Name'],
  'AWS::Lambda::Function': ['FunctionName'],
  'AWS::Events::Rule': ['Name'],
  'AWS::SSM::Document': ['Name'],
};

test('every environment is synthesized: dev directly, staging and prod inside the pipeline', () => {
  expect(Object.keys(built.stages).sort()).toEqual(['dev', 'prod', 'staging']);
  expect(templates).toHaveLength(12);
});

test('no two environments share a physical name in the same account', () => {
  const owners = new Map<string, string>();
  const clashes: string[] = [];
  let names = 0;
  for (const { env, account, template } of templates) {
    for (const [id, r] of resources(template)) {
      for (const prop of NAME_PROPERTIES[r.Type] ?? []) {
        const value = r.Properties?.[prop];
        if (value === undefined) continue;
        const key = `${account}|${r.Type}|${JSON.stringify(value)}`;
        names++;
        const owner = owners.get(key);
        if (owner && owner !== env)
          clashes.push(`${r.Type} ${JSON.stringify(value)}: ${owner} and ${env} (${id})`);
        owners.set(key, owner ?? env);
      }
    }
  }
  expect(names).toBeGreaterThan(60);
  expect(clashes).toEqual([]);
});

test('prod physical names are the ones of the specification; every other name carries its environment', () => {
  for (const { env, template } of templates) {
    for (const [, r] of resources(template)) {
      for (const prop of NAME_PROPERTIES[r.Type] ?? []) {
        const value = r.Properties?.[prop];
        if (typeof value !== 'string') continue;
        if (r.Type === 'AWS::Route53::HostedZone') expect(value).toBe(`${env}.getorcha.com.`);
        else if (value.startsWith('/aws/'))
          continue; // AWS-owned log group paths, e.g. /aws/rds/instance/<db>/…
        else if (value === 'SSM-SessionManagerRunShell')
          expect(r.Type).toBe('AWS::SSM::Document'); // one per account
        else if (env === 'prod') expect(value).toMatch(/^\/?v1-orcha([-/]|$)/);
        else expect(value).toMatch(new RegExp(`^/?v1-orcha-${env}([-/]|$)`));
      }
    }
  }
});

test('Project, Environment and ManagedBy tags on every taggable resource', () => {
  const untagged: string[] = [];
  let tagged = 0;
  for (const { env, template } of templates) {
    for (const [id, r] of resources(template)) {
      const tags = r.Properties?.Tags;
      if (tags === undefined) continue;
      const pairs = Array.isArray(tags)
        ? Object.fromEntries((tags as { Key: string; Value: string }[]).map((t) => [t.Key, t.Value]))
        : (tags as Record<string, string>);
      tagged++;
      if (pairs.Project !== 'orcha' || pairs.Environment !== env || pairs.ManagedBy !== 'cdk')
        untagged.push(`${env} ${id}`);
    }
  }
  expect(tagged).toBeGreaterThan(100);
  expect(untagged).toEqual([]);
});

test('the key stateful and compute resources are tagged', () => {
  const prod = templates.filter((t) => t.env === 'prod');
  for (const type of [
    'AWS::EC2::VPC',
    'AWS::S3::Bucket',
    'AWS::SQS::Queue',
    'AWS::RDS::DBInstance',
    'AWS::ElasticLoadBalancingV2::LoadBalancer',
    'AWS::SNS::Topic',
  ]) {
    const found = prod.flatMap((t) => resources(t.template)).filter(([, r]) => r.Type === type);
    expect(found.length).toBeGreaterThan(0);
    for (const [, r] of found)
      expect(JSON.stringify(r.Properties?.Tags)).toContain('"Key":"ManagedBy","Value":"cdk"');
  }
});

test('stacks deploy in dependency order: Foundation, Data, Compute, Ops', () => {
  const stage = built.stages.prod;
  expect(stage.data.dependencies).toContain(stage.foundation);
  expect(stage.compute.dependencies).toEqual(expect.arrayContaining([stage.foundation, stage.data]));
  expect(stage.ops.dependencies).toEqual(expect.arrayContaining([stage.compute]));
});

test('stack names: prod exactly v1-orcha-<stack>, others v1-orcha-<env>-<stack>', () => {
  expect(templates.map((t) => t.stack.stackName).sort()).toEqual(
    [
      'v1-orcha-foundation',
      'v1-orcha-data',
      'v1-orcha-compute',
      'v1-orcha-ops',
      'v1-orcha-staging-foundation',
      'v1-orcha-staging-data',
      'v1-orcha-staging-compute',
      'v1-orcha-staging-ops',
      'v1-orcha-dev-foundation',
      'v1-orcha-dev-data',
      'v1-orcha-dev-compute',
      'v1-orcha-dev-ops',
    ].sort(),
  );
});
