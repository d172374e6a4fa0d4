import {
  DBInstanceNotFoundFault,
  DeleteDBInstanceCommand,
  DescribeDBInstancesCommand,
  DescribeDBSnapshotsCommand,
  InvalidDBInstanceStateFault,
  InstanceQuotaExceededFault,
  ModifyDBInstanceCommand,
  RDSClient,
  RestoreDBInstanceFromDBSnapshotCommand,
  type DBInstance,
} from '@aws-sdk/client-rds';
import { mockClient } from 'aws-sdk-client-mock';
import type { MigrationExecutor } from '../../../codebuild/migration-test/command';
import type { DatabaseState } from '../../../codebuild/migration-test/inspect';
import { EXIT, runMigrationTest, type Dependencies } from '../../../codebuild/migration-test/orchestrator';
import type { Settings } from '../../../codebuild/migration-test/settings';
import { installSignalHandlers } from '../../../codebuild/migration-test/signals';
import {
  AFTER_LOST_COLUMN,
  AFTER_OK,
  BEFORE,
  PASSWORD,
  settings,
} from '../../fixtures/migration-test/states';

const rdsMock = mockClient(RDSClient);
const rds = new RDSClient({ region: 'eu-central-1' });
const TEMP_ID = settings().tempInstanceId;

const creating: DBInstance = { DBInstanceIdentifier: TEMP_ID, DBInstanceStatus: 'creating' };
const available: DBInstance = {
  DBInstanceIdentifier: TEMP_ID,
  DBInstanceStatus: 'available',
  MasterUsername: 'orcha_admin',
  Endpoint: { Address: 'v1-orcha-migtest-x.abc.eu-central-1.rds.amazonaws.com', Port: 5432 },
};
const pendingPassword: DBInstance = { ...available, PendingModifiedValues: { MasterUserPassword: '****' } };

interface Harness {
  readonly output: string[];
  readonly files: Record<string, string>;
  readonly deps: Dependencies;
  now(): number;
}

function harness(
  overrides: Partial<Dependencies> & { settings?: Settings; states?: DatabaseState[] } = {},
): Harness {
  let t = Date.parse('2026-11-27T08:00:00Z');
  const output: string[] = [];
  const files: Record<string, string> = {};
  const states = [...(overrides.states ?? [BEFORE, AFTER_OK])];
  const migrate: MigrationExecutor = async (env, _signal, onLine) => {
    onLine(`connecting with ${env.DATABASE_URL}`, 'stdout'); // a careless tool printing its URL
    onLine(`password is ${env.PGPASSWORD}`, 'stderr');
    onLine('applied 3 add-phone', 'stdout');
    return { exitCode: 0 };
  };
  const deps: Dependencies = {
    rds,
    settings: overrides.settings ?? settings(),
    migrate,
    inspect: async () => {
      const next = states.shift();
      if (!next) throw new Error('inspected more often than expected');
      return next;
    },
    log: (line) => output.push(line),
    clock: { now: () => t },
    sleep: async (ms, signal) => {
      if (signal.aborted) throw signal.reason as Error;
      t += ms;
    },
    randomPassword: () => PASSWORD,
    writeReport: async (_dir, written) => void Object.assign(files, written),
    ...overrides,
  };
  return { output, files, deps, now: () => t };
}

function snapshotsExist(): void {
  rdsMock
    .on(DescribeDBSnapshotsCommand)
    .resolvesOnce({
      DBSnapshots: [
        {
          DBSnapshotIdentifier: 'rds:v1-orcha-db-2026-11-25-03-10',
          DBInstanceIdentifier: 'v1-orcha-db',
          SnapshotType: 'automated',
          Status: 'available',
          SnapshotCreateTime: new Date('2026-11-25T03:10:00Z'),
        },
      ],
      Marker: 'page-2',
    })
    .resolvesOnce({
      DBSnapshots: [
        {
          DBSnapshotIdentifier: 'v1-orcha-db-before-upgrade',
          DBInstanceIdentifier: 'v1-orcha-db',
          SnapshotType: 'manual',
          Status: 'available',
          SnapshotCreateTime: new Date('2026-11-26T12:00:00Z'),
          MasterUsername: 'orcha_admin',
        },
        {
          DBSnapshotIdentifier: 'rds:v1-orcha-db-2026-11-27-03-10',
          DBInstanceIdentifier: 'v1-orcha-db',
          SnapshotType: 'automated',
          Status: 'creating',
          SnapshotCreateTime: new Date('2026-11-27T03:10:00Z'),
        },
      ],
    });
}

function restoreSucceeds(): void {
  rdsMock.on(RestoreDBInstanceFromDBSnapshotCommand).resolves({ DBInstance: creating });
  rdsMock.on(ModifyDBInstanceCommand).resolves({ DBInstance: pendingPassword });
  rdsMock
    .on(DescribeDBInstancesCommand)
    .resolvesOnce({ DBInstances: [creating] })
    .resolvesOnce({ DBInstances: [creating] })
    .resolvesOnce({ DBInstances: [available] })
    .resolvesOnce({ DBInstances: [pendingPassword] })
    .resolves({ DBInstances: [available] });
}

function deleteCalls() {
  return rdsMock.commandCalls(DeleteDBInstanceCommand).map((c) => c.args[0].input);
}

function expectDeleted(): void {
  expect(deleteCalls()).toContainEqual({
    DBInstanceIdentifier: TEMP_ID,
    SkipFinalSnapshot: true,
    DeleteAutomatedBackups: true,
  });
}

function expectNoPassword(h: Harness): void {
  const everything = [...h.output, ...Object.values(h.files)].join('\n');
  expect(everything).not.toContain(PASSWORD);
  expect(everything).not.toContain(encodeURIComponent(PASSWORD));
}

beforeEach(() => {
  rdsMock.reset();
  rdsMock
    .on(DeleteDBInstanceCommand)
    .resolves({ DBInstance: { ...available, DBInstanceStatus: 'deleting' } });
});

test('happy path: restores the newest snapshot, migrates, passes and deletes the instance', async () => {
  snapshotsExist();
  restoreSucceeds();
  const h = harness();
  const { exitCode, report } = await runMigrationTest(h.deps);

  expect(exitCode).toBe(EXIT.PASS);
  expect(report.outcome).toBe('pass');
  expect(rdsMock.commandCalls(DescribeDBSnapshotsCommand)[1]?.args[0].input).toMatchObject({
    Marker: 'page-2',
  });
  const restore = rdsMock.commandCalls(RestoreDBInstanceFromDBSnapshotCommand)[0]?.args[0].input;
  expect(restore).toMatchObject({
    DBInstanceIdentifier: TEMP_ID,
    DBSnapshotIdentifier: 'v1-orcha-db-before-upgrade', // newest *available* one, from page 2
    DBInstanceClass: 'db.t4g.micro',
    DBSubnetGroupName: 'v1-orcha-db-subnets',
    VpcSecurityGroupIds: ['sg-0123456789abcdef0'],
    PubliclyAccessible: false,
    MultiAZ: false,
    DeletionProtection: false,
  });
  expect(restore?.Tags).toEqual([
    { Key: 'Purpose', Value: 'migration-test' },
    { Key: 'CreatedBy', Value: settings().buildId },
    { Key: 'ExpiresAt', Value: '2026-11-27T11:00:00.000Z' },
    { Key: 'ManagedBy', Value: 'migration-test-runner' },
  ]);
  expect(rdsMock.commandCalls(ModifyDBInstanceCommand)[0]?.args[0].input).toEqual({
    DBInstanceIdentifier: TEMP_ID,
    MasterUserPassword: PASSWORD,
    ApplyImmediately: true,
  });
  // Waited through creating, creating, available, then pending password, available.
  expect(rdsMock.commandCalls(DescribeDBInstancesCommand)).toHaveLength(5);
  expect(h.output.some((l) => /\] v1-orcha-migtest-.*: creating \(waiting for the restore\)/.test(l))).toBe(
    true,
  );
  expectDeleted();
  expect(h.files['migration-report.md']).toContain('✅ PASS');
  expect(h.files['migration-report.md']).toContain('`3 add-phone`');
  expect(h.files['migration-report.xml']).toContain(
    '<testsuites name="migration-test" tests="6" failures="0"',
  );
  expect(h.files['summary.txt']).toMatch(/^PASS: 1 migration\(s\) applied/);
  expectNoPassword(h);
  expect(h.output.join('\n')).toContain('password is ***');
});

test("inside CodeBuild the report directory also gets the link of the build's report page (exported for the approvals)", async () => {
  rdsMock.on(DescribeDBSnapshotsCommand).resolves({ DBSnapshots: [] });
  const page =
    'https://eu-central-1.console.aws.amazon.com/codesuite/codebuild/1/projects/p/build/p%3Ax/reports';
  const inBuild = harness({ settings: settings({ reportUrl: page }) });
  await runMigrationTest(inBuild.deps);
  expect(inBuild.files['report-url.txt']).toBe(`${page}\n`);
  // Run by hand (no build ARN): no link file; the build's export then says "no report written".
  const byHand = harness();
  await runMigrationTest(byHand.deps);
  expect(Object.keys(byHand.files)).not.toContain('report-url.txt');
});

test('no snapshot: first deploy, exit 0, nothing restored or deleted', async () => {
  rdsMock.on(DescribeDBSnapshotsCommand).resolves({ DBSnapshots: [] });
  const h = harness();
  const { exitCode } = await runMigrationTest(h.deps);

  expect(exitCode).toBe(EXIT.PASS);
  expect(rdsMock.commandCalls(RestoreDBInstanceFromDBSnapshotCommand)).toHaveLength(0);
  expect(deleteCalls()).toHaveLength(0);
  expect(h.output.join('\n')).toContain('first deploy');
  expect(h.files['migration-report.md']).toContain('SKIPPED: no snapshot of the database yet (first deploy)');
  expect(h.files['migration-report.xml']).toContain('<skipped message=');
});

test('restore fails: exit 2, deletion still attempted (and "not found" is done)', async () => {
  snapshotsExist();
  rdsMock
    .on(RestoreDBInstanceFromDBSnapshotCommand)
    .rejects(new InstanceQuotaExceededFault({ message: 'quota reached', $metadata: {} }));
  rdsMock
    .on(DeleteDBInstanceCommand)
    .rejects(new DBInstanceNotFoundFault({ message: 'gone', $metadata: {} }));
  const h = harness();
  const { exitCode, report } = await runMigrationTest(h.deps);

  expect(exitCode).toBe(EXIT.ERROR);
  expect(report.error).toContain('quota reached');
  expect(deleteCalls()).toHaveLength(1); // the service answered: nothing was created, no retries
  expect(h.files['migration-report.xml']).toContain('<error message=');
  expectNoPassword(h);
});

test('wait times out: exit 2 at the deadline, deletion retried past InvalidDBInstanceState', async () => {
  snapshotsExist();
  rdsMock.on(RestoreDBInstanceFromDBSnapshotCommand).resolves({ DBInstance: creating });
  rdsMock.on(DescribeDBInstancesCommand).resolves({ DBInstances: [creating] });
  rdsMock
    .on(DeleteDBInstanceCommand)
    .rejectsOnce(new InvalidDBInstanceStateFault({ message: 'creating', $metadata: {} }))
    .resolves({});
  const h = harness({ settings: settings({ timeoutMinutes: 20 }) });
  const started = h.now();
  const { exitCode, report } = await runMigrationTest(h.deps);

  expect(exitCode).toBe(EXIT.ERROR);
  expect(report.error).toContain('longer than its 20-minute limit');
  expect(h.now() - started).toBeGreaterThanOrEqual(20 * 60_000);
  expect(h.now() - started).toBeLessThan(25 * 60_000);
  expect(rdsMock.commandCalls(ModifyDBInstanceCommand)).toHaveLength(0);
  expect(deleteCalls()).toHaveLength(2);
  expectDeleted();
});

test('migration fails: exit 1, report says why, instance deleted', async () => {
  snapshotsExist();
  restoreSucceeds();
  const h = harness({
    states: [BEFORE, BEFORE],
    migrate: async (_env, _signal, onLine) => {
      onLine('ERROR: relation "nope" does not exist', 'stderr');
      return { exitCode: 3 };
    },
  });
  const { exitCode, report } = await runMigrationTest(h.deps);

  expect(exitCode).toBe(EXIT.FAIL);
  expect(report.reasons).toContain('the migration command exited with status 3');
  expect(h.files['migration-report.md']).toContain('relation "nope" does not exist');
  expect(h.files['migration-report.xml']).toContain('<failure message="exit status 3">');
  expectDeleted();
  expectNoPassword(h);
});

test('data lost: a dropped column fails the verdict unless the allow-list declares it', async () => {
  snapshotsExist();
  restoreSucceeds();
  const lost = harness({ states: [BEFORE, AFTER_LOST_COLUMN] });
  const first = await runMigrationTest(lost.deps);
  expect(first.exitCode).toBe(EXIT.FAIL);
  expect(first.report.reasons).toContain('columns dropped: public.customers.email');
  expect(lost.files['migration-report.md']).toMatch(/\| `public\.customers\.email` \| \*\*no\*\* \|/);
  expectDeleted();

  rdsMock.reset();
  rdsMock.on(DeleteDBInstanceCommand).resolves({});
  snapshotsExist();
  restoreSucceeds();
  const allowed = harness({
    states: [BEFORE, AFTER_LOST_COLUMN],
    settings: settings({ allowDataLoss: ['customers.email'] }),
  });
  const second = await runMigrationTest(allowed.deps);
  expect(second.exitCode).toBe(EXIT.PASS);
  expect(allowed.files['migration-report.md']).toContain(
    '- `customers.email`: column public.customers.email dropped',
  );
  expectDeleted();
});

test('SIGTERM during the migrations: child aborted, exit 2, instance deleted', async () => {
  snapshotsExist();
  restoreSucceeds();
  const controller = new AbortController();
  const uninstall = installSignalHandlers(controller, () => undefined);
  let sawAbort = false;
  try {
    const h = harness({
      signal: controller.signal,
      migrate: (_env, signal) =>
        new Promise((resolve) => {
          signal.addEventListener('abort', () => {
            sawAbort = true;
            resolve({ exitCode: 143 });
          });
          process.emit('SIGTERM', 'SIGTERM');
        }),
    });
    const { exitCode, report } = await runMigrationTest(h.deps);

    expect(sawAbort).toBe(true);
    expect(exitCode).toBe(EXIT.ERROR);
    expect(report.error).toContain('interrupted by SIGTERM');
    expectDeleted();
    expectNoPassword(h);
  } finally {
    uninstall();
  }
});

test('SIGTERM while the restore request is in flight: deletes once the instance appears', async () => {
  snapshotsExist();
  const controller = new AbortController();
  const uninstall = installSignalHandlers(controller, () => undefined);
  try {
    rdsMock.on(RestoreDBInstanceFromDBSnapshotCommand).callsFake(async () => {
      process.emit('SIGTERM', 'SIGTERM');
      throw Object.assign(new Error('Request aborted'), { name: 'AbortError' }); // no answer from RDS
    });
    rdsMock
      .on(DeleteDBInstanceCommand)
      .rejectsOnce(new DBInstanceNotFoundFault({ message: 'not yet', $metadata: {} }))
      .resolves({});
    const h = harness({ signal: controller.signal });
    const { exitCode } = await runMigrationTest(h.deps);

    expect(exitCode).toBe(EXIT.ERROR);
    expect(deleteCalls()).toHaveLength(2); // "not found" was not believed: the restore was never answered
    expectDeleted();
  } finally {
    uninstall();
  }
});

test('deletion that keeps failing is bounded and reported (exit 2 even after a pass)', async () => {
  snapshotsExist();
  restoreSucceeds();
  rdsMock
    .on(DeleteDBInstanceCommand)
    .rejects(new InvalidDBInstanceStateFault({ message: 'busy', $metadata: {} }));
  const h = harness({ deleteRetryMs: 5 * 60_000, pollIntervalMs: 60_000 });
  const { exitCode, report } = await runMigrationTest(h.deps);

  expect(exitCode).toBe(EXIT.ERROR);
  expect(deleteCalls().length).toBeGreaterThanOrEqual(10);
  expect(deleteCalls().length).toBeLessThanOrEqual(12);
  expect(report.cleanup).toContain('the janitor deletes it');
});

describe('no migration image yet (latest not pushed): a skip with a warning, not a blocked deploy', () => {
  beforeEach(() => rdsMock.reset());

  test('nothing is restored, exit 0, the report says the migrations were NOT tested', async () => {
    snapshotsExist();
    const asked: string[] = [];
    const h = harness({
      imageExists: async () => {
        asked.push('asked');
        return false;
      },
      migrate: async () => {
        throw new Error('must not run');
      },
    });
    const { exitCode, report } = await runMigrationTest(h.deps);
    expect(exitCode).toBe(EXIT.PASS);
    expect(report.outcome).toBe('no-image');
    expect(asked).toHaveLength(1);
    expect(rdsMock.commandCalls(RestoreDBInstanceFromDBSnapshotCommand)).toHaveLength(0);
    expect(report.warnings.join(' ')).toMatch(/migrations were not tested/);
    expect(h.files['summary.txt']).toMatch(/^SKIPPED with a warning: no image .*:latest yet/);
    expect(h.files['migration-report.md']).toContain(
      'SKIPPED: the migration image is not in the repository yet (nothing was tested)',
    );
    expect(h.files['migration-report.xml']).toContain('<skipped');
  });

  test('an image that exists is tested as before', async () => {
    snapshotsExist();
    rdsMock.on(RestoreDBInstanceFromDBSnapshotCommand).resolves({});
    rdsMock
      .on(DescribeDBInstancesCommand)
      .resolvesOnce({ DBInstances: [available] })
      .resolvesOnce({ DBInstances: [available] })
      .rejects(new DBInstanceNotFoundFault({ message: 'gone', $metadata: {} }));
    rdsMock.on(ModifyDBInstanceCommand).resolves({});
    rdsMock.on(DeleteDBInstanceCommand).resolves({});
    const h = harness({ imageExists: async () => true });
    const { exitCode, report } = await runMigrationTest(h.deps);
    expect(report.outcome).toBe('pass');
    expect(exitCode).toBe(EXIT.PASS);
  });
});
