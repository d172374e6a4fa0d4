import { readFileSync } from 'node:fs';
import { App, CfnResource, Stack } from 'aws-cdk-lib';
import type { AwsSolutionsChecks, IApplyRule } from 'cdk-nag';
import { EvaluationRecorder, PACKS } from '../../lib/nag/plugin';

/**
 * What each rule of the installed cdk-nag packs means and which control it maps to, read from
 * the packs themselves: every rule is applied to every resource, so one probe resource makes a
 * pack hand over all its rules (id, `info`, `explanation`, level) without evaluating any of them.
 */

export interface RuleInfo {
  /** `<Pack>-<Rule>`, e.g. `NIST.800.53.R5-S3BucketVersioningEnabled`. */
  readonly id: string;
  /** One line: what a finding of the rule means (the pack's `info`, without its control list). */
  readonly meaning: string;
  /** Why the rule exists (the pack's `explanation`), whole. */
  readonly explanation: string;
  /** The control ids the pack maps the rule to (NIST, HIPAA, PCI); empty for AwsSolutions. */
  readonly controls: readonly string[];
  readonly level: string;
}

export interface PackCatalog {
  readonly pack: string;
  /** The framework the pack's controls belong to, e.g. `NIST SP 800-53 Rev. 5`. */
  readonly framework: string;
  readonly rules: ReadonlyMap<string, RuleInfo>;
}

/** The framework behind each pack's control ids. */
const FRAMEWORKS: Readonly<Record<string, string>> = {
  AwsSolutions: 'AWS Solutions best practices (no external control ids)',
  'NIST.800.53.R5': 'NIST SP 800-53 Rev. 5',
  'HIPAA.Security': 'HIPAA Security Rule (45 CFR 164)',
  'PCI.DSS.321': 'PCI DSS 3.2.1',
};

const CONTROL_SUFFIX = /\s*-\s*\(Control IDs?:\s*(.+)\)\.?\s*$/;

/** Splits a pack's `info` into the sentence and the control ids it ends with, if any. */
export function splitControls(info: string): { meaning: string; controls: string[] } {
  const match = CONTROL_SUFFIX.exec(info);
  if (!match) return { meaning: info.trim(), controls: [] };
  const meaning = info.substring(0, match.index).trim();
  return {
    meaning: /[.!?]$/.test(meaning) ? meaning : `${meaning}.`,
    controls: splitControlList(match[1]),
  };
}

/** `AC-4, AC-4(21), SC-7(3)` → three ids (commas inside parentheses are kept). */
function splitControlList(list: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of list) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      out.push(current.trim());
      current = '';
    } else current += ch;
  }
  if (current.trim() !== '') out.push(current.trim());
  // cdk-nag repeats an id now and then (NIST's `SI-1a.2`).
  return [...new Set(out)];
}

/** A concrete pack class of lib/nag (each of PACKS implements `name` and `checkResource`). */
type PackClass = new (recorder: EvaluationRecorder) => AwsSolutionsChecks;

function catalogOf(Base: PackClass): PackCatalog {
  const applied: IApplyRule[] = [];
  class Probe extends Base {
    protected override applyRule(params: IApplyRule): void {
      applied.push(params);
    }
  }
  const pack = new Probe(new EvaluationRecorder());
  const stack = new Stack(new App(), 'Probe');
  new CfnResource(stack, 'Resource', { type: 'AWS::CloudFormation::WaitConditionHandle' });
  pack.validateScope(stack);
  const name = pack.readPackName;
  const rules = new Map<string, RuleInfo>();
  for (const params of applied) {
    const id = `${name}-${params.ruleSuffixOverride ?? params.rule.name}`;
    const { meaning, controls } = splitControls(params.info);
    rules.set(id, { id, meaning, explanation: params.explanation.trim(), controls, level: params.level });
  }
  return { pack: name, framework: FRAMEWORKS[name] ?? name, rules };
}

let cached: Map<string, PackCatalog> | undefined;

/** Every pack the project can run (lib/nag), by pack name. */
export function ruleCatalog(): ReadonlyMap<string, PackCatalog> {
  if (!cached) {
    cached = new Map();
    for (const Base of Object.values(PACKS)) {
      const catalog = catalogOf(Base as PackClass);
      cached.set(catalog.pack, catalog);
    }
  }
  return cached;
}

/** The version of a package as installed (its package.json), e.g. cdk-nag `3.0.2`. */
export function installedVersion(pkg: string): string {
  const file = require.resolve(`${pkg}/package.json`);
  return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
}
