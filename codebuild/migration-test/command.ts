import { spawn } from 'node:child_process';
import { DATABASE_SSL_MODE, databaseEnv } from '../../lib/config/app-contract';

/**
 * Running the migrations: a generic command runner (injectable; tests pass their own) and
 * the default executor, which logs in to ECR, pulls the application image and runs it
 * with the connection in environment variables — never on the command line.
 */

export interface CommandSpec {
  readonly command: string;
  readonly args: readonly string[];
  /** Added to the runner's own environment. */
  readonly env?: Readonly<Record<string, string>>;
}

export interface CommandResult {
  readonly exitCode: number;
}

export type OutputListener = (line: string, stream: 'stdout' | 'stderr') => void;

/** Runs a command to its end; rejects only when it cannot be started. */
export type CommandRunner = (
  spec: CommandSpec,
  signal: AbortSignal,
  onLine: OutputListener,
) => Promise<CommandResult>;

const SIGNAL_EXIT: Record<string, number> = { SIGHUP: 129, SIGINT: 130, SIGKILL: 137, SIGTERM: 143 };

/** A child process; on abort it gets SIGTERM, then SIGKILL 10 s later. */
export const spawnCommand: CommandRunner = (spec, signal, onLine) =>
  new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(new Error(`not started (aborted): ${spec.command}`));
      return;
    }
    const child = spawn(spec.command, [...spec.args], {
      env: { ...process.env, ...spec.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let killTimer: NodeJS.Timeout | undefined;
    const onAbort = (): void => {
      child.kill('SIGTERM');
      killTimer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      killTimer.unref();
    };
    signal.addEventListener('abort', onAbort, { once: true });
    const pump = (stream: NodeJS.ReadableStream, name: 'stdout' | 'stderr'): void => {
      let buffer = '';
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => {
        buffer += chunk;
        const lines = buffer.split(/\r?\n/);
        buffer = lines.pop() ?? '';
        for (const line of lines) onLine(line, name);
      });
      stream.on('end', () => {
        if (buffer) onLine(buffer, name);
        buffer = '';
      });
    };
    pump(child.stdout, 'stdout');
    pump(child.stderr, 'stderr');
    child.on('error', (error) => {
      signal.removeEventListener('abort', onAbort);
      reject(new Error(`cannot run ${spec.command}: ${error.message}`));
    });
    child.on('close', (code, sig) => {
      signal.removeEventListener('abort', onAbort);
      if (killTimer) clearTimeout(killTimer);
      resolve({ exitCode: code ?? (sig ? (SIGNAL_EXIT[sig] ?? 128) : 1) });
    });
  });

/** Where and how to reach the temporary database. */
export interface ConnectionInfo {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
  readonly database: string;
  readonly sslMode: 'verify-full' | 'require' | 'disable';
}

/**
 * The variables the migration container gets: exactly those the running application gets
 * (the database contract, lib/config/app-contract.ts: DB_*, DATABASE_URL, JDBC_DATABASE_URL,
 * PG*). The container gets `sslmode=require` (encrypted; it has no CA bundle inside) unless SSL
 * is disabled.
 */
export function connectionEnv(c: ConnectionInfo): Record<string, string> {
  return databaseEnv({
    host: c.host,
    port: c.port,
    name: c.database,
    user: c.user,
    password: c.password,
    sslMode: c.sslMode === 'disable' ? 'disable' : DATABASE_SSL_MODE,
  });
}

/** Runs the migrations with the connection in `env`; resolves with the command's status. */
export type MigrationExecutor = (
  env: Readonly<Record<string, string>>,
  signal: AbortSignal,
  onLine: OutputListener,
) => Promise<CommandResult>;

export interface DockerMigrationOptions {
  readonly image: string;
  readonly imageTag: string;
  readonly command: readonly string[];
  readonly region: string;
}

const ECR_HOST = /^\d{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$/;

/**
 * Whether `<image>:<tag>` exists, asked of ECR without pulling (`aws ecr batch-get-image`, covered
 * by the pull permission). Images outside ECR are assumed to exist (the pull decides). Rejects
 * when ECR cannot be asked (access denied, no such repository): the test could not run.
 */
export function ecrImageExists(
  o: DockerMigrationOptions,
  runner: CommandRunner = spawnCommand,
): (signal: AbortSignal) => Promise<boolean> {
  return async (signal) => {
    const [registry = '', ...path] = o.image.split('/');
    if (!ECR_HOST.test(registry)) return true;
    const lines: string[] = [];
    const result = await runner(
      {
        command: 'aws',
        args: [
          'ecr',
          'batch-get-image',
          '--region',
          o.region,
          '--repository-name',
          path.join('/'),
          '--image-ids',
          `imageTag=${o.imageTag}`,
          '--query',
          'length(images)',
          '--output',
          'text',
        ],
      },
      signal,
      (line, stream) => {
        if (stream === 'stdout') lines.push(line.trim());
      },
    );
    if (result.exitCode !== 0) {
      throw new Error(`cannot ask ECR for ${o.image}:${o.imageTag} (aws exit status ${result.exitCode})`);
    }
    const count = lines.filter(Boolean).pop();
    if (count === undefined || !/^\d+$/.test(count)) {
      throw new Error(`unexpected answer from ECR for ${o.image}:${o.imageTag}: ${JSON.stringify(lines)}`);
    }
    return Number(count) > 0;
  };
}

/** The `docker run` arguments: the variables are named (`-e NAME`), their values come from the environment. */
export function dockerRunArgs(o: DockerMigrationOptions, envNames: readonly string[]): string[] {
  return [
    'run',
    '--rm',
    '--network',
    'host',
    ...envNames.flatMap((name) => ['-e', name]),
    `${o.image}:${o.imageTag}`,
    ...o.command,
  ];
}

/**
 * Default executor: `aws ecr get-login-password | docker login` (ECR images only), `docker
 * pull`, then `docker run --rm -e DATABASE_URL -e PGHOST … <image:tag> <command…>`. Login or
 * pull failures reject (the test could not run); the run's status is the migrations'.
 */
export function dockerMigration(
  o: DockerMigrationOptions,
  runner: CommandRunner = spawnCommand,
): MigrationExecutor {
  return async (env, signal, onLine) => {
    const registry = o.image.split('/')[0] ?? '';
    if (ECR_HOST.test(registry)) {
      const login = await runner(
        {
          command: 'sh',
          args: [
            '-c',
            'aws ecr get-login-password --region "$ECR_REGION" | docker login --username AWS --password-stdin "$ECR_REGISTRY"',
          ],
          env: { ECR_REGION: o.region, ECR_REGISTRY: registry },
        },
        signal,
        onLine,
      );
      if (login.exitCode !== 0)
        throw new Error(`docker login to ${registry} failed (status ${login.exitCode})`);
    }
    const pull = await runner(
      { command: 'docker', args: ['pull', `${o.image}:${o.imageTag}`] },
      signal,
      onLine,
    );
    if (pull.exitCode !== 0)
      throw new Error(`docker pull ${o.image}:${o.imageTag} failed (status ${pull.exitCode})`);
    return runner({ command: 'docker', args: dockerRunArgs(o, Object.keys(env)), env }, signal, onLine);
  };
}
