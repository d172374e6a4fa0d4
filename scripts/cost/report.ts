/**
 * `npm run cost [-- --env prod] [--markdown]`: the estimated monthly cost of each environment
 * and of the infrastructure pipeline, from the configuration and the synthesized templates
 * (synthesized in-process; no credentials, no cdk.out needed), with the delta of each roadmap
 * option not yet on. Prices: scripts/cost/prices.eu-central-1.json; usage assumptions:
 * scripts/cost/assumptions.json.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command, CommanderError } from 'commander';
import { App } from 'aws-cdk-lib';
import { buildApp, stageId } from '../../lib/app';
import { ConfigError, environmentNames, loadEnvironment } from '../../lib/config/load';
import { environments } from '../../lib/config/environments';
import type { EnvironmentConfig } from '../../lib/config/schema';
import {
  assumptionsSchema,
  estimateEnvironment,
  estimatePipeline,
  round2,
  pricesSchema,
  type Assumptions,
  type Estimate,
  type Prices,
  type Template,
} from './model';
import { optionDeltas, type OptionDelta } from './options';
import { cdkAppContext, projectPath } from '../../lib/config/project';
import { awakeHoursPerWeek } from '../../lib/constructs/office-hours';
import { awakeDays, DATABASE_LEAD_MINUTES } from '../../lib/util/office-hours-clock';

export function loadPrices(file = join(__dirname, 'prices.eu-central-1.json')): Prices {
  return pricesSchema.parse(JSON.parse(readFileSync(file, 'utf8')));
}

export function loadAssumptions(file = join(__dirname, 'assumptions.json')): Assumptions {
  return assumptionsSchema.parse(JSON.parse(readFileSync(file, 'utf8')));
}

export interface SynthesizedTemplates {
  readonly stages: Record<string, Template[]>;
  readonly pipeline: Template[];
}

/** Synthesizes the whole app into a temporary directory and returns its templates. */
export function synthesizeTemplates(): SynthesizedTemplates {
  const outdir = mkdtempSync(join(tmpdir(), 'orcha-cost-'));
  const previous = process.env.CDK_VALIDATION;
  // The report reads templates; CloudFormation validation is the synth's job, not this one's.
  process.env.CDK_VALIDATION = 'false';
  try {
    const app = new App({ outdir, context: cdkAppContext() });
    const built = buildApp(app);
    const assembly = app.synth();
    const stages: Record<string, Template[]> = {};
    for (const name of Object.keys(built.stages)) {
      stages[name] = assembly
        .getNestedAssembly(`assembly-${stageId(name)}`)
        .stacks.map((stack) => stack.template as Template);
    }
    const pipeline = assembly.stacks.map((stack) => stack.template as Template);
    return { stages, pipeline };
  } finally {
    if (previous === undefined) delete process.env.CDK_VALIDATION;
    else process.env.CDK_VALIDATION = previous;
    rmSync(outdir, { recursive: true, force: true });
  }
}

/** Root volume size of the application instances (launch template), GB. */
function appRootVolumeGb(templates: readonly Template[], prices: Prices): number {
  for (const template of templates) {
    for (const resource of Object.values(template.Resources ?? {})) {
      if (resource.Type !== 'AWS::EC2::LaunchTemplate') continue;
      const data = resource.Properties?.LaunchTemplateData as
        { BlockDeviceMappings?: { Ebs?: { VolumeSize?: number } }[] } | undefined;
      return data?.BlockDeviceMappings?.[0]?.Ebs?.VolumeSize ?? prices.ec2DefaultRootVolumeGb;
    }
  }
  return prices.ec2DefaultRootVolumeGb;
}

/** Hours a month the environment's instances run (its office hours, if any). */
export function awakeHoursPerMonth(config: EnvironmentConfig, prices: Prices): number {
  if (!config.officeHours.enabled) return prices.hoursPerMonth;
  return (awakeHoursPerWeek(config.officeHours) * prices.hoursPerMonth) / (7 * 24);
}

/** Hours a month its database runs: with office hours, it starts DATABASE_LEAD_MINUTES before the instances. */
export function databaseAwakeHoursPerMonth(config: EnvironmentConfig, prices: Prices): number {
  if (!config.officeHours.enabled) return prices.hoursPerMonth;
  const leadHoursPerWeek = (awakeDays(config.officeHours.days).length * DATABASE_LEAD_MINUTES) / 60;
  return awakeHoursPerMonth(config, prices) + (leadHoursPerWeek * prices.hoursPerMonth) / (7 * 24);
}

export interface EnvironmentCost extends Estimate {
  readonly name: string;
  readonly options: readonly OptionDelta[];
}

export interface CostReport {
  readonly prices: Prices;
  readonly assumptions: Assumptions;
  readonly environments: readonly EnvironmentCost[];
  readonly pipeline?: Estimate;
}

export function buildCostReport(
  templates: SynthesizedTemplates,
  configs: readonly EnvironmentConfig[],
  prices: Prices,
  assumptions: Assumptions,
  withPipeline: boolean,
): CostReport {
  const envs = configs.map((config): EnvironmentCost => {
    const stage = templates.stages[config.name] ?? [];
    const estimate = estimateEnvironment(
      stage,
      {
        name: config.name,
        availabilityZones: config.availabilityZones,
        ecrMaxImageCount: config.ecr.maxImageCount,
        migrationTestEnabled: config.migrationTest.enabled,
        awakeHoursPerMonth: awakeHoursPerMonth(config, prices),
        databaseAwakeHoursPerMonth: databaseAwakeHoursPerMonth(config, prices),
      },
      prices,
      assumptions,
    );
    return {
      name: config.name,
      ...estimate,
      options: optionDeltas(config, prices, assumptions, appRootVolumeGb(stage, prices)),
    };
  });
  return {
    prices,
    assumptions,
    environments: envs,
    pipeline: withPipeline ? estimatePipeline(templates.pipeline, prices, assumptions) : undefined,
  };
}

function usd(value: number): string {
  return `$${value.toFixed(2)}`;
}

function table(headers: string[], rows: string[][]): string[] {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]?.length ?? 0)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ')} |`;
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)];
}

export function renderText(report: CostReport): string {
  const out: string[] = [];
  const { prices } = report;
  out.push(
    `Estimated monthly cost (USD), ${prices.region}, list prices read ${prices.read}; source: see scripts/cost/prices.${prices.region}.json.`,
    'Usage assumptions (logs, requests, pipeline runs): scripts/cost/assumptions.json. Not included: S3 storage and requests, SQS/SNS requests, data transfer out, free-tier credits, tax.',
  );
  for (const env of report.environments) {
    out.push('', `== ${env.name}: ${usd(env.totalUsd)} / month`);
    out.push(
      ...table(
        ['service', 'item', 'quantity', 'per month'],
        env.lines.map((l) => [l.service, l.item, l.quantity, usd(l.monthlyUsd)]),
      ),
    );
    out.push('', `Roadmap options for ${env.name}:`);
    out.push(
      ...table(
        ['option', 'field', 'state', 'adds', 'original', 'basis'],
        env.options.map((o) => [
          o.option,
          o.field,
          o.on ? 'on' : 'off',
          o.on ? 'included' : usd(o.deltaUsd),
          usd(o.originalUsd),
          o.basis,
        ]),
      ),
    );
  }
  if (report.pipeline) {
    out.push('', `== infrastructure pipeline: ${usd(report.pipeline.totalUsd)} / month`);
    out.push(
      ...table(
        ['service', 'item', 'quantity', 'per month'],
        report.pipeline.lines.map((l) => [l.service, l.item, l.quantity, usd(l.monthlyUsd)]),
      ),
    );
  }
  out.push('', ...renderSummary(report));
  return `${out.join('\n')}\n`;
}

/** The table of totals the README shows. */
export function renderSummary(report: CostReport): string[] {
  const rows = report.environments.map((e) => [e.name, usd(e.totalUsd)]);
  if (report.pipeline) rows.push(['infrastructure pipeline', usd(report.pipeline.totalUsd)]);
  const sum = round2(
    report.environments.reduce((s, e) => s + e.totalUsd, 0) + (report.pipeline?.totalUsd ?? 0),
  );
  rows.push(['total', usd(sum)]);
  return table(['what', 'per month'], rows);
}

export const README_BEGIN = '<!-- cost:begin (generated by `npm run cost -- --update-readme`) -->';
export const README_END = '<!-- cost:end -->';

/** The README's cost section: totals per environment, then prod's options. */
export function renderReadmeSection(report: CostReport): string {
  const prod = report.environments.find((e) => e.name === 'prod');
  const lines = [
    README_BEGIN,
    '',
    `Estimated monthly cost, ${report.prices.region} list prices read ${report.prices.read} (usage assumptions in \`scripts/cost/assumptions.json\`):`,
    '',
    ...renderSummary(report),
  ];
  if (prod) {
    lines.push(
      '',
      'The original design\'s roadmap options in prod (what each adds; "on" options are in the total above):',
      '',
      ...table(
        ['option', 'field', 'prod', 'adds / month', 'original', 'when to turn it on'],
        prod.options.map((o) => [
          o.option,
          `\`${o.field}\``,
          o.on ? 'on' : 'off',
          o.on ? 'included' : usd(o.deltaUsd),
          usd(o.originalUsd),
          o.when,
        ]),
      ),
    );
  }
  lines.push('', README_END);
  return lines.join('\n');
}

/** Rewrites the README's cost section in place. */
export function updateReadme(report: CostReport, file = projectPath('README.md')): void {
  const readme = readFileSync(file, 'utf8');
  const start = readme.indexOf(README_BEGIN);
  const end = readme.indexOf(README_END);
  if (start < 0 || end < start) {
    throw new Error(`${file}: no cost section (${README_BEGIN} … ${README_END}) to update`);
  }
  writeFileSync(
    file,
    readme.slice(0, start) + renderReadmeSection(report) + readme.slice(end + README_END.length),
  );
}

export function main(
  argv: readonly string[],
  write: (text: string) => void = (t) => process.stdout.write(t),
): number {
  const program = new Command()
    .name('npm run cost --')
    .description('Estimated monthly cost of each environment and of the pipeline, offline.')
    .option('--env <name>', 'only this environment (and no pipeline)')
    .option('--update-readme', "rewrite README.md's cost section from the whole report")
    .exitOverride()
    .configureOutput({ writeOut: write, writeErr: (t) => process.stderr.write(t) });
  try {
    program.parse(argv, { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2;
    throw error;
  }
  const { env, updateReadme: update } = program.opts<{ env?: string; updateReadme?: boolean }>();
  if (update && env !== undefined) {
    process.stderr.write('--update-readme takes the whole report: drop --env\n');
    return 2;
  }
  try {
    const names = env !== undefined ? [env] : environmentNames(environments);
    const configs = names.map((name) => loadEnvironment(name));
    const report = buildCostReport(
      synthesizeTemplates(),
      configs,
      loadPrices(),
      loadAssumptions(),
      env === undefined,
    );
    if (update) {
      updateReadme(report);
      write('README.md: cost section updated\n');
      return 0;
    }
    write(renderText(report));
    return 0;
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      return 2;
    }
    throw error;
  }
}

if (require.main === module) {
  process.exitCode = main(process.argv.slice(2));
}
