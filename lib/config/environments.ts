import type { EnvironmentInput, PipelineInput } from './schema';

/**
 * Orcha's environments. Adding an environment is adding an entry here; every value is
 * validated by `schema.ts` when the app starts. `prod` carries the values of the original
 * design; `staging` and `dev` are sized down.
 */

const ACCOUNT = '700558745280';
const REGION = 'eu-central-1';
const APP_REPOSITORY = 'getorcha/orcha';
/**
 * The pinned Amazon Linux 2023 ARM64 release, by name (the same in every region; the stack
 * resolves this region's image id at deploy time). Environments share it; staging can move
 * ahead of prod by overriding `compute.amiName` (docs/runbooks/update-ami.md).
 */
const AL2023_ARM64_AMI = 'al2023-ami-2023.6.20241111.0-kernel-6.1-arm64';

const prod: EnvironmentInput = {
  account: ACCOUNT,
  region: REGION,
  availabilityZones: ['eu-central-1a', 'eu-central-1b'],
  network: {
    vpcCidr: '10.0.0.0/16',
    s3GatewayEndpoint: true,
    interfaceEndpoints: false,
    natGateway: 'none',
  },
  dns: { zoneName: 'prod.getorcha.com', appRecordName: 'app', healthCheckPath: '/health' },
  alertEmail: 'alerts@getorcha.com',
  storage: { noncurrentVersionExpirationDays: 90 },
  queues: {
    ingestVisibilityTimeoutSeconds: 600,
    emailAcquireVisibilityTimeoutSeconds: 300,
    dlqRetentionDays: 14,
    maxReceiveCount: 3,
    // Dedicated queues and workers for large tenants (docs/runbooks/tenants.md).
    tenants: [],
  },
  // ECR retention 10 (the original's roadmap, prod's choice): more builds to roll back to.
  ecr: { maxImageCount: 10, deployedImageCount: 5 },
  database: {
    instanceClass: 'db.t4g.medium',
    engineVersion: '18',
    allocatedStorageGiB: 30,
    maxAllocatedStorageGiB: 100,
    multiAz: false,
    backupRetentionDays: 14,
    deletionProtection: true,
    // Hosted single-user rotation, then a rolling instance refresh (docs/runbooks/credential-rotation.md).
    credentialRotation: { enabled: true, everyDays: 30 },
  },
  compute: {
    instanceType: 't4g.medium',
    // Amazon Linux 2023 (kernel 6.1, arm64) in eu-central-1; move it with docs/runbooks/update-ami.md.
    amiName: AL2023_ARM64_AMI,
    minCapacity: 1,
    maxCapacity: 2,
    healthCheckGraceSeconds: 300,
    rootVolumeGiB: 30,
    appPort: 8888,
    replPort: 9878,
    // WAF: off until Orcha handles sensitive customer data (the original's "when"); try `count` first.
    waf: { enabled: false, mode: 'count', rateLimitPerFiveMinutes: 2000 },
    sessionManagerPreferences: true,
  },
  monitoring: { logRetentionDays: 30, monthlyBudgetUsd: 300, pageOnCriticalAlarms: true },
  appPipeline: {
    source: { repository: APP_REPOSITORY, branch: 'master' },
    requireApproval: true,
    migrationTest: 'block',
  },
  migrationTest: {
    enabled: true,
    command: ['migrate'],
    timeoutMinutes: 90,
    instanceTtlHours: 3,
    allowDataLoss: [],
  },
};

const staging: EnvironmentInput = {
  ...prod,
  network: { ...prod.network, vpcCidr: '10.1.0.0/16' },
  dns: { ...prod.dns, zoneName: 'staging.getorcha.com' },
  database: {
    ...prod.database,
    instanceClass: 'db.t4g.micro',
    allocatedStorageGiB: 20,
    maxAllocatedStorageGiB: 50,
    backupRetentionDays: 3,
    deletionProtection: false,
    // No application runs in staging yet; on, rotation adds the NAT instance (~$7/month) that the
    // rotation function reaches Secrets Manager through (docs/runbooks/credential-rotation.md).
    credentialRotation: { enabled: false, everyDays: 30 },
  },
  // An instance lives a day at most (it sleeps every evening): 20 GiB hold its images and logs.
  compute: {
    ...prod.compute,
    instanceType: 't4g.small',
    rootVolumeGiB: 20,
    sessionManagerPreferences: false,
  },
  // Retention 10 is prod's rollback depth; staging keeps the default 5 pushes (the same lifecycle
  // policy, rehearsed with a smaller count) and its $0.25 stay within the 35 % of prod it may cost.
  ecr: { ...prod.ecr, maxImageCount: 5 },
  // No application runs in staging yet: its critical alarms would page for ever. Turn this on
  // once staging runs the application.
  monitoring: { ...prod.monitoring, monthlyBudgetUsd: 150, pageOnCriticalAlarms: false },
  appPipeline: { ...prod.appPipeline, requireApproval: false, migrationTest: 'off' },
  migrationTest: { ...prod.migrationTest, enabled: false },
  // Asleep outside office hours (instances at zero, database stopped): the pipeline wakes it
  // before deploying; `npm run ops -- wake --env staging` wakes it on demand.
  officeHours: { enabled: true, timeZone: 'Europe/Berlin', days: 'MON-FRI', start: '07:00', stop: '20:00' },
};

const dev: EnvironmentInput = {
  ...staging,
  network: { ...staging.network, vpcCidr: '10.2.0.0/16' },
  dns: { ...staging.dns, zoneName: 'dev.getorcha.com' },
  database: {
    ...staging.database,
    backupRetentionDays: 1,
  },
  monitoring: { ...staging.monitoring, monthlyBudgetUsd: 100 },
};

export const environments: Record<string, EnvironmentInput> = { dev, staging, prod };

export const pipeline: PipelineInput = {
  account: ACCOUNT,
  region: REGION,
  source: { repository: 'getorcha/orcha-infrastructure', branch: 'master' },
  notificationEmail: 'alerts@getorcha.com',
  stages: ['staging', 'prod'],
  // Deploying the checks creates the repositories' webhooks through the GitHub connection, which
  // must be AVAILABLE and whose GitHub App installation must cover both repositories. The very
  // first deploy of the pipeline stack (pending connection) needs this off
  // (docs/runbooks/pull-requests.md, docs/runbooks/first-deploy.md).
  pullRequestChecks: true,
};
