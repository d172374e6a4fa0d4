import { DescribeDBSnapshotsCommand, type DBSnapshot, type RDSClient } from '@aws-sdk/client-rds';

/** A snapshot that can be restored: the fields the runner uses. */
export interface SnapshotChoice {
  readonly identifier: string;
  readonly arn?: string;
  readonly type: string;
  readonly createdAt: Date;
  readonly engineVersion?: string;
  readonly masterUsername?: string;
  readonly encrypted: boolean;
}

/**
 * Snapshot identifiers the runner restores: automated `rds:<db>-…` and manual `<db>-…`.
 * The CodeBuild role may restore only these (IAM cannot scope a restore by source
 * instance, only by snapshot ARN); other manual snapshots are listed as skipped.
 */
export function isRestorableName(identifier: string, sourceInstanceId: string): boolean {
  return identifier.startsWith(`rds:${sourceInstanceId}-`) || identifier.startsWith(`${sourceInstanceId}-`);
}

export interface Selection {
  readonly newest?: SnapshotChoice;
  /** Available snapshots of the instance skipped because their name is not restorable. */
  readonly skipped: readonly string[];
}

/** The newest available, restorable snapshot of `sourceInstanceId` (pure). */
export function selectNewestSnapshot(snapshots: readonly DBSnapshot[], sourceInstanceId: string): Selection {
  const skipped: string[] = [];
  let newest: SnapshotChoice | undefined;
  for (const s of snapshots) {
    if (s.DBInstanceIdentifier !== sourceInstanceId || s.Status !== 'available') continue;
    if (!s.DBSnapshotIdentifier || !s.SnapshotCreateTime) continue;
    if (!isRestorableName(s.DBSnapshotIdentifier, sourceInstanceId)) {
      skipped.push(s.DBSnapshotIdentifier);
      continue;
    }
    const createdAt = new Date(s.SnapshotCreateTime);
    if (!newest || createdAt.getTime() > newest.createdAt.getTime()) {
      newest = {
        identifier: s.DBSnapshotIdentifier,
        ...(s.DBSnapshotArn ? { arn: s.DBSnapshotArn } : {}),
        type: s.SnapshotType ?? 'unknown',
        createdAt,
        ...(s.EngineVersion ? { engineVersion: s.EngineVersion } : {}),
        ...(s.MasterUsername ? { masterUsername: s.MasterUsername } : {}),
        encrypted: s.Encrypted ?? false,
      };
    }
  }
  return { ...(newest ? { newest } : {}), skipped };
}

/** Every snapshot (automated and manual) of the instance, all pages. */
export async function listSnapshots(
  rds: RDSClient,
  sourceInstanceId: string,
  abortSignal?: AbortSignal,
): Promise<DBSnapshot[]> {
  const out: DBSnapshot[] = [];
  let marker: string | undefined;
  do {
    // No SnapshotType: DescribeDBSnapshots then returns automated and manual snapshots.
    const page = await rds.send(
      new DescribeDBSnapshotsCommand({
        DBInstanceIdentifier: sourceInstanceId,
        MaxRecords: 100,
        ...(marker ? { Marker: marker } : {}),
      }),
      abortSignal ? { abortSignal } : {},
    );
    out.push(...(page.DBSnapshots ?? []));
    marker = page.Marker;
  } while (marker);
  return out;
}
