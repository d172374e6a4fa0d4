import { z } from 'zod';
import { environments as defaultEnvironments, pipeline as defaultPipeline } from './environments';
import { Naming, pipelineNames, PRIMARY_ENVIRONMENT, type PhysicalName } from './naming';
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
  const config = checkOwnRules({ ...parse(environmentSchema, set[name], `environment "${name}"`), name });
  checkAcrossEnvironments(Object.keys(set).map((other) => (other === name ? config : loadOne(other, set))));
  return config;
}

/** Validates one environment of the set on its own (the others are checked by their own load). */
function loadOne(name: string, set: Record<string, EnvironmentInput>): EnvironmentConfig {
  if (!ENV_NAME.test(name)) {
    failWith(
      `Invalid configuration: env = ${describe(name)}: must be a lower-case name of 2-16 letters/digits`,
    );
  }
  return checkOwnRules({ ...parse(environmentSchema, set[name], `environment "${name}"`), name });
}

/** Rules that depend on the environment's name: prod serves customers around the clock. */
function checkOwnRules(config: EnvironmentConfig): EnvironmentConfig {
  if (config.name === PRIMARY_ENVIRONMENT && config.officeHours.enabled) {
    failWith(
      `Invalid configuration for environment "${config.name}": officeHours.enabled = true: ${PRIMARY_ENVIRONMENT} serves customers around the clock; office hours are for the other environments`,
    );
  }
  return config;
}

/**
 * Account-wide resources that exactly one environment sharing an account (and region) may
 * create. `owns` says whether an environment's configuration creates it.
 */
export const ACCOUNT_SINGLETONS: readonly {
  readonly field: string;
  readonly what: string;
  readonly owns: (config: EnvironmentConfig) => boolean;
}[] = [
  {
    field: 'compute.sessionManagerPreferences',
    what: 'the Session Manager preferences (SSM-SessionManagerRunShell, one per account and region) and the session log group every environment there writes to',
    owns: (config) => config.compute.sessionManagerPreferences,
  },
];

/**
 * Rules that no single environment can break on its own, only two together: environments that
 * share an account must not share or overlap a VPC CIDR, a physical name or an account-wide
 * singleton, and no two environments anywhere may use the same DNS zone (or one inside the
 * other's). Throws one {@link ConfigError} naming both environments' fields and values.
 */
export function checkAcrossEnvironments(
  configs: readonly EnvironmentConfig[],
  pipeline?: PipelineConfig,
): void {
  const problems: string[] = [];
  const pairs = configs.flatMap((a, i) => configs.slice(i + 1).map((b) => [a, b] as const));

  for (const [a, b] of pairs) {
    const sameAccount = a.account === b.account;
    if (sameAccount && cidrsOverlap(a.network.vpcCidr, b.network.vpcCidr)) {
      problems.push(
        `${b.name}.network.vpcCidr = ${describe(b.network.vpcCidr)}: overlaps ${a.name}.network.vpcCidr ` +
          `(${describe(a.network.vpcCidr)}) in account ${a.account}; give each environment its own range`,
      );
    }
    const zoneProblem = zoneConflict(a, b) ?? zoneConflict(b, a);
    if (zoneProblem) problems.push(zoneProblem);
    if (sameAccount && a.region === b.region) {
      for (const singleton of ACCOUNT_SINGLETONS) {
        if (singleton.owns(a) && singleton.owns(b)) {
          problems.push(
            `${b.name}.${singleton.field} = true: ${a.name}.${singleton.field} is true too, in account ` +
              `${a.account} ${a.region}; only one environment there may own ${singleton.what}`,
          );
        }
      }
    }
  }
  problems.push(...unownedSingletons(configs));
  problems.push(...nameClashes(configs, pipeline));

  if (problems.length > 0) {
    failWith(`Invalid configuration across environments: ${problems.join('; ')}`);
  }
}

/**
 * The other half of "exactly one owner": every account and region that holds environments needs
 * an owner of each singleton. Without one, the Session Manager preferences and the session log
 * group every environment's sessions are streamed to would not exist, and no session there would
 * be logged.
 */
function unownedSingletons(configs: readonly EnvironmentConfig[]): string[] {
  const byPlace = new Map<string, EnvironmentConfig[]>();
  for (const config of configs) {
    const place = `${config.account} ${config.region}`;
    byPlace.set(place, [...(byPlace.get(place) ?? []), config]);
  }
  return [...byPlace].flatMap(([place, group]) =>
    ACCOUNT_SINGLETONS.filter((singleton) => !group.some(singleton.owns)).map(
      (singleton) =>
        `${singleton.field} = false in every environment of account ${place} (${group.map((c) => c.name).join(', ')}): ` +
        `set it to true in exactly one, which then owns ${singleton.what}`,
    ),
  );
}

function zoneConflict(a: EnvironmentConfig, b: EnvironmentConfig): string | undefined {
  const za = a.dns.zoneName;
  const zb = b.dns.zoneName;
  if (za === zb) {
    return `${b.name}.dns.zoneName = ${describe(zb)}: ${a.name}.dns.zoneName is the same zone; each environment needs its own`;
  }
  if (zb.endsWith(`.${za}`)) {
    return (
      `${b.name}.dns.zoneName = ${describe(zb)}: lies inside ${a.name}.dns.zoneName (${describe(za)}); ` +
      'every environment zone is delegated from the parent zone, so zones must not nest'
    );
  }
  return undefined;
}

/** Same physical name, or a name inside another environment's name prefix, in one account. */
function nameClashes(configs: readonly EnvironmentConfig[], pipeline?: PipelineConfig): string[] {
  interface Claim extends PhysicalName {
    readonly owner: string;
    readonly account: string;
  }
  const claims: Claim[] = configs.flatMap((c) =>
    new Naming(c.name)
      .physicalNames(
        c.account,
        c.queues.tenants.map((t) => t.name),
      )
      .map((p) => ({ ...p, owner: c.name, account: c.account })),
  );
  if (pipeline) {
    const owner = 'the infrastructure pipeline';
    const account = pipeline.account;
    claims.push(
      { namespace: 'cloudformation-stack', name: pipelineNames.stack, owner, account },
      { namespace: 'codepipeline-pipeline', name: pipelineNames.pipeline, owner, account },
      { namespace: 'sns-topic', name: pipelineNames.notificationsTopic, owner, account },
      { namespace: 'codeconnections-connection', name: pipelineNames.connection, owner, account },
      ...pipeline.stages.map((stage) => ({
        namespace: 'iam-role',
        name: pipelineNames.migrationTestStepRole(stage),
        owner,
        account,
      })),
    );
  }
  const problems: string[] = [];
  const seen = new Map<string, Claim>();
  for (const claim of claims) {
    const key = `${claim.account}|${claim.namespace}|${claim.name}`;
    const first = seen.get(key);
    if (first && first.owner !== claim.owner) {
      problems.push(
        `${describeOwner(claim.owner)} and ${describeOwner(first.owner)} both name a ${claim.namespace} ` +
          `${describe(claim.name)} in account ${claim.account}; rename one environment`,
      );
    }
    if (!first) seen.set(key, claim);
  }
  for (const c of configs) {
    for (const prefix of new Naming(c.name).namePrefixes()) {
      for (const claim of claims) {
        if (
          claim.owner !== c.name &&
          claim.account === c.account &&
          claim.namespace === prefix.namespace &&
          claim.name.startsWith(prefix.name)
        ) {
          problems.push(
            `${describeOwner(claim.owner)} names a ${claim.namespace} ${describe(claim.name)}, which ` +
              `environment "${c.name}" treats as its own (every ${describe(`${prefix.name}*`)}) in account ` +
              `${c.account}; rename one environment`,
          );
        }
      }
    }
  }
  return problems;
}

function describeOwner(owner: string): string {
  return owner.includes(' ') ? owner : `environment "${owner}"`;
}

/** Whether two valid IPv4 CIDR blocks share an address. */
export function cidrsOverlap(a: string, b: string): boolean {
  const range = (cidr: string): [number, number] => {
    const [address, prefix] = cidr.split('/');
    const start = address.split('.').reduce((acc, o) => acc * 256 + Number(o), 0);
    return [start, start + 2 ** (32 - Number(prefix)) - 1];
  };
  const [aStart, aEnd] = range(a);
  const [bStart, bEnd] = range(b);
  return aStart <= bEnd && bStart <= aEnd;
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
  checkAcrossEnvironments(
    Object.keys(set).map((name) => loadOne(name, set)),
    config,
  );
  return config;
}
