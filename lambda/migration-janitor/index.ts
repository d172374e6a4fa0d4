/**
 * Migration-test janitor (scheduled hourly). Deletes temporary instances the migration
 * test left behind: only those whose identifier starts with `INSTANCE_PREFIX`, that carry
 * `Purpose=migration-test`, and whose `ExpiresAt` tag is in the past. An instance without
 * a parseable `ExpiresAt` is left alone with a warning; instances already being deleted
 * are skipped. Nothing else is ever touched.
 */
import {
  DeleteDBInstanceCommand,
  DescribeDBInstancesCommand,
  RDSClient,
  type DBInstance,
} from '@aws-sdk/client-rds';
import { Logger } from '@aws-lambda-powertools/logger';

import {
  CREATED_BY_TAG_KEY,
  EXPIRES_AT_TAG_KEY,
  JANITOR_ENV,
  PURPOSE_TAG,
} from '../../lib/config/migration-test-contract';

export interface JanitorSummary {
  scanned: number;
  readonly deleted: string[];
  readonly notExpired: string[];
  readonly alreadyDeleting: string[];
  readonly skippedNoExpiry: string[];
  readonly failed: { readonly id: string; readonly error: string }[];
}

export interface JanitorOptions {
  readonly rds: RDSClient;
  readonly prefix: string;
  readonly logger: Logger;
  readonly now?: () => number;
}

function tag(instance: DBInstance, key: string): string | undefined {
  return instance.TagList?.find((t) => t.Key === key)?.Value;
}

/** Milliseconds of an ISO-8601 timestamp with a date and a time, else undefined. */
export function parseExpiry(value: string | undefined): number | undefined {
  if (!value || !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(value)) return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}

export async function sweep(options: JanitorOptions): Promise<JanitorSummary> {
  const { rds, prefix, logger } = options;
  if (!prefix) throw new Error('INSTANCE_PREFIX must not be empty');
  const now = (options.now ?? Date.now)();
  const summary: JanitorSummary = {
    scanned: 0,
    deleted: [],
    notExpired: [],
    alreadyDeleting: [],
    skippedNoExpiry: [],
    failed: [],
  };

  let marker: string | undefined;
  do {
    const page = await rds.send(
      new DescribeDBInstancesCommand({ MaxRecords: 100, ...(marker ? { Marker: marker } : {}) }),
    );
    marker = page.Marker;
    for (const instance of page.DBInstances ?? []) {
      summary.scanned++;
      const id = instance.DBInstanceIdentifier ?? '';
      if (!id.startsWith(prefix) || tag(instance, PURPOSE_TAG.Key) !== PURPOSE_TAG.Value) continue;
      if (instance.DBInstanceStatus === 'deleting') {
        summary.alreadyDeleting.push(id);
        continue;
      }
      const raw = tag(instance, EXPIRES_AT_TAG_KEY);
      const expiresAt = parseExpiry(raw);
      if (expiresAt === undefined) {
        logger.warn('Temporary instance without a parseable ExpiresAt tag: left alone', {
          id,
          expiresAt: raw ?? null,
        });
        summary.skippedNoExpiry.push(id);
        continue;
      }
      if (expiresAt > now) {
        summary.notExpired.push(id);
        continue;
      }
      try {
        await rds.send(
          new DeleteDBInstanceCommand({
            DBInstanceIdentifier: id,
            SkipFinalSnapshot: true,
            DeleteAutomatedBackups: true,
          }),
        );
        logger.info('Deleted expired temporary instance', {
          id,
          expiresAt: raw,
          createdBy: tag(instance, CREATED_BY_TAG_KEY),
        });
        summary.deleted.push(id);
      } catch (error) {
        const name = error instanceof Error ? error.name : 'Error';
        if (name === 'DBInstanceNotFoundFault') continue;
        logger.error('Cannot delete expired temporary instance', {
          id,
          error: `${name}: ${(error as Error).message}`,
        });
        summary.failed.push({ id, error: name });
      }
    }
  } while (marker);

  logger.info('Sweep finished', { ...summary });
  return summary;
}

const logger = new Logger({ serviceName: 'migration-janitor' });
const rds = new RDSClient({});

export const handler = async (): Promise<JanitorSummary> => {
  const summary = await sweep({ rds, prefix: process.env[JANITOR_ENV.instancePrefix] ?? '', logger });
  // Fail the invocation (an error metric, a retry next hour) when a deletion failed.
  if (summary.failed.length > 0) {
    throw new Error(`could not delete: ${summary.failed.map((f) => `${f.id} (${f.error})`).join(', ')}`);
  }
  return summary;
};
