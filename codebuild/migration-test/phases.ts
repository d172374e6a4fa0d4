/**
 * The phases of one migration test, in order, each with a typed result:
 * resolve the snapshot → restore it → connect (fresh password) → migrate → inspect and judge →
 * clean up → report. The orchestrator (orchestrator.ts) composes them; each can be tested alone.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  DeleteDBInstanceCommand,
  DescribeDBInstancesCommand,
  ModifyDBInstanceCommand,
  RestoreDBInstanceFromDBSnapshotCommand,
  type DBInstance,
} from '@aws-sdk/client-rds';
import { REPORT_URL_FILE, runnerTags } from '../../lib/config/migration-test-contract';
import { connectionEnv, type ConnectionInfo, type MigrationExecutor } from './command';
import { compare, judge, type Comparison } from './diff';
import type { DatabaseState } from './inspect';
import {
  REPORT_JUNIT,
  REPORT_MARKDOWN,
  REPORT_SUMMARY,
  formatDuration,
  renderJUnit,
  renderMarkdown,
  summaryLine,
  type Outcome,
  type RunReport,
} from './report';
import { errorName, type Clock, type RunContext, type Sleep } from './run-context';
import type { Settings } from './settings';
import { listSnapshots, selectNewestSnapshot, type SnapshotChoice } from './snapshots';

/** Exit statuses of the runner. */
export const EXIT = {
  /**
   * The migrations passed, or there was nothing to test: no snapshot yet (first deploy), or no
   * migration image yet (reported as a warning).
   */
  PASS: 0,
  /** The verdict: the migrations failed or lost data. */
  FAIL: 1,
  /** The test itself could not run: AWS error, timeout, restore failure, signal, … */
  ERROR: 2,
} as const;

/** Tags of every temporary instance (the janitor and the IAM conditions rely on them): the contract's. */
export {
  MANAGED_BY_TAG as TAG_MANAGED_BY,
  PURPOSE_TAG as TAG_PURPOSE,
} from '../../lib/config/migration-test-contract';

/** Connects and inspects the database. */
export type Inspector = (connection: ConnectionInfo, signal: AbortSignal) => Promise<DatabaseState>;

// --- 1. Resolve the snapshot --------------------------------------------------------------------

/** What there is to test: nothing (no snapshot, no image) or a snapshot. */
export type SnapshotResolution =
  | { readonly kind: 'no-snapshot'; readonly skipped: readonly string[] }
  | { readonly kind: 'no-image'; readonly skipped: readonly string[]; readonly warning: string }
  | { readonly kind: 'ready'; readonly skipped: readonly string[]; readonly snapshot: SnapshotChoice };

/** The newest restorable snapshot of the source, once the migration image is known to exist. */
export async function resolveSnapshot(
  ctx: RunContext,
  imageExists?: (signal: AbortSignal) => Promise<boolean>,
): Promise<SnapshotResolution> {
  const { settings } = ctx;
  const selection = selectNewestSnapshot(
    await listSnapshots(ctx.rds, settings.sourceInstanceId, ctx.signal),
    settings.sourceInstanceId,
  );
  const skipped = selection.skipped;
  for (const s of skipped)
    ctx.say(`Skipping snapshot ${s}: its name does not start with ${settings.sourceInstanceId}-`);
  if (!selection.newest) {
    ctx.say(
      `No available snapshot of ${settings.sourceInstanceId}: this is the first deploy, nothing to test.`,
    );
    return { kind: 'no-snapshot', skipped };
  }
  if (imageExists && !(await imageExists(ctx.signal))) {
    ctx.say(
      `WARNING: the migration image ${settings.image}:${settings.imageTag} does not exist yet (the application ` +
        'pipeline has not pushed it): nothing restored, the migrations were NOT tested.',
    );
    return {
      kind: 'no-image',
      skipped,
      warning: `no image ${settings.image}:${settings.imageTag}: the migrations were not tested`,
    };
  }
  const snapshot = selection.newest;
  ctx.say(`Newest snapshot: ${snapshot.identifier} (${snapshot.type}, ${snapshot.createdAt.toISOString()})`);
  return { kind: 'ready', skipped, snapshot };
}

// --- 2. Restore ---------------------------------------------------------------------------------

function isServiceError(error: unknown): boolean {
  return typeof error === 'object' && error !== null && '$fault' in error;
}

/**
 * Whether the restore request was sent, and whether RDS answered it; cleanup reads it (a sent
 * request means an instance may exist, an unanswered one that it may still appear).
 */
export class RestoreRequest {
  private sentFlag = false;
  private answeredFlag = false;
  get sent(): boolean {
    return this.sentFlag;
  }
  get answered(): boolean {
    return this.answeredFlag;
  }
  markSent(): void {
    this.sentFlag = true;
  }
  markAnswered(): void {
    this.answeredFlag = true;
  }
}

export interface Restored {
  readonly instance: DBInstance;
  readonly restoreMs: number;
}

/** Restores the snapshot into the temporary instance (tagged for IAM and the janitor) and waits for it. */
export async function restoreSnapshot(
  ctx: RunContext,
  snapshot: SnapshotChoice,
  request: RestoreRequest,
): Promise<Restored> {
  const { settings } = ctx;
  const id = settings.tempInstanceId;
  const expiresAt = new Date(ctx.clock.now() + settings.ttlHours * 3_600_000).toISOString();
  ctx.say(`Restoring it into ${id} (${settings.instanceClass}, expires ${expiresAt})`);
  ctx.checkpoint();
  const restoreStarted = ctx.clock.now();
  request.markSent();
  try {
    await ctx.rds.send(
      new RestoreDBInstanceFromDBSnapshotCommand({
        DBInstanceIdentifier: id,
        DBSnapshotIdentifier: snapshot.identifier,
        DBInstanceClass: settings.instanceClass,
        DBSubnetGroupName: settings.subnetGroupName,
        VpcSecurityGroupIds: [...settings.securityGroupIds],
        PubliclyAccessible: false,
        MultiAZ: false,
        DeletionProtection: false,
        AutoMinorVersionUpgrade: false,
        CopyTagsToSnapshot: false,
        BackupRetentionPeriod: 0,
        Tags: runnerTags(settings.buildId, expiresAt),
      }),
      ctx.aws,
    );
    request.markAnswered();
  } catch (error) {
    // An answer from RDS (a service error) means nothing was created; a network
    // failure or an abort leaves it open, and deletion then waits for it to appear.
    if (isServiceError(error) && !ctx.signal.aborted) request.markAnswered();
    throw error;
  }
  const instance = await ctx.waitFor(id, 'the restore', (i) => i.DBInstanceStatus === 'available');
  const restoreMs = ctx.clock.now() - restoreStarted;
  ctx.say(`Restored in ${formatDuration(restoreMs)}`);
  return { instance, restoreMs };
}

// --- 3. Connect ---------------------------------------------------------------------------------

/** Sets a fresh master password (redacted from then on) and returns how to connect. */
export async function connectWithFreshPassword(
  ctx: RunContext,
  restored: Restored,
  snapshot: SnapshotChoice,
  password: string,
): Promise<ConnectionInfo> {
  const { settings } = ctx;
  const id = settings.tempInstanceId;
  ctx.redactor.add(password);
  ctx.say('Setting a fresh master password on the temporary instance');
  ctx.checkpoint();
  await ctx.rds.send(
    new ModifyDBInstanceCommand({
      DBInstanceIdentifier: id,
      MasterUserPassword: password,
      ApplyImmediately: true,
      ...(restored.instance.MasterUserSecret ? { ManageMasterUserPassword: false } : {}),
    }),
    ctx.aws,
  );
  const ready = await ctx.waitFor(
    id,
    'the new password',
    (i) => i.DBInstanceStatus === 'available' && !i.PendingModifiedValues?.MasterUserPassword,
  );
  const user = ready.MasterUsername ?? snapshot.masterUsername;
  if (!ready.Endpoint?.Address || !user)
    throw new Error(`temporary instance ${id} has no endpoint or master user`);
  return {
    host: ready.Endpoint.Address,
    port: ready.Endpoint.Port ?? 5432,
    user,
    password,
    database: settings.databaseName,
    sslMode: settings.sslMode,
  };
}

// --- 4. Migrate ---------------------------------------------------------------------------------

/** The last lines of the migration command's output, redacted; kept when a later phase fails. */
export class OutputTail {
  private readonly kept: string[] = [];
  constructor(private readonly size: number) {}
  push(line: string): void {
    this.kept.push(line);
    if (this.kept.length > this.size) this.kept.shift();
  }
  get lines(): readonly string[] {
    return [...this.kept];
  }
}

export interface Migrated {
  /** The database before the migrations. */
  readonly before: DatabaseState;
  readonly exitCode: number;
  readonly migrationMs: number;
}

/** Inspects the database, then runs the migration command against it (its output into `tail`). */
export async function runMigrations(
  ctx: RunContext,
  connection: ConnectionInfo,
  deps: { readonly inspect: Inspector; readonly migrate: MigrationExecutor },
  tail: OutputTail,
): Promise<Migrated> {
  const { settings } = ctx;
  ctx.checkpoint();
  ctx.say(`Inspecting ${settings.databaseName} before the migrations`);
  const before = await deps.inspect(connection, ctx.signal);
  ctx.say(
    `  ${before.tables.length} tables, ${before.tables.reduce((n, t) => n + t.rowCount, 0)} rows` +
      (before.migrations ? `, ${before.migrations.rows.length} rows in ${before.migrations.table}` : ''),
  );

  ctx.checkpoint();
  ctx.say(
    `Running the migrations: ${settings.image}:${settings.imageTag} ${JSON.stringify(settings.command)}`,
  );
  const started = ctx.clock.now();
  const result = await deps.migrate(connectionEnv(connection), ctx.signal, (line) => {
    const clean = ctx.redactor.redact(line);
    tail.push(clean);
    ctx.print(`  │ ${clean}`);
  });
  const migrationMs = ctx.clock.now() - started;
  ctx.say(`Migrations finished with status ${result.exitCode} in ${formatDuration(migrationMs)}`);
  return { before, exitCode: result.exitCode, migrationMs };
}

// --- 5. Inspect and judge -----------------------------------------------------------------------

export interface Judged {
  readonly comparison: Comparison;
  readonly verdict: 'pass' | 'fail';
  readonly reasons: readonly string[];
  readonly warnings: readonly string[];
}

/** Inspects the database after the migrations and judges the difference. */
export async function inspectAndJudge(
  ctx: RunContext,
  connection: ConnectionInfo,
  inspect: Inspector,
  migrated: Migrated,
): Promise<Judged> {
  const { settings } = ctx;
  ctx.checkpoint();
  ctx.say(`Inspecting ${settings.databaseName} after the migrations`);
  const after = await inspect(connection, ctx.signal);
  const comparison = compare(migrated.before, after, settings.allowDataLoss);
  const judgement = judge(comparison, migrated.exitCode);
  return { comparison, ...judgement };
}

// --- 6. Clean up --------------------------------------------------------------------------------

export interface Cleanup {
  readonly ok: boolean;
  readonly message: string;
}

export interface CleanupOptions {
  readonly rds: RunContext['rds'];
  readonly clock: Clock;
  readonly sleep: Sleep;
  /** How long deletion is retried; default 15 min. */
  readonly deleteRetryMs?: number;
  /** Pause between attempts (at most 30 s); default 30 s. */
  readonly pollIntervalMs?: number;
  readonly say: (line: string) => void;
}

/**
 * Deletes the temporary instance, not interruptible by the run's signal: retried on
 * InvalidDBInstanceState (and transient errors) for a bounded time; DBInstanceNotFound is
 * success — unless the restore's response never came, when the instance may yet appear.
 */
export async function deleteTemporaryInstance(
  o: CleanupOptions,
  id: string,
  restoreAnswered: boolean,
): Promise<Cleanup> {
  const never = new AbortController().signal;
  const until = o.clock.now() + (o.deleteRetryMs ?? 15 * 60_000);
  const pause = Math.min(o.pollIntervalMs ?? 30_000, 30_000);
  let notFound = 0;
  o.say(`Deleting the temporary instance ${id}`);
  for (let attempt = 1; ; attempt++) {
    try {
      await o.rds.send(
        new DeleteDBInstanceCommand({
          DBInstanceIdentifier: id,
          SkipFinalSnapshot: true,
          DeleteAutomatedBackups: true,
        }),
      );
      o.say(`Deletion of ${id} started`);
      return { ok: true, message: `${id} deleted` };
    } catch (error) {
      const name = errorName(error);
      if (name === 'DBInstanceNotFoundFault') {
        // A sent but unanswered restore: the instance may appear a moment later.
        if (restoreAnswered || ++notFound > 3) {
          o.say(`${id} does not exist (nothing to delete)`);
          return { ok: true, message: `${id} did not exist` };
        }
      } else if (name === 'InvalidDBInstanceStateFault') {
        const state = await o.rds
          .send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: id }))
          .then((out) => out.DBInstances?.[0]?.DBInstanceStatus)
          .catch(() => undefined);
        if (state === 'deleting') {
          o.say(`${id} is already being deleted`);
          return { ok: true, message: `${id} deleted` };
        }
        o.say(`${id} cannot be deleted yet (${state ?? 'state unknown'}); retrying`);
      } else {
        o.say(`Deleting ${id} failed (attempt ${attempt}): ${describeError(error)}`);
      }
    }
    if (o.clock.now() + pause > until) {
      const message = `deletion of ${id} failed; the janitor deletes it after its ExpiresAt tag, or delete it by hand (docs/runbooks/migration-test.md)`;
      o.say(message);
      return { ok: false, message };
    }
    await o.sleep(pause, never);
  }
}

function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

// --- 7. Report ----------------------------------------------------------------------------------

/** What the phases produced, each present when its phase completed. */
export interface Evidence {
  readonly resolution?: SnapshotResolution;
  readonly restoreSent: boolean;
  readonly restored?: Restored;
  readonly migrated?: Migrated;
  readonly judged?: Judged;
  /** Why the test could not run (a phase threw). */
  readonly error?: string;
  readonly cleanup?: Cleanup;
  readonly migrationOutputTail: readonly string[];
  readonly startedAt: number;
  readonly finishedAt: number;
}

/** The outcome the evidence supports. */
export function outcomeOf(e: Evidence): Outcome {
  if (e.error !== undefined) return 'error';
  if (e.judged) return e.judged.verdict;
  if (e.resolution?.kind === 'no-snapshot') return 'no-snapshot';
  if (e.resolution?.kind === 'no-image') return 'no-image';
  return 'error';
}

/** The report of a run (pure). */
export function assembleReport(settings: Settings, e: Evidence): RunReport {
  const outcome = outcomeOf(e);
  const warnings =
    outcome === 'error'
      ? []
      : (e.judged?.warnings ?? (e.resolution?.kind === 'no-image' ? [e.resolution.warning] : []));
  const cleanupFailed = e.cleanup !== undefined && !e.cleanup.ok;
  return {
    outcome,
    sourceInstanceId: settings.sourceInstanceId,
    buildId: settings.buildId,
    ...(e.restoreSent ? { tempInstanceId: settings.tempInstanceId } : {}),
    ...(e.resolution?.kind === 'ready' ? { snapshot: e.resolution.snapshot } : {}),
    skippedSnapshots: e.resolution?.skipped ?? [],
    image: `${settings.image}:${settings.imageTag}`,
    command: settings.command,
    startedAt: new Date(e.startedAt),
    finishedAt: new Date(e.finishedAt),
    ...(e.restored ? { restoreMs: e.restored.restoreMs } : {}),
    ...(e.migrated ? { migrationMs: e.migrated.migrationMs, migrationExitCode: e.migrated.exitCode } : {}),
    ...(e.judged ? { comparison: e.judged.comparison } : {}),
    reasons: outcome === 'error' ? [] : (e.judged?.reasons ?? []),
    warnings: cleanupFailed
      ? [...warnings, `the temporary instance was not deleted: ${e.cleanup!.message}`]
      : warnings,
    ...(e.error ? { error: e.error } : {}),
    ...(e.cleanup ? { cleanup: e.cleanup.message } : {}),
    ...(e.migrationOutputTail.length > 0 ? { migrationOutputTail: [...e.migrationOutputTail] } : {}),
  };
}

/** The exit status of a report: a passing run that leaves an instance behind did not finish cleanly. */
export function exitCodeOf(report: RunReport, cleanup: Cleanup | undefined): number {
  const { outcome } = report;
  const exitCode: number =
    outcome === 'fail'
      ? EXIT.FAIL
      : outcome === 'pass' || outcome === 'no-snapshot' || outcome === 'no-image'
        ? EXIT.PASS
        : EXIT.ERROR;
  return cleanup && !cleanup.ok && exitCode === EXIT.PASS ? EXIT.ERROR : exitCode;
}

export type ReportWriter = (dir: string, files: Readonly<Record<string, string>>) => Promise<void>;

export const writeReportFiles: ReportWriter = async (dir, files) => {
  await mkdir(dir, { recursive: true });
  for (const [name, content] of Object.entries(files)) await writeFile(join(dir, name), content, 'utf8');
};

/**
 * Writes the report files (Markdown, JUnit, summary; redacted), prints the Markdown and the
 * summary line; returns the exit status (an unwritable report is an error of the test).
 */
export async function publishReport(
  ctx: RunContext,
  report: RunReport,
  exitCode: number,
  write: ReportWriter,
): Promise<number> {
  const { redactor, settings } = ctx;
  const markdown = redactor.redact(renderMarkdown(report));
  let code = exitCode;
  try {
    await write(settings.reportDir, {
      [REPORT_MARKDOWN]: markdown,
      [REPORT_JUNIT]: redactor.redact(renderJUnit(report, markdown)),
      [REPORT_SUMMARY]: `${redactor.redact(summaryLine(report))}\n`,
      ...(settings.reportUrl ? { [REPORT_URL_FILE]: `${settings.reportUrl}\n` } : {}),
    });
    ctx.say(`Report written to ${join(settings.reportDir, REPORT_MARKDOWN)}`);
  } catch (error) {
    ctx.say(`Cannot write the report to ${settings.reportDir}: ${redactor.describe(error)}`);
    code = EXIT.ERROR;
  }
  for (const line of markdown.split('\n')) ctx.print(line);
  ctx.say(`${summaryLine(report)} (exit ${code})`);
  return code;
}
