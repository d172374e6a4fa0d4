import { Match, Template } from 'aws-cdk-lib/assertions';
import { buildStages, logicalId, resourcesOf, subnetsOf } from '../helpers';

const stages = buildStages('prod', 'staging');
const prod = Template.fromStack(stages.prod.data);
const staging = Template.fromStack(stages.staging.data);
const foundation = Template.fromStack(stages.prod.foundation);

describe('DataStack (prod)', () => {
  test('PostgreSQL 18 on db.t4g.medium, 30 GB gp3 growing to 100 GB, single-AZ, 14 days of backups, deletion protection', () => {
    prod.hasResource('AWS::RDS::DBInstance', {
      Properties: Match.objectLike({
        DBInstanceIdentifier: 'v1-orcha-db',
        Engine: 'postgres',
        // Major version only: RDS keeps the minor version current (runbook database-engine.md).
        EngineVersion: '18',
        DBInstanceClass: 'db.t4g.medium',
        AllocatedStorage: '30',
        MaxAllocatedStorage: 100,
        StorageType: 'gp3',
        MultiAZ: false,
        BackupRetentionPeriod: 14,
        DeletionProtection: true,
        PubliclyAccessible: false,
        StorageEncrypted: true,
        DBName: 'orcha',
        AutoMinorVersionUpgrade: true,
        PreferredMaintenanceWindow: 'sun:02:30-sun:03:30',
        CopyTagsToSnapshot: true,
        EnableCloudwatchLogsExports: ['postgresql', 'upgrade'],
      }),
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    });
  });

  test('in the private subnets, with v1-orcha-rds-sg', () => {
    const [, group] = resourcesOf(prod, 'AWS::RDS::DBSubnetGroup')[0];
    const privateSubnets = subnetsOf(foundation, 'private').map(([id]) => id);
    const refs = JSON.stringify(group.SubnetIds);
    expect(privateSubnets).toHaveLength(2);
    for (const id of privateSubnets) expect(refs).toContain(id);
    const [, db] = resourcesOf(prod, 'AWS::RDS::DBInstance')[0];
    const sg = resourcesOf(foundation, 'AWS::EC2::SecurityGroup').find(
      ([, p]) => p.GroupName === 'v1-orcha-rds-sg',
    )![0];
    expect(JSON.stringify(db.VPCSecurityGroups)).toContain(sg);
    expect((db.VPCSecurityGroups as unknown[]).length).toBe(1);
  });

  test('credentials in Secrets Manager /v1-orcha/db-credentials, retained', () => {
    prod.hasResource('AWS::SecretsManager::Secret', {
      Properties: Match.objectLike({
        Name: '/v1-orcha/db-credentials',
        GenerateSecretString: Match.objectLike({
          GenerateStringKey: 'password',
          SecretStringTemplate: '{"username":"orcha"}',
        }),
      }),
      DeletionPolicy: 'Retain',
    });
    const secret = logicalId(stages.prod.data.credentials);
    const [, db] = resourcesOf(prod, 'AWS::RDS::DBInstance')[0];
    expect(JSON.stringify(db.MasterUserPassword)).toContain(secret);
    prod.resourceCountIs('AWS::SecretsManager::SecretTargetAttachment', 1);
  });

  test('exported logs keep the environment retention', () => {
    prod.hasResourceProperties('AWS::Logs::LogGroup', {
      LogGroupName: '/aws/rds/instance/v1-orcha-db/postgresql',
      RetentionInDays: 30,
    });
    prod.hasResourceProperties('AWS::Logs::LogGroup', {
      LogGroupName: '/aws/rds/instance/v1-orcha-db/upgrade',
      RetentionInDays: 30,
    });
  });

  test('logical ids of the database, its secret and subnet group never change', () => {
    const d = stages.prod.data;
    expect({
      database: logicalId(d.database),
      secret: logicalId(d.credentials),
      subnetGroup: logicalId(d.subnetGroup),
    }).toEqual({
      database: 'DatabaseB269D8BB',
      secret: 'DbCredentials798065DE',
      subnetGroup: 'SubnetGroup',
    });
  });
});

describe('DataStack (staging)', () => {
  test('sized down: db.t4g.micro, 20→50 GB, 3 days of backups, no deletion protection, snapshot on delete', () => {
    staging.hasResource('AWS::RDS::DBInstance', {
      Properties: Match.objectLike({
        DBInstanceIdentifier: 'v1-orcha-staging-db',
        DBInstanceClass: 'db.t4g.micro',
        AllocatedStorage: '20',
        MaxAllocatedStorage: 50,
        BackupRetentionPeriod: 3,
        DeletionProtection: false,
      }),
      DeletionPolicy: 'Snapshot',
    });
    staging.hasResourceProperties('AWS::SecretsManager::Secret', {
      Name: '/v1-orcha-staging/db-credentials',
    });
  });
});
