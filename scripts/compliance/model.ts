import { z } from 'zod';
import { packEvaluationSchema, type PackEvaluation, type PackMode } from '../../lib/nag/evaluation';
import {
  baselineOf,
  compareWithBaseline,
  findingKey,
  type Baseline,
  type BaselineComparison,
} from './baseline';
import type { PackCatalog, RuleInfo } from './catalog';

/**
 * The compliance model: pure functions from the parsed synth output (validation report,
 * stack templates, cdk-nag evaluation files) to per-environment, per-stack results.
 */

const violatingConstructSchema = z.object({ constructPath: z.string() });

const violationSchema = z.object({
  ruleName: z.string(),
  description: z.string().default(''),
  severity: z.string().optional(),
  customSeverity: z.string().optional(),
  ruleMetadata: z.record(z.string(), z.string()).optional(),
  violatingConstructs: z.array(violatingConstructSchema),
});

const suppressedViolationSchema = violationSchema.extend({
  acknowledgedId: z.string().optional(),
  reason: z.string().optional(),
  acknowledgedAt: z.string().optional(),
});

export const validationReportSchema = z.object({
  version: z.string().optional(),
  title: z.string().optional(),
  pluginReports: z.array(
    z.object({
      pluginName: z.string(),
      pluginVersion: z.string().optional(),
      conclusion: z.enum(['success', 'failure']),
      metadata: z.record(z.string(), z.string()).optional(),
      violations: z.array(violationSchema),
      suppressedViolations: z.array(suppressedViolationSchema).optional(),
    }),
  ),
});

export type ValidationReport = z.infer<typeof validationReportSchema>;

/** One stack of the cloud assembly, as found through the manifests. */
export interface StackInput {
  /** The Stage the stack belongs to (`Dev` for `assembly-Dev`), or {@link TOP_LEVEL} for the App's own stacks. */
  readonly environment: string;
  /** The stack's construct path (manifest displayName), e.g. `Dev/Data`. */
  readonly stackPath: string;
  /** The CloudFormation stack name (manifest `stackName`), e.g. `v1-orcha-data`. */
  readonly stackName?: string;
  /** Template path relative to the cloud assembly root. */
  readonly templateFile: string;
  /** `aws://account/region` from the manifest, if any. */
  readonly awsEnvironment?: string;
  /** The parsed template. */
  readonly template: unknown;
}

/** What was audited, beyond the synth output itself. */
export interface AuditInfo {
  /** The git commit of the audited code, e.g. `a3c3b19…`, or a sentence saying why it is unknown. */
  readonly commit: string;
  /** True when the working tree had uncommitted changes. */
  readonly uncommittedChanges: boolean;
  /** Tool versions as installed, e.g. `{ 'cdk-nag': '3.0.2', 'aws-cdk-lib': '2.276.0' }`. */
  readonly tools: Readonly<Record<string, string>>;
}

export interface ComplianceInput {
  readonly validationReport: unknown;
  readonly stacks: readonly StackInput[];
  /** Parsed `nag-evaluation/*.json` files. */
  readonly evaluations: readonly unknown[];
  readonly generatedAt: string;
  /** Where the input came from (shown in the report). */
  readonly source: string;
  /** @default - commit unknown, no tool versions */
  readonly audit?: AuditInfo;
  /**
   * Environments (Stage ids) in the order the report shows them, e.g. `['Prod', 'Staging', 'Dev']`;
   * others follow alphabetically, the top-level stacks last.
   * @default - alphabetical
   */
  readonly environmentOrder?: readonly string[];
  /** What each rule means and the controls it maps to, by pack name (see ./catalog.ts). @default - none */
  readonly catalog?: ReadonlyMap<string, PackCatalog>;
  /** The previous report's findings, for "fixed since the previous report". @default - none */
  readonly baseline?: Baseline;
}

export const TOP_LEVEL = '(top level)';
export const UNATTRIBUTED = '(unattributed)';
/** The pack whose evaluation must be present for a PASS. */
export const REQUIRED_PACK = 'AwsSolutions';

export interface Finding {
  readonly pack: string;
  /** The finding id, e.g. `AwsSolutions-IAM5[Action::s3:*]`. */
  readonly ruleId: string;
  readonly severity: string;
  /** The whole description cdk-nag reported. */
  readonly description: string;
  readonly resourcePath: string;
}

/** One rule of a pack as the report explains it. */
export interface RuleSummary {
  readonly pack: string;
  /** `<Pack>-<Rule>`, without finding suffix. */
  readonly id: string;
  /** One line, never cut: the pack's own sentence (or the reported description when the rule is unknown). */
  readonly meaning: string;
  readonly explanation: string;
  /** Control ids of the framework; empty when the pack maps to none (AwsSolutions). */
  readonly controls: readonly string[];
  /** True when the rule applied to at least one resource. */
  readonly checked: boolean;
  readonly open: number;
  readonly acknowledged: number;
}

export interface AcknowledgedFindingView {
  readonly pack: string;
  readonly ruleId: string;
  readonly resourcePath: string;
  readonly reason: string;
  readonly acknowledgedAt: string;
}

export interface DeclaredAcknowledgement {
  readonly id: string;
  readonly reason: string;
  /** Resources whose template Metadata carries it (`cdk_nag.rules_to_suppress`). */
  readonly resources: string[];
  /** True when the pack's evaluation is known and no finding of this stack matched it. */
  readonly unused: boolean;
}

export interface StackPackResult {
  readonly pack: string;
  readonly mode: PackMode;
  /** Rules that applied to at least one resource; undefined when the pack's evaluation is unknown. */
  readonly rulesChecked: readonly string[] | undefined;
  readonly open: readonly Finding[];
  readonly acknowledged: readonly AcknowledgedFindingView[];
}

export interface StackResult {
  readonly stackPath: string;
  readonly templateFile: string;
  readonly awsEnvironment: string | undefined;
  readonly resources: number;
  readonly packs: readonly StackPackResult[];
  readonly declaredAcknowledgements: readonly DeclaredAcknowledgement[];
}

export interface EnvironmentResult {
  readonly name: string;
  readonly stacks: readonly StackResult[];
}

export interface PackSummary {
  readonly pack: string;
  readonly mode: PackMode;
  /** The framework the pack's controls belong to. */
  readonly framework: string;
  /** Rules the pack has (from the catalog); undefined when the pack is not in the catalog. */
  readonly rulesInPack: number | undefined;
  /** Distinct rules checked over all stacks; undefined when the evaluation is unknown. */
  readonly rulesChecked: number | undefined;
  readonly open: number;
  readonly acknowledged: number;
  /** Findings of the baseline that are gone (neither open nor acknowledged); undefined without a baseline for the pack. */
  readonly fixed: number | undefined;
  /** Findings that the baseline did not have; undefined without a baseline for the pack. */
  readonly added: number | undefined;
}

export interface ComplianceModel {
  readonly status: 'PASS' | 'FAIL';
  /**
   * The status in words, naming what it covers: which packs are enforced and how many findings
   * of the report-only packs are open (a PASS never stands alone while those are open).
   */
  readonly headline: string;
  readonly generatedAt: string;
  readonly source: string;
  readonly audit: AuditInfo;
  readonly packs: readonly PackSummary[];
  /** Per pack, the rules that applied or have findings, sorted by id. */
  readonly rules: readonly RuleSummary[];
  /** Comparison with the previous report; undefined without a baseline. */
  readonly baseline: BaselineComparison | undefined;
  readonly environments: readonly EnvironmentResult[];
  /** Reasons for FAIL other than open findings (plugin errors, missing evaluation). */
  readonly problems: readonly string[];
  readonly totals: {
    readonly environments: number;
    readonly stacks: number;
    readonly resources: number;
    readonly openEnforced: number;
    readonly openAdvisory: number;
    readonly acknowledged: number;
    readonly unusedAcknowledgements: number;
  };
}

const templateSchema = z.object({
  Resources: z
    .record(
      z.string(),
      z.object({
        Type: z.string().optional(),
        Metadata: z
          .object({
            'aws:cdk:path': z.string().optional(),
            cdk_nag: z
              .object({ rules_to_suppress: z.array(z.object({ id: z.string(), reason: z.string() })) })
              .optional(),
          })
          .optional(),
      }),
    )
    .default({}),
});

interface ParsedStack {
  readonly input: StackInput;
  readonly resourcePaths: string[];
  readonly declared: Map<string, { id: string; reason: string; resources: string[] }>;
}

function parseStack(input: StackInput): ParsedStack {
  const parsed = templateSchema.safeParse(input.template);
  if (!parsed.success)
    throw new Error(`${input.templateFile} is not a CloudFormation template: ${parsed.error.message}`);
  const resourcePaths: string[] = [];
  const declared = new Map<string, { id: string; reason: string; resources: string[] }>();
  for (const [logicalId, resource] of Object.entries(parsed.data.Resources)) {
    const resourcePath = resource.Metadata?.['aws:cdk:path'] ?? `${input.stackPath}/${logicalId}`;
    resourcePaths.push(resourcePath);
    for (const rule of resource.Metadata?.cdk_nag?.rules_to_suppress ?? []) {
      const key = `${rule.id}\u0000${rule.reason}`;
      const entry = declared.get(key) ?? { id: rule.id, reason: rule.reason, resources: [] };
      entry.resources.push(resourcePath);
      declared.set(key, entry);
    }
  }
  return { input, resourcePaths, declared };
}

/** The rule of a finding id: `AwsSolutions-IAM5[Action::s3:*]` → `AwsSolutions-IAM5`. */
export function ruleOf(findingId: string): string {
  const bracket = findingId.indexOf('[');
  return bracket > 0 ? findingId.substring(0, bracket) : findingId;
}

/** cdk-nag rule ids are `<Pack>-<Rule>`; the pack name itself may contain dots but no dash. */
function packOf(ruleId: string): string {
  const dash = ruleId.indexOf('-');
  return dash > 0 ? ruleId.substring(0, dash) : ruleId;
}

function firstDefined<T>(...values: (T | undefined)[]): T | undefined {
  return values.find((v) => v !== undefined);
}

/** Builds the model. Throws on input that does not have the expected shape. */
export function buildComplianceModel(input: ComplianceInput): ComplianceModel {
  const report = validationReportSchema.parse(input.validationReport);
  const evaluations: PackEvaluation[] = input.evaluations.map((e) => packEvaluationSchema.parse(e));
  const stacks = input.stacks.map(parseStack);
  const problems: string[] = [];

  // Which stack a resource path belongs to: exact template match first, then longest stack prefix.
  const stackByResource = new Map<string, ParsedStack>();
  for (const s of stacks) for (const p of s.resourcePaths) stackByResource.set(p, s);
  const stackFor = (resourcePath: string): ParsedStack | undefined =>
    stackByResource.get(resourcePath) ??
    stacks
      .filter((s) => resourcePath.startsWith(`${s.input.stackPath}/`))
      .sort((a, b) => b.input.stackPath.length - a.input.stackPath.length)[0];

  const modes = new Map<string, PackMode>();
  for (const e of evaluations) modes.set(e.pack, e.mode);
  for (const r of report.pluginReports) {
    if (modes.has(r.pluginName)) continue;
    const reportOnly =
      r.metadata?.mode === 'report-only' ||
      r.violations.some((v) => v.ruleMetadata?.mode === 'report-only') ||
      r.conclusion === 'success';
    modes.set(r.pluginName, reportOnly ? 'report-only' : 'enforce');
  }

  const open = new Map<ParsedStack | undefined, Finding[]>();
  const acked = new Map<ParsedStack | undefined, AcknowledgedFindingView[]>();
  const push = <T>(map: Map<ParsedStack | undefined, T[]>, key: ParsedStack | undefined, value: T): void => {
    const list = map.get(key) ?? [];
    list.push(value);
    map.set(key, list);
  };

  for (const r of report.pluginReports) {
    if (r.conclusion === 'failure' && r.violations.length === 0) {
      problems.push(
        `Plugin ${r.pluginName} failed: ${r.metadata?.error ?? 'no violations and no error message'}`,
      );
    }
    for (const v of r.violations) {
      const severity = firstDefined(v.ruleMetadata?.packSeverity, v.customSeverity, v.severity) ?? 'unknown';
      for (const c of v.violatingConstructs) {
        push(open, stackFor(c.constructPath), {
          pack: r.pluginName,
          ruleId: v.ruleName,
          severity,
          description: v.description,
          resourcePath: c.constructPath,
        });
      }
    }
    // Acknowledgements the CDK itself applied (namespaced ids such as `Plugin::Rule`).
    for (const v of r.suppressedViolations ?? []) {
      for (const c of v.violatingConstructs) {
        push(acked, stackFor(c.constructPath), {
          pack: r.pluginName,
          ruleId: v.acknowledgedId ?? v.ruleName,
          resourcePath: c.constructPath,
          reason: v.reason ?? '',
          acknowledgedAt: v.acknowledgedAt ?? '',
        });
      }
    }
  }

  const evaluationByPackAndStack = new Map<string, PackEvaluation['stacks'][number]>();
  for (const e of evaluations) {
    for (const s of e.stacks) {
      evaluationByPackAndStack.set(`${e.pack}\u0000${s.stackPath}`, s);
      const parsedStack = stacks.find((p) => p.input.stackPath === s.stackPath);
      for (const a of s.acknowledged)
        push(acked, parsedStack ?? stackFor(a.resourcePath), { pack: e.pack, ...a });
    }
  }

  // The required pack first, then the other enforced packs, then the report-only ones.
  const packRank = (p: string) => (p === REQUIRED_PACK ? 0 : modes.get(p) === 'enforce' ? 1 : 2);
  const packNames = [...modes.keys()].sort((a, b) => packRank(a) - packRank(b) || a.localeCompare(b));
  if (!evaluations.some((e) => e.pack === REQUIRED_PACK)) {
    problems.push(
      `No ${REQUIRED_PACK} evaluation found (nag-evaluation/${REQUIRED_PACK}.json): cannot confirm that cdk-nag ran. Register it with registerNag() from lib/nag.`,
    );
  }

  const buildStack = (s: ParsedStack | undefined, stackPath: string): StackResult => {
    const stackOpen = open.get(s) ?? [];
    const stackAcked = acked.get(s) ?? [];
    const packs: StackPackResult[] = packNames.map((pack) => {
      const evaluation = evaluationByPackAndStack.get(`${pack}\u0000${stackPath}`);
      const evaluated = evaluations.some((e) => e.pack === pack);
      return {
        pack,
        mode: modes.get(pack) ?? 'enforce',
        rulesChecked: evaluation ? evaluation.rulesChecked : evaluated ? [] : undefined,
        open: stackOpen.filter((f) => f.pack === pack).sort(compareFindings),
        acknowledged: stackAcked.filter((f) => f.pack === pack).sort(compareFindings),
      };
    });
    const declaredAcknowledgements = [...(s?.declared.values() ?? [])]
      .map((d) => {
        const pack = packOf(d.id);
        const evaluated = evaluations.some((e) => e.pack === pack);
        const used = stackAcked.some((a) => a.ruleId === d.id);
        return { ...d, unused: evaluated && !used };
      })
      .sort((a, b) => a.id.localeCompare(b.id));
    return {
      stackPath,
      templateFile: s?.input.templateFile ?? '',
      awsEnvironment: s?.input.awsEnvironment,
      resources: s?.resourcePaths.length ?? 0,
      packs,
      declaredAcknowledgements,
    };
  };

  const order = input.environmentOrder ?? [];
  const rank = (name: string): number => {
    const i = order.indexOf(name);
    return name === TOP_LEVEL ? order.length + 1 : i >= 0 ? i : order.length;
  };
  const envNames = [...new Set(stacks.map((s) => s.input.environment))].sort(
    (a, b) => rank(a) - rank(b) || a.localeCompare(b),
  );
  // Stacks in the order of the cloud assembly's manifests: the order they deploy in.
  const environments: EnvironmentResult[] = envNames.map((name) => ({
    name,
    stacks: stacks.filter((s) => s.input.environment === name).map((s) => buildStack(s, s.input.stackPath)),
  }));
  if ((open.get(undefined)?.length ?? 0) > 0 || (acked.get(undefined)?.length ?? 0) > 0) {
    environments.push({ name: UNATTRIBUTED, stacks: [buildStack(undefined, UNATTRIBUTED)] });
  }

  const allStackResults = environments.flatMap((e) => e.stacks);
  const allPackResults = allStackResults.flatMap((s) => s.packs);
  const current = new Map<string, { open: string[]; acknowledged: string[] }>();
  for (const pack of packNames) {
    const results = allPackResults.filter((p) => p.pack === pack);
    current.set(pack, {
      open: results.flatMap((r) => r.open.map(findingKey)),
      acknowledged: results.flatMap((r) => r.acknowledged.map(findingKey)),
    });
  }
  const baseline = input.baseline ? compareWithBaseline(input.baseline, current) : undefined;
  const packs: PackSummary[] = packNames.map((pack) => {
    const results = allPackResults.filter((p) => p.pack === pack);
    const evaluated = evaluations.some((e) => e.pack === pack);
    const catalog = input.catalog?.get(pack);
    const diff = baseline?.packs.find((p) => p.pack === pack);
    return {
      pack,
      mode: modes.get(pack) ?? 'enforce',
      framework: catalog?.framework ?? pack,
      rulesInPack: catalog?.rules.size,
      rulesChecked: evaluated ? new Set(results.flatMap((r) => r.rulesChecked ?? [])).size : undefined,
      open: results.reduce((n, r) => n + r.open.length, 0),
      acknowledged: results.reduce((n, r) => n + r.acknowledged.length, 0),
      fixed: diff?.fixed.length,
      added: diff?.added.length,
    };
  });

  const openEnforced = packs.filter((p) => p.mode === 'enforce').reduce((n, p) => n + p.open, 0);
  const openAdvisory = packs.filter((p) => p.mode === 'report-only').reduce((n, p) => n + p.open, 0);
  const status = openEnforced === 0 && problems.length === 0 ? 'PASS' : 'FAIL';
  return {
    status,
    headline: headlineOf(status, packs, problems.length),
    generatedAt: input.generatedAt,
    source: input.source,
    audit: input.audit ?? { commit: 'unknown', uncommittedChanges: false, tools: {} },
    packs,
    rules: ruleSummaries(packNames, allPackResults, input.catalog),
    baseline,
    environments,
    problems,
    totals: {
      environments: environments.length,
      stacks: stacks.length,
      resources: stacks.reduce((n, s) => n + s.resourcePaths.length, 0),
      openEnforced,
      openAdvisory,
      acknowledged: packs.reduce((n, p) => n + p.acknowledged, 0),
      unusedAcknowledgements: allStackResults.reduce(
        (n, s) => n + s.declaredAcknowledgements.filter((d) => d.unused).length,
        0,
      ),
    },
  };
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function headlineOf(status: 'PASS' | 'FAIL', packs: readonly PackSummary[], problems: number): string {
  const enforced = packs.filter((p) => p.mode === 'enforce');
  const reportOnly = packs.filter((p) => p.mode === 'report-only');
  const openEnforced = enforced.reduce((n, p) => n + p.open, 0);
  const openReportOnly = reportOnly.reduce((n, p) => n + p.open, 0);
  const names = (list: readonly PackSummary[]) => list.map((p) => p.pack).join(', ') || 'none';
  const parts = [
    status === 'PASS'
      ? `no open finding in the enforced packs (${names(enforced)})`
      : `${plural(openEnforced, 'open finding')} in the enforced packs (${names(enforced)})` +
        (problems > 0 ? ` and ${plural(problems, 'problem')} (see Problems)` : ''),
  ];
  if (reportOnly.length > 0) {
    parts.push(
      openReportOnly > 0
        ? `${plural(openReportOnly, 'open finding')} in the report-only packs (${names(reportOnly)}), which do not fail the build and are listed as report only`
        : `no open finding in the report-only packs (${names(reportOnly)})`,
    );
  }
  return `${parts.join('; ')}.`;
}

function ruleSummaries(
  packNames: readonly string[],
  results: readonly StackPackResult[],
  catalog: ReadonlyMap<string, PackCatalog> | undefined,
): RuleSummary[] {
  const out: RuleSummary[] = [];
  for (const pack of packNames) {
    const mine = results.filter((r) => r.pack === pack);
    const checked = new Set(mine.flatMap((r) => r.rulesChecked ?? []));
    const open = mine.flatMap((r) => r.open);
    const acked = mine.flatMap((r) => r.acknowledged);
    const ids = new Set([
      ...checked,
      ...open.map((f) => ruleOf(f.ruleId)),
      ...acked.map((a) => ruleOf(a.ruleId)),
    ]);
    for (const id of [...ids].sort()) {
      const info: RuleInfo | undefined = catalog?.get(pack)?.rules.get(id);
      const reported = open.find((f) => ruleOf(f.ruleId) === id)?.description;
      out.push({
        pack,
        id,
        meaning: info?.meaning ?? reported ?? 'Not in the installed cdk-nag packs.',
        explanation: info?.explanation ?? '',
        controls: info?.controls ?? [],
        checked: checked.has(id),
        open: open.filter((f) => ruleOf(f.ruleId) === id).length,
        acknowledged: acked.filter((a) => ruleOf(a.ruleId) === id).length,
      });
    }
  }
  return out;
}

function compareFindings(
  a: { ruleId: string; resourcePath: string },
  b: { ruleId: string; resourcePath: string },
) {
  return a.ruleId.localeCompare(b.ruleId) || a.resourcePath.localeCompare(b.resourcePath);
}

/** The baseline file content for this report (see ./baseline.ts). */
export function baselineFromModel(model: ComplianceModel): Baseline {
  const packs = new Map<string, { mode: PackMode; open: string[]; acknowledged: string[] }>();
  for (const summary of model.packs)
    packs.set(summary.pack, { mode: summary.mode, open: [], acknowledged: [] });
  for (const result of model.environments.flatMap((e) => e.stacks).flatMap((s) => s.packs)) {
    const entry = packs.get(result.pack);
    if (!entry) continue;
    entry.open.push(...result.open.map(findingKey));
    entry.acknowledged.push(...result.acknowledged.map(findingKey));
  }
  return baselineOf(model.audit.commit, model.generatedAt, packs);
}
