import { findMigrationsTable, migrationRow } from '../../../codebuild/migration-test/inspect';

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
