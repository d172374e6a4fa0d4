import type { CommandRunner, CommandSpec } from '../../../codebuild/migration-test/command';
import { connectionEnv, dockerMigration, ecrImageExists } from '../../../codebuild/migration-test/command';
import { DATABASE_VARIABLES } from '../../../lib/config/app-contract';
import { compare, judge } from '../../../codebuild/migration-test/diff';
import { temporaryInstanceId, isValidInstanceId } from '../../../codebuild/migration-test/identifier';
import { findMigrationsTable, migrationRow } from '../../../codebuild/migration-test/inspect';
import { renderJUnit, xmlEscape, type RunReport } from '../../../codebuild/migration-test/report';
import { loadSettings, SettingsError } from '../../../codebuild/migration-test/settings';
import { selectNewestSnapshot } from '../../../codebuild/migration-test/snapshots';
import { BEFORE, PASSWORD } from '../../fixtures/migration-test/states';

const ENV = {
  SOURCE_DB_INSTANCE_ID: 'v1-orcha-db',
  TEMP_INSTANCE_PREFIX: 'v1-orcha-migtest-',
  CODEBUILD_BUILD_ID: 'v1-orcha-migration-test:0b6f7c1e-2f1d-4c1e-9a53-6f0e1d2c3b4a',
  DB_SUBNET_GROUP_NAME: 'v1-orcha-db-subnets',
  DB_SECURITY_GROUP_IDS: 'sg-0123456789abcdef0, sg-0fedcba9876543210',
  MIGRATION_IMAGE: '700558745280.dkr.ecr.eu-central-1.amazonaws.com/v1-orcha',
  TEMP_INSTANCE_CLASS: 'db.t4g.medium',
  AWS_REGION: 'eu-central-1',
};

describe('temporary instance identifier', () => {
  test('a CodeBuild id keeps its uuid after the prefix', () => {
    expect(temporaryInstanceId('v1-orcha-migtest-', ENV.CODEBUILD_BUILD_ID)).toBe(
      'v1-orcha-migtest-0b6f7c1e-2f1d-4c1e-9a53-6f0e1d2c3b4a',
    );
  });

  test('odd characters, case and length are sanitised to a valid id of ≤ 63 characters', () => {
    const id = temporaryInstanceId('v1-orcha-staging-migtest-', 'Local__Run--#42 by Ünal '.repeat(5));
    expect(id.length).toBeLessThanOrEqual(63);
    expect(isValidInstanceId(id)).toBe(true);
    expect(id.startsWith('v1-orcha-staging-migtest-local-run-42-by-')).toBe(true);
    // Two long ids differing only at the end stay distinct (hash suffix).
    expect(temporaryInstanceId('v1-orcha-migtest-', `${'x'.repeat(80)}a`)).not.toBe(
      temporaryInstanceId('v1-orcha-migtest-', `${'x'.repeat(80)}b`),
    );
  });
});

describe('settings', () => {
  test('valid environment: defaults, list parsing, allow-list file merged', () => {
    const files: Record<string, string> = {
      '/app/allow.txt': '# intended\norders.legacy_note\n\nArchive  # old\n',
    };
    const s = loadSettings(
      { ...ENV, ALLOW_DATA_LOSS: '["customers.email"]', ALLOW_DATA_LOSS_FILE: '/app/allow.txt' },
      (p) => {
        const text = files[p];
        if (text === undefined) throw new Error('ENOENT');
        return text;
      },
    );
    expect(s).toMatchObject({
      tempInstanceId: 'v1-orcha-migtest-0b6f7c1e-2f1d-4c1e-9a53-6f0e1d2c3b4a',
      securityGroupIds: ['sg-0123456789abcdef0', 'sg-0fedcba9876543210'],
      instanceClass: 'db.t4g.medium',
      timeoutMinutes: 90,
      ttlHours: 3,
      imageTag: 'latest',
      command: ['migrate'],
      allowDataLoss: ['customers.email', 'orders.legacy_note', 'archive'],
      reportDir: 'reports',
      databaseName: 'orcha',
      sslMode: 'require',
    });
  });

  test("the build's ARN gives the link of its report page; without it (run by hand) there is none", () => {
    const arn = `arn:aws:codebuild:eu-central-1:700558745280:build/${ENV.CODEBUILD_BUILD_ID}`;
    expect(loadSettings({ ...ENV, CODEBUILD_BUILD_ARN: arn }).reportUrl).toBe(
      'https://eu-central-1.console.aws.amazon.com/codesuite/codebuild/700558745280/projects/v1-orcha-migration-test' +
        '/build/v1-orcha-migration-test%3A0b6f7c1e-2f1d-4c1e-9a53-6f0e1d2c3b4a/reports?region=eu-central-1',
    );
    expect(loadSettings(ENV).reportUrl).toBeUndefined();
  });

  test('a CA bundle makes the connection verify-full', () => {
    const s = loadSettings({ ...ENV, DB_SSL_CA_FILE: '/ca.pem' }, () => '-----BEGIN CERTIFICATE-----');
    expect(s.sslMode).toBe('verify-full');
    expect(s.sslCa).toContain('BEGIN CERTIFICATE');
  });

  test('invalid values fail with one message naming each variable', () => {
    let message = '';
    try {
      loadSettings({
        ...ENV,
        DB_SECURITY_GROUP_IDS: 'default',
        MIGRATION_COMMAND: 'migrate',
        TIMEOUT_MINUTES: 'soon',
        SOURCE_DB_INSTANCE_ID: undefined,
        TEMP_INSTANCE_CLASS: undefined,
      });
    } catch (error) {
      expect(error).toBeInstanceOf(SettingsError);
      message = (error as Error).message;
    }
    expect(message).toContain('DB_SECURITY_GROUP_IDS');
    expect(message).toContain('MIGRATION_COMMAND: MIGRATION_COMMAND must be a JSON array of strings');
    expect(message).toContain('TIMEOUT_MINUTES');
    expect(message).toContain('SOURCE_DB_INSTANCE_ID');
    // No default class: one that cannot run the snapshot's engine version fails the restore.
    expect(message).toContain('TEMP_INSTANCE_CLASS');
  });

  test('malformed allow-list entries are rejected', () => {
    expect(() => loadSettings({ ...ENV, ALLOW_DATA_LOSS: '["drop table x;"]' })).toThrow(/ALLOW_DATA_LOSS/);
  });
});

test('snapshot selection: newest available one of this instance with a restorable name', () => {
  const selection = selectNewestSnapshot(
    [
      {
        DBSnapshotIdentifier: 'rds:v1-orcha-db-2026-11-25',
        DBInstanceIdentifier: 'v1-orcha-db',
        Status: 'available',
        SnapshotCreateTime: new Date('2026-11-25'),
        SnapshotType: 'automated',
      },
      {
        DBSnapshotIdentifier: 'rds:v1-orcha-db-2026-11-27',
        DBInstanceIdentifier: 'v1-orcha-db',
        Status: 'creating',
        SnapshotCreateTime: new Date('2026-11-27'),
      },
      {
        DBSnapshotIdentifier: 'handmade',
        DBInstanceIdentifier: 'v1-orcha-db',
        Status: 'available',
        SnapshotCreateTime: new Date('2026-11-28'),
      },
      {
        DBSnapshotIdentifier: 'rds:v1-orcha-db-old-2026-11-29',
        DBInstanceIdentifier: 'v1-orcha-db-old',
        Status: 'available',
        SnapshotCreateTime: new Date('2026-11-29'),
      },
      {
        DBSnapshotIdentifier: 'v1-orcha-db-manual',
        DBInstanceIdentifier: 'v1-orcha-db',
        Status: 'available',
        SnapshotCreateTime: new Date('2026-11-26'),
        SnapshotType: 'manual',
      },
    ],
    'v1-orcha-db',
  );
  expect(selection.newest?.identifier).toBe('v1-orcha-db-manual');
  expect(selection.skipped).toEqual(['handmade']);
});

test('docker executor: ECR login, pull, run with -e NAMES only; the password never in arguments', async () => {
  const specs: CommandSpec[] = [];
  const env = connectionEnv({
    host: 'db.internal',
    port: 5432,
    user: 'orcha_admin',
    password: PASSWORD,
    database: 'orcha',
    sslMode: 'verify-full',
  });
  expect(env.DATABASE_URL).toBe(`postgres://orcha_admin:${PASSWORD}@db.internal:5432/orcha?sslmode=require`);
  const migrate = dockerMigration(
    {
      image: '700558745280.dkr.ecr.eu-central-1.amazonaws.com/v1-orcha',
      imageTag: 'abc123',
      command: ['migrate', '--all'],
      region: 'eu-central-1',
    },
    async (spec) => {
      specs.push(spec);
      return { exitCode: 0 };
    },
  );
  const result = await migrate(env, new AbortController().signal, () => undefined);

  expect(result.exitCode).toBe(0);
  expect(specs.map((s) => s.command)).toEqual(['sh', 'docker', 'docker']);
  expect(specs[0]?.env).toEqual({
    ECR_REGION: 'eu-central-1',
    ECR_REGISTRY: '700558745280.dkr.ecr.eu-central-1.amazonaws.com',
  });
  expect(specs[1]?.args).toEqual(['pull', '700558745280.dkr.ecr.eu-central-1.amazonaws.com/v1-orcha:abc123']);
  expect(specs[2]?.args).toEqual([
    'run',
    '--rm',
    '--network',
    'host',
    // The database contract (lib/config/app-contract.ts), by name only.
    ...Object.keys(DATABASE_VARIABLES).flatMap((name) => ['-e', name]),
    '700558745280.dkr.ecr.eu-central-1.amazonaws.com/v1-orcha:abc123',
    'migrate',
    '--all',
  ]);
  expect(specs[2]?.env?.PGPASSWORD).toBe(PASSWORD);
  for (const spec of specs) expect(JSON.stringify([spec.command, spec.args])).not.toContain(PASSWORD);
});

test('docker executor: a failed pull is an error of the test, not a verdict', async () => {
  const migrate = dockerMigration(
    {
      image: 'registry.example.com/orcha',
      imageTag: 'missing',
      command: ['migrate'],
      region: 'eu-central-1',
    },
    async (spec) => ({ exitCode: spec.args[0] === 'pull' ? 1 : 0 }),
  );
  await expect(migrate({}, new AbortController().signal, () => undefined)).rejects.toThrow(
    /docker pull .* failed/,
  );
});

test('migration rows of flyway, prisma and golang-migrate record failures', () => {
  expect(migrationRow({ installed_rank: 7, version: '7', description: 'add index', success: false })).toEqual(
    {
      key: 'installed_rank=7',
      label: '7 add index',
      failed: true,
    },
  );
  expect(
    migrationRow({ id: 'x', migration_name: '20261127_init', finished_at: null, rolled_back_at: null })
      .failed,
  ).toBe(true);
  expect(migrationRow({ version: 12, dirty: true }).failed).toBe(true);
  expect(migrationRow({ id: 20260101, applied: '2026-01-01', description: 'init' }).failed).toBe(false);
  expect(
    findMigrationsTable([
      { schema: 'app', name: 'ragtime_migrations' },
      { schema: 'public', name: 'flyway_schema_history' },
    ]),
  ).toEqual({
    schema: 'app',
    name: 'ragtime_migrations',
  });
  expect(findMigrationsTable([{ schema: 'ops', name: 'applied' }], 'ops.applied')).toEqual({
    schema: 'ops',
    name: 'applied',
  });
});

test('pre-existing invalid indexes warn, new ones fail; unused allowances are reported', () => {
  const invalid = {
    schema: 'public',
    table: 'customers',
    name: 'old_idx',
    valid: false,
    definition: 'CREATE INDEX old_idx …',
  };
  const before = { ...BEFORE, indexes: [...BEFORE.indexes, invalid] };
  const judgement = judge(compare(before, before, ['ghost']), 0);
  expect(judgement.verdict).toBe('pass');
  expect(judgement.warnings).toEqual([
    'indexes already INVALID before the migrations: old_idx',
    'allow-list entries not needed by this run: ghost',
  ]);
  const fresh = { ...invalid, name: 'new_idx' };
  expect(judge(compare(BEFORE, { ...BEFORE, indexes: [...BEFORE.indexes, fresh] }, []), 0).verdict).toBe(
    'fail',
  );
});

test('JUnit XML escapes everything it carries', () => {
  expect(xmlEscape('a<b & "c" \u0001')).toBe('a&lt;b &amp; &quot;c&quot; ');
  const report: RunReport = {
    outcome: 'error',
    sourceInstanceId: 'v1-orcha-db',
    buildId: 'b',
    startedAt: new Date(0),
    finishedAt: new Date(1500),
    reasons: [],
    warnings: [],
    error: 'AccessDenied: <rds:RestoreDBInstanceFromDBSnapshot>',
  };
  const xml = renderJUnit(report, '# md');
  expect(xml).toContain('errors="1"');
  expect(xml).toContain('time="1.500"');
  expect(xml).toContain('&lt;rds:RestoreDBInstanceFromDBSnapshot&gt;');
  expect(xml).not.toMatch(/<rds:/);
});

describe('ecrImageExists: asks ECR without pulling', () => {
  const options = {
    image: '700558745280.dkr.ecr.eu-central-1.amazonaws.com/v1-orcha',
    imageTag: 'latest',
    command: ['migrate'],
    region: 'eu-central-1',
  };
  const answering =
    (stdout: string, exitCode = 0, seen: CommandSpec[] = []): CommandRunner =>
    async (spec, _signal, onLine) => {
      seen.push(spec);
      onLine(stdout, 'stdout');
      return { exitCode };
    };

  test('batch-get-image on the repository and tag; 1 image → exists, 0 → missing', async () => {
    const seen: CommandSpec[] = [];
    expect(await ecrImageExists(options, answering('1', 0, seen))(new AbortController().signal)).toBe(true);
    expect(seen[0]?.command).toBe('aws');
    expect(seen[0]?.args).toEqual([
      'ecr',
      'batch-get-image',
      '--region',
      'eu-central-1',
      '--repository-name',
      'v1-orcha',
      '--image-ids',
      'imageTag=latest',
      '--query',
      'length(images)',
      '--output',
      'text',
    ]);
    expect(await ecrImageExists(options, answering('0'))(new AbortController().signal)).toBe(false);
  });

  test('ECR that cannot be asked is an error (the test could not run), not a skip', async () => {
    await expect(ecrImageExists(options, answering('', 254))(new AbortController().signal)).rejects.toThrow(
      /cannot ask ECR .* status 254/,
    );
  });

  test('an image outside ECR is left to the pull', async () => {
    const seen: CommandSpec[] = [];
    const other = { ...options, image: 'docker.io/library/postgres' };
    expect(await ecrImageExists(other, answering('0', 0, seen))(new AbortController().signal)).toBe(true);
    expect(seen).toEqual([]);
  });
});
