import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CloudAssembly } from 'aws-cdk-lib/cx-api';
import type { EnvironmentConfig } from '../../../lib/config/schema';
import type { Naming } from '../../../lib/config/naming';
import { UsageError } from '../errors';

/** The part of a CloudFormation template the takeover reads. */
export interface CfnResource {
  Type: string;
  Properties?: Record<string, unknown>;
  DeletionPolicy?: string;
  UpdateReplacePolicy?: string;
  DependsOn?: string | string[];
  Metadata?: unknown;
  Condition?: string;
}

export interface CfnTemplate {
  Resources?: Record<string, CfnResource>;
  [section: string]: unknown;
}

/** One of the environment's stacks as synthesized, in deploy order. */
export interface SynthesizedStack {
  /** `Foundation`, `Data`, `Compute`, `Ops`. */
  readonly role: StackRole;
  readonly stackName: string;
  /** 1-based position in the deploy order. */
  readonly order: number;
  readonly template: CfnTemplate;
}

/** The stacks of a stage, in the order CDK Pipelines deploys them (each depends on the previous ones). */
export const STACK_ROLES = ['Foundation', 'Data', 'Compute', 'Ops'] as const;
export type StackRole = (typeof STACK_ROLES)[number];

/**
 * Stateful resource types: they hold data, so they are imported (kept in place), never
 * replaced. `identifier` is the property CloudFormation's resource import identifies the
 * resource by (the type's primary identifier, as `cdk import --resource-mapping` takes it).
 */
export const STATEFUL_TYPES: Record<string, { identifier: string; data: string }> = {
  'AWS::RDS::DBInstance': { identifier: 'DBInstanceIdentifier', data: 'the database (customer data)' },
  'AWS::SecretsManager::Secret': { identifier: 'Id', data: 'the database credentials' },
  'AWS::S3::Bucket': { identifier: 'BucketName', data: 'the objects (documents, artifacts)' },
  'AWS::ECR::Repository': { identifier: 'RepositoryName', data: 'the application images' },
  'AWS::Route53::HostedZone': {
    identifier: 'Id',
    data: "the zone's records and name servers (the parent zone's delegation points at them)",
  },
  'AWS::SQS::Queue': { identifier: 'QueueUrl', data: 'the queued messages' },
  'AWS::Logs::LogGroup': { identifier: 'LogGroupName', data: 'the log history' },
};

export function isStateful(type: string): boolean {
  return type in STATEFUL_TYPES;
}

/** DeletionPolicy values that keep a resource when its stack is deleted. */
export function retainsOnDelete(policy: string | undefined): boolean {
  return policy === 'Retain' || policy === 'RetainExceptOnCreate';
}

/**
 * Where each type keeps its physical name (only literal names count: a name CloudFormation
 * generates cannot collide with the original's).
 */
const NAME_OF: Record<string, (p: Record<string, unknown>) => unknown> = {
  'AWS::RDS::DBInstance': (p) => p.DBInstanceIdentifier,
  'AWS::SecretsManager::Secret': (p) => p.Name,
  'AWS::S3::Bucket': (p) => p.BucketName,
  'AWS::ECR::Repository': (p) => p.RepositoryName,
  'AWS::Route53::HostedZone': (p) => (typeof p.Name === 'string' ? p.Name.replace(/\.$/, '') : p.Name),
  'AWS::SQS::Queue': (p) => p.QueueName,
  'AWS::Logs::LogGroup': (p) => p.LogGroupName,
  'AWS::IAM::Role': (p) => p.RoleName,
  'AWS::IAM::ManagedPolicy': (p) => p.ManagedPolicyName,
  'AWS::IAM::InstanceProfile': (p) => p.InstanceProfileName,
  'AWS::EC2::SecurityGroup': (p) => p.GroupName,
  'AWS::EC2::LaunchTemplate': (p) => p.LaunchTemplateName,
  'AWS::ElasticLoadBalancingV2::LoadBalancer': (p) => p.Name,
  'AWS::ElasticLoadBalancingV2::TargetGroup': (p) => p.Name,
  'AWS::AutoScaling::AutoScalingGroup': (p) => p.AutoScalingGroupName,
  'AWS::Route53::RecordSet': (p) => (typeof p.Name === 'string' ? p.Name.replace(/\.$/, '') : p.Name),
  'AWS::SNS::Topic': (p) => p.TopicName,
  'AWS::CloudWatch::Alarm': (p) => p.AlarmName,
  'AWS::Budgets::Budget': (p) => (p.Budget as Record<string, unknown> | undefined)?.BudgetName,
  'AWS::CodeBuild::Project': (p) => p.Name,
  'AWS::CodeBuild::ReportGroup': (p) => p.Name,
  'AWS::CodeDeploy::Application': (p) => p.ApplicationName,
  'AWS::CodeDeploy::DeploymentGroup': (p) => p.DeploymentGroupName,
  'AWS::CodePipeline::Pipeline': (p) => p.Name,
  'AWS::CodeConnections::Connection': (p) => p.ConnectionName,
  'AWS::CodeStarConnections::Connection': (p) => p.ConnectionName,
  'AWS::SSM::Document': (p) => p.Name,
  'AWS::SSM::Parameter': (p) => p.Name,
  'AWS::Lambda::Function': (p) => p.FunctionName,
  'AWS::KMS::Alias': (p) => p.AliasName,
  'AWS::Events::Rule': (p) => p.Name,
  'AWS::Scheduler::Schedule': (p) => p.Name,
};

/** A resource of the new stacks that has a literal physical name. */
export interface NamedResource {
  readonly stack: SynthesizedStack;
  readonly logicalId: string;
  readonly type: string;
  readonly physicalName: string;
  readonly stateful: boolean;
  readonly definition: CfnResource;
}

/** Every resource with a literal physical name, stack by stack in deploy order. */
export function namedResources(stacks: readonly SynthesizedStack[]): NamedResource[] {
  const found: NamedResource[] = [];
  for (const stack of stacks) {
    for (const [logicalId, definition] of Object.entries(stack.template.Resources ?? {})) {
      const nameOf = NAME_OF[definition.Type];
      const name = nameOf ? nameOf(definition.Properties ?? {}) : undefined;
      if (typeof name !== 'string' || name.length === 0) continue;
      found.push({
        stack,
        logicalId,
        type: definition.Type,
        physicalName: name,
        stateful: isStateful(definition.Type),
        definition,
      });
    }
  }
  return found;
}

/**
 * Reads the environment's four stacks from a synthesized cloud assembly (`cdk.out`, written
 * by `npm run synth`). Both shapes work: the full app (stages nested under the pipeline's
 * assembly) and `-c env=<name>`.
 */
export function readSynthesizedStacks(
  cdkOut: string,
  config: EnvironmentConfig,
  naming: Naming,
): SynthesizedStack[] {
  const dir = resolve(cdkOut);
  if (!existsSync(join(dir, 'manifest.json'))) {
    throw new UsageError(
      `No synthesized app in ${cdkOut} (no manifest.json): run "npm run synth" first, or pass --cdk-out <dir>`,
    );
  }
  let assembly: CloudAssembly;
  try {
    assembly = new CloudAssembly(dir);
  } catch (err) {
    throw new UsageError(
      `${cdkOut} is not a readable cloud assembly (${(err as Error).message.split('\n')[0]}): run "npm run synth" again`,
    );
  }
  const byName = new Map(assembly.stacksRecursively.map((s) => [s.stackName, s]));
  return STACK_ROLES.map((role, index) => {
    const stackName = naming.stackName(role);
    const artifact = byName.get(stackName);
    if (!artifact) {
      throw new UsageError(
        `${cdkOut} has no stack ${stackName} (environment "${config.name}"): run "npm run synth" ` +
          `(or "npx cdk synth -c env=${config.name}") first`,
      );
    }
    const { account, region } = artifact.environment;
    if (account !== config.account || region !== config.region) {
      throw new UsageError(
        `Stack ${stackName} in ${cdkOut} is for ${account}/${region}, but environment "${config.name}" ` +
          `is ${config.account}/${config.region}: synthesize again`,
      );
    }
    return { role, stackName, order: index + 1, template: artifact.template as CfnTemplate };
  });
}
