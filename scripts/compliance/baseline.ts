import { z } from 'zod';
import type { PackMode } from '../../lib/nag/evaluation';

/**
 * The previous report's findings, committed in the repository (scripts/compliance/baseline.json)
 * and replaced only on purpose (`npm run compliance -- --update-baseline`). The report counts,
 * per pack, the findings of the baseline that are gone ("fixed since the previous report") and
 * the ones it did not have. A finding is `<finding id> @ <resource path>`; moving from open to
 * acknowledged is not a fix.
 */

export const BASELINE_FILE = 'scripts/compliance/baseline.json';

const keyList = z.array(z.string());

export const baselineSchema = z.strictObject({
  version: z.literal(1),
  /** The commit the baseline report was made from. */
  commit: z.string(),
  generatedAt: z.string(),
  packs: z.record(
    z.string(),
    z.strictObject({
      mode: z.enum(['enforce', 'report-only']),
      open: keyList,
      acknowledged: keyList,
    }),
  ),
});

export type Baseline = z.infer<typeof baselineSchema>;

export interface PackComparison {
  readonly pack: string;
  /** In the baseline (open or acknowledged), gone now. */
  readonly fixed: readonly string[];
  /** Not in the baseline, a finding now (open or acknowledged). */
  readonly added: readonly string[];
}

export interface BaselineComparison {
  readonly commit: string;
  readonly generatedAt: string;
  /** Packs present both in the baseline and in this report. */
  readonly packs: readonly PackComparison[];
  /** Packs of the baseline this report did not run: nothing can be said about them. */
  readonly notRun: readonly string[];
}

export function findingKey(f: { ruleId: string; resourcePath: string }): string {
  return `${f.ruleId} @ ${f.resourcePath}`;
}

/** Parses a baseline file's content; throws one line naming the problem. */
export function parseBaseline(text: string, file: string): Baseline {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new Error(`${file} is not JSON: ${(error as Error).message}`, { cause: error });
  }
  const parsed = baselineSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`${file}: ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  return parsed.data;
}

export function compareWithBaseline(
  baseline: Baseline,
  current: ReadonlyMap<string, { open: readonly string[]; acknowledged: readonly string[] }>,
): BaselineComparison {
  const packs: PackComparison[] = [];
  for (const [pack, now] of [...current.entries()]) {
    const before = baseline.packs[pack];
    if (!before) continue;
    const was = new Set([...before.open, ...before.acknowledged]);
    const is = new Set([...now.open, ...now.acknowledged]);
    packs.push({
      pack,
      fixed: [...was].filter((k) => !is.has(k)).sort(),
      added: [...is].filter((k) => !was.has(k)).sort(),
    });
  }
  return {
    commit: baseline.commit,
    generatedAt: baseline.generatedAt,
    packs,
    notRun: Object.keys(baseline.packs)
      .filter((p) => !current.has(p))
      .sort(),
  };
}

/** The baseline for a report: sorted, so that an update shows as a readable diff. */
export function baselineOf(
  commit: string,
  generatedAt: string,
  packs: ReadonlyMap<string, { mode: PackMode; open: readonly string[]; acknowledged: readonly string[] }>,
): Baseline {
  const out: Baseline['packs'] = {};
  for (const [pack, p] of [...packs.entries()].sort(([a], [b]) => a.localeCompare(b))) {
    out[pack] = { mode: p.mode, open: [...p.open].sort(), acknowledged: [...p.acknowledged].sort() };
  }
  return { version: 1, commit, generatedAt, packs: out };
}

export function serializeBaseline(baseline: Baseline): string {
  return `${JSON.stringify(baseline, undefined, 2)}\n`;
}
