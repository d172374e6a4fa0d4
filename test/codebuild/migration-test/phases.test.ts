/**
 * The runner's phases one by one (codebuild/migration-test/phases.ts); the whole run is tested in
 * orchestrator.test.ts (mocked RDS) and orchestrator.postgres.test.ts (a real PostgreSQL).
 */
import {
  DBInstanceNotFoundFault,
  DeleteDBInstanceCommand,
  DescribeDBInstancesCommand,
  DescribeDBSnapshotsCommand,
  ModifyDBInstanceCommand,
  RDSClient,
  RestoreDBInstanceFromDBSnapshotCommand,
} from '@aws-sdk/client-rds';
import { mockClient } from 'aws-sdk-client-mock';
import {
  EXIT,
  OutputTail,
  RestoreRequest,
  assembleReport,
  connectWithFreshPassword,
  deleteTemporaryInstance,
  exitCodeOf,
  inspectAndJudge,
  outcomeOf,
  resolveSnapshot,
  restoreSnapshot,
  runMigrations,
  type Evidence,
} from '../../../codebuild/migration-test/phases';
import { RunContext } from '../../../codebuild/migration-test/run-context';
import { AFTER_LOST_COLUMN, BEFORE, PASSWORD, settings } from '../../fixtures/migration-test/states';

const rdsMock = mockClient(RDSClient);
const rds = new RDSClient({ region: 'eu-central-1' });
const T0 = Date.parse('2026-11-27T08:00:00Z');
const snapshot = {
  identifier: 'rds:v1-orcha-db-2026-11-26-03-10',
  type: 'automated',
  createdAt: new Date('2026-11-26T03:10:00Z'),
  masterUsername: 'orcha_admin',
  encrypted: true,
};

function context(log: string[] = []) {
  let t = T0;
  const ctx = new RunContext({
    rds,
    settings: settings(),
    log: (line) => log.push(line),
    clock: { now: () => t },
    sleep: async (ms) => void (t += ms),
    pollIntervalMs: 1000,
  });
  return { ctx, advance: (ms: number) => (t += ms), log };
}

beforeEach(() => rdsMock.reset());

describe('resolveSnapshot', () => {
  const one = {
    DBSnapshotIdentifier: snapshot.identifier,
    DBInstanceIdentifier: 'v1-orcha-db',
    SnapshotType: 'automated',
    Status: 'available',
    SnapshotCreateTime: snapshot.createdAt,
  };
  test('no snapshot: nothing to test', async () => {
    rdsMock.on(DescribeDBSnapshotsCommand).resolves({ DBSnapshots: [] });
    const { ctx } = context();
    expect(await resolveSnapshot(ctx)).toEqual({ kind: 'no-snapshot', skipped: [] });
    ctx.dispose();
  });
  test('a snapshot but no image: a warning naming the image, not a restore', async () => {
    rdsMock.on(DescribeDBSnapshotsCommand).resolves({ DBSnapshots: [one] });
    const { ctx } = context();
    const r = await resolveSnapshot(ctx, async () => false);
    expect(r).toEqual({
      kind: 'no-image',
      skipped: [],
      warning: expect.stringContaining(`${settings().image}:latest`),
    });
    ctx.dispose();
  });
  test('a snapshot and the image: ready, with the unrestorable names skipped', async () => {
    rdsMock.on(DescribeDBSnapshotsCommand).resolves({
      DBSnapshots: [one, { ...one, DBSnapshotIdentifier: 'someone-else', SnapshotType: 'manual' }],
    });
    const { ctx } = context();
    const r = await resolveSnapshot(ctx, async () => true);
    expect(r).toMatchObject({
      kind: 'ready',
      skipped: ['someone-else'],
      snapshot: { identifier: snapshot.identifier },
    });
    ctx.dispose();
  });
});

describe('restoreSnapshot', () => {
  test('sends a tagged restore, waits until available, and measures it', async () => {
    rdsMock.on(RestoreDBInstanceFromDBSnapshotCommand).resolves({});
    rdsMock
      .on(DescribeDBInstancesCommand)
      .resolvesOnce({ DBInstances: [{ DBInstanceStatus: 'creating' }] })
      .resolves({ DBInstances: [{ DBInstanceStatus: 'available' }] });
    const { ctx } = context();
    const request = new RestoreRequest();
    const restored = await restoreSnapshot(ctx, snapshot, request);
    expect(restored.restoreMs).toBe(1000);
    expect(request).toMatchObject({ sent: true, answered: true });
    const input = rdsMock.commandCalls(RestoreDBInstanceFromDBSnapshotCommand)[0].args[0].input;
    expect(input.Tags).toEqual([
      { Key: 'Purpose', Value: 'migration-test' },
      { Key: 'CreatedBy', Value: settings().buildId },
      { Key: 'ExpiresAt', Value: new Date(T0 + 3 * 3_600_000).toISOString() },
      { Key: 'ManagedBy', Value: 'migration-test-runner' },
    ]);
    ctx.dispose();
  });
  test('a service error answers the request (nothing was created); the error propagates', async () => {
    rdsMock
      .on(RestoreDBInstanceFromDBSnapshotCommand)
      .rejects(new DBInstanceNotFoundFault({ message: 'no', $metadata: {} }));
    const { ctx } = context();
    const request = new RestoreRequest();
    await expect(restoreSnapshot(ctx, snapshot, request)).rejects.toThrow('no');
    expect(request).toMatchObject({ sent: true, answered: true });
    ctx.dispose();
  });
  test('a network failure leaves the request unanswered (the instance may still appear)', async () => {
    rdsMock.on(RestoreDBInstanceFromDBSnapshotCommand).rejects(new Error('socket hang up'));
    const { ctx } = context();
    const request = new RestoreRequest();
    await expect(restoreSnapshot(ctx, snapshot, request)).rejects.toThrow('socket hang up');
    expect(request).toMatchObject({ sent: true, answered: false });
    ctx.dispose();
  });
});

test('connectWithFreshPassword: sets the password, waits for it, redacts it from then on', async () => {
  rdsMock.on(ModifyDBInstanceCommand).resolves({});
  rdsMock.on(DescribeDBInstancesCommand).resolves({
    DBInstances: [{ DBInstanceStatus: 'available', Endpoint: { Address: 'db.example', Port: 5433 } }],
  });
  const { ctx, log } = context();
  const connection = await connectWithFreshPassword(
    ctx,
    { instance: { MasterUserSecret: { SecretArn: 'arn:secret' } }, restoreMs: 1 },
    snapshot,
    PASSWORD,
  );
  expect(connection).toEqual({
    host: 'db.example',
    port: 5433,
    user: 'orcha_admin',
    password: PASSWORD,
    database: 'orcha',
    sslMode: 'require',
  });
  expect(rdsMock.commandCalls(ModifyDBInstanceCommand)[0].args[0].input).toMatchObject({
    MasterUserPassword: PASSWORD,
    ManageMasterUserPassword: false,
  });
  ctx.say(`the password is ${PASSWORD}`);
  expect(log.join('\n')).not.toContain(PASSWORD);
  ctx.dispose();
});

test('runMigrations then inspectAndJudge: the migration output tail survives, a dropped column fails', async () => {
  const { ctx, advance } = context();
  const states = [BEFORE, AFTER_LOST_COLUMN];
  const inspect = async () => states.shift()!;
  const tail = new OutputTail(2);
  const migrated = await runMigrations(
    ctx,
    { host: 'h', port: 5432, user: 'u', password: PASSWORD, database: 'orcha', sslMode: 'require' },
    {
      inspect,
      migrate: async (_env, _signal, onLine) => {
        for (const line of ['one', 'two', `three ${PASSWORD}`]) onLine(line, 'stdout');
        advance(5000);
        return { exitCode: 0 };
      },
    },
    tail,
  );
  expect(migrated).toEqual({ before: BEFORE, exitCode: 0, migrationMs: 5000 });
  expect(tail.lines).toEqual(['two', `three ${PASSWORD}`]); // redacted only once the password is known
  const judged = await inspectAndJudge(ctx, {} as never, inspect, migrated);
  expect(judged.verdict).toBe('fail');
  expect(judged.reasons.join('\n')).toMatch(/column/);
  ctx.dispose();
});

describe('deleteTemporaryInstance', () => {
  const options = (log: string[]) => {
    let t = T0;
    return {
      rds,
      clock: { now: () => t },
      sleep: async (ms: number) => void (t += ms),
      say: (line: string) => log.push(line),
      deleteRetryMs: 60_000,
    };
  };
  test('not found after an answered restore: nothing to delete', async () => {
    rdsMock.on(DeleteDBInstanceCommand).rejects(new DBInstanceNotFoundFault({ message: 'x', $metadata: {} }));
    expect(await deleteTemporaryInstance(options([]), 'i', true)).toEqual({
      ok: true,
      message: 'i did not exist',
    });
    expect(rdsMock.commandCalls(DeleteDBInstanceCommand)).toHaveLength(1);
  });
  test('not found after an unanswered restore: retried, since the instance may yet appear', async () => {
    rdsMock
      .on(DeleteDBInstanceCommand)
      .rejectsOnce(new DBInstanceNotFoundFault({ message: 'x', $metadata: {} }))
      .resolves({});
    expect(await deleteTemporaryInstance(options([]), 'i', false)).toEqual({
      ok: true,
      message: 'i deleted',
    });
    expect(rdsMock.commandCalls(DeleteDBInstanceCommand)).toHaveLength(2);
  });
  test('a deletion that keeps failing gives up within its bound and says what to do', async () => {
    rdsMock.on(DeleteDBInstanceCommand).rejects(new Error('throttled'));
    const r = await deleteTemporaryInstance(options([]), 'i', true);
    expect(r.ok).toBe(false);
    expect(r.message).toContain('docs/runbooks/migration-test.md');
    // 60 s bound, 30 s apart: at 0, 30 and 60 s.
    expect(rdsMock.commandCalls(DeleteDBInstanceCommand)).toHaveLength(3);
  });
});

describe('report', () => {
  const base: Evidence = {
    restoreSent: false,
    migrationOutputTail: [],
    startedAt: T0,
    finishedAt: T0 + 1000,
  };
  const judged = { comparison: {} as never, verdict: 'pass' as const, reasons: [], warnings: ['w'] };

  test.each<[string, Evidence, string, number]>([
    ['no snapshot', { ...base, resolution: { kind: 'no-snapshot', skipped: [] } }, 'no-snapshot', EXIT.PASS],
    [
      'no image',
      { ...base, resolution: { kind: 'no-image', skipped: [], warning: 'w' } },
      'no-image',
      EXIT.PASS,
    ],
    ['a pass', { ...base, judged }, 'pass', EXIT.PASS],
    ['a fail', { ...base, judged: { ...judged, verdict: 'fail' } }, 'fail', EXIT.FAIL],
    ['an error after a judgement', { ...base, judged, error: 'boom' }, 'error', EXIT.ERROR],
    ['nothing at all', base, 'error', EXIT.ERROR],
  ])('%s', (_name, evidence, outcome, exit) => {
    expect(outcomeOf(evidence)).toBe(outcome);
    expect(exitCodeOf(assembleReport(settings(), evidence), undefined)).toBe(exit);
  });

  test('a pass that leaves its instance behind exits 2 and warns; a fail stays 1', () => {
    const cleanup = { ok: false, message: 'deletion failed' };
    const pass = assembleReport(settings(), { ...base, restoreSent: true, judged, cleanup });
    expect(pass.warnings).toEqual(['w', 'the temporary instance was not deleted: deletion failed']);
    expect(pass.tempInstanceId).toBe(settings().tempInstanceId);
    expect(exitCodeOf(pass, cleanup)).toBe(EXIT.ERROR);
    const fail = assembleReport(settings(), { ...base, judged: { ...judged, verdict: 'fail' }, cleanup });
    expect(exitCodeOf(fail, cleanup)).toBe(EXIT.FAIL);
  });

  test('completed phases show in the report even when a later one failed', () => {
    const report = assembleReport(settings(), {
      ...base,
      restoreSent: true,
      resolution: { kind: 'ready', skipped: ['x'], snapshot },
      restored: { instance: {}, restoreMs: 7 },
      migrated: { before: BEFORE, exitCode: 3, migrationMs: 9 },
      error: 'timeout',
      migrationOutputTail: ['last line'],
    });
    expect(report).toMatchObject({
      outcome: 'error',
      snapshot,
      skippedSnapshots: ['x'],
      restoreMs: 7,
      migrationMs: 9,
      migrationExitCode: 3,
      error: 'timeout',
      migrationOutputTail: ['last line'],
      reasons: [],
      warnings: [],
    });
    expect(report.comparison).toBeUndefined();
  });
});

test('RunContext: the deadline aborts the next checkpoint with a timeout naming the limit', () => {
  const { ctx, advance } = context();
  expect(() => ctx.checkpoint()).not.toThrow();
  advance(90 * 60_000);
  expect(() => ctx.checkpoint()).toThrow('longer than its 90-minute limit');
  expect(ctx.signal.aborted).toBe(true);
  ctx.dispose();
});
