import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  DeleteDBInstanceCommand,
  DescribeDBInstancesCommand,
  ModifyDBInstanceCommand,
  RestoreDBInstanceFromDBSnapshotCommand,
  type DBInstance,
  type RDSClient,
} from '@aws-sdk/client-rds';
import { connectionEnv, type ConnectionInfo, type MigrationExecutor } from './command';
import { compare, judge, type Comparison } from './diff';
import type { DatabaseState } from './inspect';
import { Redactor } from './redact';
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
import type { Settings } from './settings';
import { listSnapshots, selectNewestSnapshot, type SnapshotChoice } from './snapshots';

/** Exit statuses of the runner. */
export const EXIT = {
  /**
   * The migrations passed, or there was nothing to test: no snapshot yet (first deploy), or no
   * migration image yet (`latest` not pushed; reported as a warning).
   */
  PASS: 0,
  /** The verdict: the migrations failed or lost data. */
  FAIL: 1,
  /** The test itself could not run: AWS error, timeout, restore failure, signal, … */
  ERROR: 2,
} as const;

/** Tags of every temporary instance (the janitor and the IAM conditions rely on them). */
export const TAG_PURPOSE = { Key: 'Purpose', Value: 'migration-test' } as const;
export const TAG_MANAGED_BY = { Key: 'ManagedBy', Value: 'migration-test-runner' } as const;

export class TimeoutError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TimeoutError';
  }
}

export class InterruptedError extends Error {
  constructor(signal: string) {
    super(`interrupted by ${signal}`);
    this.name = 'InterruptedError';
  }
}

export interface Clock {
  now(): number;
}
/** Waits `ms`; rejects with the signal's reason when it is aborted. */
export type Sleep = (ms: number, signal: AbortSignal) => Promise<void>;
/** Connects and inspects the database. */
export type Inspector = (connection: ConnectionInfo, signal: AbortSignal) => Promise<DatabaseState>;

export const realSleep: Sleep = (ms, signal) =>
  new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason as Error);
      return;
    }
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal.reason as Error);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });

export interface Dependencies {
  readonly rds: RDSClient;
  readonly settings: Settings;
  readonly migrate: MigrationExecutor;
  /**
   * Whether the migration image exists, asked before anything is restored; false makes the run a
   * skip with a warning (exit 0).
   * @default - assumed to exist (the pull decides)
   */
  readonly imageExists?: (signal: AbortSignal) => Promise<boolean>;
  readonly inspect: Inspector;
  /** One line of output (already redacted). */
  readonly log: (line: string) => void;
  /** Aborted on SIGTERM/SIGINT (see signals.ts). */
  readonly signal?: AbortSignal;
  readonly clock?: Clock;
  readonly sleep?: Sleep;
  readonly randomPassword?: () => string;
  readonly writeReport?: (dir: string, files: Readonly<Record<string, string>>) => Promise<void>;
  /** Between two DescribeDBInstances; default 30 s. */
  readonly pollIntervalMs?: number;
  /** How long deletion is retried (InvalidDBInstanceState, throttling, …); default 15 min. */
  readonly deleteRetryMs?: number;
}

export interface RunResult {
  readonly exitCode: number;
  readonly report: RunReport;
}

/** 32 URL-safe characters: valid for RDS (no `/`, `"`, `@`, space) and for URLs. */
export const randomPassword = (): string => randomBytes(24).toString('base64url');

const writeReportFiles = async (dir: string, files: Readonly<Record<string, string>>): Promise<void> => {
  await mkdir(dir, { recursive: true });
  for (const [name, content] of Object.entries(files)) await writeFile(join(dir, name), content, 'utf8');
};

const FAILED_STATES = new Set([
  'failed',
  'incompatible-restore',
  'incompatible-parameters',
  'incompatible-network',
  'incompatible-option-group',
  'inaccessible-encryption-credentials',
  'inaccessible-encryption-credentials-recoverable',
  'restore-error',
  'storage-full',
  'deleting',
  'stopped',
  'stopping',
]);

const OUTPUT_TAIL = 40;

function isServiceError(error: unknown): boolean {
  return typeof error === 'object' && error !== null && '$fault' in error;
}

function errorName(error: unknown): string {
  return error instanceof Error ? error.name : '';
}

/**
 * The migration test: newest snapshot → temporary instance → fresh password → inspect →
 * migrate → inspect → report, and ALWAYS delete the temporary instance once the restore
 * request has been sent (success, failure, timeout, signal). Returns the exit status.
 */
export async function runMigrationTest(deps: Dependencies): Promise<RunResult> {
  const { rds, settings } = deps;
  const clock = deps.clock ?? { now: () => Date.now() };
  const sleep = deps.sleep ?? realSleep;
  const poll = deps.pollIntervalMs ?? 30_000;
  const redactor = new Redactor();
  const say = (line: string): void => deps.log(redactor.redact(line));

  const startedAt = clock.now();
  const deadline = startedAt + settings.timeoutMinutes * 60_000;
  const elapsed = (): string => formatDuration(clock.now() - startedAt);

  // Aborted by a signal (SIGTERM/SIGINT) or by the deadline; every wait and AWS call listens.
  const run = new AbortController();
  const onOuterAbort = (): void => run.abort(deps.signal?.reason ?? new InterruptedError('signal'));
  if (deps.signal?.aborted) onOuterAbort();
  deps.signal?.addEventListener('abort', onOuterAbort, { once: true });
  const timeout = (): TimeoutError =>
    new TimeoutError(`the migration test ran longer than its ${settings.timeoutMinutes}-minute limit`);
  const deadlineTimer = setTimeout(() => run.abort(timeout()), Math.max(0, deadline - clock.now()));
  deadlineTimer.unref();
  const signal = run.signal;
  const aws = { abortSignal: signal };

  const checkpoint = (): void => {
    if (signal.aborted) throw signal.reason as Error;
    if (clock.now() >= deadline) {
      run.abort(timeout());
      throw signal.reason as Error;
    }
  };

  const describe = async (id: string): Promise<DBInstance | undefined> => {
    try {
      const out = await rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: id }), aws);
      return out.DBInstances?.[0];
    } catch (error) {
      if (errorName(error) === 'DBInstanceNotFoundFault') return undefined;
      throw error;
    }
  };

  /** Polls until `ready`, printing status and elapsed time on every poll. */
  const waitFor = async (
    id: string,
    what: string,
    ready: (i: DBInstance) => boolean,
  ): Promise<DBInstance> => {
    let missing = 0;
    for (;;) {
      checkpoint();
      const instance = await describe(id);
      const status = instance?.DBInstanceStatus ?? 'not found';
      say(`[${elapsed()}] ${id}: ${status} (waiting for ${what})`);
      if (instance) {
        if (ready(instance)) return instance;
        if (FAILED_STATES.has(status)) throw new Error(`temporary instance ${id} is ${status}`);
      } else if (++missing > 5) {
        throw new Error(`temporary instance ${id} does not exist`);
      }
      checkpoint();
      await sleep(Math.min(poll, Math.max(0, deadline - clock.now())), signal);
    }
  };

  let restoreSent = false;
  let restoreAnswered = false;
  let outcome: Outcome;
  let snapshot: SnapshotChoice | undefined;
  let skippedSnapshots: readonly string[] = [];
  let restoreMs: number | undefined;
  let migrationMs: number | undefined;
  let migrationExitCode: number | undefined;
  let comparison: Comparison | undefined;
  let reasons: readonly string[] = [];
  let warnings: readonly string[] = [];
  let errorText: string | undefined;
  let cleanup: string | undefined;
  let cleanupFailed = false;
  const tail: string[] = [];
  const id = settings.tempInstanceId;

  try {
    say(
      `Migration test of ${settings.sourceInstanceId} (build ${settings.buildId}), limit ${settings.timeoutMinutes} min`,
    );
    const selection = selectNewestSnapshot(
      await listSnapshots(rds, settings.sourceInstanceId, signal),
      settings.sourceInstanceId,
    );
    skippedSnapshots = selection.skipped;
    for (const s of selection.skipped)
      say(`Skipping snapshot ${s}: its name does not start with ${settings.sourceInstanceId}-`);
    if (!selection.newest) {
      say(
        `No available snapshot of ${settings.sourceInstanceId}: this is the first deploy, nothing to test.`,
      );
      outcome = 'no-snapshot';
    } else if (deps.imageExists && !(await deps.imageExists(signal))) {
      say(
        `WARNING: the migration image ${settings.image}:${settings.imageTag} does not exist yet (the application ` +
          'pipeline has not pushed it): nothing restored, the migrations were NOT tested.',
      );
      outcome = 'no-image';
      warnings = [`no image ${settings.image}:${settings.imageTag}: the migrations were not tested`];
    } else {
      snapshot = selection.newest;
      say(`Newest snapshot: ${snapshot.identifier} (${snapshot.type}, ${snapshot.createdAt.toISOString()})`);

      const expiresAt = new Date(clock.now() + settings.ttlHours * 3_600_000).toISOString();
      say(`Restoring it into ${id} (${settings.instanceClass}, expires ${expiresAt})`);
      checkpoint();
      const restoreStarted = clock.now();
      restoreSent = true;
      const restoreRequest = rds.send(
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
          Tags: [
            TAG_PURPOSE,
            { Key: 'CreatedBy', Value: settings.buildId },
            { Key: 'ExpiresAt', Value: expiresAt },
            TAG_MANAGED_BY,
          ],
        }),
        aws,
      );
      try {
        await restoreRequest;
        restoreAnswered = true;
      } catch (error) {
        // An answer from RDS (a service error) means nothing was created; a network
        // failure or an abort leaves it open, and deletion then waits for it to appear.
        if (isServiceError(error) && !signal.aborted) restoreAnswered = true;
        throw error;
      }
      const restored = await waitFor(id, 'the restore', (i) => i.DBInstanceStatus === 'available');
      restoreMs = clock.now() - restoreStarted;
      say(`Restored in ${formatDuration(restoreMs)}`);

      const password = (deps.randomPassword ?? randomPassword)();
      redactor.add(password);
      say('Setting a fresh master password on the temporary instance');
      checkpoint();
      await rds.send(
        new ModifyDBInstanceCommand({
          DBInstanceIdentifier: id,
          MasterUserPassword: password,
          ApplyImmediately: true,
          ...(restored.MasterUserSecret ? { ManageMasterUserPassword: false } : {}),
        }),
        aws,
      );
      const ready = await waitFor(
        id,
        'the new password',
        (i) => i.DBInstanceStatus === 'available' && !i.PendingModifiedValues?.MasterUserPassword,
      );
      const user = ready.MasterUsername ?? snapshot.masterUsername;
      if (!ready.Endpoint?.Address || !user)
        throw new Error(`temporary instance ${id} has no endpoint or master user`);
      const connection: ConnectionInfo = {
        host: ready.Endpoint.Address,
        port: ready.Endpoint.Port ?? 5432,
        user,
        password,
        database: settings.databaseName,
        sslMode: settings.sslMode,
      };

      checkpoint();
      say(`Inspecting ${settings.databaseName} before the migrations`);
      const before = await deps.inspect(connection, signal);
      say(
        `  ${before.tables.length} tables, ${before.tables.reduce((n, t) => n + t.rowCount, 0)} rows` +
          (before.migrations ? `, ${before.migrations.rows.length} rows in ${before.migrations.table}` : ''),
      );

      checkpoint();
      say(
        `Running the migrations: ${settings.image}:${settings.imageTag} ${JSON.stringify(settings.command)}`,
      );
      const migrationStarted = clock.now();
      const result = await deps.migrate(connectionEnv(connection), signal, (line) => {
        const clean = redactor.redact(line);
        tail.push(clean);
        if (tail.length > OUTPUT_TAIL) tail.shift();
        deps.log(`  │ ${clean}`);
      });
      migrationMs = clock.now() - migrationStarted;
      migrationExitCode = result.exitCode;
      say(`Migrations finished with status ${result.exitCode} in ${formatDuration(migrationMs)}`);
      checkpoint();

      say(`Inspecting ${settings.databaseName} after the migrations`);
      const after = await deps.inspect(connection, signal);
      comparison = compare(before, after, settings.allowDataLoss);
      const judgement = judge(comparison, result.exitCode);
      outcome = judgement.verdict;
      reasons = judgement.reasons;
      warnings = judgement.warnings;
    }
  } catch (error) {
    outcome = 'error';
    errorText = redactor.describe(signal.aborted ? signal.reason : error);
    if (signal.aborted && error !== signal.reason && !(error instanceof TimeoutError)) {
      errorText += ` (${redactor.describe(error)})`;
    }
    say(`The migration test could not run: ${errorText}`);
  } finally {
    clearTimeout(deadlineTimer);
    deps.signal?.removeEventListener('abort', onOuterAbort);
    if (restoreSent) {
      const result = await deleteTemporaryInstance(deps, id, restoreAnswered, clock, say);
      cleanup = result.message;
      cleanupFailed = !result.ok;
    }
  }

  const report: RunReport = {
    outcome,
    sourceInstanceId: settings.sourceInstanceId,
    buildId: settings.buildId,
    ...(restoreSent ? { tempInstanceId: id } : {}),
    ...(snapshot ? { snapshot } : {}),
    skippedSnapshots,
    image: `${settings.image}:${settings.imageTag}`,
    command: settings.command,
    startedAt: new Date(startedAt),
    finishedAt: new Date(clock.now()),
    ...(restoreMs !== undefined ? { restoreMs } : {}),
    ...(migrationMs !== undefined ? { migrationMs } : {}),
    ...(migrationExitCode !== undefined ? { migrationExitCode } : {}),
    ...(comparison ? { comparison } : {}),
    reasons,
    warnings: cleanupFailed ? [...warnings, `the temporary instance was not deleted: ${cleanup}`] : warnings,
    ...(errorText ? { error: errorText } : {}),
    ...(cleanup ? { cleanup } : {}),
    ...(tail.length > 0 ? { migrationOutputTail: [...tail] } : {}),
  };

  let exitCode: number =
    outcome === 'fail'
      ? EXIT.FAIL
      : outcome === 'pass' || outcome === 'no-snapshot' || outcome === 'no-image'
        ? EXIT.PASS
        : EXIT.ERROR;
  // A passing run that leaves an instance behind did not finish cleanly; a failing verdict stays 1.
  if (cleanupFailed && exitCode === EXIT.PASS) exitCode = EXIT.ERROR;

  const markdown = redactor.redact(renderMarkdown(report));
  try {
    await (deps.writeReport ?? writeReportFiles)(settings.reportDir, {
      [REPORT_MARKDOWN]: markdown,
      [REPORT_JUNIT]: redactor.redact(renderJUnit(report, markdown)),
      [REPORT_SUMMARY]: `${redactor.redact(summaryLine(report))}\n`,
    });
    say(`Report written to ${join(settings.reportDir, REPORT_MARKDOWN)}`);
  } catch (error) {
    say(`Cannot write the report to ${settings.reportDir}: ${redactor.describe(error)}`);
    exitCode = EXIT.ERROR;
  }
  for (const line of markdown.split('\n')) deps.log(line);
  say(`${summaryLine(report)} (exit ${exitCode})`);
  return { exitCode, report };
}

/**
 * Deletes the temporary instance, not interruptible by the run's signal: retried on
 * InvalidDBInstanceState (and transient errors) for a bounded time; DBInstanceNotFound is
 * success — unless the restore's response never came, when the instance may yet appear.
 */
async function deleteTemporaryInstance(
  deps: Dependencies,
  id: string,
  restoreAnswered: boolean,
  clock: Clock,
  say: (line: string) => void,
): Promise<{ ok: boolean; message: string }> {
  const sleep = deps.sleep ?? realSleep;
  const never = new AbortController().signal;
  const until = clock.now() + (deps.deleteRetryMs ?? 15 * 60_000);
  const pause = Math.min(deps.pollIntervalMs ?? 30_000, 30_000);
  let notFound = 0;
  say(`Deleting the temporary instance ${id}`);
  for (let attempt = 1; ; attempt++) {
    try {
      await deps.rds.send(
        new DeleteDBInstanceCommand({
          DBInstanceIdentifier: id,
          SkipFinalSnapshot: true,
          DeleteAutomatedBackups: true,
        }),
      );
      say(`Deletion of ${id} started`);
      return { ok: true, message: `${id} deleted` };
    } catch (error) {
      const name = errorName(error);
      if (name === 'DBInstanceNotFoundFault') {
        // A sent but unanswered restore: the instance may appear a moment later.
        if (restoreAnswered || ++notFound > 3) {
          say(`${id} does not exist (nothing to delete)`);
          return { ok: true, message: `${id} did not exist` };
        }
      } else if (name === 'InvalidDBInstanceStateFault') {
        const state = await deps.rds
          .send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: id }))
          .then((o) => o.DBInstances?.[0]?.DBInstanceStatus)
          .catch(() => undefined);
        if (state === 'deleting') {
          say(`${id} is already being deleted`);
          return { ok: true, message: `${id} deleted` };
        }
        say(`${id} cannot be deleted yet (${state ?? 'state unknown'}); retrying`);
      } else {
        say(`Deleting ${id} failed (attempt ${attempt}): ${describeError(error)}`);
      }
    }
    if (clock.now() + pause > until) {
      const message = `deletion of ${id} failed; the janitor deletes it after its ExpiresAt tag, or delete it by hand (docs/runbooks/migration-test.md)`;
      say(message);
      return { ok: false, message };
    }
    await sleep(pause, never);
  }
}

function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
