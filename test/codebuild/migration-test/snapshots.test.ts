import { selectNewestSnapshot } from '../../../codebuild/migration-test/snapshots';

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
