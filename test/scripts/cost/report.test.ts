/**
 * The cost report (scripts/cost): line items read from the real synthesized templates, each
 * option's delta next to the original design's price, the README's table generated from it.
 */
import { readFileSync } from 'node:fs';
import { loadEnvironment } from '../../../lib/config/load';
import { alarmMetrics, estimateEnvironment, type LineItem, type Template } from '../../../scripts/cost/model';
import {
  buildCostReport,
  loadAssumptions,
  loadPrices,
  main,
  README_BEGIN,
  README_END,
  renderReadmeSection,
  renderText,
  synthesizeTemplates,
  type CostReport,
} from '../../../scripts/cost/report';
import { projectPath } from '../../../lib/config/project';

const prices = loadPrices();
const assumptions = loadAssumptions();
let report: CostReport;

beforeAll(() => {
  const configs = ['dev', 'staging', 'prod'].map((name) => loadEnvironment(name));
  report = buildCostReport(synthesizeTemplates(), configs, prices, assumptions, true);
});

function env(name: string) {
  const found = report.environments.find((e) => e.name === name);
  if (!found) throw new Error(`no ${name}`);
  return found;
}

function line(lines: readonly LineItem[], pattern: RegExp): LineItem {
  const found = lines.filter((l) => pattern.test(`${l.service} ${l.item}`));
  expect(found).toHaveLength(1);
  return found[0]!;
}

test('the price list says where and when its prices were read', () => {
  expect(prices.region).toBe('eu-central-1');
  expect(prices.read).toMatch(/^\d{4}-\d{2}-\d{2}$/);
  expect(prices.source).toMatch(/aws\.amazon\.com/);
  expect(renderText(report)).toContain(`list prices read ${prices.read}`);
});

test('prod: one line per billable resource, priced from the templates', () => {
  const { lines, totalUsd } = env('prod');
  const h = prices.hoursPerMonth;
  expect(line(lines, /^EC2 v1-orcha-asg: t4g.medium$/).monthlyUsd).toBeCloseTo(0.0384 * h, 2);
  expect(line(lines, /^RDS v1-orcha-db: db.t4g.medium Single-AZ$/).monthlyUsd).toBeCloseTo(0.072 * h, 2);
  expect(line(lines, /^RDS v1-orcha-db: gp3 storage$/).monthlyUsd).toBeCloseTo(30 * 0.133, 2);
  expect(line(lines, /^ELB v1-orcha-alb: Application Load Balancer$/).monthlyUsd).toBeCloseTo(0.027 * h, 2);
  expect(line(lines, /public IPv4 addresses \(one per AZ\)/).quantity).toBe('2');
  expect(line(lines, /^EC2 .*NatInstance.*: t4g.nano$/).monthlyUsd).toBeCloseTo(0.0048 * h, 2);
  expect(line(lines, /^Secrets Manager secrets$/).quantity).toBe('1');
  expect(line(lines, /^Route 53 hosted zones$/).quantity).toBe('1');
  expect(line(lines, /^CloudWatch standard alarms: \d+, billed per metric/).quantity).toMatch(
    /^\d+ alarm metrics$/,
  );
  expect(line(lines, /migration test: temporary db.t4g.micro/).monthlyUsd).toBeGreaterThan(0);
  // The total is the sum of its lines, and in the range the original design implies.
  expect(totalUsd).toBeCloseTo(
    lines.reduce((s, l) => s + l.monthlyUsd, 0),
    2,
  );
  expect(totalUsd).toBeGreaterThan(120);
  expect(totalUsd).toBeLessThan(200);
});

test('staging and dev are priced with their own, smaller sizes and no migration test', () => {
  for (const name of ['staging', 'dev']) {
    const { lines, totalUsd } = env(name);
    expect(line(lines, /^EC2 .*asg: t4g.small$/)).toBeDefined();
    expect(line(lines, /^RDS .*db: db.t4g.micro Single-AZ$/)).toBeDefined();
    expect(lines.some((l) => /migration test/.test(l.item))).toBe(false);
    expect(totalUsd).toBeLessThan(env('prod').totalUsd);
  }
});

test('the pipeline: build minutes and action minutes at the stated number of runs', () => {
  const pipeline = report.pipeline!;
  const synth = line(pipeline.lines, /^CodeBuild .*Synth/);
  expect(synth.item).toContain(`${assumptions.infraRunsPerMonth} infra runs`);
  expect(line(pipeline.lines, /^CodePipeline /).item).toContain(`(${assumptions.infraRunsPerMonth} runs)`);
  expect(pipeline.totalUsd).toBeGreaterThan(5);
  // The wake step of staging (office hours) runs on every infrastructure run too.
  expect(line(pipeline.lines, /^CodeBuild .*StagingWake/).quantity).toBe(
    `${assumptions.infraRunsPerMonth * assumptions.infraBuildMinutesPerRun.Wake!} min`,
  );
});

/**
 * Each option's delta next to the original design's table. The tolerance is what region,
 * date and the design explain: HA adds the instance's public IPv4 (charged since 2024,
 * $3.65), the NAT gateway replaces the NAT instance and the instances' public IPv4
 * addresses, WAF's request volume is an assumption, ECR's image size too.
 */
test.each([
  ['S3 gateway endpoint', 0, 0],
  ['ECR retention 10', 1, 1],
  ['WAF', 15, 5],
  ['High availability (2 instances)', 30, 5],
  ['NAT gateway', 38, 8],
  ['RDS Multi-AZ', 60, 5],
])('prod option %s: within $%d ± %d of the original', (name, original, tolerance) => {
  const option = env('prod').options.find((o) => o.option === name)!;
  expect(option.originalUsd).toBe(original);
  const delta = option.on ? 0 : option.deltaUsd;
  if (!option.on) expect(Math.abs(delta - original)).toBeLessThanOrEqual(tolerance);
});

test('VPC interface endpoints: the original priced 7 endpoints, 9 are built (SQS, STS); per endpoint within $0.50', () => {
  const option = env('prod').options.find((o) => o.option === 'VPC interface endpoints')!;
  expect(option.originalUsd).toBe(122);
  expect(option.basis).toMatch(/^9 endpoints × 2 AZs/);
  expect(Math.abs(option.deltaUsd / 9 - 122 / 7)).toBeLessThan(0.5);
});

test('office hours: staging costs at most 35 % of prod; its instances and database bill their awake hours only', () => {
  const staging = env('staging');
  expect(staging.totalUsd / env('prod').totalUsd).toBeLessThanOrEqual(0.35);
  // MON-FRI 07:00-20:00: 65 h a week of 168.
  const awake = (65 / 168) * prices.hoursPerMonth;
  expect(line(staging.lines, /^EC2 .*asg: t4g.small$/).monthlyUsd).toBeCloseTo(awake * 0.0192, 2);
  // The database starts 20 minutes before the instances on each of the 5 wake days.
  const databaseAwake = ((65 + (5 * 20) / 60) / 168) * prices.hoursPerMonth;
  expect(line(staging.lines, /^RDS .*db: db.t4g.micro Single-AZ$/).monthlyUsd).toBeCloseTo(
    databaseAwake * 0.018,
    2,
  );
  // A day-long instance keeps 20 GiB.
  expect(line(staging.lines, /^EBS .*asg: root volumes gp3$/).quantity).toBe('1 × 20 GB × 282 h');
  // Storage and the load balancer run on.
  expect(line(staging.lines, /^RDS .*db: gp3 storage$/).monthlyUsd).toBeCloseTo(20 * 0.133, 2);
  expect(line(staging.lines, /Application Load Balancer$/).monthlyUsd).toBeCloseTo(
    0.027 * prices.hoursPerMonth,
    2,
  );
});

test('alarms are billed per metric they read: the gated "down" alarms of staging read two each', () => {
  // 11 alarms; alb-unhealthy, ec2-status-check and rds-no-connections also read the group's desired capacity.
  expect(line(env('staging').lines, /^CloudWatch standard alarms/)).toMatchObject({
    item: 'standard alarms: 11, billed per metric they read',
    quantity: '14 alarm metrics',
  });
  expect(line(env('prod').lines, /^CloudWatch standard alarms/).quantity).toBe('13 alarm metrics');
  expect(alarmMetrics({ MetricName: 'CPUUtilization' })).toBe(1);
  expect(
    alarmMetrics({
      Metrics: [
        { Id: 'e', Expression: 'IF(d > 0, m, 1)' },
        { Id: 'm', MetricStat: {} },
        { Id: 'd', MetricStat: {} },
      ],
    }),
  ).toBe(2);
});

test("the application pipeline's Wake action is priced where it exists (environments with office hours)", () => {
  const wake = line(env('staging').lines, /^CodePipeline .*Wake action minutes/);
  expect(wake.quantity).toBe(`${assumptions.appBuildsPerMonth * assumptions.appWakeMinutesPerRun} min`);
  expect(env('prod').lines.some((l) => /Wake action/.test(l.item))).toBe(false);
});

test('an option that is on is part of the estimate, not a delta', () => {
  const s3 = env('prod').options.find((o) => o.field === 'network.s3GatewayEndpoint')!;
  expect(s3.on).toBe(true);
  expect(s3.deltaUsd).toBe(0);
});

test('a resource without a price fails with one message naming it', () => {
  const template: Template = {
    Resources: {
      Db: {
        Type: 'AWS::RDS::DBInstance',
        Properties: { DBInstanceClass: 'db.x9.huge', AllocatedStorage: '20' },
      },
    },
  };
  expect(() =>
    estimateEnvironment(
      [template],
      { name: 'dev', availabilityZones: ['a', 'b'], ecrMaxImageCount: 5, migrationTestEnabled: false },
      prices,
      assumptions,
    ),
  ).toThrow('prices: no RDS PostgreSQL price for db.x9.huge; add it to the price list');
});

test('the README shows the table that `npm run cost -- --update-readme` writes', () => {
  const readme = readFileSync(projectPath('README.md'), 'utf8');
  const start = readme.indexOf(README_BEGIN);
  const end = readme.indexOf(README_END);
  expect(start).toBeGreaterThan(-1);
  const current = readme.slice(start, end + README_END.length);
  if (current !== renderReadmeSection(report)) {
    throw new Error('README.md cost table is out of date: run `npm run cost -- --update-readme`');
  }
});

describe('command line', () => {
  let stderr: jest.SpyInstance;
  beforeEach(() => {
    stderr = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
  });
  afterEach(() => stderr.mockRestore());

  test('an unknown environment: one line, exit 2', () => {
    const out: string[] = [];
    expect(main(['--env', 'qa'], (t) => void out.push(t))).toBe(2);
    expect(stderr).toHaveBeenCalledTimes(1);
    expect(String(stderr.mock.calls[0]?.[0])).toMatch(/env = "qa": unknown environment/);
    expect(out).toEqual([]);
  });

  test('--help works offline', () => {
    const out: string[] = [];
    expect(main(['--help'], (t) => void out.push(t))).toBe(0);
    expect(out.join('')).toContain('--env <name>');
  });
});
