import { App } from 'aws-cdk-lib';
import { environments } from '../../lib/config/environments';
import { loadEnvironment } from '../../lib/config/load';
import type { EnvironmentInput } from '../../lib/config/schema';
import { OrchaStage } from '../../lib/stages/orcha-stage';

/** A change to an environment's input, e.g. turning an option on. */
export type Variant = (input: EnvironmentInput) => EnvironmentInput;

/**
 * One environment of lib/config/environments.ts with a variant applied, validated by the schema
 * and built as its own stage in its own App (stage id `Variant`), the way `bin/` builds stages.
 */
export function buildVariant(name: string, variant: Variant = (i) => i): OrchaStage {
  const base = environments[name];
  if (!base) throw new Error(`no environment ${name}`);
  // With the other environments, as the app loads it: the rules across environments still apply.
  const config = loadEnvironment(name, { ...environments, [name]: variant(structuredClone(base)) });
  return new OrchaStage(new App(), 'Variant', { config });
}
