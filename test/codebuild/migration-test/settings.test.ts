import { loadSettings, SettingsError } from '../../../codebuild/migration-test/settings';

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
