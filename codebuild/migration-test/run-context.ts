import { DescribeDBInstancesCommand, type DBInstance, type RDSClient } from '@aws-sdk/client-rds';
import { Redactor } from '../../lib/util/redact';
import { formatDuration } from './report';
import type { Settings } from './settings';

/**
 * What every phase of one run shares: the clock, the deadline, the run's abort signal (a
 * SIGTERM/SIGINT or the deadline), the redacting log, and the RDS polling helpers.
 */

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

/** States in which a temporary instance will never become usable. */
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

export function errorName(error: unknown): string {
  return error instanceof Error ? error.name : '';
}

export interface RunContextOptions {
  readonly rds: RDSClient;
  readonly settings: Settings;
  /** One line of output (the context redacts it first). */
  readonly log: (line: string) => void;
  /** Aborted on SIGTERM/SIGINT. */
  readonly signal?: AbortSignal;
  readonly clock?: Clock;
  readonly sleep?: Sleep;
  /** Between two DescribeDBInstances; default 30 s. */
  readonly pollIntervalMs?: number;
}

/** One run's shared state; {@link dispose} when the phases that may be interrupted are over. */
export class RunContext {
  public readonly rds: RDSClient;
  public readonly settings: Settings;
  public readonly clock: Clock;
  public readonly sleep: Sleep;
  // Passwords of at least 4 characters; '***' keeps the runner's reports as they were.
  public readonly redactor = new Redactor({ minLength: 4, marker: '***' });
  public readonly startedAt: number;
  public readonly deadline: number;
  /** Aborted by the outer signal or by the deadline; every wait and AWS call listens. */
  public readonly signal: AbortSignal;
  private readonly run = new AbortController();
  private readonly poll: number;
  private readonly deadlineTimer: NodeJS.Timeout;
  private readonly outer?: AbortSignal;
  private readonly onOuterAbort: () => void;

  constructor(private readonly options: RunContextOptions) {
    this.rds = options.rds;
    this.settings = options.settings;
    this.clock = options.clock ?? { now: () => Date.now() };
    this.sleep = options.sleep ?? realSleep;
    this.poll = options.pollIntervalMs ?? 30_000;
    this.startedAt = this.clock.now();
    this.deadline = this.startedAt + this.settings.timeoutMinutes * 60_000;
    this.outer = options.signal;
    this.onOuterAbort = () => this.run.abort(this.outer?.reason ?? new InterruptedError('signal'));
    if (this.outer?.aborted) this.onOuterAbort();
    this.outer?.addEventListener('abort', this.onOuterAbort, { once: true });
    this.deadlineTimer = setTimeout(
      () => this.run.abort(this.timeout()),
      Math.max(0, this.deadline - this.clock.now()),
    );
    this.deadlineTimer.unref();
    this.signal = this.run.signal;
  }

  /** Options for every AWS call of the run. */
  get aws(): { abortSignal: AbortSignal } {
    return { abortSignal: this.signal };
  }

  /** A line of output, redacted. */
  say(line: string): void {
    this.options.log(this.redactor.redact(line));
  }

  /** A line of output as it is (already redacted by the caller). */
  print(line: string): void {
    this.options.log(line);
  }

  elapsed(): string {
    return formatDuration(this.clock.now() - this.startedAt);
  }

  /** Throws the abort reason when the run was interrupted or is past its deadline. */
  checkpoint(): void {
    if (this.signal.aborted) throw this.signal.reason as Error;
    if (this.clock.now() >= this.deadline) {
      this.run.abort(this.timeout());
      throw this.signal.reason as Error;
    }
  }

  async describe(id: string): Promise<DBInstance | undefined> {
    try {
      const out = await this.rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: id }), this.aws);
      return out.DBInstances?.[0];
    } catch (error) {
      if (errorName(error) === 'DBInstanceNotFoundFault') return undefined;
      throw error;
    }
  }

  /** Polls until `ready`, printing status and elapsed time on every poll. */
  async waitFor(id: string, what: string, ready: (i: DBInstance) => boolean): Promise<DBInstance> {
    let missing = 0;
    for (;;) {
      this.checkpoint();
      const instance = await this.describe(id);
      const status = instance?.DBInstanceStatus ?? 'not found';
      this.say(`[${this.elapsed()}] ${id}: ${status} (waiting for ${what})`);
      if (instance) {
        if (ready(instance)) return instance;
        if (FAILED_STATES.has(status)) throw new Error(`temporary instance ${id} is ${status}`);
      } else if (++missing > 5) {
        throw new Error(`temporary instance ${id} does not exist`);
      }
      this.checkpoint();
      await this.sleep(Math.min(this.poll, Math.max(0, this.deadline - this.clock.now())), this.signal);
    }
  }

  /** Stops the deadline timer and stops listening to the outer signal. */
  dispose(): void {
    clearTimeout(this.deadlineTimer);
    this.outer?.removeEventListener('abort', this.onOuterAbort);
  }

  private timeout(): TimeoutError {
    return new TimeoutError(
      `the migration test ran longer than its ${this.settings.timeoutMinutes}-minute limit`,
    );
  }
}
