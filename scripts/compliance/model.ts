import { z } from 'zod';
import { packEvaluationSchema, type PackEvaluation, type PackMode } from '../../lib/nag/evaluation';

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
  /** Template path relative to the cloud assembly root. */
  readonly templateFile: string;
  /** `aws://account/region` from the manifest, if any. */
  readonly awsEnvironment?: string;
  /** The parsed template. */
  readonly template: unknown;
}

export interface ComplianceInput {
  readonly validationReport: unknown;
  readonly stacks: readonly StackInput[];
  /** Parsed `nag-evaluation/*.json` files. */
  readonly evaluations: readonly unknown[];
  readonly generatedAt: string;
  /** Where the input came from (shown in the report). */
  readonly source: string;
}

export const TOP_LEVEL = '(top level)';
export const UNATTRIBUTED = '(unattributed)';
/** The pack whose evaluation must be present for a PASS. */
export const REQUIRED_PACK = 'AwsSolutions';

export interface Finding {
  readonly pack: string;
  readonly ruleId: string;
  readonly severity: string;
  readonly description: string;
  readonly resourcePath: string;
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
  /** Distinct rules checked over all stacks; undefined when the evaluation is unknown. */
  readonly rulesChecked: number | undefined;
  readonly open: number;
  readonly acknowledged: number;
}

export interface ComplianceModel {
  readonly status: 'PASS' | 'FAIL';
  readonly generatedAt: string;
  readonly source: string;
  readonly packs: readonly PackSummary[];
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

  const packNames = [...new Set([...modes.keys()])].sort((a, b) =>
    a === REQUIRED_PACK ? -1 : b === REQUIRED_PACK ? 1 : a.localeCompare(b),
  );
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

  const envNames = [...new Set(stacks.map((s) => s.input.environment))].sort((a, b) =>
    a === TOP_LEVEL ? 1 : b === TOP_LEVEL ? -1 : a.localeCompare(b),
  );
  const environments: EnvironmentResult[] = envNames.map((name) => ({
    name,
    stacks: stacks
      .filter((s) => s.input.environment === name)
      .sort((a, b) => a.input.stackPath.localeCompare(b.input.stackPath))
      .map((s) => buildStack(s, s.input.stackPath)),
  }));
  if ((open.get(undefined)?.length ?? 0) > 0 || (acked.get(undefined)?.length ?? 0) > 0) {
    environments.push({ name: UNATTRIBUTED, stacks: [buildStack(undefined, UNATTRIBUTED)] });
  }

  const allStackResults = environments.flatMap((e) => e.stacks);
  const allPackResults = allStackResults.flatMap((s) => s.packs);
  const packs: PackSummary[] = packNames.map((pack) => {
    const results = allPackResults.filter((p) => p.pack === pack);
    const evaluated = evaluations.some((e) => e.pack === pack);
    return {
      pack,
      mode: modes.get(pack) ?? 'enforce',
      rulesChecked: evaluated ? new Set(results.flatMap((r) => r.rulesChecked ?? [])).size : undefined,
      open: results.reduce((n, r) => n + r.open.length, 0),
      acknowledged: results.reduce((n, r) => n + r.acknowledged.length, 0),
    };
  });

  const openEnforced = packs.filter((p) => p.mode === 'enforce').reduce((n, p) => n + p.open, 0);
  const openAdvisory = packs.filter((p) => p.mode === 'report-only').reduce((n, p) => n + p.open, 0);
  return {
    status: openEnforced === 0 && problems.length === 0 ? 'PASS' : 'FAIL',
    generatedAt: input.generatedAt,
    source: input.source,
    packs,
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

function compareFindings(
  a: { ruleId: string; resourcePath: string },
  b: { ruleId: string; resourcePath: string },
) {
  return a.ruleId.localeCompare(b.ruleId) || a.resourcePath.localeCompare(b.resourcePath);
}
