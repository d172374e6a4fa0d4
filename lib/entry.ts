import type { App } from 'aws-cdk-lib';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { buildApp } from './app';
import { ConfigError } from './config/load';
import { COMPLIANCE_PACKS_CONTEXT, extraPacksFromContext, registerNag } from './nag';
import { failedPlugins, failureLines, type ValidationReport } from './validation-report';

/** The context keys this app reads (`-c key=value`). */
export const APP_CONTEXT_KEYS: Readonly<Record<string, string>> = {
  env: 'synthesize one environment only, deployable directly (-c env=dev)',
  [COMPLIANCE_PACKS_CONTEXT]:
    'extra report-only cdk-nag packs (-c compliancePacks=hipaa,pci or all; nist is always enforced)',
};

/**
 * Throws a {@link ConfigError} for a context key that neither this app nor the CDK reads, e.g. a
 * misspelled `-c enviroment=dev`, which would otherwise synthesize everything without a word.
 * The CDK's own keys (feature flags, lookups in cdk.context.json, CLI settings) are namespaced
 * with `@` or `:`; every other key must be one of {@link APP_CONTEXT_KEYS}.
 */
export function checkContextKeys(context: Record<string, unknown>): void {
  const known = Object.keys(APP_CONTEXT_KEYS);
  const unknown = Object.keys(context).filter(
    (key) => !key.startsWith('@') && !key.includes(':') && !known.includes(key),
  );
  if (unknown.length === 0) return;
  const described = unknown.map((key) => {
    const guess = closest(key, known);
    return `-c ${key}=${String(context[key])}${guess ? ` (did you mean '${guess}'?)` : ''}`;
  });
  throw new ConfigError(
    `Unknown context key${unknown.length > 1 ? 's' : ''}: ${described.join(', ')}; this app reads ${known.join(', ')}`,
  );
}

/**
 * The known key `key` was probably meant to be: one it starts with (`environment` → `env`), or
 * the nearest within edit distance 3 (case-insensitive).
 */
function closest(key: string, known: readonly string[]): string | undefined {
  const lower = key.toLowerCase();
  const prefix = known.find((k) => lower.startsWith(k.toLowerCase()));
  if (prefix) return prefix;
  let best: { key: string; distance: number } | undefined;
  for (const candidate of known) {
    const distance = editDistance(lower, candidate.toLowerCase());
    if (distance <= 3 && (!best || distance < best.distance)) best = { key: candidate, distance };
  }
  return best?.key;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(
        previous[j] + 1,
        current[j - 1] + 1,
        previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    previous = current;
  }
  return previous[b.length];
}

export interface RunAppIo {
  /** Where failures go, one line each. */
  readonly error: (line: string) => void;
}

/**
 * What `bin/orcha.ts` does, returning the process exit code: checks the context keys, builds the
 * app from configuration, registers cdk-nag, synthesizes and judges the whole validation report.
 * A user mistake (configuration, context) is one line naming the field and the value; a failed
 * validation is one line per finding with its explanation. Nothing here prints a stack trace for
 * those.
 */
export function runApp(app: App, io: RunAppIo = { error: (line) => console.error(line) }): number {
  try {
    checkContextKeys(app.node.getAllContext() as Record<string, unknown>);
    const envName: unknown = app.node.tryGetContext('env');
    buildApp(app, { envName: typeof envName === 'string' ? envName : undefined });
    registerNag(app, { extraPacks: extraPacksFromContext(app) });
  } catch (error) {
    if (error instanceof ConfigError) {
      // Nothing is synthesized.
      io.error(error.message);
      return 1;
    }
    throw error;
  }

  // The CLI judges validation only for the stacks it selects (by default the top-level ones),
  // so a finding inside a stage would not fail a plain `cdk synth`. Judge the whole assembly.
  const assembly = app.synth();
  const report = JSON.parse(
    readFileSync(path.join(assembly.directory, 'validation-report.json'), 'utf8'),
  ) as ValidationReport;
  const failed = failedPlugins(report);
  if (failed.length === 0) return 0;
  for (const line of failureLines(report)) io.error(line);
  io.error(
    `Validation failed: ${failed.join(', ')} (details: ${path.join(assembly.directory, 'validation-report.json')})`,
  );
  return 1;
}
