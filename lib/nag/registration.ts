import * as fs from 'node:fs';
import * as path from 'node:path';
import { App, Stage, Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import { ConfigError } from '../config/load';
import { ensureAuditAspect } from './acknowledge';
import { EVALUATION_DIR } from './evaluation';
import { NagPackPlugin, type PackKey } from './plugin';

// Job: register the packs on the App (which are enforced, which report only).

/**
 * Packs run on every synth and enforced: an open finding of either fails `cdk synth`.
 * AwsSolutions (AWS's best practices) and NIST 800-53 R5 (the control framework customers'
 * security questionnaires ask for).
 */
export const ENFORCED_PACKS = ['aws', 'nist'] as const satisfies readonly PackKey[];

/**
 * Packs the `compliancePacks` switch names. HIPAA and PCI DSS are opt-in and report only (validation
 * report, compliance report; they never fail the synth). `nist` is accepted for compatibility and
 * changes nothing: it is enforced on every synth.
 */
export type ExtraPack = 'nist' | 'hipaa' | 'pci';
export const EXTRA_PACKS: readonly ExtraPack[] = ['nist', 'hipaa', 'pci'];

/** Context key of the extra-pack switch: `cdk synth -c compliancePacks=nist,hipaa,pci`. */
export const COMPLIANCE_PACKS_CONTEXT = 'compliancePacks';

export interface RegisterNagOptions {
  /** Extra packs to run in report-only mode (default: none). */
  readonly extraPacks?: readonly ExtraPack[];
}

const registeredApps = new WeakSet<App>();

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
 * Registers cdk-nag on the App: AwsSolutions and NIST 800-53 R5 (verbose, enforced: an open
 * finding fails `cdk synth`) once on the App, which covers every Stage and the pipeline stack,
 * plus the requested extra packs (HIPAA, PCI) in report-only mode. Acknowledgements are written to the templates'
 * Metadata. Call it once per App, best after the stages are built (stages built later get the
 * audit aspect from {@link acknowledge}).
 */
export function registerNag(app: App, options: RegisterNagOptions = {}): void {
  if (registeredApps.has(app)) throw new Error('registerNag() was already called on this App');
  registeredApps.add(app);
  const requested = [...new Set(options.extraPacks ?? [])];
  for (const pack of requested) {
    if (!EXTRA_PACKS.includes(pack)) throw new Error(`Unknown compliance pack '${String(pack)}'`);
  }
  const extra = requested.filter((p) => !(ENFORCED_PACKS as readonly string[]).includes(p));
  // A previous synth's evaluation files must not be mistaken for this one's.
  fs.rmSync(path.join(app.outdir, EVALUATION_DIR), { recursive: true, force: true });
  Validations.of(app).addPlugins(
    ...ENFORCED_PACKS.map((p) => new NagPackPlugin(p, 'enforce')),
    ...extra.map((p) => new NagPackPlugin(p, 'report-only')),
  );
  ensureAuditAspect(app);
  for (const stage of stagesIn(app)) ensureAuditAspect(stage);
}
