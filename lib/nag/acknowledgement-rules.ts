import * as fs from 'node:fs';

// Job: what an acceptable acknowledgement id and reason are (pure checks, no construct tree).

const GENERIC_PHRASES = [
  'not needed',
  'not required',
  'not necessary',
  'not applicable',
  'not relevant',
  'no need',
  'acceptable',
  'accepted',
  'suppressed',
  'suppress',
  'ignored',
  'ignore',
  'false positive',
  'known issue',
  'by design',
  'as designed',
  'intended',
  'expected',
  'fine',
  'ok',
  'okay',
  'n/a',
  'na',
  'will fix later',
  'fix later',
  'later',
  'temporary',
  'for now',
  'this is',
  'it is',
  'is',
  'and',
  'the',
  'for',
  'this',
  'rule',
  'finding',
  'warning',
  'error',
  'cdk-nag',
  'nag',
];
const PLACEHOLDER = /\b(todo|tbd|fixme|xxx|lorem|ipsum|asdf)\b/i;
/**
 * The minimum length of an acknowledgement's reason, in characters (white space folded): the one
 * place this number lives (acknowledge() enforces it; the tests read it). 80 is about one
 * sentence that names the compensating control and why it applies to this resource; every
 * reason in the app is longer (the shortest, 157), and 40 lets through one-liners such as
 * "Access is audited by CloudTrail." that a reviewer cannot check.
 */
export const MIN_REASON_LENGTH = 80;
const MIN_SUBSTANCE_LENGTH = 25;

const ID_PATTERN = /^AwsSolutions-([A-Z]+[0-9]+)(?:\[(.+)\])?$/;
/** The NIST 800-53 R5 pack's name, the prefix of its rule ids (`NIST.800.53.R5-IAMNoInlinePolicy`). */
export const NIST_PACK_NAME = 'NIST.800.53.R5';
const NIST_ID_PATTERN = /^NIST\.800\.53\.R5-([A-Za-z0-9]+)(?:\[(.+)\])?$/;

let knownRules: Set<string> | undefined;
let knownNistRules: Set<string> | undefined;

/** The rule ids of the installed AwsSolutions pack, read from its source (cdk-nag publishes no list). */
export function awsSolutionsRuleIds(): ReadonlySet<string> {
  if (!knownRules) {
    const source = fs.readFileSync(require.resolve('cdk-nag/lib/packs/aws-solutions.js'), 'utf8');
    const ids = [...source.matchAll(/ruleSuffixOverride:\s*'([A-Z]+[0-9]+)'/g)].map(
      (m) => `AwsSolutions-${m[1]}`,
    );
    if (ids.length === 0) {
      throw new Error('Could not read the AwsSolutions rule ids from the installed cdk-nag; update lib/nag');
    }
    knownRules = new Set(ids);
  }
  return knownRules;
}

/**
 * The rule ids of the installed NIST 800-53 R5 pack, read from its source: each rule is applied as
 * `rule: <module>.<RuleName>`, and cdk-nag names the finding after the rule function.
 */
export function nistRuleIds(): ReadonlySet<string> {
  if (!knownNistRules) {
    const source = fs.readFileSync(require.resolve('cdk-nag/lib/packs/nist-800-53-r5.js'), 'utf8');
    const ids = [...source.matchAll(/rule:\s*\w+\.([A-Za-z0-9]+)/g)].map((m) => `${NIST_PACK_NAME}-${m[1]}`);
    if (ids.length === 0) {
      throw new Error(
        'Could not read the NIST 800-53 R5 rule ids from the installed cdk-nag; update lib/nag',
      );
    }
    knownNistRules = new Set(ids);
  }
  return knownNistRules;
}

/** Throws if `id` is not exactly one NIST 800-53 R5 finding of the installed pack. */
function validateNistId(id: string, match: RegExpExecArray): void {
  const rule = `${NIST_PACK_NAME}-${match[1]}`;
  if (!nistRuleIds().has(rule)) {
    throw new Error(`Acknowledgement id '${id}': ${rule} is not a rule of the installed NIST 800-53 R5 pack`);
  }
  const finding = match[2];
  if (finding !== undefined && (/[[\]]/.test(finding) || /\s/.test(finding))) {
    throw new Error(`Acknowledgement id '${id}' must name exactly one finding in brackets`);
  }
}

/** Throws if `id` is not exactly one AwsSolutions or NIST 800-53 R5 finding in cdk-nag 3's syntax. */
export function validateAcknowledgementId(id: string): void {
  if (/^[A-Za-z][\w.-]*::/.test(id)) {
    throw new Error(
      `Acknowledgement id '${id}' has a plugin namespace; cdk-nag 3 only honours the bare id (e.g. 'AwsSolutions-S1')`,
    );
  }
  const nist = NIST_ID_PATTERN.exec(id);
  if (nist) {
    validateNistId(id, nist);
    return;
  }
  const match = ID_PATTERN.exec(id);
  if (!match) {
    throw new Error(
      `Acknowledgement id '${id}' must name exactly one rule: 'AwsSolutions-<RULE>', 'AwsSolutions-<RULE>[<finding>]' or 'NIST.800.53.R5-<Rule>'`,
    );
  }
  const rule = `AwsSolutions-${match[1]}`;
  const finding = match[2];
  if (!awsSolutionsRuleIds().has(rule)) {
    throw new Error(`Acknowledgement id '${id}': ${rule} is not a rule of the installed AwsSolutions pack`);
  }
  if (finding !== undefined && (/[[\]]/.test(finding) || /\s/.test(finding))) {
    throw new Error(`Acknowledgement id '${id}' must name exactly one finding in brackets`);
  }
  if (rule === 'AwsSolutions-IAM4' && !finding?.startsWith('Policy::')) {
    throw new Error(
      `AwsSolutions-IAM4 must name the managed policy, e.g. 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/AmazonSSMManagedInstanceCore]' (got '${id}')`,
    );
  }
  if (rule === 'AwsSolutions-IAM5' && !/^(Action|Resource)::./.test(finding ?? '')) {
    throw new Error(
      `AwsSolutions-IAM5 must name the wildcard, e.g. 'AwsSolutions-IAM5[Action::s3:*]' or 'AwsSolutions-IAM5[Resource::*]' (got '${id}')`,
    );
  }
}

/** Throws if `reason` does not explain why the finding is acceptable here. */
export function validateAcknowledgementReason(id: string, reason: string): void {
  const text = reason.trim().replace(/\s+/g, ' ');
  if (text.length < MIN_REASON_LENGTH) {
    throw new Error(
      `Reason for ${id} is too short (${text.length} < ${MIN_REASON_LENGTH} characters): say why the finding is acceptable here`,
    );
  }
  if (PLACEHOLDER.test(text)) throw new Error(`Reason for ${id} contains a placeholder: '${text}'`);
  let substance = ` ${text.toLowerCase().replace(/[^a-z0-9/:*.-]+/g, ' ')} `;
  substance = substance.replaceAll(id.toLowerCase(), ' ');
  for (const phrase of [...GENERIC_PHRASES].sort((a, b) => b.length - a.length)) {
    substance = substance.replaceAll(` ${phrase} `, '  ').replaceAll(` ${phrase} `, '  ');
  }
  const remaining = substance.replace(/\s+/g, ' ').trim();
  if (remaining.length < MIN_SUBSTANCE_LENGTH) {
    throw new Error(
      `Reason for ${id} is generic ('${text}'): name the compensating control or why the risk does not apply`,
    );
  }
}
