import type { StackInput } from '../compliance/model';

/**
 * The architecture as a graph, derived from the synthesized templates only: main resources are
 * nodes; edges come from what the templates say connects them (security-group ingress rules,
 * listeners and target groups, IAM policies, routes, alarm actions, dead-letter queues, DNS
 * aliases, pipeline actions). Nothing here is drawn by hand, so nothing can drift.
 */

type Json = unknown;

interface Resource {
  readonly Type: string;
  readonly Properties?: Record<string, Json>;
  readonly Metadata?: Record<string, Json>;
}

interface Template {
  readonly Resources?: Record<string, Resource>;
  readonly Outputs?: Record<string, { readonly Value: Json; readonly Export?: { readonly Name?: Json } }>;
}

/** `<stack path>|<logical id>`. */
export type ResourceKey = string;

export interface GraphNode {
  /** Mermaid-safe and stable: derived from the stack path and the logical id. */
  readonly id: string;
  readonly label: string;
  /** The stack (construct path) the node belongs to; undefined for external nodes (the internet, e-mail). */
  readonly stack: string | undefined;
  readonly type: string;
}

export type EdgeKind = 'traffic' | 'iam' | 'flow';

export interface GraphEdge {
  readonly from: string;
  readonly to: string;
  readonly kind: EdgeKind;
  readonly label: string;
  /** What in the templates the edge was derived from. */
  readonly source: string;
}

export interface EnvironmentGraph {
  readonly environment: string;
  /** Stacks in deployment order: [construct path, stack name]. */
  readonly stacks: readonly (readonly [string, string])[];
  readonly nodes: readonly GraphNode[];
  readonly edges: readonly GraphEdge[];
}

export const INTERNET = 'internet';

/** Resource types drawn as nodes, with how their label starts. */
const MAIN_TYPES: Readonly<Record<string, string>> = {
  'AWS::ElasticLoadBalancingV2::LoadBalancer': 'ALB',
  'AWS::AutoScaling::AutoScalingGroup': 'Auto Scaling group',
  'AWS::RDS::DBInstance': 'RDS',
  'AWS::SQS::Queue': 'SQS',
  'AWS::S3::Bucket': 'S3',
  'AWS::ECR::Repository': 'ECR',
  'AWS::Route53::HostedZone': 'Route 53 zone',
  'AWS::Route53::RecordSet': 'DNS',
  'AWS::EC2::Instance': 'EC2',
  'AWS::EC2::NatGateway': 'NAT gateway',
  'AWS::CodeBuild::Project': 'CodeBuild',
  'AWS::CodePipeline::Pipeline': 'CodePipeline',
  'AWS::CodeDeploy::DeploymentGroup': 'CodeDeploy',
  'AWS::SNS::Topic': 'SNS',
  'AWS::SecretsManager::Secret': 'Secret',
  'AWS::Lambda::Function': 'Lambda',
};

/** Physical-name properties, used for labels and to match literal ARNs in IAM policies. */
const NAME_PROPERTIES: Readonly<Record<string, string>> = {
  'AWS::ElasticLoadBalancingV2::LoadBalancer': 'Name',
  'AWS::AutoScaling::AutoScalingGroup': 'AutoScalingGroupName',
  'AWS::RDS::DBInstance': 'DBInstanceIdentifier',
  'AWS::SQS::Queue': 'QueueName',
  'AWS::S3::Bucket': 'BucketName',
  'AWS::ECR::Repository': 'RepositoryName',
  'AWS::Route53::HostedZone': 'Name',
  'AWS::Route53::RecordSet': 'Name',
  'AWS::CodeBuild::Project': 'Name',
  'AWS::CodePipeline::Pipeline': 'Name',
  'AWS::CodeDeploy::DeploymentGroup': 'DeploymentGroupName',
  'AWS::SNS::Topic': 'TopicName',
  'AWS::SecretsManager::Secret': 'Name',
  'AWS::Lambda::Function': 'FunctionName',
};

/** Resources through which a main resource uses a role, a security group or subnets. */
const INTERMEDIATE_TYPES = new Set([
  'AWS::IAM::InstanceProfile',
  'AWS::EC2::LaunchTemplate',
  'AWS::RDS::DBSubnetGroup',
]);

/**
 * The properties through which a resource runs as a role, sits in a security group or in subnets
 * (anywhere below them, e.g. `VpcConfig.SecurityGroupIds`, `NetworkInterfaces[].Groups`). A
 * security group id in an environment variable is not membership.
 */
const ROLE_KEYS = new Set([
  'Role',
  'ServiceRole',
  'RoleArn',
  'Roles',
  'IamInstanceProfile',
  'ExecutionRoleArn',
]);
const GROUP_KEYS = new Set([
  'SecurityGroups',
  'SecurityGroupIds',
  'VPCSecurityGroups',
  'VpcSecurityGroupIds',
  'Groups',
  'GroupSet',
]);
const SUBNET_KEYS = new Set(['Subnets', 'SubnetIds', 'VPCZoneIdentifier', 'SubnetId', 'DBSubnetGroupName']);
const USE_KEYS = new Set([...ROLE_KEYS, ...GROUP_KEYS, ...SUBNET_KEYS, 'LaunchTemplate', 'LaunchTemplateId']);

/** The service in the ARNs of each main type: an IAM statement acts on a node only through its own service. */
const SERVICES: Readonly<Record<string, string>> = {
  'AWS::ElasticLoadBalancingV2::LoadBalancer': 'elasticloadbalancing',
  'AWS::AutoScaling::AutoScalingGroup': 'autoscaling',
  'AWS::RDS::DBInstance': 'rds',
  'AWS::SQS::Queue': 'sqs',
  'AWS::S3::Bucket': 's3',
  'AWS::ECR::Repository': 'ecr',
  'AWS::Route53::HostedZone': 'route53',
  'AWS::Route53::RecordSet': 'route53',
  'AWS::EC2::Instance': 'ec2',
  'AWS::EC2::NatGateway': 'ec2',
  'AWS::CodeBuild::Project': 'codebuild',
  'AWS::CodePipeline::Pipeline': 'codepipeline',
  'AWS::CodeDeploy::DeploymentGroup': 'codedeploy',
  'AWS::SNS::Topic': 'sns',
  'AWS::SecretsManager::Secret': 'secretsmanager',
  'AWS::Lambda::Function': 'lambda',
};

/** IAM actions that only read; every other action writes. */
const READ_ACTION =
  /^(Get|List|Describe|Receive|BatchGet|BatchCheck|Head|Query|Scan|Read|Lookup|Select|Search|View|Download|Filter|Poll)/;

const isObject = (v: Json): v is Record<string, Json> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);

function* children(v: Json): Generator<Json> {
  if (Array.isArray(v)) yield* v;
  else if (isObject(v)) yield* Object.values(v);
}

function asArray(v: Json): Json[] {
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}

function str(v: Json): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

function mermaidId(text: string): string {
  return text.replace(/[^A-Za-z0-9]/g, '_');
}

interface Located {
  readonly key: ResourceKey;
  readonly stack: StackInput;
  readonly logicalId: string;
  readonly resource: Resource;
}

/** Resolves references within one environment's templates, across stacks. */
export class TemplateIndex {
  private readonly byKey = new Map<ResourceKey, Located>();
  private readonly stacksByName = new Map<string, StackInput>();

  constructor(readonly stacks: readonly StackInput[]) {
    for (const stack of stacks) {
      if (stack.stackName) this.stacksByName.set(stack.stackName, stack);
      for (const [logicalId, resource] of Object.entries(templateOf(stack).Resources ?? {})) {
        const key = `${stack.stackPath}|${logicalId}`;
        this.byKey.set(key, { key, stack, logicalId, resource });
      }
    }
  }

  get(key: ResourceKey): Located | undefined {
    return this.byKey.get(key);
  }

  all(): Located[] {
    return [...this.byKey.values()];
  }

  /** Every resource a value refers to: Ref, Fn::GetAtt, and other stacks' outputs (Fn::GetStackOutput, Fn::ImportValue). */
  refs(value: Json, stack: StackInput): ResourceKey[] {
    const out = new Set<ResourceKey>();
    const visit = (v: Json, s: StackInput, depth: number): void => {
      if (depth > 20) return;
      if (isObject(v)) {
        const ref = str(v.Ref);
        if (ref !== undefined && this.byKey.has(`${s.stackPath}|${ref}`)) {
          out.add(`${s.stackPath}|${ref}`);
          return;
        }
        const getAtt = v['Fn::GetAtt'];
        if (Array.isArray(getAtt) && typeof getAtt[0] === 'string') {
          if (this.byKey.has(`${s.stackPath}|${getAtt[0]}`)) out.add(`${s.stackPath}|${getAtt[0]}`);
          return;
        }
        const output = v['Fn::GetStackOutput'];
        if (isObject(output)) {
          const producer = this.stacksByName.get(str(output.StackName) ?? '');
          const name = str(output.OutputName);
          const produced = producer && name ? templateOf(producer).Outputs?.[name] : undefined;
          if (producer && produced) visit(produced.Value, producer, depth + 1);
          return;
        }
        const imported = str(v['Fn::ImportValue']);
        if (imported !== undefined) {
          for (const producer of this.stacks) {
            for (const o of Object.values(templateOf(producer).Outputs ?? {})) {
              if (o.Export?.Name === imported) visit(o.Value, producer, depth + 1);
            }
          }
          return;
        }
      }
      for (const c of children(v)) visit(c, s, depth);
    };
    visit(value, stack, 0);
    return [...out];
  }
}

function templateOf(stack: StackInput): Template {
  return stack.template as Template;
}

/** The construct id a resource was created with: `Prod/Foundation/IngestQueue/Resource` → `IngestQueue`. */
function constructId(r: Located): string {
  const cdkPath = str(r.resource.Metadata?.['aws:cdk:path']) ?? r.logicalId;
  const parts = cdkPath.split('/').filter((p) => p !== 'Resource' && p !== 'Default');
  return parts[parts.length - 1] ?? r.logicalId;
}

function physicalName(r: Located): string | undefined {
  const property = NAME_PROPERTIES[r.resource.Type];
  return property ? str(r.resource.Properties?.[property]) : undefined;
}

function tag(r: Located, key: string): string | undefined {
  for (const t of asArray(r.resource.Properties?.Tags)) {
    if (isObject(t) && t.Key === key) return str(t.Value);
  }
  return undefined;
}

export interface BuildGraphOptions {
  /** The environment's stacks (one Stage), in deployment order. */
  readonly stacks: readonly StackInput[];
  readonly environment: string;
}

export function buildEnvironmentGraph(options: BuildGraphOptions): EnvironmentGraph {
  const index = new TemplateIndex(options.stacks);
  const resources = index.all();
  const nodeIdOf = (r: Located) => mermaidId(`${r.stack.stackPath.split('/').pop() ?? ''}_${r.logicalId}`);

  // Lambda functions that only serve custom resources are deployment helpers, not architecture.
  const serviceTokens = new Set(
    resources
      .filter(
        (r) =>
          r.resource.Type.startsWith('Custom::') || r.resource.Type === 'AWS::CloudFormation::CustomResource',
      )
      .flatMap((r) => index.refs(r.resource.Properties?.ServiceToken, r.stack)),
  );
  const isMain = (r: Located): boolean =>
    MAIN_TYPES[r.resource.Type] !== undefined &&
    !(r.resource.Type === 'AWS::Lambda::Function' && serviceTokens.has(r.key));
  const main = new Map(resources.filter(isMain).map((r) => [r.key, r]));

  // Who uses what: a main resource uses everything its properties refer to, directly or through
  // an instance profile or launch template.
  const uses = new Map<ResourceKey, Set<ResourceKey>>();
  const directRefs = new Map(
    resources.map((r) => [r.key, index.refs(underKeys(r.resource.Properties ?? {}, USE_KEYS), r.stack)]),
  );
  for (const r of main.values()) {
    const seen = new Set<ResourceKey>();
    const queue = [...(directRefs.get(r.key) ?? [])];
    while (queue.length > 0) {
      const k = queue.shift() as ResourceKey;
      if (seen.has(k)) continue;
      seen.add(k);
      const target = index.get(k);
      if (target && INTERMEDIATE_TYPES.has(target.resource.Type)) queue.push(...(directRefs.get(k) ?? []));
    }
    uses.set(r.key, seen);
  }
  const usersOf = (k: ResourceKey): Located[] =>
    [...main.values()].filter((m) => uses.get(m.key)?.has(k) && m.key !== k);

  const nodes = new Map<string, GraphNode>();
  const addNode = (node: GraphNode) => nodes.set(node.id, node);
  for (const r of main.values())
    addNode({ id: nodeIdOf(r), label: labelOf(r, index), stack: r.stack.stackPath, type: r.resource.Type });

  const edges: GraphEdge[] = [];
  const addEdge = (from: string, to: string, kind: EdgeKind, label: string, source: string) => {
    if (from !== to) edges.push({ from, to, kind, label, source });
  };
  const external = (id: string, label: string) => {
    if (!nodes.has(id)) addNode({ id, label, stack: undefined, type: 'external' });
    return id;
  };

  // 1. Security-group ingress: who may open connections to whom.
  const ingress: {
    group: ResourceKey[];
    source: ResourceKey[];
    cidr?: string;
    rule: Record<string, Json>;
    from: Located;
  }[] = [];
  for (const r of resources) {
    const p = r.resource.Properties ?? {};
    if (r.resource.Type === 'AWS::EC2::SecurityGroupIngress') {
      ingress.push({
        group: index.refs(p.GroupId, r.stack),
        source: index.refs(p.SourceSecurityGroupId, r.stack),
        cidr: str(p.CidrIp) ?? str(p.CidrIpv6),
        rule: p,
        from: r,
      });
    } else if (r.resource.Type === 'AWS::EC2::SecurityGroup') {
      for (const rule of asArray(p.SecurityGroupIngress).filter(isObject)) {
        ingress.push({
          group: [r.key],
          source: index.refs(rule.SourceSecurityGroupId, r.stack),
          cidr: str(rule.CidrIp) ?? str(rule.CidrIpv6),
          rule,
          from: r,
        });
      }
    }
  }
  for (const i of ingress) {
    const label = portLabel(i.rule);
    const targets = i.group.flatMap(usersOf);
    const sources = i.source.flatMap(usersOf).map(nodeIdOf);
    if (i.cidr === '0.0.0.0/0' || i.cidr === '::/0') sources.push(external(INTERNET, 'Internet'));
    else if (i.cidr) sources.push(external(mermaidId(`cidr_${i.cidr}`), i.cidr));
    for (const t of targets)
      for (const s of sources) addEdge(s, nodeIdOf(t), 'traffic', label, 'security-group ingress');
  }

  // 2. Load balancer → target group → Auto Scaling group.
  for (const listener of resources.filter(
    (r) => r.resource.Type === 'AWS::ElasticLoadBalancingV2::Listener',
  )) {
    const p = listener.resource.Properties ?? {};
    const lbs = index.refs(p.LoadBalancerArn, listener.stack).filter((k) => main.has(k));
    for (const action of asArray(p.DefaultActions).filter(isObject)) {
      for (const tgKey of index.refs(action.TargetGroupArn, listener.stack)) {
        const tg = index.get(tgKey)?.resource.Properties ?? {};
        const targets = [...main.values()].filter(
          (m) =>
            m.resource.Type === 'AWS::AutoScaling::AutoScalingGroup' &&
            index.refs(m.resource.Properties?.TargetGroupARNs, m.stack).includes(tgKey),
        );
        for (const lb of lbs) {
          for (const t of targets) {
            addEdge(
              nodeIdOf(main.get(lb) as Located),
              nodeIdOf(t),
              'traffic',
              `${String(p.Protocol)} ${String(p.Port)} → ${String(tg.Protocol)} ${String(tg.Port)}`,
              'listener and target group',
            );
          }
        }
      }
    }
  }

  // 3. IAM: which principal may act on which resource, drawn in the direction data flows.
  const iamEdges: GraphEdge[] = [];
  const rolesOfPolicy = (r: Located) => index.refs(r.resource.Properties?.Roles, r.stack);
  const literalTargets = (arn: string): Located[] =>
    [...main.values()].filter((m) => arnNames(m).some((n) => arnMatches(arn, n)));
  for (const policy of resources.filter(
    (r) => r.resource.Type === 'AWS::IAM::Policy' || r.resource.Type === 'AWS::IAM::ManagedPolicy',
  )) {
    const principals = rolesOfPolicy(policy).flatMap(usersOf);
    const document = policy.resource.Properties?.PolicyDocument;
    const statements = isObject(document) ? asArray(document.Statement).filter(isObject) : [];
    for (const s of statements) {
      if (s.Effect !== 'Allow') continue;
      const actions = asArray(s.Action).filter((a): a is string => typeof a === 'string');
      const targets = new Set<Located>();
      for (const resource of asArray(s.Resource)) {
        if (typeof resource === 'string') for (const t of literalTargets(resource)) targets.add(t);
        else
          for (const k of index.refs(resource, policy.stack))
            if (main.has(k)) targets.add(main.get(k) as Located);
      }
      for (const principal of principals) {
        for (const target of targets) {
          const service = SERVICES[target.resource.Type];
          const access = accessOf(actions.filter((a) => a === '*' || a.split(':')[0] === service));
          const p = nodeIdOf(principal);
          const t = nodeIdOf(target);
          if (access.read)
            iamEdges.push({ from: t, to: p, kind: 'iam', label: `${service} read`, source: 'IAM policy' });
          if (access.write)
            iamEdges.push({ from: p, to: t, kind: 'iam', label: `${service} write`, source: 'IAM policy' });
        }
      }
    }
  }

  // 4. Routes out of the VPC for compute: subnet → route table → default route.
  const routeTablesOf = (subnet: ResourceKey): ResourceKey[] =>
    resources
      .filter(
        (r) =>
          r.resource.Type === 'AWS::EC2::SubnetRouteTableAssociation' &&
          index.refs(r.resource.Properties?.SubnetId, r.stack).includes(subnet),
      )
      .flatMap((r) => index.refs(r.resource.Properties?.RouteTableId, r.stack));
  const defaultRoutes = (table: ResourceKey) =>
    resources.filter(
      (r) =>
        r.resource.Type === 'AWS::EC2::Route' &&
        r.resource.Properties?.DestinationCidrBlock === '0.0.0.0/0' &&
        index.refs(r.resource.Properties.RouteTableId, r.stack).includes(table),
    );
  for (const m of main.values()) {
    if (
      ![
        'AWS::AutoScaling::AutoScalingGroup',
        'AWS::CodeBuild::Project',
        'AWS::EC2::Instance',
        'AWS::Lambda::Function',
      ].includes(m.resource.Type)
    )
      continue;
    const subnets = [...(uses.get(m.key) ?? [])].filter(
      (k) => index.get(k)?.resource.Type === 'AWS::EC2::Subnet',
    );
    for (const route of subnets.flatMap(routeTablesOf).flatMap(defaultRoutes)) {
      const p = route.resource.Properties ?? {};
      const via = [
        ...index.refs(p.InstanceId, route.stack),
        ...index.refs(p.NatGatewayId, route.stack),
      ].filter((k) => main.has(k));
      if (via.length > 0)
        for (const v of via)
          addEdge(
            nodeIdOf(m),
            nodeIdOf(main.get(v) as Located),
            'traffic',
            '0.0.0.0/0 route',
            'subnet route table',
          );
      else if (
        index
          .refs(p.GatewayId, route.stack)
          .some((k) => index.get(k)?.resource.Type === 'AWS::EC2::InternetGateway')
      ) {
        addEdge(
          nodeIdOf(m),
          external(INTERNET, 'Internet'),
          'traffic',
          'internet gateway',
          'subnet route table',
        );
      }
    }
  }

  // 5. Everything else the templates connect explicitly.
  for (const r of resources) {
    const p = r.resource.Properties ?? {};
    const mainRefs = (v: Json) =>
      index
        .refs(v, r.stack)
        .filter((k) => main.has(k))
        .map((k) => nodeIdOf(main.get(k) as Located));
    switch (r.resource.Type) {
      case 'AWS::SQS::Queue': {
        const redrive = isObject(p.RedrivePolicy) ? p.RedrivePolicy : {};
        for (const dlq of mainRefs(redrive.deadLetterTargetArn))
          addEdge(
            nodeIdOf(r),
            dlq,
            'flow',
            `after ${String(redrive.maxReceiveCount)} receives`,
            'redrive policy',
          );
        break;
      }
      case 'AWS::Route53::RecordSet': {
        const alias = isObject(p.AliasTarget) ? p.AliasTarget : {};
        for (const target of mainRefs(alias.DNSName))
          addEdge(nodeIdOf(r), target, 'traffic', 'alias', 'DNS alias record');
        for (const zone of mainRefs(p.HostedZoneId))
          addEdge(zone, nodeIdOf(r), 'flow', 'record', 'hosted zone');
        break;
      }
      case 'AWS::CloudWatch::Alarm': {
        const alarmsId = mermaidId(`${r.stack.stackPath.split('/').pop() ?? ''}_alarms`);
        const count = resources.filter(
          (a) => a.stack === r.stack && a.resource.Type === 'AWS::CloudWatch::Alarm',
        ).length;
        addNode({
          id: alarmsId,
          label: `${count} CloudWatch alarms`,
          stack: r.stack.stackPath,
          type: 'AWS::CloudWatch::Alarm',
        });
        for (const topic of mainRefs([p.AlarmActions, p.OKActions]))
          addEdge(alarmsId, topic, 'flow', 'alarm actions', 'alarm actions');
        break;
      }
      case 'AWS::SNS::Subscription': {
        const endpoint = str(p.Endpoint);
        if (endpoint && str(p.Protocol) === 'email') {
          const mail = external(mermaidId(`email_${endpoint}`), `e-mail ${endpoint}`);
          for (const topic of mainRefs(p.TopicArn))
            addEdge(topic, mail, 'flow', 'subscription', 'SNS subscription');
        }
        break;
      }
      case 'AWS::SecretsManager::SecretTargetAttachment':
        for (const secret of mainRefs(p.SecretId))
          for (const target of mainRefs(p.TargetId))
            addEdge(secret, target, 'flow', 'credentials of', 'secret attachment');
        break;
      case 'AWS::CodeDeploy::DeploymentGroup':
        for (const asg of mainRefs(p.AutoScalingGroups))
          addEdge(nodeIdOf(r), asg, 'flow', 'deploys to', 'deployment group');
        break;
      case 'AWS::CodePipeline::Pipeline':
        for (const stage of asArray(p.Stages).filter(isObject)) {
          for (const action of asArray(stage.Actions).filter(isObject)) {
            for (const target of mainRefs(action.Configuration))
              addEdge(
                nodeIdOf(r),
                target,
                'flow',
                `${String(stage.Name)}: ${String(action.Name)}`,
                'pipeline action',
              );
          }
        }
        break;
      case 'AWS::ElasticLoadBalancingV2::LoadBalancer':
        for (const attribute of asArray(p.LoadBalancerAttributes).filter(isObject)) {
          if (attribute.Key === 'access_logs.s3.bucket')
            for (const b of mainRefs(attribute.Value))
              addEdge(nodeIdOf(r), b, 'flow', 'access logs', 'load balancer attributes');
        }
        break;
      case 'AWS::S3::Bucket': {
        const logging = isObject(p.LoggingConfiguration) ? p.LoggingConfiguration : {};
        for (const b of mainRefs(logging.DestinationBucketName))
          addEdge(nodeIdOf(r), b, 'flow', 'access logs', 'bucket logging');
        const literal = str(logging.DestinationBucketName);
        if (literal)
          for (const b of [...main.values()].filter((m) => physicalName(m) === literal))
            addEdge(nodeIdOf(r), nodeIdOf(b), 'flow', 'access logs', 'bucket logging');
        break;
      }
      default:
        break;
    }
  }

  // A grant that only lets a principal do what the configuration already connects (a pipeline
  // starting its build, deploying with its deployment group) is not drawn a second time.
  const configured = new Set(
    edges.filter((e) => e.kind === 'flow').flatMap((e) => [`${e.from}>${e.to}`, `${e.to}>${e.from}`]),
  );
  edges.push(...iamEdges.filter((e) => e.from !== e.to && !configured.has(`${e.from}>${e.to}`)));

  return {
    environment: options.environment,
    stacks: options.stacks.map((s) => [s.stackPath, s.stackName ?? s.stackPath] as const),
    nodes: [...nodes.values()].sort((a, b) => a.id.localeCompare(b.id)),
    edges: mergeEdges(edges),
  };
}

/** One edge per (from, to, kind): labels joined, sorted. */
function mergeEdges(edges: readonly GraphEdge[]): GraphEdge[] {
  const merged = new Map<
    string,
    { from: string; to: string; kind: EdgeKind; labels: Set<string>; sources: Set<string> }
  >();
  for (const e of edges) {
    const key = `${e.from}\u0000${e.to}\u0000${e.kind}`;
    const entry = merged.get(key) ?? {
      from: e.from,
      to: e.to,
      kind: e.kind,
      labels: new Set(),
      sources: new Set(),
    };
    entry.labels.add(e.label);
    entry.sources.add(e.source);
    merged.set(key, entry);
  }
  return [...merged.values()]
    .map((e) => ({
      from: e.from,
      to: e.to,
      kind: e.kind,
      label: [...e.labels].sort().join(', '),
      source: [...e.sources].sort().join(', '),
    }))
    .sort((a, b) => a.from.localeCompare(b.from) || a.to.localeCompare(b.to) || a.kind.localeCompare(b.kind));
}

function portLabel(rule: Record<string, Json>): string {
  const protocol = String(rule.IpProtocol ?? '');
  if (protocol === '-1') return 'all traffic';
  const from = rule.FromPort;
  const to = rule.ToPort;
  const ports =
    from === undefined
      ? ''
      : from === to || to === undefined
        ? ` ${String(from)}`
        : ` ${String(from)}-${String(to)}`;
  return `${protocol}${ports}`;
}

/** Whether the actions read, write or both (`s3:*` and `*` do both). */
function accessOf(actions: readonly string[]): { read: boolean; write: boolean } {
  const verbs = actions.map((a) => a.split(':')[1] ?? '*');
  return {
    read: verbs.some((v) => v.startsWith('*') || READ_ACTION.test(v)),
    write: verbs.some((v) => v.startsWith('*') || !READ_ACTION.test(v)),
  };
}

/** The parts of a value found under the given keys, at any depth. */
function underKeys(value: Json, keys: ReadonlySet<string>): Json[] {
  const out: Json[] = [];
  const visit = (v: Json): void => {
    if (isObject(v)) {
      for (const [k, child] of Object.entries(v)) {
        if (keys.has(k)) out.push(child);
        else visit(child);
      }
    } else if (Array.isArray(v)) v.forEach(visit);
  };
  visit(value);
  return out;
}

/** Names by which a policy's literal ARN can point at a resource. */
function arnNames(r: Located): string[] {
  const name = physicalName(r);
  return name ? [name] : [];
}

/**
 * True when the ARN names the resource: its resource part (after the fifth colon, minus a type
 * prefix such as `repository/` or `db:`) is the name, an object under it (`name/*`), or a
 * wildcard pattern matching it. A bare `*` matches nothing: it grants nothing specific.
 */
export function arnMatches(arn: string, name: string): boolean {
  if (!arn.startsWith('arn:')) return false;
  const resource = arn.split(':').slice(5).join(':');
  if (resource === '' || resource === '*') return false;
  const candidates = new Set([resource, resource.replace(/^[a-z-]+[/:]/, '')]);
  for (const c of candidates) {
    if (c === name || c.startsWith(`${name}/`)) return true;
    if (c.includes('*') && c !== '*') {
      const pattern = new RegExp(
        `^${c
          .split('*')
          .map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
          .join('.*')}$`,
      );
      if (pattern.test(name)) return true;
    }
  }
  return false;
}

function labelOf(r: Located, index: TemplateIndex): string {
  const kind = MAIN_TYPES[r.resource.Type] ?? r.resource.Type;
  const p = r.resource.Properties ?? {};
  const name = physicalName(r) ?? constructId(r);
  switch (r.resource.Type) {
    case 'AWS::AutoScaling::AutoScalingGroup': {
      const template = index
        .refs(isObject(p.LaunchTemplate) ? p.LaunchTemplate.LaunchTemplateId : undefined, r.stack)
        .map((k) => index.get(k))[0];
      const data = template?.resource.Properties?.LaunchTemplateData;
      const type = isObject(data) ? str(data.InstanceType) : undefined;
      return `${kind} ${name} (EC2 ${type ?? '?'}, ${String(p.MinSize)}-${String(p.MaxSize)})`;
    }
    case 'AWS::RDS::DBInstance':
      return `${kind} ${String(p.Engine ?? '')} ${name} (${String(p.DBInstanceClass ?? '?')})`;
    case 'AWS::EC2::Instance': {
      const tagged = tag(r, 'Name');
      return `${kind} ${tagged && !tagged.includes('/') ? tagged : name} (${String(p.InstanceType ?? '?')})`;
    }
    case 'AWS::Route53::RecordSet':
      return `${kind} ${name.replace(/\.$/, '')} (${String(p.Type ?? '')})`;
    case 'AWS::Route53::HostedZone':
      return `${kind} ${name.replace(/\.$/, '')}`;
    default:
      return `${kind} ${name}`;
  }
}
