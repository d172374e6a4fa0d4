import { z } from 'zod';
import { environments as defaultEnvironments, pipeline as defaultPipeline } from './environments';
import {
  environmentSchema,
  pipelineSchema,
  type EnvironmentConfig,
  type EnvironmentInput,
  type PipelineConfig,
  type PipelineInput,
} from './schema';

/** Configuration that failed validation. The message names the field and the value. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

const ENV_NAME = /^[a-z][a-z0-9]{1,15}$/;

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let current: unknown = input;
  for (const key of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current;
}

function describe(value: unknown): string {
  if (value === undefined) return '(missing)';
  const json = JSON.stringify(value);
  return json.length > 120 ? `${json.slice(0, 117)}...` : json;
}

function parse<T>(schema: z.ZodType<T>, input: unknown, where: string): T {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const lines = result.error.issues.map((issue) => {
    const field = issue.path.map(String).join('.') || '(root)';
    const detail =
      issue.code === 'unrecognized_keys' ? `unknown field(s) ${issue.keys.join(', ')}` : issue.message;
    return `${field} = ${describe(valueAt(input, issue.path))}: ${detail}`;
  });
  return failWith(`Invalid configuration for ${where}: ${lines.join('; ')}`);
}

function failWith(message: string): never {
  throw new ConfigError(message);
}

/** All environment names of a configuration set. */
export function environmentNames(set: Record<string, EnvironmentInput> = defaultEnvironments): string[] {
  return Object.keys(set);
}

/**
 * Validates and returns one environment. Unknown names and invalid values throw a
 * {@link ConfigError} whose message names the field and the value.
 */
export function loadEnvironment(
  name: string,
  set: Record<string, EnvironmentInput> = defaultEnvironments,
): EnvironmentConfig {
  if (!ENV_NAME.test(name)) {
    failWith(
      `Invalid configuration: env = ${describe(name)}: must be a lower-case name of 2-16 letters/digits`,
    );
  }
  if (!Object.prototype.hasOwnProperty.call(set, name)) {
    failWith(
      `Invalid configuration: env = ${describe(name)}: unknown environment (known: ${Object.keys(set).join(', ')})`,
    );
  }
  return { ...parse(environmentSchema, set[name], `environment "${name}"`), name };
}

/** Validates the infrastructure pipeline's configuration and the environments it deploys. */
export function loadPipeline(
  input: PipelineInput = defaultPipeline,
  set: Record<string, EnvironmentInput> = defaultEnvironments,
): PipelineConfig {
  const config = parse(pipelineSchema, input, 'the pipeline');
  config.stages.forEach((stage, i) => {
    if (!Object.prototype.hasOwnProperty.call(set, stage)) {
      failWith(
        `Invalid configuration for the pipeline: stages.${i} = ${describe(stage)}: unknown environment (known: ${Object.keys(set).join(', ')})`,
      );
    }
  });
  if (new Set(config.stages).size !== config.stages.length) {
    failWith(
      `Invalid configuration for the pipeline: stages = ${describe(config.stages)}: lists an environment twice`,
    );
  }
  return config;
}
