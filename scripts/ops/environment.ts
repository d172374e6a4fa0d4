import { ConfigError, environmentNames, loadEnvironment } from '../../lib/config/load';
import { Naming } from '../../lib/config/naming';
import type { EnvironmentConfig, EnvironmentInput } from '../../lib/config/schema';
import { UsageError } from './errors';

export interface OpsEnvironment {
  config: EnvironmentConfig;
  naming: Naming;
}

/** Loads and validates an environment; unknown names and invalid configuration exit 2. */
export function resolveEnvironment(
  name: string | undefined,
  environments?: Record<string, EnvironmentInput>,
): OpsEnvironment {
  if (!name) {
    throw new UsageError(`No environment given (known: ${environmentNames(environments).join(', ')})`);
  }
  try {
    const config = loadEnvironment(name, environments);
    return { config, naming: new Naming(config.name) };
  } catch (err) {
    if (err instanceof ConfigError) throw new UsageError(err.message);
    throw err;
  }
}
