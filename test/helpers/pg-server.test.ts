/**
 * The tests' PostgreSQL launcher (test/helpers/pg-server.ts): it must start
 * wherever the repository is cloned and whoever runs it, say why in one line when it cannot,
 * and leave nothing behind.
 */
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { lastMeaningfulLine, startPgServer, traversableByAll } from './pg-server';

const asRoot = process.getuid?.() === 0;
let scratch: string;

beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), 'pg-server-test-'));
});
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** The real user id of a process, from /proc. */
function uidOf(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('Uid:'));
  return Number(line?.split(/\s+/)[1]);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

it('traversableByAll: a 0700 directory on the path makes it unreachable for other users', () => {
  const closed = join(scratch, 'closed');
  mkdirSync(join(closed, 'inner'), { recursive: true, mode: 0o700 });
  expect(traversableByAll(join(closed, 'inner'))).toBe(false);
  expect(traversableByAll('/')).toBe(true);
  expect(traversableByAll(join(scratch, 'missing'))).toBe(false);
});

it('lastMeaningfulLine prefers the FATAL line over what follows it', () => {
  const log = [
    '2026-11-30 LOG:  starting PostgreSQL 18',
    '2026-11-30 FATAL:  could not access directory "/x": Permission denied',
    '2026-11-30 LOG:  database system is shut down',
  ].join('\n');
  expect(lastMeaningfulLine(log)).toBe(
    '2026-11-30 FATAL:  could not access directory "/x": Permission denied',
  );
  expect(lastMeaningfulLine('')).toBe('(no output)');
});

it('starts from a private temp dir, accepts connections, and stop() leaves nothing behind', async () => {
  // Under root, a 0700 temp dir cannot be traversed by the server's user: the launcher must skip it.
  const privateTmp = join(scratch, 'private-tmp');
  mkdirSync(privateTmp, { mode: 0o700 });
  const server = await startPgServer({ tempDirs: [privateTmp, tmpdir(), '/tmp'] });
  try {
    if (asRoot) {
      expect(server.workDir.startsWith(privateTmp)).toBe(false);
      expect(existsSync(join(server.workDir, 'native', 'bin', 'postgres'))).toBe(true);
      expect(statSync(join(server.workDir, 'data')).uid).toBe(uidOf(server.pid));
      expect(uidOf(server.pid)).not.toBe(0);
    } else {
      expect(server.workDir.startsWith(privateTmp)).toBe(true);
      expect(uidOf(server.pid)).toBe(process.getuid?.());
    }
    const client = new Client({
      host: '127.0.0.1',
      port: server.port,
      user: server.user,
      password: server.password,
      database: 'postgres',
    });
    await client.connect();
    const { rows } = await client.query<{ server_version: string }>('SHOW server_version');
    await client.end();
    expect(rows[0]?.server_version).toMatch(/^18\./);
  } finally {
    await server.stop();
  }
  expect(alive(server.pid)).toBe(false);
  expect(existsSync(server.workDir)).toBe(false);
});

it('a server that cannot start fails with PostgreSQL’s own reason in one line and removes its files', async () => {
  // A temp dir of its own that every user can traverse, so that nothing else writes there.
  const open = join(scratch, 'open');
  mkdirSync(open);
  chmodSync(scratch, 0o755);
  chmodSync(open, 0o755);
  const error = await startPgServer({
    postgresFlags: ['-c', 'shared_buffers=not-a-size'],
    tempDirs: [open],
  }).then(
    () => undefined,
    (e: unknown) => e as Error,
  );
  expect(error?.message).toMatch(
    /^PostgreSQL for the tests did not start: .*invalid value for parameter "shared_buffers".* \(.+\)$/,
  );
  expect(error?.message).not.toContain('\n');
  expect(readdirSync(open)).toEqual([]);
});
