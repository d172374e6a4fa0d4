import type { DatabaseState, TableState } from '../../../scripts/migration-test/inspect';
import type { Settings } from '../../../scripts/migration-test/settings';

export const PASSWORD = 'Sup3rSecretPasswordNoOneMaySee_x9';

export function settings(overrides: Partial<Settings> = {}): Settings {
  return {
    sourceInstanceId: 'v1-orcha-db',
    instancePrefix: 'v1-orcha-migtest-',
    buildId: 'v1-orcha-migration-test:0b6f7c1e-2f1d-4c1e-9a53-6f0e1d2c3b4a',
    tempInstanceId: 'v1-orcha-migtest-0b6f7c1e-2f1d-4c1e-9a53-6f0e1d2c3b4a',
    subnetGroupName: 'v1-orcha-db-subnets',
    securityGroupIds: ['sg-0123456789abcdef0'],
    instanceClass: 'db.t4g.micro',
    timeoutMinutes: 90,
    ttlHours: 3,
    image: '700558745280.dkr.ecr.eu-central-1.amazonaws.com/v1-orcha',
    imageTag: 'latest',
    command: ['migrate'],
    allowDataLoss: [],
    reportDir: '/tmp/unused',
    databaseName: 'orcha',
    sslMode: 'require',
    region: 'eu-central-1',
    ...overrides,
  };
}

const table = (name: string, rowCount: number, columns: string[]): TableState => ({
  schema: 'public',
  name,
  rowCount,
  columns: columns.map((c) => ({ name: c, type: 'text', nullable: true })),
});

export const BEFORE: DatabaseState = {
  tables: [
    table('customers', 10, ['id', 'name', 'email']),
    table('documents', 100, ['id', 'customer_id', 'body']),
    table('schema_migrations', 2, ['id', 'description']),
  ],
  indexes: [
    {
      schema: 'public',
      table: 'customers',
      name: 'customers_pkey',
      valid: true,
      definition: 'CREATE UNIQUE INDEX …',
    },
  ],
  constraints: [],
  migrations: {
    table: 'public.schema_migrations',
    rows: [
      { key: 'id=1', label: '1 init', failed: false },
      { key: 'id=2', label: '2 documents', failed: false },
    ],
  },
};

export const AFTER_OK: DatabaseState = {
  ...BEFORE,
  tables: [
    table('customers', 10, ['id', 'name', 'email', 'phone']),
    table('documents', 100, ['id', 'customer_id', 'body']),
    table('schema_migrations', 3, ['id', 'description']),
  ],
  migrations: {
    table: 'public.schema_migrations',
    rows: [...(BEFORE.migrations?.rows ?? []), { key: 'id=3', label: '3 add-phone', failed: false }],
  },
};

export const AFTER_LOST_COLUMN: DatabaseState = {
  ...AFTER_OK,
  tables: [
    table('customers', 10, ['id', 'name']),
    table('documents', 100, ['id', 'customer_id', 'body']),
    table('schema_migrations', 3, ['id', 'description']),
  ],
};
