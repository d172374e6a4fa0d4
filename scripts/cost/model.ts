/**
 * The monthly cost of an environment, estimated from what it deploys (its synthesized
 * CloudFormation templates), its configuration and one price list. Usage that a template
 * cannot show (log volume, requests, pipeline runs) comes from `assumptions.json` and is
 * printed with the report. Usage-priced services whose cost is the data itself (S3 objects,
 * SQS requests, data transfer to the internet) are left out; the report says so.
 */
import { z } from 'zod';

export const pricesSchema = z.strictObject({
  region: z.string(),
  currency: z.literal('USD'),
  read: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
  source: z.string().min(20),
  hoursPerMonth: z.number().positive(),
  ec2PerHour: z.record(z.string(), z.number().positive()),
  ebsGp3PerGbMonth: z.number().positive(),
  ec2DefaultRootVolumeGb: z.number().positive(),
  publicIpv4PerHour: z.number().positive(),
  rdsPostgresPerHour: z.record(z.string(), z.number().positive()),
  rdsGp3PerGbMonth: z.number().positive(),
  albPerHour: z.number().positive(),
  albLcuPerHour: z.number().positive(),
  natGatewayPerHour: z.number().positive(),
  natGatewayPerGb: z.number().positive(),
  interfaceEndpointPerAzHour: z.number().positive(),
  interfaceEndpointPerGb: z.number().positive(),
  wafWebAclPerMonth: z.number().positive(),
  wafRulePerMonth: z.number().positive(),
  wafPerMillionRequests: z.number().positive(),
  kmsKeyPerMonth: z.number().positive(),
  secretPerMonth: z.number().positive(),
  alarmPerMonth: z.number().positive(),
  hostedZonePerMonth: z.number().positive(),
  logsIngestionPerGb: z.number().positive(),
  logsStoragePerGbMonth: z.number().positive(),
  codePipelineV2PerActionMinute: z.number().positive(),
  codeBuildPerMinute: z.record(z.string(), z.number().positive()),
  ecrStoragePerGbMonth: z.number().positive(),
});
export type Prices = z.infer<typeof pricesSchema>;

const perEnvironment = z.strictObject({ prod: z.number().nonnegative(), default: z.number().nonnegative() });
export const assumptionsSchema = z.strictObject({
  note: z.string(),
  logsIngestionGbPerMonth: perEnvironment,
  albAverageLcu: perEnvironment,
  wafMillionRequestsPerMonth: perEnvironment,
  interfaceEndpointGbPerMonth: z.number().nonnegative(),
  natGatewayGbPerMonth: z.number().nonnegative(),
  imageSizeGb: z.number().positive(),
  appBuildsPerMonth: z.number().nonnegative(),
  appBuildMinutes: z.number().nonnegative(),
  appWakeMinutesPerRun: z.number().nonnegative(),
  infraRunsPerMonth: z.number().nonnegative(),
  infraBuildMinutesPerRun: z.record(z.string(), z.number().nonnegative()),
  pipelineActionMinutesPerRun: z.number().nonnegative(),
  migrationTestDbHoursPerRun: z.number().nonnegative(),
  wafManagedRuleGroups: z.number().int().nonnegative(),
  wafRateRules: z.number().int().nonnegative(),
});
export type Assumptions = z.infer<typeof assumptionsSchema>;

export interface LineItem {
  readonly service: string;
  readonly item: string;
  readonly quantity: string;
  readonly monthlyUsd: number;
}

/** A CloudFormation template as synthesized. */
export interface Template {
  readonly Resources?: Record<string, { Type: string; Properties?: Record<string, unknown> }>;
}

/** What the report needs of an environment's configuration. */
export interface CostedEnvironment {
  readonly name: string;
  readonly availabilityZones: readonly string[];
  readonly ecrMaxImageCount: number;
  readonly migrationTestEnabled: boolean;
  /**
   * Hours a month the instances run and the database is started: the whole month, or the office
   * hours of an environment that sleeps outside them (stopped instances and databases bill no
   * instance hours; storage, the ALB and the rest run on).
   * @default - every hour of the month
   */
  readonly awakeHoursPerMonth?: number;
  /**
   * Hours a month the database is started, when it wakes earlier than the instances (office
   * hours start it `DATABASE_LEAD_MINUTES` before them).
   * @default - awakeHoursPerMonth
   */
  readonly databaseAwakeHoursPerMonth?: number;
}

/** The environment-specific value of a per-environment assumption. */
function forEnv(value: { prod: number; default: number }, env: string): number {
  return env === 'prod' ? value.prod : value.default;
}

export function round2(value: number): number {
  return Math.round(value * 100) / 100;
}

class Pricer {
  readonly lines: LineItem[] = [];
  constructor(
    readonly prices: Prices,
    readonly assumptions: Assumptions,
  ) {}

  add(service: string, item: string, quantity: string, monthlyUsd: number): void {
    this.lines.push({ service, item, quantity, monthlyUsd: round2(monthlyUsd) });
  }

  hourly(rate: number): number {
    return rate * this.prices.hoursPerMonth;
  }

  ec2Hourly(type: string): number {
    const rate = this.prices.ec2PerHour[type];
    if (rate === undefined) throw new Error(`prices: no EC2 price for ${type}; add it to the price list`);
    return rate;
  }

  rdsHourly(instanceClass: string): number {
    const rate = this.prices.rdsPostgresPerHour[instanceClass];
    if (rate === undefined) {
      throw new Error(`prices: no RDS PostgreSQL price for ${instanceClass}; add it to the price list`);
    }
    return rate;
  }

  codeBuildPerMinute(environmentType: string, computeType: string): number {
    const key = `${environmentType}/${computeType}`;
    const rate = this.prices.codeBuildPerMinute[key];
    if (rate === undefined)
      throw new Error(`prices: no CodeBuild price for ${key}; add it to the price list`);
    return rate;
  }
}

type Resource = { Type: string; Properties?: Record<string, unknown> };

function props(resource: Resource): Record<string, unknown> {
  return resource.Properties ?? {};
}

function rootVolumeGb(blockDevices: unknown, fallback: number): number {
  const first = Array.isArray(blockDevices)
    ? (blockDevices[0] as { Ebs?: { VolumeSize?: number } })
    : undefined;
  return first?.Ebs?.VolumeSize ?? fallback;
}

function hasPublicIp(networkInterfaces: unknown): boolean {
  return (
    Array.isArray(networkInterfaces) &&
    networkInterfaces.some(
      (n) => (n as { AssociatePublicIpAddress?: boolean }).AssociatePublicIpAddress === true,
    )
  );
}

function literal(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** Every resource of the templates, with the template it came from (to resolve `Ref`s). */
function resourcesOf(
  templates: readonly Template[],
): { id: string; resource: Resource; template: Template }[] {
  return templates.flatMap((template) =>
    Object.entries(template.Resources ?? {}).map(([id, resource]) => ({ id, resource, template })),
  );
}

/** Instances: an Auto Scaling group runs MinSize instances of its launch template. */
function priceInstances(p: Pricer, templates: readonly Template[], awakeHours: number): void {
  const root = p.prices.ec2DefaultRootVolumeGb;
  const share = awakeHours / p.prices.hoursPerMonth;
  const hours = `${Math.round(awakeHours)} h`;
  for (const { id, resource, template } of resourcesOf(templates)) {
    if (resource.Type === 'AWS::AutoScaling::AutoScalingGroup') {
      const count = Number(literal(props(resource).MinSize) ?? '0');
      const ref = (props(resource).LaunchTemplate as { LaunchTemplateId?: { Ref?: string } } | undefined)
        ?.LaunchTemplateId?.Ref;
      const launchTemplate = ref ? template.Resources?.[ref] : undefined;
      const data = (launchTemplate ? props(launchTemplate).LaunchTemplateData : undefined) as
        Record<string, unknown> | undefined;
      const type = literal(data?.InstanceType);
      if (!type || count === 0) continue;
      const name = literal(props(resource).AutoScalingGroupName) ?? id;
      // The group's instances exist only while awake: their volumes and addresses go with them.
      p.add('EC2', `${name}: ${type}`, `${count} × ${hours}`, share * count * p.hourly(p.ec2Hourly(type)));
      const gb = rootVolumeGb(data?.BlockDeviceMappings, root);
      p.add(
        'EBS',
        `${name}: root volumes gp3`,
        `${count} × ${gb} GB × ${hours}`,
        share * count * gb * p.prices.ebsGp3PerGbMonth,
      );
      if (hasPublicIp(data?.NetworkInterfaces)) {
        p.add(
          'VPC',
          `${name}: public IPv4 addresses`,
          `${count} × ${hours}`,
          share * count * p.hourly(p.prices.publicIpv4PerHour),
        );
      }
    }
    if (resource.Type === 'AWS::EC2::Instance') {
      const type = literal(props(resource).InstanceType);
      if (!type) continue;
      p.add('EC2', `${id}: ${type}`, '1 × 730 h', p.hourly(p.ec2Hourly(type)));
      const gb = rootVolumeGb(props(resource).BlockDeviceMappings, root);
      p.add('EBS', `${id}: root volume gp3`, `${gb} GB`, gb * p.prices.ebsGp3PerGbMonth);
      if (hasPublicIp(props(resource).NetworkInterfaces)) {
        p.add('VPC', `${id}: public IPv4 address`, '1', p.hourly(p.prices.publicIpv4PerHour));
      }
    }
  }
}

function priceDatabases(p: Pricer, templates: readonly Template[], awakeHours: number): void {
  const share = awakeHours / p.prices.hoursPerMonth;
  for (const { id, resource } of resourcesOf(templates)) {
    if (resource.Type !== 'AWS::RDS::DBInstance') continue;
    const instanceClass = literal(props(resource).DBInstanceClass);
    if (!instanceClass) continue;
    const copies = props(resource).MultiAZ === true ? 2 : 1;
    const name = literal(props(resource).DBInstanceIdentifier) ?? id;
    const az = copies === 2 ? 'Multi-AZ' : 'Single-AZ';
    p.add(
      'RDS',
      `${name}: ${instanceClass} ${az}`,
      `${copies} × ${Math.round(awakeHours)} h`,
      share * copies * p.hourly(p.rdsHourly(instanceClass)),
    );
    const gb = Number(literal(props(resource).AllocatedStorage) ?? props(resource).AllocatedStorage ?? 0);
    p.add('RDS', `${name}: gp3 storage`, `${copies} × ${gb} GB`, copies * gb * p.prices.rdsGp3PerGbMonth);
  }
}

function priceNetwork(p: Pricer, templates: readonly Template[], env: string): void {
  const a = p.assumptions;
  for (const { id, resource } of resourcesOf(templates)) {
    const pr = props(resource);
    switch (resource.Type) {
      case 'AWS::ElasticLoadBalancingV2::LoadBalancer': {
        const name = literal(pr.Name) ?? id;
        p.add('ELB', `${name}: Application Load Balancer`, '730 h', p.hourly(p.prices.albPerHour));
        const lcu = forEnv(a.albAverageLcu, env);
        p.add('ELB', `${name}: LCU (assumed average)`, `${lcu} LCU`, lcu * p.hourly(p.prices.albLcuPerHour));
        if (pr.Scheme === 'internet-facing') {
          const subnets = Array.isArray(pr.Subnets) ? pr.Subnets.length : 0;
          p.add(
            'VPC',
            `${name}: public IPv4 addresses (one per AZ)`,
            `${subnets}`,
            subnets * p.hourly(p.prices.publicIpv4PerHour),
          );
        }
        break;
      }
      case 'AWS::EC2::NatGateway':
        p.add('VPC', `${id}: NAT gateway`, '730 h', p.hourly(p.prices.natGatewayPerHour));
        p.add(
          'VPC',
          `${id}: NAT data (assumed)`,
          `${a.natGatewayGbPerMonth} GB`,
          a.natGatewayGbPerMonth * p.prices.natGatewayPerGb,
        );
        break;
      case 'AWS::EC2::EIP':
        p.add('VPC', `${id}: Elastic IP (public IPv4)`, '1', p.hourly(p.prices.publicIpv4PerHour));
        break;
      case 'AWS::EC2::VPCEndpoint': {
        if (pr.VpcEndpointType !== 'Interface') break;
        const azs = Array.isArray(pr.SubnetIds) ? pr.SubnetIds.length : 1;
        p.add(
          'VPC',
          `${id}: interface endpoint`,
          `${azs} AZ × 730 h`,
          azs * p.hourly(p.prices.interfaceEndpointPerAzHour),
        );
        break;
      }
      case 'AWS::WAFv2::WebACL': {
        const rules = Array.isArray(pr.Rules) ? pr.Rules.length : 0;
        const requests = forEnv(a.wafMillionRequestsPerMonth, env);
        p.add(
          'WAF',
          `${literal(pr.Name) ?? id}: web ACL, ${rules} rules, ${requests} M requests (assumed)`,
          '1',
          p.prices.wafWebAclPerMonth +
            rules * p.prices.wafRulePerMonth +
            requests * p.prices.wafPerMillionRequests,
        );
        break;
      }
      default:
        break;
    }
  }
}

/** Resources with a flat monthly price, counted per type. */
const FLAT: readonly { type: string; service: string; item: string; price: (p: Prices) => number }[] = [
  { type: 'AWS::KMS::Key', service: 'KMS', item: 'customer managed keys', price: (p) => p.kmsKeyPerMonth },
  {
    type: 'AWS::SecretsManager::Secret',
    service: 'Secrets Manager',
    item: 'secrets',
    price: (p) => p.secretPerMonth,
  },
  {
    type: 'AWS::Route53::HostedZone',
    service: 'Route 53',
    item: 'hosted zones',
    price: (p) => p.hostedZonePerMonth,
  },
];

/**
 * Metrics an alarm is billed for: "your costs are based on your alarm's resolution setting and the
 * number of metrics that your alarm references" (CloudWatch user guide, alarm costs). A metric
 * math alarm pays for each metric it reads, not for its expressions.
 */
export function alarmMetrics(alarm: Record<string, unknown>): number {
  const metrics = alarm.Metrics as { MetricStat?: unknown }[] | undefined;
  return metrics ? metrics.filter((m) => m.MetricStat !== undefined).length : 1;
}

function priceFlat(p: Pricer, templates: readonly Template[]): void {
  const resources = resourcesOf(templates);
  for (const flat of FLAT) {
    const count = resources.filter((r) => r.resource.Type === flat.type).length;
    if (count > 0) p.add(flat.service, flat.item, `${count}`, count * flat.price(p.prices));
  }
  const alarms = resources.filter((r) => r.resource.Type === 'AWS::CloudWatch::Alarm');
  if (alarms.length > 0) {
    const metrics = alarms.reduce((sum, { resource }) => sum + alarmMetrics(props(resource)), 0);
    p.add(
      'CloudWatch',
      `standard alarms: ${alarms.length}, billed per metric they read`,
      `${metrics} alarm metrics`,
      metrics * p.prices.alarmPerMonth,
    );
  }
}

function priceLogs(p: Pricer, templates: readonly Template[], env: string): void {
  const groups = resourcesOf(templates).filter((r) => r.resource.Type === 'AWS::Logs::LogGroup').length;
  if (groups === 0) return;
  const gb = forEnv(p.assumptions.logsIngestionGbPerMonth, env);
  p.add(
    'CloudWatch Logs',
    `ingestion into ${groups} log groups (assumed)`,
    `${gb} GB`,
    gb * p.prices.logsIngestionPerGb,
  );
}

/** Minutes a CodeBuild project bills per month, from the assumptions (by logical ID). */
function buildMinutes(id: string, a: Assumptions): { minutes: number; basis: string } {
  if (/AppPipelineBuild/.test(id)) {
    return { minutes: a.appBuildsPerMonth * a.appBuildMinutes, basis: `${a.appBuildsPerMonth} app builds` };
  }
  for (const [key, perRun] of Object.entries(a.infraBuildMinutesPerRun)) {
    if (id.includes(key)) {
      return {
        minutes: a.infraRunsPerMonth * perRun,
        basis: `${a.infraRunsPerMonth} infra runs × ${perRun} min`,
      };
    }
  }
  return { minutes: 0, basis: 'not run on a schedule' };
}

/** The pipeline wakes its environment before deploying it (lib/constructs/app-pipeline.ts). */
function hasWakeAction(pipeline: Record<string, unknown>): boolean {
  const stages = (pipeline.Stages ?? []) as {
    Actions: { Name: string; ActionTypeId: { Provider: string } }[];
  }[];
  return stages.some((s) => s.Actions.some((x) => x.Name === 'Wake' && x.ActionTypeId.Provider === 'Lambda'));
}

function priceBuilds(p: Pricer, templates: readonly Template[], env: CostedEnvironment | undefined): void {
  const a = p.assumptions;
  for (const { id, resource } of resourcesOf(templates)) {
    const pr = props(resource);
    if (resource.Type === 'AWS::CodeBuild::Project') {
      const environment = pr.Environment as { Type: string; ComputeType: string };
      const { minutes, basis } = buildMinutes(id, a);
      if (minutes === 0) continue;
      const rate = p.codeBuildPerMinute(environment.Type, environment.ComputeType);
      p.add('CodeBuild', `${literal(pr.Name) ?? id} (${basis})`, `${minutes} min`, minutes * rate);
    }
    if (resource.Type === 'AWS::CodePipeline::Pipeline' && pr.PipelineType === 'V2') {
      const app = id.includes('AppPipeline');
      const runs = app ? a.appBuildsPerMonth : a.infraRunsPerMonth;
      const minutes = runs * (app ? a.appBuildMinutes + 5 : a.pipelineActionMinutesPerRun);
      p.add(
        'CodePipeline',
        `${literal(pr.Name) ?? id}: V2 action minutes (${runs} runs)`,
        `${minutes} min`,
        minutes * p.prices.codePipelineV2PerActionMinute,
      );
      // The Wake action of an environment with office hours (a Lambda invoke action): its
      // function costs nothing worth a line, its action minutes do.
      if (app && hasWakeAction(pr)) {
        const wake = runs * a.appWakeMinutesPerRun;
        p.add(
          'CodePipeline',
          `${literal(pr.Name) ?? id}: Wake action minutes (${runs} runs × ${a.appWakeMinutesPerRun} min, assumed)`,
          `${wake} min`,
          wake * p.prices.codePipelineV2PerActionMinute,
        );
      }
    }
  }
  if (env?.migrationTestEnabled) {
    const hours = a.infraRunsPerMonth * a.migrationTestDbHoursPerRun;
    p.add(
      'RDS',
      'migration test: temporary db.t4g.micro per infra run',
      `${a.infraRunsPerMonth} × ${a.migrationTestDbHoursPerRun} h`,
      hours * p.rdsHourly('db.t4g.micro'),
    );
  }
}

function priceRepository(p: Pricer, templates: readonly Template[], env: CostedEnvironment): void {
  const repositories = resourcesOf(templates).filter((r) => r.resource.Type === 'AWS::ECR::Repository');
  for (const { id, resource } of repositories) {
    const gb = env.ecrMaxImageCount * p.assumptions.imageSizeGb;
    p.add(
      'ECR',
      `${literal(props(resource).RepositoryName) ?? id}: ${env.ecrMaxImageCount} images × ${p.assumptions.imageSizeGb} GB (assumed)`,
      `${gb} GB`,
      gb * p.prices.ecrStoragePerGbMonth,
    );
  }
}

export interface Estimate {
  readonly lines: readonly LineItem[];
  readonly totalUsd: number;
}

function total(lines: readonly LineItem[]): number {
  return round2(lines.reduce((sum, line) => sum + line.monthlyUsd, 0));
}

/** The monthly cost of one environment's stage (its four stacks). */
export function estimateEnvironment(
  templates: readonly Template[],
  env: CostedEnvironment,
  prices: Prices,
  assumptions: Assumptions,
): Estimate {
  const p = new Pricer(prices, assumptions);
  const awake = env.awakeHoursPerMonth ?? prices.hoursPerMonth;
  priceInstances(p, templates, awake);
  priceDatabases(p, templates, env.databaseAwakeHoursPerMonth ?? awake);
  priceNetwork(p, templates, env.name);
  priceFlat(p, templates);
  priceLogs(p, templates, env.name);
  priceRepository(p, templates, env);
  priceBuilds(p, templates, env);
  return { lines: p.lines, totalUsd: total(p.lines) };
}

/** The monthly cost of the infrastructure pipeline's stack. */
export function estimatePipeline(
  templates: readonly Template[],
  prices: Prices,
  assumptions: Assumptions,
): Estimate {
  const p = new Pricer(prices, assumptions);
  priceFlat(p, templates);
  priceLogs(p, templates, 'pipeline');
  priceBuilds(p, templates, undefined);
  return { lines: p.lines, totalUsd: total(p.lines) };
}
