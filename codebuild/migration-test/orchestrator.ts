import { randomBytes } from 'node:crypto';
import type { RDSClient } from '@aws-sdk/client-rds';
import type { MigrationExecutor } from './command';
import {
  OutputTail,
  RestoreRequest,
  assembleReport,
  connectWithFreshPassword,
  deleteTemporaryInstance,
  exitCodeOf,
  inspectAndJudge,
  publishReport,
  resolveSnapshot,
  restoreSnapshot,
  runMigrations,
  writeReportFiles,
  type Cleanup,
  type Evidence,
  type Inspector,
  type ReportWriter,
} from './phases';
import type { RunReport } from './report';
import { RunContext, TimeoutError, type Clock, type Sleep } from './run-context';
import type { Settings } from './settings';

export { EXIT, TAG_MANAGED_BY, TAG_PURPOSE, type Inspector } from './phases';
export { InterruptedError, TimeoutError, realSleep, type Clock, type Sleep } from './run-context';

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
  readonly writeReport?: ReportWriter;
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

/** Lines of the migration command's output kept for the report. */
const OUTPUT_TAIL = 40;

/** What the interruptible phases produced before they finished or one of them threw. */
type Progress = Pick<Evidence, 'resolution' | 'restored' | 'migrated' | 'judged' | 'error'>;

/**
 * Phases 1–5, interruptible by the run's signal and deadline. Each completed phase's result is
 * kept when a later one throws (the report shows how far the run got).
 */
async function testMigrations(
  ctx: RunContext,
  deps: Dependencies,
  request: RestoreRequest,
  tail: OutputTail,
): Promise<Progress> {
  const { settings } = ctx;
  let progress: Progress = {};
  try {
    ctx.say(
      `Migration test of ${settings.sourceInstanceId} (build ${settings.buildId}), limit ${settings.timeoutMinutes} min`,
    );
    const resolution = await resolveSnapshot(ctx, deps.imageExists);
    progress = { resolution };
    if (resolution.kind !== 'ready') return progress;
    const restored = await restoreSnapshot(ctx, resolution.snapshot, request);
    progress = { ...progress, restored };
    const password = (deps.randomPassword ?? randomPassword)();
    const connection = await connectWithFreshPassword(ctx, restored, resolution.snapshot, password);
    const migrated = await runMigrations(ctx, connection, deps, tail);
    progress = { ...progress, migrated };
    const judged = await inspectAndJudge(ctx, connection, deps.inspect, migrated);
    return { ...progress, judged };
  } catch (error) {
    const { signal, redactor } = ctx;
    let errorText = redactor.describe(signal.aborted ? signal.reason : error);
    if (signal.aborted && error !== signal.reason && !(error instanceof TimeoutError)) {
      errorText += ` (${redactor.describe(error)})`;
    }
    ctx.say(`The migration test could not run: ${errorText}`);
    return { ...progress, error: errorText };
  }
}

/**
 * The migration test: newest snapshot → temporary instance → fresh password → inspect →
 * migrate → inspect → report, and ALWAYS delete the temporary instance once the restore
 * request has been sent (success, failure, timeout, signal). Returns the exit status.
 */
export async function runMigrationTest(deps: Dependencies): Promise<RunResult> {
  const ctx = new RunContext(deps);
  const request = new RestoreRequest();
  const tail = new OutputTail(OUTPUT_TAIL);
  const progress = await testMigrations(ctx, deps, request, tail).finally(() => ctx.dispose());
  const cleanup: Cleanup | undefined = request.sent
    ? await deleteTemporaryInstance(
        {
          rds: ctx.rds,
          clock: ctx.clock,
          sleep: ctx.sleep,
          say: (line) => ctx.say(line),
          ...(deps.deleteRetryMs !== undefined ? { deleteRetryMs: deps.deleteRetryMs } : {}),
          ...(deps.pollIntervalMs !== undefined ? { pollIntervalMs: deps.pollIntervalMs } : {}),
        },
        ctx.settings.tempInstanceId,
        request.answered,
      )
    : undefined;
  const report = assembleReport(ctx.settings, {
    ...progress,
    restoreSent: request.sent,
    ...(cleanup ? { cleanup } : {}),
    migrationOutputTail: tail.lines,
    startedAt: ctx.startedAt,
    finishedAt: ctx.clock.now(),
  });
  const exitCode = await publishReport(
    ctx,
    report,
    exitCodeOf(report, cleanup),
    deps.writeReport ?? writeReportFiles,
  );
  return { exitCode, report };
}
