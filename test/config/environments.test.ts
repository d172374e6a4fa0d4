import { environmentNames, loadEnvironment, loadPipeline } from '../../lib/config/load';

// The environments of record (lib/config/environments.ts) as they load; what the loader refuses
// is in load.test.ts.
describe('environments', () => {
  test.each(environmentNames())('%s is valid', (name) => {
    expect(loadEnvironment(name).name).toBe(name);
  });

  test('prod carries the values of the specification', () => {
    const prod = loadEnvironment('prod');
    expect(prod).toMatchObject({
      account: '700558745280',
      region: 'eu-central-1',
      availabilityZones: ['eu-central-1a', 'eu-central-1b'],
      network: { vpcCidr: '10.0.0.0/16', natGateway: 'none' },
      dns: { zoneName: 'prod.getorcha.com', appRecordName: 'app' },
      queues: {
        ingestVisibilityTimeoutSeconds: 600,
        emailAcquireVisibilityTimeoutSeconds: 300,
        dlqRetentionDays: 14,
      },
      // ECR retention 10: the original's roadmap option, prod's choice.
      ecr: { maxImageCount: 10, deployedImageCount: 5 },
      database: {
        instanceClass: 'db.t4g.medium',
        engineVersion: '18',
        allocatedStorageGiB: 30,
        maxAllocatedStorageGiB: 100,
        multiAz: false,
        backupRetentionDays: 14,
        deletionProtection: true,
      },
      compute: {
        instanceType: 't4g.medium',
        amiName: 'al2023-ami-2023.6.20241111.0-kernel-6.1-arm64',
        minCapacity: 1,
        maxCapacity: 2,
        healthCheckGraceSeconds: 300,
        appPort: 8888,
        replPort: 9878,
      },
      monitoring: { logRetentionDays: 30 },
      appPipeline: { source: { branch: 'master' } },
    });
  });

  test('staging is sized down: smaller instances, no deletion protection, short backups', () => {
    const staging = loadEnvironment('staging');
    expect(staging.compute.instanceType).toBe('t4g.small');
    // Its instances live a day (office hours); prod keeps 30 GiB.
    expect(staging.compute.rootVolumeGiB).toBe(20);
    expect(loadEnvironment('prod').compute.rootVolumeGiB).toBe(30);
    // Retention 10 is prod's rollback depth.
    expect(staging.ecr.maxImageCount).toBe(5);
    expect(staging.database).toMatchObject({
      instanceClass: 'db.t4g.micro',
      deletionProtection: false,
      backupRetentionDays: 3,
    });
    expect(staging.dns.zoneName).toBe('staging.getorcha.com');
  });

  test('the pipeline deploys staging, then prod', () => {
    expect(loadPipeline().stages).toEqual(['staging', 'prod']);
  });
});
