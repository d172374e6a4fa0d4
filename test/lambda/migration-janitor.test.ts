import { Logger } from '@aws-lambda-powertools/logger';
import {
  DBInstanceNotFoundFault,
  DeleteDBInstanceCommand,
  DescribeDBInstancesCommand,
  InvalidDBInstanceStateFault,
  RDSClient,
  type DBInstance,
} from '@aws-sdk/client-rds';
import { mockClient } from 'aws-sdk-client-mock';
import { parseExpiry, sweep } from '../../lambda/migration-janitor';

const rdsMock = mockClient(RDSClient);
const NOW = Date.parse('2026-11-27T12:00:00Z');
const PAST = '2026-11-27T09:00:00.000Z';
const FUTURE = '2026-11-27T14:00:00.000Z';

const instance = (id: string, tags: Record<string, string>, status = 'available'): DBInstance => ({
  DBInstanceIdentifier: id,
  DBInstanceStatus: status,
  TagList: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
});

function logger(): { logger: Logger; warnings: unknown[][] } {
  const l = new Logger({ serviceName: 'test', logLevel: 'SILENT' });
  const warnings: unknown[][] = [];
  jest.spyOn(l, 'warn').mockImplementation((...args: unknown[]) => void warnings.push(args));
  return { logger: l, warnings };
}

beforeEach(() => rdsMock.reset());

test('deletes only expired, tagged, prefixed instances; across pages', async () => {
  rdsMock
    .on(DescribeDBInstancesCommand)
    .resolvesOnce({
      DBInstances: [
        instance('v1-orcha-db', { Purpose: 'migration-test', ExpiresAt: PAST }), // not prefixed: the real DB
        instance('v1-orcha-migtest-expired', { Purpose: 'migration-test', ExpiresAt: PAST }),
        instance('v1-orcha-migtest-fresh', { Purpose: 'migration-test', ExpiresAt: FUTURE }),
      ],
      Marker: 'next',
    })
    .resolvesOnce({
      DBInstances: [
        instance('v1-orcha-migtest-untagged', { ExpiresAt: PAST }), // prefixed but no Purpose tag
        instance('v1-orcha-migtest-other', { Purpose: 'debugging', ExpiresAt: PAST }),
        instance('v1-orcha-migtest-noexpiry', { Purpose: 'migration-test' }),
        instance('v1-orcha-migtest-garbage', { Purpose: 'migration-test', ExpiresAt: 'tomorrow' }),
        instance('v1-orcha-migtest-deleting', { Purpose: 'migration-test', ExpiresAt: PAST }, 'deleting'),
        instance('v1-orcha-migtest-expired2', {
          Purpose: 'migration-test',
          ExpiresAt: '2026-11-27T11:59:59Z',
        }),
      ],
    });
  rdsMock.on(DeleteDBInstanceCommand).resolves({});
  const { logger: log, warnings } = logger();

  const summary = await sweep({
    rds: new RDSClient({}),
    prefix: 'v1-orcha-migtest-',
    logger: log,
    now: () => NOW,
  });

  const deleted = rdsMock.commandCalls(DeleteDBInstanceCommand).map((c) => c.args[0].input);
  expect(deleted).toEqual([
    {
      DBInstanceIdentifier: 'v1-orcha-migtest-expired',
      SkipFinalSnapshot: true,
      DeleteAutomatedBackups: true,
    },
    {
      DBInstanceIdentifier: 'v1-orcha-migtest-expired2',
      SkipFinalSnapshot: true,
      DeleteAutomatedBackups: true,
    },
  ]);
  expect(rdsMock.commandCalls(DescribeDBInstancesCommand)[1]?.args[0].input).toMatchObject({
    Marker: 'next',
  });
  expect(summary).toEqual({
    scanned: 9,
    deleted: ['v1-orcha-migtest-expired', 'v1-orcha-migtest-expired2'],
    notExpired: ['v1-orcha-migtest-fresh'],
    alreadyDeleting: ['v1-orcha-migtest-deleting'],
    skippedNoExpiry: ['v1-orcha-migtest-noexpiry', 'v1-orcha-migtest-garbage'],
    failed: [],
  });
  expect(warnings.map((w) => (w[1] as { id: string }).id)).toEqual([
    'v1-orcha-migtest-noexpiry',
    'v1-orcha-migtest-garbage',
  ]);
});

test('a deletion that fails is reported; one already gone is not', async () => {
  rdsMock.on(DescribeDBInstancesCommand).resolves({
    DBInstances: [
      instance('v1-orcha-migtest-a', { Purpose: 'migration-test', ExpiresAt: PAST }),
      instance('v1-orcha-migtest-b', { Purpose: 'migration-test', ExpiresAt: PAST }),
    ],
  });
  rdsMock
    .on(DeleteDBInstanceCommand, { DBInstanceIdentifier: 'v1-orcha-migtest-a' })
    .rejects(new InvalidDBInstanceStateFault({ message: 'modifying', $metadata: {} }))
    .on(DeleteDBInstanceCommand, { DBInstanceIdentifier: 'v1-orcha-migtest-b' })
    .rejects(new DBInstanceNotFoundFault({ message: 'gone', $metadata: {} }));

  const summary = await sweep({
    rds: new RDSClient({}),
    prefix: 'v1-orcha-migtest-',
    logger: logger().logger,
    now: () => NOW,
  });
  expect(summary.failed).toEqual([{ id: 'v1-orcha-migtest-a', error: 'InvalidDBInstanceStateFault' }]);
  expect(summary.deleted).toEqual([]);
});

test('an empty prefix is refused (it would match every instance)', async () => {
  await expect(sweep({ rds: new RDSClient({}), prefix: '', logger: logger().logger })).rejects.toThrow(
    /INSTANCE_PREFIX/,
  );
  expect(rdsMock.commandCalls(DescribeDBInstancesCommand)).toHaveLength(0);
});

test('ExpiresAt must be an ISO timestamp', () => {
  expect(parseExpiry('2026-11-27T11:00:00.000Z')).toBe(Date.parse('2026-11-27T11:00:00Z'));
  expect(parseExpiry('1764241200')).toBeUndefined();
  expect(parseExpiry('2026-11-27')).toBeUndefined();
  expect(parseExpiry(undefined)).toBeUndefined();
});
