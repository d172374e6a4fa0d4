/**
 * Smoke test run by the infrastructure pipeline after each deployment: calls the
 * environment's health URL until it answers 2xx, with a bounded number of attempts and a
 * per-request timeout, and exits non-zero otherwise.
 *
 *   npx tsx codebuild/smoke-test.ts <url> [--attempts N] [--interval-seconds S] [--timeout-seconds T]
 *
 * Only Node built-ins, so that the pipeline runs it with a pinned `tsx` and no `npm ci`.
 */

export interface SmokeTestOptions {
  /** URL that must answer 2xx. */
  readonly url: string;
  /** Requests before giving up. */
  readonly attempts: number;
  /** Wait between two attempts. */
  readonly intervalMs: number;
  /** Bound on one request. */
  readonly timeoutMs: number;
  /** Injected for tests. */
  readonly fetchImpl?: typeof fetch;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly log?: (line: string) => void;
}

export interface SmokeTestResult {
  readonly ok: boolean;
  readonly attempts: number;
  readonly lastStatus?: number;
  readonly lastError?: string;
}

const defaultSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export async function smokeTest(options: SmokeTestOptions): Promise<SmokeTestResult> {
  const doFetch = options.fetchImpl ?? fetch;
  const sleep = options.sleep ?? defaultSleep;
  const log = options.log ?? ((line: string) => console.log(line));
  let lastStatus: number | undefined;
  let lastError: string | undefined;

  for (let attempt = 1; attempt <= options.attempts; attempt++) {
    const started = Date.now();
    try {
      const response = await doFetch(options.url, {
        redirect: 'follow',
        signal: AbortSignal.timeout(options.timeoutMs),
        headers: { 'user-agent': 'orcha-pipeline-smoke-test' },
      });
      lastStatus = response.status;
      lastError = undefined;
      await response.body?.cancel();
      const ms = Date.now() - started;
      if (response.ok) {
        log(`attempt ${attempt}/${options.attempts}: ${options.url} answered ${response.status} in ${ms} ms`);
        return { ok: true, attempts: attempt, lastStatus };
      }
      log(`attempt ${attempt}/${options.attempts}: ${options.url} answered ${response.status} in ${ms} ms`);
    } catch (error) {
      const err = error as Error;
      lastStatus = undefined;
      lastError =
        err.name === 'TimeoutError' || err.name === 'AbortError'
          ? `no answer within ${options.timeoutMs} ms`
          : `${err.message}${(err as { cause?: Error }).cause ? ` (${(err as { cause?: Error }).cause?.message})` : ''}`;
      log(`attempt ${attempt}/${options.attempts}: ${options.url} failed: ${lastError}`);
    }
    if (attempt < options.attempts) await sleep(options.intervalMs);
  }
  return { ok: false, attempts: options.attempts, lastStatus, lastError };
}

function positive(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0)
    throw new Error(`${name} must be a positive number, got "${raw}"`);
  return value;
}

/** Parses `<url> [--attempts N] [--interval-seconds S] [--timeout-seconds T]`. */
export function parseArgs(argv: readonly string[]): SmokeTestOptions {
  const flags = new Map<string, string>();
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg.startsWith('--')) {
      const value = argv[i + 1];
      if (value === undefined) throw new Error(`${arg} needs a value`);
      flags.set(arg.slice(2), value);
      i++;
    } else {
      positional.push(arg);
    }
  }
  for (const key of flags.keys()) {
    if (!['attempts', 'interval-seconds', 'timeout-seconds'].includes(key))
      throw new Error(`unknown option --${key}`);
  }
  if (positional.length !== 1)
    throw new Error('usage: smoke-test <url> [--attempts N] [--interval-seconds S] [--timeout-seconds T]');
  const url = positional[0];
  if (!/^https?:\/\//.test(url)) throw new Error(`url must start with http:// or https://, got "${url}"`);
  return {
    url,
    attempts: Math.floor(positive('--attempts', flags.get('attempts'), 20)),
    intervalMs: positive('--interval-seconds', flags.get('interval-seconds'), 15) * 1000,
    timeoutMs: positive('--timeout-seconds', flags.get('timeout-seconds'), 10) * 1000,
  };
}

export async function main(argv: readonly string[]): Promise<number> {
  let options: SmokeTestOptions;
  try {
    options = parseArgs(argv);
  } catch (error) {
    console.error((error as Error).message);
    return 2;
  }
  const result = await smokeTest(options);
  if (result.ok) {
    console.log(`smoke test passed: ${options.url}`);
    return 0;
  }
  console.error(
    `smoke test FAILED after ${result.attempts} attempts: ${options.url} ` +
      (result.lastStatus !== undefined
        ? `last answered ${result.lastStatus}`
        : `last error: ${result.lastError}`),
  );
  return 1;
}

if (process.argv[1] && /smoke-test\.ts$/.test(process.argv[1])) {
  main(process.argv.slice(2)).then((code) => process.exit(code));
}
