import * as fs from 'node:fs';
import * as path from 'node:path';
import { App, Aspects, Stack, Stage, Validations, type PolicyViolation } from 'aws-cdk-lib';
import { AwsSolutionsChecks, WriteNagSuppressionsToCloudFormationAspect } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { ConfigError } from '../config/load';
import { EVALUATION_DIR } from './evaluation';
import { NagPackPlugin } from './plugin';

export { EVALUATION_DIR, type AcknowledgedFinding, type PackEvaluation, type PackMode } from './evaluation';
export { NagPackPlugin } from './plugin';

/** Opt-in packs. They report (validation report, compliance report) but never fail the synth. */
export type ExtraPack = 'nist' | 'hipaa' | 'pci';
export const EXTRA_PACKS: readonly ExtraPack[] = ['nist', 'hipaa', 'pci'];

/** Context key of the extra-pack switch: `cdk synth -c compliancePacks=nist,hipaa,pci`. */
export const COMPLIANCE_PACKS_CONTEXT = 'compliancePacks';

export interface RegisterNagOptions {
  /** Extra packs to run in report-only mode (default: none). */
  readonly extraPacks?: readonly ExtraPack[];
}

/** One acknowledgement made through {@link acknowledge}. */
export interface AcknowledgementRecord {
  /** The finding, e.g. `AwsSolutions-IAM5[Action::s3:*]`. */
  readonly id: string;
  readonly reason: string;
  /** Construct path of the scope the acknowledgement was made on; it covers that subtree. */
  readonly path: string;
  /** Construct path of the enclosing stack. */
  readonly stackPath: string;
}

const registeredApps = new WeakSet<App>();
const stagesWithAuditAspect = new WeakSet<Stage>();
const acknowledgements = new WeakMap<IConstruct, AcknowledgementRecord[]>();

/**
 * Writes acknowledgements into the template Metadata (`cdk_nag.rules_to_suppress`) of every
 * CfnResource they cover. An Aspect added on the App does not reach into Stages (the CDK
 * synthesizes nested stages, aspects included, before it runs the App's aspects), so the
 * aspect is added to each Stage on its own.
 */
function ensureAuditAspect(stage: Stage): void {
  if (stagesWithAuditAspect.has(stage)) return;
  stagesWithAuditAspect.add(stage);
  Aspects.of(stage).add(new WriteNagSuppressionsToCloudFormationAspect());
}

function stagesIn(scope: IConstruct): Stage[] {
  return scope.node.findAll().filter((c): c is Stage => Stage.isStage(c));
}

/**
 * Parses the extra-pack switch (`-c compliancePacks=nist,hipaa,pci`, or `all`). Throws a
 * {@link ConfigError} on an unknown name so that a typo does not silently run nothing.
 */
export function extraPacksFromContext(app: App): ExtraPack[] {
  const raw: unknown = app.node.tryGetContext(COMPLIANCE_PACKS_CONTEXT);
  if (raw === undefined || raw === null || raw === '') return [];
  if (typeof raw !== 'string') {
    throw new ConfigError(
      `Context ${COMPLIANCE_PACKS_CONTEXT} must be a comma-separated string, got ${typeof raw}`,
    );
  }
  const names = raw
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter((s) => s !== '');
  if (names.length === 1 && names[0] === 'all') return [...EXTRA_PACKS];
  for (const name of names) {
    if (!(EXTRA_PACKS as readonly string[]).includes(name)) {
      throw new ConfigError(
        `Unknown compliance pack '${name}' in -c ${COMPLIANCE_PACKS_CONTEXT}=${raw}: use ${EXTRA_PACKS.join(', ')} or all`,
      );
    }
  }
  return [...new Set(names as ExtraPack[])];
}

/**
 * Registers cdk-nag on the App: AwsSolutions (verbose, enforced: an open finding fails
 * `cdk synth`) once on the App, which covers every Stage and the pipeline stack, plus the
 * requested extra packs in report-only mode. Acknowledgements are written to the templates'
 * Metadata. Call it once per App, best after the stages are built (stages built later get the
 * audit aspect from {@link acknowledge}).
 */
export function registerNag(app: App, options: RegisterNagOptions = {}): void {
  if (registeredApps.has(app)) throw new Error('registerNag() was already called on this App');
  registeredApps.add(app);
  const extra = [...new Set(options.extraPacks ?? [])];
  for (const pack of extra) {
    if (!EXTRA_PACKS.includes(pack)) throw new Error(`Unknown compliance pack '${String(pack)}'`);
  }
  // A previous synth's evaluation files must not be mistaken for this one's.
  fs.rmSync(path.join(app.outdir, EVALUATION_DIR), { recursive: true, force: true });
  Validations.of(app).addPlugins(
    new NagPackPlugin('aws', 'enforce'),
    ...extra.map((p) => new NagPackPlugin(p, 'report-only')),
  );
  ensureAuditAspect(app);
  for (const stage of stagesIn(app)) ensureAuditAspect(stage);
}

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
const MIN_REASON_LENGTH = 40;
const MIN_SUBSTANCE_LENGTH = 25;

const ID_PATTERN = /^AwsSolutions-([A-Z]+[0-9]+)(?:\[(.+)\])?$/;

let knownRules: Set<string> | undefined;

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

/** Throws if `id` is not exactly one AwsSolutions finding in cdk-nag 3's syntax. */
export function validateAcknowledgementId(id: string): void {
  if (/^[A-Za-z][\w.-]*::/.test(id)) {
    throw new Error(
      `Acknowledgement id '${id}' has a plugin namespace; cdk-nag 3 only honours the bare id (e.g. 'AwsSolutions-S1')`,
    );
  }
  const match = ID_PATTERN.exec(id);
  if (!match) {
    throw new Error(
      `Acknowledgement id '${id}' must name exactly one rule: 'AwsSolutions-<RULE>' or 'AwsSolutions-<RULE>[<finding>]'`,
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

/**
 * The one way the project acknowledges a cdk-nag finding. Validates the id (one AwsSolutions
 * rule; IAM4/IAM5 with their finding in brackets) and the reason (at least 40 characters of
 * substance), then records it with `Validations.of(scope).acknowledge()`, which cdk-nag honours
 * for `scope` and everything below it. `scope` must be a Stack or a construct inside one.
 */
export function acknowledge(scope: IConstruct, id: string, reason: string): void {
  validateAcknowledgementId(id);
  validateAcknowledgementReason(id, reason);
  if (Stage.isStage(scope) || !scope.node.scopes.some((s) => Stack.isStack(s))) {
    throw new Error(
      `acknowledge(${id}) must be called on a Stack or a construct in a Stack, not on ${scope.node.path || 'the App'}`,
    );
  }
  const root = scope.node.root;
  const list = acknowledgements.get(root) ?? [];
  if (list.some((a) => a.id === id && a.path === scope.node.path)) {
    throw new Error(`${id} is already acknowledged on ${scope.node.path}`);
  }
  const stack = Stack.of(scope);
  Validations.of(scope).acknowledge({ id, reason });
  list.push({ id, reason: reason.trim(), path: scope.node.path, stackPath: stack.node.path });
  acknowledgements.set(root, list);
  const stage = Stage.of(stack);
  if (stage) ensureAuditAspect(stage);
}

/** The acknowledgements made with {@link acknowledge} in the tree of `scope` (usually the App). */
export function listAcknowledgements(scope: IConstruct): AcknowledgementRecord[] {
  return [...(acknowledgements.get(scope.node.root) ?? [])];
}

/**
 * For tests: the open AwsSolutions findings under `scope`. `validateScope` already leaves out
 * acknowledged findings (cdk-nag 3 checks the acknowledgement metadata on the resource and its
 * ancestors), so an empty list means "compliant or acknowledged". Use this instead of
 * `Annotations.fromStack(...)`, which finds nothing under cdk-nag 3.
 */
export function nagViolations(scope: IConstruct): PolicyViolation[] {
  return new AwsSolutionsChecks(undefined, { verbose: true }).validateScope(scope).violations;
}

/** `nagViolations` flattened to `ruleName @ constructPath` strings, handy for `toEqual`. */
export function nagFindings(scope: IConstruct): string[] {
  return nagViolations(scope)
    .flatMap((v) =>
      v.violatingResources.map((r) => `${v.ruleName} @ ${r.constructPath ?? r.resourceLogicalId ?? '?'}`),
    )
    .sort();
}
