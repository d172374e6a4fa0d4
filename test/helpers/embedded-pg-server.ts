/**
 * Starts a throw-away PostgreSQL ({@link startPgServer}) and prints one JSON line
 * `{"port":…,"user":…,"password":…}` on stdout once it accepts connections. It stops the
 * server and removes everything the server wrote when stdin closes (the test finished or
 * died) or on SIGTERM/SIGINT.
 *
 * It runs in its own Node process so that the server is stopped even when the jest worker
 * that started it dies. When the server cannot start, it prints one line on stderr (the
 * reason and what to do) and exits with 1.
 */
import { startPgServer, type PgServer } from './pg-server';

async function main(): Promise<void> {
  const started: { server?: PgServer } = {};
  let stopping = false;
  const stop = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    try {
      await started.server?.stop();
    } finally {
      process.exit(0);
    }
  };
  process.stdin.on('end', () => void stop());
  process.stdin.on('close', () => void stop());
  process.on('SIGTERM', () => void stop());
  process.on('SIGINT', () => void stop());
  process.stdin.resume();

  const server = await startPgServer({
    // A throw-away cluster: much faster on a busy disk.
    postgresFlags: ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off'],
  });
  started.server = server;
  if (stopping) {
    await server.stop();
    return;
  }
  const { port, user, password } = server;
  process.stdout.write(`${JSON.stringify({ port, user, password })}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
