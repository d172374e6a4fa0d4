import { createHash } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CloudFormationClient,
  CreateChangeSetCommand,
  DeleteChangeSetCommand,
  DeleteStackCommand,
  DescribeChangeSetCommand,
  DescribeStacksCommand,
  ExecuteChangeSetCommand,
  GetTemplateCommand,
  GetTemplateSummaryCommand,
  ListStackResourcesCommand,
  ListStacksCommand,
  type ResourceToImport,
} from '@aws-sdk/client-cloudformation';
import { CloudWatchLogsClient, DescribeLogGroupsCommand } from '@aws-sdk/client-cloudwatch-logs';
import {
  CodePipelineClient,
  DisableStageTransitionCommand,
  EnableStageTransitionCommand,
  GetPipelineStateCommand,
  StartPipelineExecutionCommand,
} from '@aws-sdk/client-codepipeline';
import {
  DescribeLaunchTemplatesCommand,
  DescribeSecurityGroupsCommand,
  EC2Client,
} from '@aws-sdk/client-ec2';
import { DescribeRepositoriesCommand, ECRClient } from '@aws-sdk/client-ecr';
import {
  CreateDBSnapshotCommand,
  DescribeDBInstancesCommand,
  DescribeDBSnapshotsCommand,
  RDSClient,
} from '@aws-sdk/client-rds';
import { ListHostedZonesByNameCommand, Route53Client } from '@aws-sdk/client-route-53';
import { HeadBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { DescribeSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { GetQueueUrlCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DescribeDocumentCommand, SSMClient } from '@aws-sdk/client-ssm';
import { App } from 'aws-cdk-lib';
import { mockClient } from 'aws-sdk-client-mock';
import { buildApp } from '../../lib/app';
import type { TakeoverDeps } from '../../scripts/ops/commands/takeover';
import type { AwsTarget } from '../../scripts/ops/aws';
import type { TakeoverClients } from '../../scripts/ops/takeover/clients';
import {
  STATEFUL_TYPES,
  namedResources,
  type CfnTemplate,
  type NamedResource,
  type StackRole,
} from '../../scripts/ops/takeover/templates';
import { readSynthesizedStacks, type SynthesizedStack } from '../../scripts/ops/takeover/templates';
import { loadEnvironment } from '../../lib/config/load';
import { Naming } from '../../lib/config/naming';
import { ACCOUNT, REGION, awsError, captureOutput, mockedSts, type CapturedOutput } from './ops';

/**
 * Synthesizes prod's stage with the project's `buildApp` (the real templates, as
 * `npm run synth` writes them) into a temporary cdk.out. One synth per test file.
 */
export function synthProd(): { cdkOut: string; stacks: SynthesizedStack[] } {
  const cdkOut = mkdtempSync(join(tmpdir(), 'takeover-cdkout-'));
  const app = new App({ outdir: cdkOut });
  buildApp(app, { envName: 'prod' });
  app.synth();
  const config = loadEnvironment('prod');
  return { cdkOut, stacks: readSynthesizedStacks(cdkOut, config, new Naming('prod')) };
}

/** The stacks of the original Python app (their names in the account) by the new stack each maps to. */
export const ORIGINAL_STACKS: Record<StackRole, string> = {
  Foundation: 'FoundationStack',
  Data: 'DataStack',
  Compute: 'ComputeStack',
  Ops: 'OpsStack',
};

/** Names the original app never had (built later in this app). */
const NOT_IN_ORIGINAL = [
  /access-logs/,
  /vpc-flow-logs/,
  /migration-test|migtest/,
  /ingest-backlog/,
  /developer-ssm-access/,
  /repl-port-forwarding/,
  /^SSM-SessionManagerRunShell$/,
  /session-preferences/,
  // Credential rotation and per-tenant queues (the original's roadmap).
  /db-rotation|app-restart|rotation-sg|-tenant-/,
];

export function inOriginal(resource: NamedResource): boolean {
  return !NOT_IN_ORIGINAL.some((re) => re.test(resource.physicalName));
}

export interface MockStack {
  name: string;
  created: Date;
  status: string;
  resources: { logicalId: string; type: string; physicalId: string; name?: string; status?: string }[];
  template: CfnTemplate;
  /** Resources whose deletion fails (held by the retained database). */
  holdOnDelete?: string[];
}

/** The physical id CloudFormation records for a resource of that name. */
export function physicalIdOf(resource: Pick<NamedResource, 'type' | 'physicalName'>): string {
  const name = resource.physicalName;
  const arn = (service: string, rest: string) => `arn:aws:${service}:${REGION}:${ACCOUNT}:${rest}`;
  switch (resource.type) {
    case 'AWS::SQS::Queue':
      return `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/${name}`;
    case 'AWS::SecretsManager::Secret':
      return arn('secretsmanager', `secret:${name}-AbCdEf`);
    case 'AWS::Route53::HostedZone':
      return 'Z0ORIGINALZONE00001';
    case 'AWS::EC2::SecurityGroup':
      return `sg-0${createHash('sha256').update(name).digest('hex').slice(0, 16)}`;
    case 'AWS::EC2::LaunchTemplate':
      return 'lt-0123456789abcdef0';
    case 'AWS::ElasticLoadBalancingV2::LoadBalancer':
      return arn('elasticloadbalancing', `loadbalancer/app/${name}/50dc6c495c0c9188`);
    case 'AWS::ElasticLoadBalancingV2::TargetGroup':
      return arn('elasticloadbalancing', `targetgroup/${name}/73e2d6bc24d8a067`);
    case 'AWS::SNS::Topic':
      return arn('sns', name);
    case 'AWS::IAM::ManagedPolicy':
      return `arn:aws:iam::${ACCOUNT}:policy/${name}`;
    case 'AWS::CodeBuild::ReportGroup':
      return arn('codebuild', `report-group/${name}`);
    default:
      return name;
  }
}

export interface AccountState {
  stacks: MockStack[];
  /** Named resources that exist, by `type name`. */
  existing: Set<string>;
  snapshots: Map<string, string>;
  /** The infrastructure pipeline's transition into Prod is enabled. */
  transitionEnabled: boolean;
  /** Change sets created: stack name → resources to import. */
  changeSets: { stackName: string; template: CfnTemplate; resources: ResourceToImport[] }[];
  deleted: { name: string; retain?: string[] }[];
}

export const key = (r: Pick<NamedResource, 'type' | 'physicalName'>) => `${r.type} ${r.physicalName}`;

/** An original stack's template: every resource with its DeletionPolicy (Retain on the stateful ones unless told). */
function originalTemplate(resources: MockStack['resources'], notRetained: ReadonlySet<string>): CfnTemplate {
  const out: CfnTemplate = { Resources: {} };
  for (const r of resources) {
    const stateful = r.type in STATEFUL_TYPES;
    (out.Resources ?? {})[r.logicalId] = {
      Type: r.type,
      Properties: {},
      ...(stateful ? { DeletionPolicy: notRetained.has(r.logicalId) ? 'Snapshot' : 'Retain' } : {}),
    };
  }
  return out;
}

/** The account as the original app leaves it: every resource it had, in its four stacks. */
export function populatedAccount(
  stacks: readonly SynthesizedStack[],
  opts: { notRetained?: string[] } = {},
): AccountState {
  const state = emptyAccount();
  const notRetained = new Set(opts.notRetained ?? []);
  STACK_ORDER.forEach((role, i) => {
    const resources = namedResources(stacks)
      .filter((r) => r.stack.role === role && inOriginal(r))
      .filter((r) => !r.physicalName.startsWith('/aws/rds/'))
      .map((r) => ({
        logicalId: `Py${r.logicalId.slice(0, -8)}`,
        type: r.type,
        physicalId: physicalIdOf(r),
        name: r.physicalName,
      }));
    const extra =
      role === 'Foundation'
        ? [
            { logicalId: 'PyVpc', type: 'AWS::EC2::VPC', physicalId: 'vpc-0original' },
            { logicalId: 'PyVpcPrivateSubnet1', type: 'AWS::EC2::Subnet', physicalId: 'subnet-0private1' },
          ]
        : role === 'Data'
          ? [
              {
                logicalId: 'PyDbSubnetGroup',
                type: 'AWS::RDS::DBSubnetGroup',
                physicalId: 'datastack-dbsubnets',
              },
            ]
          : [];
    const all = [...resources, ...extra];
    state.stacks.push({
      name: ORIGINAL_STACKS[role],
      created: new Date(Date.UTC(2025, 0, 10 + i)),
      status: 'UPDATE_COMPLETE',
      resources: all,
      template: originalTemplate(all, notRetained),
      holdOnDelete: extra.map((e) => e.logicalId),
    });
  });
  for (const r of namedResources(stacks)) {
    if (inOriginal(r)) state.existing.add(key(r));
  }
  return state;
}

const STACK_ORDER: StackRole[] = ['Foundation', 'Data', 'Compute', 'Ops'];

export function emptyAccount(): AccountState {
  return {
    stacks: [],
    existing: new Set(),
    snapshots: new Map(),
    transitionEnabled: false,
    changeSets: [],
    deleted: [],
  };
}

const notFound = (name: string, message = 'not found') => awsError(name, message);

function findStack(state: AccountState, nameOrId: string | undefined): MockStack | undefined {
  return state.stacks.find((s) => s.name === nameOrId || `id:${s.name}` === nameOrId);
}

/**
 * Mocked clients that answer from `state` (and change it, for the acting steps), the way
 * the services do. Every client is an aws-sdk-client-mock of the real SDK client.
 */
export function mockAccount(state: AccountState, opts: { account?: string } = {}) {
  const sts = mockedSts(opts.account ?? ACCOUNT);
  const mk = <C extends object>(client: C) => ({ client, mock: mockClient(client as never) });
  const cfn = mk(new CloudFormationClient({ region: REGION }));
  const rds = mk(new RDSClient({ region: REGION }));
  const sm = mk(new SecretsManagerClient({ region: REGION }));
  const s3 = mk(new S3Client({ region: REGION }));
  const ecr = mk(new ECRClient({ region: REGION }));
  const r53 = mk(new Route53Client({ region: REGION }));
  const sqs = mk(new SQSClient({ region: REGION }));
  const logs = mk(new CloudWatchLogsClient({ region: REGION }));
  const ec2 = mk(new EC2Client({ region: REGION }));
  const cp = mk(new CodePipelineClient({ region: REGION }));
  const ssm = mk(new SSMClient({ region: REGION }));
  const has = (type: string, name: string) => state.existing.has(`${type} ${name}`);

  cfn.mock.on(ListStacksCommand).callsFake(() => ({
    StackSummaries: state.stacks.map((s) => ({
      StackName: s.name,
      StackId: `id:${s.name}`,
      StackStatus: s.status,
      CreationTime: s.created,
    })),
  }));
  cfn.mock.on(ListStackResourcesCommand).callsFake((input: { StackName: string }) => {
    const stack = findStack(state, input.StackName);
    if (!stack) throw awsError('ValidationError', `Stack with id ${input.StackName} does not exist`);
    return {
      StackResourceSummaries: stack.resources.map((r) => ({
        LogicalResourceId: r.logicalId,
        PhysicalResourceId: r.physicalId,
        ResourceType: r.type,
        ResourceStatus: r.status ?? 'CREATE_COMPLETE',
      })),
    };
  });
  cfn.mock.on(GetTemplateCommand).callsFake((input: { StackName: string }) => {
    const stack = findStack(state, input.StackName);
    if (!stack) throw awsError('ValidationError', `Stack with id ${input.StackName} does not exist`);
    return { TemplateBody: JSON.stringify(stack.template) };
  });
  cfn.mock.on(DescribeStacksCommand).callsFake((input: { StackName: string }) => {
    const stack = findStack(state, input.StackName);
    if (!stack) throw awsError('ValidationError', `Stack with id ${input.StackName} does not exist`);
    return { Stacks: [{ StackName: stack.name, StackStatus: stack.status, CreationTime: stack.created }] };
  });
  cfn.mock.on(DeleteStackCommand).callsFake((input: { StackName: string; RetainResources?: string[] }) => {
    const stack = findStack(state, input.StackName);
    state.deleted.push({ name: input.StackName, retain: input.RetainResources });
    if (!stack) return {};
    const held = (stack.holdOnDelete ?? []).filter((id) => !(input.RetainResources ?? []).includes(id));
    // What the stack deletes is gone from the account; retained (stateful) resources stay.
    for (const r of stack.resources) {
      if (r.name && !(r.type in STATEFUL_TYPES)) state.existing.delete(`${r.type} ${r.name}`);
    }
    if (held.length > 0) {
      // CloudFormation deletes what it can, keeps the retained resources, fails on the held ones.
      stack.status = 'DELETE_FAILED';
      stack.resources = stack.resources.flatMap((r) =>
        held.includes(r.logicalId)
          ? [{ ...r, status: 'DELETE_FAILED' }]
          : r.type in STATEFUL_TYPES
            ? [{ ...r, status: 'DELETE_SKIPPED' }]
            : [],
      );
    } else {
      state.stacks = state.stacks.filter((s) => s !== stack);
    }
    return {};
  });
  cfn.mock.on(GetTemplateSummaryCommand).callsFake((input: { TemplateBody: string }) => {
    const template = JSON.parse(input.TemplateBody) as CfnTemplate;
    const types = new Set(Object.values(template.Resources ?? {}).map((r) => r.Type));
    return {
      ResourceIdentifierSummaries: [...types]
        .filter((t) => t in STATEFUL_TYPES)
        .map((t) => ({ ResourceType: t, ResourceIdentifiers: [STATEFUL_TYPES[t]?.identifier ?? ''] })),
    };
  });
  const pending = new Map<string, { template: CfnTemplate; resources: ResourceToImport[] }>();
  cfn.mock.on(DeleteChangeSetCommand).callsFake(() => {
    throw awsError('ChangeSetNotFoundException', 'ChangeSet does not exist');
  });
  cfn.mock
    .on(CreateChangeSetCommand)
    .callsFake(
      (input: { StackName: string; TemplateBody: string; ResourcesToImport: ResourceToImport[] }) => {
        const template = JSON.parse(input.TemplateBody) as CfnTemplate;
        pending.set(input.StackName, { template, resources: input.ResourcesToImport });
        state.changeSets.push({ stackName: input.StackName, template, resources: input.ResourcesToImport });
        if (!findStack(state, input.StackName)) {
          state.stacks.push({
            name: input.StackName,
            created: new Date(Date.UTC(2026, 10, 30)),
            status: 'REVIEW_IN_PROGRESS',
            resources: [],
            template: { Resources: {} },
          });
        }
        return { Id: `cs-${input.StackName}` };
      },
    );
  cfn.mock.on(DescribeChangeSetCommand).resolves({ Status: 'CREATE_COMPLETE', ExecutionStatus: 'AVAILABLE' });
  cfn.mock.on(ExecuteChangeSetCommand).callsFake((input: { StackName: string }) => {
    const stack = findStack(state, input.StackName);
    const change = pending.get(input.StackName);
    if (!stack || !change) throw awsError('ChangeSetNotFoundException', 'no change set');
    stack.status = 'IMPORT_COMPLETE';
    stack.template = change.template;
    for (const r of change.resources) {
      stack.resources.push({
        logicalId: r.LogicalResourceId ?? '',
        type: r.ResourceType ?? '',
        physicalId: Object.values(r.ResourceIdentifier ?? {})[0] ?? '',
      });
    }
    return {};
  });

  rds.mock.on(DescribeDBInstancesCommand).callsFake((input: { DBInstanceIdentifier: string }) => {
    if (!has('AWS::RDS::DBInstance', input.DBInstanceIdentifier)) {
      throw notFound('DBInstanceNotFoundFault', `DBInstance ${input.DBInstanceIdentifier} not found.`);
    }
    return {
      DBInstances: [
        {
          DBInstanceIdentifier: input.DBInstanceIdentifier,
          DBInstanceStatus: 'available',
          Engine: 'postgres',
          EngineVersion: '18.1',
          DBSubnetGroup: { VpcId: 'vpc-0original' },
        },
      ],
    };
  });
  rds.mock.on(DescribeDBSnapshotsCommand).callsFake((input: { DBSnapshotIdentifier: string }) => {
    const status = state.snapshots.get(input.DBSnapshotIdentifier);
    if (!status)
      throw notFound('DBSnapshotNotFoundFault', `DBSnapshot ${input.DBSnapshotIdentifier} not found.`);
    // A snapshot being created is available at the next look.
    if (status === 'creating') state.snapshots.set(input.DBSnapshotIdentifier, 'available');
    return { DBSnapshots: [{ DBSnapshotIdentifier: input.DBSnapshotIdentifier, Status: status }] };
  });
  rds.mock.on(CreateDBSnapshotCommand).callsFake((input: { DBSnapshotIdentifier: string }) => {
    state.snapshots.set(input.DBSnapshotIdentifier, 'creating');
    return { DBSnapshot: { DBSnapshotIdentifier: input.DBSnapshotIdentifier, Status: 'creating' } };
  });
  sm.mock.on(DescribeSecretCommand).callsFake((input: { SecretId: string }) => {
    if (!has('AWS::SecretsManager::Secret', input.SecretId)) {
      throw notFound('ResourceNotFoundException', "Secrets Manager can't find the specified secret.");
    }
    return {
      ARN: physicalIdOf({ type: 'AWS::SecretsManager::Secret', physicalName: input.SecretId }),
      Name: input.SecretId,
    };
  });
  s3.mock.on(HeadBucketCommand).callsFake((input: { Bucket: string }) => {
    if (!has('AWS::S3::Bucket', input.Bucket)) {
      const err = notFound('NotFound', 'Not Found');
      Object.assign(err, { $metadata: { httpStatusCode: 404 } });
      throw err;
    }
    return {};
  });
  ecr.mock.on(DescribeRepositoriesCommand).callsFake((input: { repositoryNames: string[] }) => {
    const name = input.repositoryNames[0] ?? '';
    if (!has('AWS::ECR::Repository', name)) {
      throw notFound('RepositoryNotFoundException', `The repository with name '${name}' does not exist`);
    }
    return { repositories: [{ repositoryName: name }] };
  });
  r53.mock.on(ListHostedZonesByNameCommand).callsFake((input: { DNSName: string }) => {
    const name = input.DNSName.replace(/\.$/, '');
    return {
      HostedZones: has('AWS::Route53::HostedZone', name)
        ? [
            {
              Id: `/hostedzone/${physicalIdOf({ type: 'AWS::Route53::HostedZone', physicalName: name })}`,
              Name: `${name}.`,
              CallerReference: 'x',
              Config: { PrivateZone: false },
              ResourceRecordSetCount: 7,
            },
          ]
        : [],
    };
  });
  sqs.mock.on(GetQueueUrlCommand).callsFake((input: { QueueName: string }) => {
    if (!has('AWS::SQS::Queue', input.QueueName)) {
      throw notFound('QueueDoesNotExist', 'The specified queue does not exist.');
    }
    return { QueueUrl: physicalIdOf({ type: 'AWS::SQS::Queue', physicalName: input.QueueName }) };
  });
  logs.mock.on(DescribeLogGroupsCommand).callsFake((input: { logGroupNamePrefix: string }) => ({
    logGroups: has('AWS::Logs::LogGroup', input.logGroupNamePrefix)
      ? [{ logGroupName: input.logGroupNamePrefix, storedBytes: 1024 }]
      : [],
  }));
  ec2.mock.on(DescribeSecurityGroupsCommand).callsFake((input: { Filters: { Values: string[] }[] }) => {
    const name = input.Filters[0]?.Values[0] ?? '';
    return {
      SecurityGroups: has('AWS::EC2::SecurityGroup', name)
        ? [
            {
              GroupName: name,
              GroupId: physicalIdOf({ type: 'AWS::EC2::SecurityGroup', physicalName: name }),
              VpcId: 'vpc-0original',
            },
          ]
        : [],
    };
  });
  ec2.mock.on(DescribeLaunchTemplatesCommand).callsFake((input: { Filters: { Values: string[] }[] }) => {
    const name = input.Filters[0]?.Values[0] ?? '';
    return {
      LaunchTemplates: has('AWS::EC2::LaunchTemplate', name)
        ? [
            {
              LaunchTemplateName: name,
              LaunchTemplateId: physicalIdOf({ type: 'AWS::EC2::LaunchTemplate', physicalName: name }),
            },
          ]
        : [],
    };
  });
  ssm.mock.on(DescribeDocumentCommand).callsFake((input: { Name: string }) => {
    if (!has('AWS::SSM::Document', input.Name)) throw notFound('InvalidDocument', 'Document not found');
    return { Document: { Name: input.Name } };
  });
  cp.mock.on(GetPipelineStateCommand).callsFake(() => ({
    stageStates: [
      { stageName: 'Staging', inboundTransitionState: { enabled: true } },
      { stageName: 'Prod', inboundTransitionState: { enabled: state.transitionEnabled } },
    ],
  }));
  cp.mock.on(DisableStageTransitionCommand).callsFake(() => {
    state.transitionEnabled = false;
    return {};
  });
  cp.mock.on(EnableStageTransitionCommand).callsFake(() => {
    state.transitionEnabled = true;
    return {};
  });
  cp.mock.on(StartPipelineExecutionCommand).resolves({ pipelineExecutionId: 'exec-1' });

  const clients: TakeoverClients = {
    sts: sts.client,
    cloudformation: cfn.client,
    rds: rds.client,
    secretsManager: sm.client,
    s3: s3.client,
    ecr: ecr.client,
    route53: r53.client,
    sqs: sqs.client,
    logs: logs.client,
    ec2: ec2.client,
    ssm: ssm.client,
    codePipeline: cp.client,
  };
  const targets: AwsTarget[] = [];
  const out: CapturedOutput = captureOutput();
  let clock = 0;
  const deps: TakeoverDeps & { slept: number[] } = {
    takeoverClients: (target) => {
      targets.push(target);
      return clients;
    },
    out,
    slept: [],
    sleep: async (ms) => {
      deps.slept.push(ms);
      clock += ms;
    },
    now: () => clock,
  };
  const mocks = { sts: sts.mock, cfn: cfn.mock, rds: rds.mock, cp: cp.mock, s3: s3.mock };
  /** Every call that changes something in the account. */
  const writes = () => [
    ...cfn.mock.commandCalls(DeleteStackCommand),
    ...cfn.mock.commandCalls(CreateChangeSetCommand),
    ...cfn.mock.commandCalls(ExecuteChangeSetCommand),
    ...rds.mock.commandCalls(CreateDBSnapshotCommand),
    ...cp.mock.commandCalls(EnableStageTransitionCommand),
    ...cp.mock.commandCalls(DisableStageTransitionCommand),
    ...cp.mock.commandCalls(StartPipelineExecutionCommand),
  ];
  return { clients, deps, out, mocks, targets, writes };
}
