/**
 * The lead time from a push to the prod approval prompt, derived from the synthesized
 * infrastructure pipeline: its stages in order, each stage's actions grouped by run order (a
 * group waits for the previous one; its actions run in parallel), each action given its expected
 * minutes from {@link ESTIMATES}. The critical path is the longest action of each group, up to and
 * including the group that holds the prod approval.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import * as path from 'node:path';

interface Action {
  readonly Name: string;
  readonly RunOrder?: number;
  readonly ActionTypeId: { readonly Category: string; readonly Provider: string };
  readonly Configuration?: Record<string, unknown>;
}
interface PipelineStage {
  readonly Name: string;
  readonly Actions: readonly Action[];
}

/** Expected minutes of an action; `npm ci` in its buildspec adds {@link NPM_CI}. */
export interface Estimate {
  readonly match: RegExp;
  readonly minutes: number;
  readonly why: string;
}

/** One migration test build: queue, snapshot restore (~25 min), migrations, inspection. */
export const MIGRATION_TEST_MINUTES = 35;

/**
 * Waking a sleeping environment (office hours): the database starts (~8 min from stopped) while
 * the instances boot, then the instances wait for it, pass their health checks and are deployed
 * by CodeDeploy's launch hook (lib/pipeline/wake-step.ts).
 */
export const WAKE_ASLEEP_MINUTES = 15;

/** Expected minutes, first match wins (measured orders of magnitude, not promises). */
export const ESTIMATES: readonly Estimate[] = [
  { match: /^GitHub$/, minutes: 1, why: 'source download' },
  { match: /^Synth$/, minutes: 14, why: 'npm run ci: lint, types, tests, synth, cdk-nag, cfn-lint (MEDIUM)' },
  { match: /^SelfMutate$/, minutes: 4, why: 'cdk deploy of the pipeline stack' },
  { match: /^FileAssets?\d*$/, minutes: 3, why: 'cdk-assets publish' },
  { match: /\.Prepare$/, minutes: 1, why: 'change set creation' },
  { match: /-data\.Deploy$/, minutes: 8, why: 'data stack change set (RDS changes take longer)' },
  {
    match: /-compute\.Deploy$/,
    minutes: 8,
    why: 'compute stack (rolling instance replacement when its launch template changes)',
  },
  { match: /\.Deploy$/, minutes: 3, why: 'stack change set execution' },
  { match: /-SmokeTest$/, minutes: 2, why: 'health URL, first attempt usually passes' },
  {
    match: /-Wake$/,
    minutes: 1,
    why: `office hours: the environment is awake, two describe calls (asleep: ${WAKE_ASLEEP_MINUTES} min, see WAKE_ASLEEP_MINUTES)`,
  },
  { match: /-MigrationTestStart$/, minutes: 1, why: 'StartBuild of the migration test (it runs on its own)' },
  {
    match: /-MigrationTest$/,
    minutes: MIGRATION_TEST_MINUTES,
    why: 'snapshot restore (~25 min), migrations, inspection; started earlier: what remains of it',
  },
  {
    match: /-Review$/,
    minutes: 6,
    why: 'cdk diff --security-only, then a change set per prod stack (create, describe, delete)',
  },
  { match: /-TerminationProtection$/, minutes: 1, why: 'four UpdateTerminationProtection calls' },
  { match: /-Approve$/, minutes: 0, why: 'the prompt (the path ends here)' },
];

/** `npm ci` of this repository in a fresh CodeBuild container, without and with a warm npm cache. */
export const NPM_CI = { uncached: 2, cached: 1 } as const;

export interface PathStep {
  readonly stage: string;
  readonly runOrder: number;
  /** The longest action of the group (the one on the path). */
  readonly action: string;
  /** Every action of the group, in parallel. */
  readonly parallel: readonly string[];
  readonly minutes: number;
  readonly cumulative: number;
}

function projectOf(template: Record<string, unknown>, action: Action): Record<string, unknown> | undefined {
  const ref = JSON.stringify(action.Configuration?.ProjectName ?? '');
  const resources = template.Resources as Record<
    string,
    { Type: string; Properties: Record<string, unknown> }
  >;
  const id = Object.keys(resources).find(
    (key) => resources[key].Type === 'AWS::CodeBuild::Project' && ref.includes(`"${key}"`),
  );
  return id ? resources[id].Properties : undefined;
}

/** Which case the path is estimated for. */
export interface PathOptions {
  /**
   * The push comes outside office hours: a sleeping environment's `-Wake` step starts it.
   * @default false (a push during office hours: the environments are awake)
   */
  readonly asleep?: boolean;
}

/** Expected minutes of one action of the pipeline template. */
export function actionMinutes(
  template: Record<string, unknown>,
  action: Action,
  options: PathOptions = {},
): number {
  const found = ESTIMATES.find((e) => e.match.test(action.Name));
  if (!found) throw new Error(`no estimate for pipeline action ${action.Name}: add one to ESTIMATES`);
  const estimate =
    options.asleep && action.Name.endsWith('-Wake') ? { ...found, minutes: WAKE_ASLEEP_MINUTES } : found;
  const project = action.ActionTypeId.Provider === 'CodeBuild' ? projectOf(template, action) : undefined;
  if (!project || !JSON.stringify(project.Source).includes('npm ci')) return estimate.minutes;
  const cache = project.Cache as { Type?: string; Modes?: string[] } | undefined;
  const cached = cache?.Type === 'LOCAL' && (cache.Modes ?? []).includes('LOCAL_CUSTOM_CACHE');
  return estimate.minutes + (cached ? NPM_CI.cached : NPM_CI.uncached);
}

/** The critical path to the approval named `approval` (default: the last `-Approve` action). */
export function criticalPath(
  template: Record<string, unknown>,
  approval?: string,
  options: PathOptions = {},
): PathStep[] {
  const resources = template.Resources as Record<
    string,
    { Type: string; Properties: Record<string, unknown> }
  >;
  const pipeline = Object.values(resources).find((r) => r.Type === 'AWS::CodePipeline::Pipeline');
  if (!pipeline) throw new Error('no AWS::CodePipeline::Pipeline in the template');
  const stages = pipeline.Properties.Stages as PipelineStage[];
  const approvals = stages.flatMap((s) => s.Actions.filter((a) => a.ActionTypeId.Category === 'Approval'));
  const target = approval ?? approvals.at(-1)?.Name;
  if (!target) throw new Error('the pipeline has no approval');
  const steps: PathStep[] = [];
  /** When each `…-MigrationTestStart` action ended: its build runs from then on, on its own. */
  const started = new Map<string, number>();
  let cumulative = 0;
  for (const stage of stages) {
    const orders = [...new Set(stage.Actions.map((a) => a.RunOrder ?? 1))].sort((a, b) => a - b);
    for (const runOrder of orders) {
      const group = stage.Actions.filter((a) => (a.RunOrder ?? 1) === runOrder);
      const timed = group.map((a) => {
        const minutes = actionMinutes(template, a, options);
        const startedAt = started.get(`${a.Name}Start`);
        // Waiting for a build started earlier: what remains of it (at least one minute).
        if (startedAt === undefined) return { name: a.Name, minutes };
        const remaining = Math.max(1, startedAt + MIGRATION_TEST_MINUTES - cumulative);
        return { name: a.Name, minutes: minutes - MIGRATION_TEST_MINUTES + remaining };
      });
      const longest = timed.reduce((a, b) => (b.minutes > a.minutes ? b : a));
      // A test runs from when its start action ended, not from when the longest action next to
      // it (a wake step) did.
      for (const t of timed)
        if (t.name.endsWith('-MigrationTestStart')) started.set(t.name, cumulative + t.minutes);
      cumulative += longest.minutes;
      steps.push({
        stage: stage.Name,
        runOrder,
        action: longest.name,
        parallel: timed.map((t) => t.name),
        minutes: longest.minutes,
        cumulative,
      });
      if (group.some((a) => a.Name === target)) return steps;
    }
  }
  throw new Error(`no action ${target} in the pipeline`);
}

/** The infrastructure pipeline's template in a cloud assembly directory. */
export function pipelineTemplate(cdkOut: string): Record<string, unknown> {
  const file = readdirSync(cdkOut).find((f) => /pipeline\.template\.json$/.test(f));
  if (!file || !existsSync(path.join(cdkOut, file))) throw new Error(`no pipeline template in ${cdkOut}`);
  return JSON.parse(readFileSync(path.join(cdkOut, file), 'utf8')) as Record<string, unknown>;
}

/** The path as lines of text (what `npm run bench` prints). */
export function renderCriticalPath(steps: readonly PathStep[]): string[] {
  const lines = steps.map((s) => {
    const others = s.parallel.filter((a) => a !== s.action);
    return (
      `  ${String(s.cumulative).padStart(4)} min  ${`${s.stage} #${s.runOrder}`.padEnd(18)} ${s.action} (${s.minutes} min)` +
      (others.length > 0 ? `  ∥ ${others.join(', ')}` : '')
    );
  });
  const total = steps.at(-1)?.cumulative ?? 0;
  return [...lines, `  push → prod approval prompt: about ${total} minutes`];
}
