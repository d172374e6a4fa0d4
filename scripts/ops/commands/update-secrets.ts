import { readFileSync, statSync } from 'node:fs';
import { GetParametersCommand, PutParameterCommand, type SSMClient } from '@aws-sdk/client-ssm';
import type { STSClient } from '@aws-sdk/client-sts';
import { verifyAccount, type AwsTarget } from '../aws';
import { resolveEnvironment } from '../environment';
import {
  describeAwsError,
  isCredentialsError,
  toOpsError,
  OperationError,
  OpsError,
  UsageError,
} from '../errors';
import { filteredOutput, type Output } from '../output';
import { Redactor } from '../../../lib/util/redact';
import { INSTANCE_MANAGED_KEYS, parseSecretsFile, type SecretEntry } from '../secrets-file';

export interface UpdateSecretsOptions {
  env: string;
  fromFile: string;
  dryRun?: boolean;
  profile?: string;
  region?: string;
}

export interface UpdateSecretsDeps {
  clients: { sts(target: AwsTarget): STSClient; ssm(target: AwsTarget): SSMClient };
  out: Output;
}

export type SecretAction = 'create' | 'change' | 'unchanged';

export interface PlannedSecret {
  key: string;
  parameter: string;
  action: SecretAction;
  /** Why a `change` is a change when the value is equal (a parameter of another type). */
  note?: string;
}

export interface UpdateSecretsResult {
  plan: PlannedSecret[];
  /** Keys written (created or changed) in this run. */
  written: string[];
  /** Keys that needed writing but were not written. */
  notWritten: string[];
  unchanged: string[];
}

/** GetParameters takes at most 10 names. */
const GET_BATCH = 10;

interface CurrentParameter {
  value: string;
  type: string;
}

/**
 * Writes the keys of a dotenv file as SecureString parameters under the environment's
 * parameter path (`/v1-orcha/KEY` for prod), skipping keys whose value is already stored.
 *
 * Secret values never reach the output: lines are composed from key and parameter names
 * only, every SDK error message is scrubbed of all new and current values, and the output is
 * additionally filtered through a redactor as a safety net.
 */
export async function updateSecrets(
  options: UpdateSecretsOptions,
  deps: UpdateSecretsDeps,
): Promise<UpdateSecretsResult> {
  const { config, naming } = resolveEnvironment(options.env);
  const entries = readEntries(options.fromFile, deps.out);

  // Full redaction (any length) for text that may echo a value: AWS error messages.
  const scrubber = new Redactor({ minLength: 1 });
  // Safety net on every output line; short values (such as `1`) would only mangle counts.
  const safetyNet = new Redactor({ minLength: 4 });
  for (const entry of entries) {
    scrubber.add(entry.value);
    safetyNet.add(entry.value);
  }
  const scrub = (text: string) => scrubber.redact(text);
  const out = filteredOutput(deps.out, (line) => safetyNet.redact(line));

  try {
    const target: AwsTarget = { region: options.region ?? config.region, profile: options.profile };
    const sts = deps.clients.sts(target);
    const ssm = deps.clients.ssm(target);
    const identity = await verifyAccount(sts, {
      account: config.account,
      envName: config.name,
      profile: options.profile,
    });

    const root = `${naming.parameterRoot}/`;
    out.info(
      `Environment ${config.name}: account ${identity.account}, region ${target.region}, parameters under ${root}`,
    );

    const current = await readCurrent(ssm, entries, (key) => naming.path(key), scrub);
    for (const parameter of current.values()) {
      scrubber.add(parameter.value);
      safetyNet.add(parameter.value);
    }
    const plan = entries.map((entry) => planEntry(entry, naming.path(entry.key), current));
    const unchanged = plan.filter((p) => p.action === 'unchanged').map((p) => p.key);
    const toWrite = plan.filter((p) => p.action !== 'unchanged');

    if (options.dryRun) {
      for (const p of plan) out.info(`  ${describeAction(p, true)}`);
      out.info(
        `Dry run: ${count(plan, 'create')} to create, ${count(plan, 'change')} to change, ` +
          `${unchanged.length} unchanged. Nothing was written.`,
      );
      return { plan, written: [], notWritten: toWrite.map((p) => p.key), unchanged };
    }

    for (const p of plan.filter((q) => q.action === 'unchanged')) out.info(`  ${describeAction(p, false)}`);

    const values = new Map(entries.map((e) => [e.key, e.value]));
    const written: string[] = [];
    const failures = new Map<string, string>();
    let abortedBy: string | undefined;
    for (const p of toWrite) {
      if (abortedBy) {
        failures.set(p.key, 'not attempted');
        continue;
      }
      try {
        await ssm.send(
          new PutParameterCommand({
            Name: p.parameter,
            Value: values.get(p.key),
            Type: 'SecureString',
            Overwrite: true,
          }),
        );
        written.push(p.key);
        out.info(`  ${describeAction(p, false)}`);
      } catch (err) {
        const reason = describeAwsError(err, scrub);
        failures.set(p.key, reason);
        out.error(`  ${'FAILED'.padEnd(12)} ${p.parameter}: ${reason}`);
        if (isCredentialsError(err)) abortedBy = reason;
      }
    }

    const notWritten = toWrite.map((p) => p.key).filter((key) => failures.has(key));
    if (notWritten.length === 0) {
      out.info(
        `Done: ${count(plan, 'create')} created, ${count(plan, 'change')} changed, ${unchanged.length} unchanged.`,
      );
      return { plan, written, notWritten, unchanged };
    }

    out.error(`Written (${written.length}): ${list(written)}`);
    out.error(
      `Not written (${notWritten.length}): ${notWritten.map((key) => `${key} (${failures.get(key)})`).join(', ')}`,
    );
    out.error(`Unchanged (${unchanged.length}): ${list(unchanged)}`);
    throw new OperationError(
      `Partial failure: ${written.length} of ${toWrite.length} parameters written; ` +
        `not written: ${notWritten.join(', ')}. ` +
        `Rerun the same command to finish (keys already stored are skipped).`,
    );
  } catch (err) {
    if (err instanceof OpsError) throw new OpsError(scrub(err.message), err.exitCode);
    throw toOpsError(err, 'update-secrets failed (nothing further was written)', scrub);
  }
}

function readEntries(file: string, out: Output): SecretEntry[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new UsageError(`Cannot read the secrets file ${file} (${code})`);
  }
  const entries = parseSecretsFile(text);
  if (process.platform !== 'win32' && (statSync(file).mode & 0o077) !== 0) {
    out.error(`Warning: ${file} is readable by other users; consider "chmod 600 ${file}" or deleting it.`);
  }
  const managed = entries.filter((e) => INSTANCE_MANAGED_KEYS.includes(e.key)).map((e) => e.key);
  if (managed.length > 0) {
    out.error(
      `Warning: ${managed.join(', ')} ${managed.length === 1 ? 'is' : 'are'} set by the instances themselves ` +
        '(orcha-prepare) and override parameters of the same name; storing them has no effect.',
    );
  }
  return entries;
}

async function readCurrent(
  ssm: SSMClient,
  entries: SecretEntry[],
  pathOf: (key: string) => string,
  scrub: (text: string) => string,
): Promise<Map<string, CurrentParameter>> {
  const current = new Map<string, CurrentParameter>();
  const names = entries.map((e) => pathOf(e.key));
  for (let i = 0; i < names.length; i += GET_BATCH) {
    let response;
    try {
      response = await ssm.send(
        new GetParametersCommand({ Names: names.slice(i, i + GET_BATCH), WithDecryption: true }),
      );
    } catch (err) {
      throw toOpsError(err, 'Cannot read the current parameters (nothing was written)', scrub);
    }
    for (const parameter of response.Parameters ?? []) {
      if (parameter.Name !== undefined && parameter.Value !== undefined) {
        current.set(parameter.Name, { value: parameter.Value, type: parameter.Type ?? 'String' });
      }
    }
  }
  return current;
}

function planEntry(
  entry: SecretEntry,
  parameter: string,
  current: Map<string, CurrentParameter>,
): PlannedSecret {
  const existing = current.get(parameter);
  if (!existing) return { key: entry.key, parameter, action: 'create' };
  if (existing.value !== entry.value) return { key: entry.key, parameter, action: 'change' };
  if (existing.type !== 'SecureString') {
    return {
      key: entry.key,
      parameter,
      action: 'change',
      note: `same value, stored as ${existing.type}: becomes SecureString`,
    };
  }
  return { key: entry.key, parameter, action: 'unchanged' };
}

function describeAction(p: PlannedSecret, dryRun: boolean): string {
  const verb = {
    create: dryRun ? 'would create' : 'created',
    change: dryRun ? 'would change' : 'changed',
    unchanged: 'unchanged',
  }[p.action];
  return `${verb.padEnd(12)} ${p.parameter}${p.note ? ` (${p.note})` : ''}`;
}

function count(plan: PlannedSecret[], action: SecretAction): number {
  return plan.filter((p) => p.action === action).length;
}

function list(keys: string[]): string {
  return keys.length > 0 ? keys.join(', ') : '-';
}
