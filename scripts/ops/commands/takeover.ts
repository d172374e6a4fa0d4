import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  CreateChangeSetCommand,
  DeleteChangeSetCommand,
  DeleteStackCommand,
  DescribeChangeSetCommand,
  DescribeStacksCommand,
  ExecuteChangeSetCommand,
  GetTemplateSummaryCommand,
  paginateListStackResources,
  type CloudFormationClient,
} from '@aws-sdk/client-cloudformation';
import {
  DisableStageTransitionCommand,
  EnableStageTransitionCommand,
  GetPipelineStateCommand,
  StartPipelineExecutionCommand,
} from '@aws-sdk/client-codepipeline';
import {
  CreateDBSnapshotCommand,
  DescribeDBInstancesCommand,
  DescribeDBSnapshotsCommand,
  type RDSClient,
} from '@aws-sdk/client-rds';
import { stageId } from '../../../lib/app';
import { pipelineNames, type Naming } from '../../../lib/config/naming';
import type { EnvironmentConfig } from '../../../lib/config/schema';
import { verifyAccount, type AwsTarget } from '../aws';
import { resolveEnvironment } from '../environment';
import { toOpsError, OperationError, OpsError } from '../errors';
import type { Output } from '../output';
import type { TakeoverClientFactory, TakeoverClients } from '../takeover/clients';
import { importTemplate } from '../takeover/import-template';
import { deployedTemplate } from '../takeover/inventory';
import {
  blockers,
  buildPlan,
  importIdentifier,
  notRetained,
  renderPlan,
  writeMappingFiles,
  type TakeoverPlan,
} from '../takeover/plan';
import { readSynthesizedStacks, type SynthesizedStack } from '../takeover/templates';

export interface TakeoverOptions {
  env: string;
  profile?: string;
  region?: string;
  /** Synthesized app (default `cdk.out`). */
  cdkOut?: string;
  dryRun?: boolean;
  /** Give up waiting for AWS after this many seconds (the operation continues in AWS). */
  timeoutSeconds?: number;
  /** Where `detach` saves the original stacks' templates before deleting them (default `takeover-originals`). */
  backupDir?: string;
}

export interface TakeoverDeps {
  takeoverClients: TakeoverClientFactory;
  out: Output;
  sleep(ms: number): Promise<void>;
  now(): number;
}

const POLL_MS = 15_000;
const CHANGE_SET = 'orcha-takeover-import';

interface Context {
  config: EnvironmentConfig;
  naming: Naming;
  clients: TakeoverClients;
  target: AwsTarget;
}

/** Environment, account check (exit 3 on the wrong account), clients. */
async function connect(options: TakeoverOptions, deps: TakeoverDeps): Promise<Context> {
  const { config, naming } = resolveEnvironment(options.env);
  const target: AwsTarget = { region: options.region ?? config.region, profile: options.profile };
  const clients = deps.takeoverClients(target);
  await verifyAccount(clients.sts, {
    account: config.account,
    envName: config.name,
    profile: options.profile,
  });
  return { config, naming, clients, target };
}

function synthesized(options: TakeoverOptions): { stacks: SynthesizedStack[]; source: string } {
  const { config, naming } = resolveEnvironment(options.env);
  const source = options.cdkOut ?? 'cdk.out';
  return { stacks: readSynthesizedStacks(source, config, naming), source };
}

/** Polls `check` until it returns a value, or fails after the timeout with `stillWaiting`. */
async function waitFor<T>(
  deps: TakeoverDeps,
  timeoutSeconds: number,
  check: () => Promise<T | undefined>,
  stillWaiting: () => string,
): Promise<T> {
  const start = deps.now();
  for (;;) {
    const result = await check();
    if (result !== undefined) return result;
    if (deps.now() - start >= timeoutSeconds * 1000) throw new OperationError(stillWaiting());
    await deps.sleep(POLL_MS);
  }
}

/** Any error as an OpsError (same exit code) whose message ends with the partial-failure report. */
function failedWith(err: unknown, what: string, report: (what: string) => string): OpsError {
  const converted = err instanceof OpsError ? err : toOpsError(err, what);
  if (converted.message.includes('not attempted:')) return converted;
  return new OpsError(report(converted.message), converted.exitCode);
}

/** The name of the takeover's manual snapshot: `v1-orcha-db-takeover` for prod. */
export function takeoverSnapshotId(naming: Naming): string {
  return `${naming.dbInstance}-takeover`;
}

// ---------------------------------------------------------------- plan

export interface PlanCommandOptions extends TakeoverOptions {
  /** Where the resource-mapping files go (default `<cdk-out>/takeover`). */
  mappingsDir?: string;
}

/**
 * Read-only: compares the synthesized stacks with the account, prints what happens to every
 * named resource and writes the `cdk import --resource-mapping` files. Exit 1 when something
 * blocks the takeover (the output says what).
 */
export async function takeoverPlan(options: PlanCommandOptions, deps: TakeoverDeps): Promise<TakeoverPlan> {
  const { stacks, source } = synthesized(options);
  const { config, clients } = await connect(options, deps);
  const plan = await buildPlan(clients, config, stacks);
  renderPlan(plan, deps.out, source);
  const dir = options.mappingsDir ?? join(source, 'takeover');
  const files = writeMappingFiles(plan, dir);
  deps.out.info('');
  deps.out.info('Resource mappings for "cdk import --resource-mapping <file>", in deploy order:');
  for (const file of files) deps.out.info(`  ${file}`);
  const blocked = blockers(plan);
  if (blocked.length > 0) {
    throw new OperationError(
      `${blocked.length} resource(s) block the takeover: ${blocked.map((r) => r.resource.physicalName).join(', ')} (see above). Nothing was changed.`,
    );
  }
  return plan;
}

// ---------------------------------------------------------------- check-retain

/** Read-only: stops (exit 1) unless every stateful resource of the original stacks is retained. */
export async function takeoverCheckRetain(
  options: TakeoverOptions,
  deps: TakeoverDeps,
): Promise<TakeoverPlan> {
  const { stacks } = synthesized(options);
  const { config, clients } = await connect(options, deps);
  const plan = await buildPlan(clients, config, stacks);
  requireRetained(plan, deps.out);
  deps.out.info(
    plan.originals.length === 0
      ? 'No original stack manages any of these names: nothing to check.'
      : `All ${plan.retention.length} stateful resources of ${plan.originals.map((s) => s.name).join(', ')} have DeletionPolicy Retain.`,
  );
  return plan;
}

function requireRetained(plan: TakeoverPlan, out: Output): void {
  const missing = notRetained(plan);
  if (missing.length === 0) return;
  for (const r of missing) {
    out.error(`NOT RETAINED: ${r.stackName} ${r.logicalId} (${r.type}), DeletionPolicy ${r.deletionPolicy}`);
  }
  throw new OperationError(
    `${missing.length} stateful resource(s) of the original stacks would be DELETED with their stack. ` +
      'Deploy the original app once more with DeletionPolicy Retain on each (RemovalPolicy.RETAIN), then rerun. Nothing was changed.',
  );
}

// ---------------------------------------------------------------- snapshot

export interface SnapshotResult {
  outcome: 'no-database' | 'dry-run' | 'exists' | 'created';
  snapshotId: string;
}

async function snapshotStatus(rds: RDSClient, id: string): Promise<string | undefined> {
  try {
    const { DBSnapshots = [] } = await rds.send(new DescribeDBSnapshotsCommand({ DBSnapshotIdentifier: id }));
    return DBSnapshots[0]?.Status;
  } catch (err) {
    if ((err as Error).name === 'DBSnapshotNotFound' || (err as Error).name === 'DBSnapshotNotFoundFault') {
      return undefined;
    }
    throw toOpsError(err, `Cannot read snapshot ${id}`);
  }
}

/**
 * Takes the manual snapshot `v1-orcha-db-takeover` of the database and waits until it is
 * available. Idempotent by name: a rerun follows or reports the existing snapshot.
 */
export async function takeoverSnapshot(
  options: TakeoverOptions,
  deps: TakeoverDeps,
): Promise<SnapshotResult> {
  const { naming, clients } = await connect(options, deps);
  const db = naming.dbInstance;
  const snapshotId = takeoverSnapshotId(naming);
  const { out } = deps;
  let status = await snapshotStatus(clients.rds, snapshotId);
  if (status === undefined) {
    try {
      await clients.rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: db }));
    } catch (err) {
      if ((err as Error).name === 'DBInstanceNotFound' || (err as Error).name === 'DBInstanceNotFoundFault') {
        out.info(`No database ${db} in this account: nothing to snapshot (a fresh account).`);
        return { outcome: 'no-database', snapshotId };
      }
      throw toOpsError(err, `Cannot read database ${db}`);
    }
    if (options.dryRun) {
      out.info(
        `Dry run: would create manual snapshot ${snapshotId} of ${db} and wait until it is available.`,
      );
      return { outcome: 'dry-run', snapshotId };
    }
    try {
      await clients.rds.send(
        new CreateDBSnapshotCommand({
          DBSnapshotIdentifier: snapshotId,
          DBInstanceIdentifier: db,
          Tags: [{ Key: 'Purpose', Value: 'takeover of the original app (docs/runbooks/takeover.md)' }],
        }),
      );
    } catch (err) {
      throw toOpsError(err, `Snapshot ${snapshotId} of ${db} was NOT started`);
    }
    out.info(`Started manual snapshot ${snapshotId} of ${db}.`);
    status = 'creating';
  } else if (status === 'available') {
    out.info(`Snapshot ${snapshotId} already exists and is available: nothing to do.`);
    return { outcome: 'exists', snapshotId };
  } else if (options.dryRun) {
    out.info(`Dry run: snapshot ${snapshotId} exists (${status}); would wait until it is available.`);
    return { outcome: 'dry-run', snapshotId };
  } else {
    out.info(`Snapshot ${snapshotId} exists (${status}); following it.`);
  }
  if (status !== 'creating' && status !== 'available') {
    throw new OperationError(
      `Snapshot ${snapshotId} is ${status}: delete it (aws rds delete-db-snapshot --db-snapshot-identifier ${snapshotId}) and rerun`,
    );
  }
  await waitFor(
    deps,
    options.timeoutSeconds ?? 3600,
    async () => {
      const now = await snapshotStatus(clients.rds, snapshotId);
      if (now === 'available') return now;
      if (now !== 'creating') {
        throw new OperationError(`Snapshot ${snapshotId} became ${now ?? 'missing'}; rerun to take it again`);
      }
      return undefined;
    },
    () => `Snapshot ${snapshotId} is still being created; it continues in AWS. Rerun to follow it.`,
  );
  out.info(`Snapshot ${snapshotId} is available.`);
  return { outcome: 'created', snapshotId };
}

// ---------------------------------------------------------------- detach

/** Resource types a retained database keeps in use, so that deleting them fails: left behind on purpose. */
const HELD_BY_DATABASE = /^AWS::EC2::|^AWS::RDS::DBSubnetGroup$/;

export interface DetachResult {
  deleted: string[];
  /** Logical ids left behind (stack → ids), because the retained database still uses them. */
  leftBehind: Record<string, string[]>;
}

async function stackStatus(cfn: CloudFormationClient, name: string): Promise<string | undefined> {
  try {
    const { Stacks = [] } = await cfn.send(new DescribeStacksCommand({ StackName: name }));
    return Stacks[0]?.StackStatus;
  } catch (err) {
    if ((err as Error).name === 'ValidationError' && /does not exist/.test((err as Error).message))
      return undefined;
    throw toOpsError(err, `Cannot read stack ${name}`);
  }
}

async function deleteFailedResources(cfn: CloudFormationClient, name: string) {
  const failed: { logicalId: string; type: string; reason: string }[] = [];
  for await (const page of paginateListStackResources({ client: cfn }, { StackName: name })) {
    for (const r of page.StackResourceSummaries ?? []) {
      if (r.ResourceStatus === 'DELETE_FAILED') {
        failed.push({
          logicalId: r.LogicalResourceId ?? '?',
          type: r.ResourceType ?? '?',
          reason: r.ResourceStatusReason ?? '',
        });
      }
    }
  }
  return failed;
}

/**
 * Deletes the original stacks (newest first), keeping their stateful resources
 * (DeletionPolicy Retain, checked first). Needs the takeover snapshot. Network resources that
 * the retained database still uses cannot be deleted; they are left behind (RetainResources)
 * and removed by hand once the database has moved (runbook). A rerun skips deleted stacks.
 */
export async function takeoverDetach(options: TakeoverOptions, deps: TakeoverDeps): Promise<DetachResult> {
  const { stacks } = synthesized(options);
  const { config, naming, clients } = await connect(options, deps);
  const { out } = deps;
  const plan = await buildPlan(clients, config, stacks);
  requireRetained(plan, out);
  const blocked = blockers(plan);
  if (blocked.length > 0) {
    throw new OperationError(
      `Blocked: ${blocked.map((r) => `${r.resource.physicalName} (${r.reason ?? ''})`).join('; ')}. Nothing was changed.`,
    );
  }
  const result: DetachResult = { deleted: [], leftBehind: {} };
  if (plan.originals.length === 0) {
    out.info('No original stack manages any of these names: nothing to delete.');
    return result;
  }
  const dbRow = plan.rows.find(
    (r) => r.resource.type === 'AWS::RDS::DBInstance' && r.finding.exists === 'yes',
  );
  if (dbRow) {
    const snapshotId = takeoverSnapshotId(naming);
    const status = await snapshotStatus(clients.rds, snapshotId);
    if (status !== 'available') {
      throw new OperationError(
        `Snapshot ${snapshotId} is ${status ?? 'missing'}: run "npm run ops -- takeover snapshot --env ${config.name}" first. Nothing was changed.`,
      );
    }
    out.info(`Snapshot ${snapshotId} is available.`);
  }
  const order = plan.originals.map((s) => s.name);
  out.info(
    `${options.dryRun ? 'Would delete' : 'Deleting'}, in this order (stateful resources retained): ${order.join(', ')}`,
  );
  if (options.dryRun) {
    out.info('Dry run: nothing was changed.');
    return result;
  }
  const cfn = clients.cloudformation;
  // The way back: the original stacks can be re-created from these templates by importing
  // their retained resources (runbook, "Roll back").
  const backupDir = options.backupDir ?? 'takeover-originals';
  mkdirSync(backupDir, { recursive: true });
  for (const name of order) {
    const file = join(backupDir, `${name}.template.json`);
    writeFileSync(file, `${JSON.stringify(await deployedTemplate(cfn, name), null, 2)}\n`);
    out.info(`Saved the template of ${name} to ${file}.`);
  }
  for (const [i, name] of order.entries()) {
    const report = (what: string) =>
      `${what}. Deleted: ${result.deleted.join(', ') || 'none'}; not attempted: ${order.slice(i + 1).join(', ') || 'none'}. ` +
      'Fix the cause and rerun "takeover detach" (deleted stacks are skipped).';
    try {
      let status = await stackStatus(cfn, name);
      if (status === undefined) {
        out.info(`${name}: already deleted.`);
        result.deleted.push(name);
        continue;
      }
      let retain: string[] = [];
      if (status === 'DELETE_FAILED') {
        const failed = await deleteFailedResources(cfn, name);
        const other = failed.filter((f) => !HELD_BY_DATABASE.test(f.type));
        if (other.length > 0) {
          throw new OperationError(
            report(
              `${name} could not delete ${other.map((f) => `${f.logicalId} (${f.type}: ${f.reason})`).join('; ')}`,
            ),
          );
        }
        retain = failed.map((f) => f.logicalId);
        out.info(
          `${name}: ${retain.join(', ')} are still used by the retained database; deleting the stack without them.`,
        );
        result.leftBehind[name] = retain;
      }
      if (status !== 'DELETE_IN_PROGRESS') {
        await cfn.send(
          new DeleteStackCommand({ StackName: name, ...(retain.length ? { RetainResources: retain } : {}) }),
        );
        out.info(`${name}: deleting.`);
      }
      status = await waitFor(
        deps,
        options.timeoutSeconds ?? 3600,
        async () => {
          const s = await stackStatus(cfn, name);
          return s === undefined || s === 'DELETE_FAILED' ? (s ?? 'DELETE_COMPLETE') : undefined;
        },
        () => report(`${name} is still being deleted; it continues in AWS`),
      );
      if (status === 'DELETE_FAILED') {
        const failed = await deleteFailedResources(cfn, name);
        const other = failed.filter((f) => !HELD_BY_DATABASE.test(f.type));
        if (other.length > 0 || retain.length > 0) {
          throw new OperationError(
            report(
              `${name} could not delete ${failed.map((f) => `${f.logicalId} (${f.type}: ${f.reason})`).join('; ')}`,
            ),
          );
        }
        const held = failed.map((f) => f.logicalId);
        out.info(
          `${name}: ${held.join(', ')} are still used by the retained database; deleting the stack without them.`,
        );
        result.leftBehind[name] = held;
        await cfn.send(new DeleteStackCommand({ StackName: name, RetainResources: held }));
        await waitFor(
          deps,
          options.timeoutSeconds ?? 3600,
          async () => ((await stackStatus(cfn, name)) === undefined ? true : undefined),
          () => report(`${name} is still being deleted; it continues in AWS`),
        );
      }
      out.info(`${name}: deleted.`);
      result.deleted.push(name);
    } catch (err) {
      throw failedWith(err, `Deleting ${name} failed`, report);
    }
  }
  const left = Object.entries(result.leftBehind);
  if (left.length > 0) {
    out.info(
      `Left behind (delete them once the database runs in the new VPC, runbook step 8): ${left
        .map(([s, ids]) => `${s}: ${ids.join(', ')}`)
        .join('; ')}`,
    );
  }
  out.info(
    `Detached: ${result.deleted.join(', ')}. Next: npm run ops -- takeover import --env ${config.name}`,
  );
  return result;
}

// ---------------------------------------------------------------- import

export interface ImportResult {
  imported: Record<string, string[]>;
}

/**
 * Imports the stateful resources into the new stacks, stack by stack in deploy order, with
 * CloudFormation IMPORT change sets (a new stack is created holding only them). Resources an
 * earlier run imported are skipped; a resource still managed by another stack stops the step.
 */
export async function takeoverImport(options: TakeoverOptions, deps: TakeoverDeps): Promise<ImportResult> {
  const { stacks } = synthesized(options);
  const { config, clients } = await connect(options, deps);
  const { out } = deps;
  const plan = await buildPlan(clients, config, stacks);
  const stillOwned = plan.rows.filter((r) => r.resource.stateful && r.original);
  if (stillOwned.length > 0) {
    throw new OperationError(
      `Still managed by the original stacks: ${stillOwned
        .map((r) => `${r.resource.physicalName} (${r.original?.stackName ?? '?'})`)
        .join(', ')}. Run "takeover detach" first. Nothing was changed.`,
    );
  }
  const blocked = blockers(plan);
  if (blocked.length > 0) {
    throw new OperationError(
      `Blocked: ${blocked.map((r) => `${r.resource.physicalName} (${r.reason ?? ''})`).join('; ')}. Nothing was changed.`,
    );
  }
  const cfn = clients.cloudformation;
  const result: ImportResult = { imported: {} };
  for (const [i, stack] of plan.stacks.entries()) {
    const rows = plan.rows.filter((r) => r.resource.stack === stack && r.action === 'IMPORT');
    const done = plan.rows.filter((r) => r.resource.stack === stack && r.action === 'IMPORTED');
    const report = (what: string) =>
      `${what}. Imported: ${
        Object.entries(result.imported)
          .map(([s, ids]) => `${s} (${ids.join(', ')})`)
          .join('; ') || 'nothing'
      }; not attempted: ${
        plan.stacks
          .slice(i + 1)
          .map((s) => s.stackName)
          .join(', ') || 'none'
      }. Rerun "takeover import" (imported resources are skipped).`;
    if (rows.length === 0) {
      out.info(
        `${stack.stackName}: nothing to import${done.length ? ` (${done.length} already imported)` : ''}.`,
      );
      continue;
    }
    const status = await stackStatus(cfn, stack.stackName);
    if (status && !/_COMPLETE$/.test(status) && status !== 'REVIEW_IN_PROGRESS') {
      throw new OperationError(report(`${stack.stackName} is ${status}; wait for it or repair it`));
    }
    if (status === 'ROLLBACK_COMPLETE') {
      throw new OperationError(
        report(
          `${stack.stackName} is ROLLBACK_COMPLETE (a failed create); delete it (aws cloudformation delete-stack --stack-name ${stack.stackName})`,
        ),
      );
    }
    const exists = status !== undefined && status !== 'REVIEW_IN_PROGRESS';
    const current = exists ? await deployedTemplate(cfn, stack.stackName) : undefined;
    const { template, definitions } = importTemplate(
      current,
      rows.map((r) => ({ logicalId: r.resource.logicalId, resource: r.resource.definition })),
    );
    const resourcesToImport = rows.map((r) => ({
      ResourceType: r.resource.type,
      LogicalResourceId: r.resource.logicalId,
      ResourceIdentifier: importIdentifier(r),
    }));
    out.info(`${stack.stackName}: ${options.dryRun ? 'would import' : 'importing'}`);
    for (const r of rows) {
      const d = definitions.find((x) => x.logicalId === r.resource.logicalId);
      out.info(
        `  ${r.resource.logicalId} <- ${r.resource.physicalName}` +
          (d?.deferred.length ? ` (the pipeline sets ${d.deferred.join(', ')})` : ''),
      );
    }
    if (options.dryRun) continue;
    try {
      const body = JSON.stringify(template);
      const summary = await cfn.send(new GetTemplateSummaryCommand({ TemplateBody: body }));
      for (const r of resourcesToImport) {
        const ids = summary.ResourceIdentifierSummaries?.find((s) => s.ResourceType === r.ResourceType);
        const key = Object.keys(r.ResourceIdentifier)[0] ?? '';
        if (!ids?.ResourceIdentifiers?.includes(key)) {
          throw new OperationError(
            report(
              `CloudFormation does not accept ${key} as the import identifier of ${r.ResourceType} (it takes ${ids?.ResourceIdentifiers?.join(', ') ?? 'nothing'}); ${stack.stackName} was not changed`,
            ),
          );
        }
      }
      if (status === 'REVIEW_IN_PROGRESS' || exists) {
        try {
          await cfn.send(
            new DeleteChangeSetCommand({ StackName: stack.stackName, ChangeSetName: CHANGE_SET }),
          );
        } catch (err) {
          if (
            (err as Error).name !== 'ChangeSetNotFoundException' &&
            (err as Error).name !== 'ChangeSetNotFound'
          )
            throw err;
        }
      }
      await cfn.send(
        new CreateChangeSetCommand({
          StackName: stack.stackName,
          ChangeSetName: CHANGE_SET,
          ChangeSetType: 'IMPORT',
          TemplateBody: body,
          ResourcesToImport: resourcesToImport,
          Description: 'Takeover of the original app: import its retained stateful resources',
        }),
      );
      const csStatus = await waitFor(
        deps,
        options.timeoutSeconds ?? 3600,
        async () => {
          const cs = await cfn.send(
            new DescribeChangeSetCommand({ StackName: stack.stackName, ChangeSetName: CHANGE_SET }),
          );
          if (cs.Status === 'CREATE_COMPLETE') return 'ok';
          if (cs.Status === 'FAILED') return `FAILED: ${cs.StatusReason ?? 'no reason given'}`;
          return undefined;
        },
        () => report(`The import change set of ${stack.stackName} is still being created`),
      );
      if (csStatus !== 'ok') {
        throw new OperationError(
          report(
            `The import change set of ${stack.stackName} ${csStatus}; ${stack.stackName} was not changed`,
          ),
        );
      }
      await cfn.send(new ExecuteChangeSetCommand({ StackName: stack.stackName, ChangeSetName: CHANGE_SET }));
      const final = await waitFor(
        deps,
        options.timeoutSeconds ?? 3600,
        async () => {
          const s = await stackStatus(cfn, stack.stackName);
          return s && /_(COMPLETE|FAILED)$/.test(s) && !/IN_PROGRESS/.test(s) ? s : undefined;
        },
        () => report(`${stack.stackName} is still importing; it continues in AWS`),
      );
      if (final !== 'IMPORT_COMPLETE') {
        throw new OperationError(
          report(
            `Importing into ${stack.stackName} ended ${final} (see: aws cloudformation describe-stack-events --stack-name ${stack.stackName})`,
          ),
        );
      }
    } catch (err) {
      throw failedWith(err, `Importing into ${stack.stackName} failed`, report);
    }
    result.imported[stack.stackName] = rows.map((r) => r.resource.logicalId);
    out.info(`${stack.stackName}: imported ${rows.length} resource(s).`);
  }
  out.info(
    options.dryRun
      ? 'Dry run: nothing was changed.'
      : `Import done. Next: npm run ops -- takeover release --env ${config.name}`,
  );
  return result;
}

// ---------------------------------------------------------------- hold / release

export interface ReleaseOptions extends TakeoverOptions {
  /** Start a pipeline execution after enabling the transition. */
  start?: boolean;
}

async function transitionEnabled(clients: TakeoverClients, stageName: string): Promise<boolean> {
  const state = await clients.codePipeline.send(
    new GetPipelineStateCommand({ name: pipelineNames.pipeline }),
  );
  const stage = state.stageStates?.find((s) => s.stageName === stageName);
  if (!stage) {
    throw new OperationError(`Pipeline ${pipelineNames.pipeline} has no stage ${stageName}`);
  }
  return stage.inboundTransitionState?.enabled !== false;
}

/**
 * `hold`: keeps the infrastructure pipeline from deploying the environment (disables the
 * transition into its stage) until the takeover is done. `release` enables it again, after
 * checking that nothing remains to import.
 */
export async function takeoverHold(
  options: TakeoverOptions,
  deps: TakeoverDeps,
): Promise<'held' | 'already' | 'dry-run'> {
  const { config, clients } = await connect(options, deps);
  const stageName = stageId(config.name);
  try {
    if (!(await transitionEnabled(clients, stageName))) {
      deps.out.info(`The transition into ${stageName} of ${pipelineNames.pipeline} is already disabled.`);
      return 'already';
    }
    if (options.dryRun) {
      deps.out.info(`Dry run: would disable the transition into ${stageName} of ${pipelineNames.pipeline}.`);
      return 'dry-run';
    }
    await clients.codePipeline.send(
      new DisableStageTransitionCommand({
        pipelineName: pipelineNames.pipeline,
        stageName,
        transitionType: 'Inbound',
        reason: 'Takeover of the original app in progress (docs/runbooks/takeover.md)',
      }),
    );
  } catch (err) {
    throw toOpsError(err, `Cannot hold ${stageName} of ${pipelineNames.pipeline}`);
  }
  deps.out.info(`Held: ${pipelineNames.pipeline} will not deploy ${stageName} until "takeover release".`);
  return 'held';
}

export async function takeoverRelease(
  options: ReleaseOptions,
  deps: TakeoverDeps,
): Promise<'released' | 'already' | 'dry-run'> {
  const { stacks } = synthesized(options);
  const { config, clients } = await connect(options, deps);
  const plan = await buildPlan(clients, config, stacks);
  const pending = plan.rows.filter((r) => r.action === 'IMPORT' || r.action === 'BLOCKED' || r.original);
  if (pending.length > 0) {
    throw new OperationError(
      `Not released: ${pending.map((r) => `${r.resource.physicalName} (${r.action})`).join(', ')} ` +
        'would collide with the pipeline\'s deploy; finish "takeover detach" and "takeover import" first. Nothing was changed.',
    );
  }
  const stageName = stageId(config.name);
  let outcome: 'released' | 'already' | 'dry-run';
  try {
    if (await transitionEnabled(clients, stageName)) {
      deps.out.info(`The transition into ${stageName} of ${pipelineNames.pipeline} is already enabled.`);
      outcome = 'already';
    } else if (options.dryRun) {
      deps.out.info(`Dry run: would enable the transition into ${stageName} of ${pipelineNames.pipeline}.`);
      return 'dry-run';
    } else {
      await clients.codePipeline.send(
        new EnableStageTransitionCommand({
          pipelineName: pipelineNames.pipeline,
          stageName,
          transitionType: 'Inbound',
        }),
      );
      deps.out.info(`Released: ${pipelineNames.pipeline} deploys ${stageName} again.`);
      outcome = 'released';
    }
    if (options.start && !options.dryRun) {
      const { pipelineExecutionId } = await clients.codePipeline.send(
        new StartPipelineExecutionCommand({ name: pipelineNames.pipeline }),
      );
      deps.out.info(`Started execution ${pipelineExecutionId ?? '?'} of ${pipelineNames.pipeline}.`);
    }
  } catch (err) {
    throw toOpsError(err, `Cannot release ${stageName} of ${pipelineNames.pipeline}`);
  }
  deps.out.info(
    `Watch the Data stack's deploy: "npx cdk diff -c env=${config.name} '${stageName}/Data'" must show no ` +
      'replacement of the database (runbook, step 7).',
  );
  return outcome;
}
