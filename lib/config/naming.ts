/**
 * Every physical name of every environment comes from here. `prod` gets exactly the
 * names of the specification (`v1-orcha-…`, `/v1-orcha/…`); any other environment gets
 * its name inserted (`v1-orcha-staging-…`, `/v1-orcha-staging/…`), so environments that
 * share an account cannot collide.
 */
export const PRODUCT = 'v1-orcha';

/** Stage construct id of an environment: `Dev`, `Staging`, `Prod` (the stacks' path prefix). */
export function stageId(envName: string): string {
  return envName.charAt(0).toUpperCase() + envName.slice(1);
}

/**
 * Tag key naming the environment on every resource (`Environment=prod`). Activated as a cost
 * allocation tag in Billing, it lets each environment's budget count only its own costs.
 */
export const ENVIRONMENT_TAG = 'Environment';

/** The environment whose names carry no environment infix. */
export const PRIMARY_ENVIRONMENT = 'prod';

export class Naming {
  /** `v1-orcha` for prod, `v1-orcha-staging` for staging. */
  public readonly prefix: string;

  constructor(public readonly envName: string) {
    this.prefix = envName === PRIMARY_ENVIRONMENT ? PRODUCT : `${PRODUCT}-${envName}`;
  }

  /** `v1-orcha-<suffix>` (prod) or `v1-orcha-<env>-<suffix>`. */
  public name(suffix: string): string {
    return `${this.prefix}-${suffix}`;
  }

  /** Root of the environment's SSM parameters and secrets: `/v1-orcha` (prod). */
  public get parameterRoot(): string {
    return `/${this.prefix}`;
  }

  /** `/v1-orcha/<suffix>` (prod) or `/v1-orcha-<env>/<suffix>`. */
  public path(suffix: string): string {
    return `${this.parameterRoot}/${suffix}`;
  }

  // --- Foundation
  public get vpc(): string {
    return this.name('vpc');
  }
  public get albSecurityGroup(): string {
    return this.name('alb-sg');
  }
  public get ec2SecurityGroup(): string {
    return this.name('ec2-sg');
  }
  public get rdsSecurityGroup(): string {
    return this.name('rds-sg');
  }
  public get codeBuildSecurityGroup(): string {
    return this.name('codebuild-sg');
  }
  /** The VPC interface endpoints' group (option `network.interfaceEndpoints`). */
  public get endpointsSecurityGroup(): string {
    return this.name('endpoints-sg');
  }
  public documentsBucket(account: string): string {
    return this.name(`global-storage-${account}`);
  }
  public pipelineArtifactsBucket(account: string): string {
    return this.name(`pipeline-artifacts-${account}`);
  }
  public accessLogsBucket(account: string): string {
    return this.name(`access-logs-${account}`);
  }
  public get ecrRepository(): string {
    return this.prefix;
  }
  public get ingestQueue(): string {
    return this.name('global-ingest');
  }
  public get ingestDlq(): string {
    return this.name('global-ingest-dlq');
  }
  public get emailAcquireQueue(): string {
    return this.name('global-email-acquire');
  }
  public get emailAcquireDlq(): string {
    return this.name('global-email-acquire-dlq');
  }

  /** A large tenant's dedicated ingest queue: `v1-orcha-tenant-<tenant>-ingest` (prod). */
  public tenantIngestQueue(tenant: string): string {
    return this.name(`tenant-${tenant}-ingest`);
  }
  public tenantIngestDlq(tenant: string): string {
    return this.name(`tenant-${tenant}-ingest-dlq`);
  }
  /** Compose service of a tenant's workers on the instances (not an AWS name). */
  public static tenantWorkerService(tenant: string): string {
    return `worker-tenant-${tenant}`;
  }

  // --- Data
  public get dbInstance(): string {
    return this.name('db');
  }
  public get dbSecret(): string {
    return this.path('db-credentials');
  }
  public get dbName(): string {
    return 'orcha';
  }
  /** Security group of the credentials' rotation function (PostgreSQL to RDS, HTTPS out). */
  public get rotationSecurityGroup(): string {
    return this.name('rotation-sg');
  }
  /** Secrets Manager's hosted rotation function of the database credentials. */
  public get rotationFunction(): string {
    return this.name('db-rotation');
  }
  /** Replaces the application instances after a rotation (instance refresh). */
  public get restartFunction(): string {
    return this.name('app-restart');
  }

  // --- Compute
  public get instanceName(): string {
    return this.name('app');
  }
  public get serviceRole(): string {
    return this.name('service-role');
  }
  public get loadBalancer(): string {
    return this.name('alb');
  }
  /** The ALB's WAF web ACL (option `compute.waf`). */
  public get webAcl(): string {
    return this.name('web-acl');
  }
  /** Its log group: WAF logs only to log groups whose name starts with `aws-waf-logs-`. */
  public get wafLogGroup(): string {
    return `aws-waf-logs-${this.prefix}`;
  }
  public get targetGroup(): string {
    return this.name('tg');
  }
  public get autoScalingGroup(): string {
    return this.name('asg');
  }
  public get launchTemplate(): string {
    return this.name('lt');
  }

  // --- Ops
  public get alertsTopic(): string {
    return this.name('alerts');
  }
  public get appPipeline(): string {
    return this.name('deploy');
  }
  public get buildProject(): string {
    return this.name('build');
  }
  /** The app pipeline's Record stage: tags the deployed image. */
  public get recordProject(): string {
    return this.name('record-deployment');
  }
  public get codeDeployApplication(): string {
    return this.prefix;
  }
  public get codeDeployGroup(): string {
    return this.name('production');
  }
  public get developerPolicy(): string {
    return this.name('developer-ssm-access');
  }
  public get budget(): string {
    return this.name('monthly');
  }
  public get appConnection(): string {
    return this.name('app-github');
  }
  public get sessionManagerDocument(): string {
    return accountNames.sessionManagerDocument;
  }
  /** Session document that forwards a local port to the REPL port only. */
  public get replPortForwardingDocument(): string {
    return this.name('repl-port-forwarding');
  }

  /** Alarm `v1-orcha-<what>` (prod) or `v1-orcha-<env>-<what>`. */
  public alarm(what: string): string {
    return this.name(what);
  }

  // --- Log groups
  public get applicationLogGroup(): string {
    return this.path('application');
  }
  public get userDataLogGroup(): string {
    return this.path('user-data');
  }
  public get codeBuildLogGroup(): string {
    return this.path('codebuild');
  }
  public get ssmSessionsLogGroup(): string {
    return this.path('ssm-sessions');
  }
  public get vpcFlowLogGroup(): string {
    return this.path('vpc-flow-logs');
  }

  // --- Migration test
  public get migrationTestProject(): string {
    return this.name('migration-test');
  }
  /** Prefix of the temporary instances the migration test restores. */
  public get migrationTestInstancePrefix(): string {
    return this.name('migtest-');
  }
  /** CodeBuild report group of the migration test's JUnit report. */
  public get migrationTestReportGroup(): string {
    return this.name('migration-test-reports');
  }
  public get migrationTestTriggerRole(): string {
    return this.name('migration-test-trigger');
  }
  public get migrationJanitor(): string {
    return this.name('migtest-janitor');
  }

  /** EventBridge Scheduler schedules of office hours (non-prod): start and stop the database. */
  public get dbStartSchedule(): string {
    return this.name('db-office-hours-start');
  }
  public get dbStopSchedule(): string {
    return this.name('db-office-hours-stop');
  }
  /** Role of the office-hours schedules (fixed: the wake roles pass it to the sleep-after-wake schedule). */
  public get dbScheduleRole(): string {
    return this.name('db-office-hours');
  }
  /**
   * One-time schedule that stops the database of an environment woken outside office hours
   * (created by the wake, deleted by EventBridge Scheduler once it ran).
   */
  public get dbSleepAfterWakeSchedule(): string {
    return this.name('db-sleep-after-wake');
  }
  /** One-time scheduled action of the Auto Scaling group, the instances' side of the same. */
  public get sleepAfterWakeAction(): string {
    return 'sleep-after-wake';
  }

  /**
   * Role the infrastructure pipeline assumes, from another account, to wake this environment
   * (office hours) before deploying it.
   */
  public get officeHoursWakeRole(): string {
    return this.name('wake');
  }

  /** The function behind the application pipeline's Wake action (office hours). */
  public get deployWakeFunction(): string {
    return this.name('deploy-wake');
  }

  // --- Stacks
  public stackName(stack: 'Foundation' | 'Data' | 'Compute' | 'Ops'): string {
    return `${this.prefix}-${stack.toLowerCase()}`;
  }

  /**
   * Every physical name this environment claims in its account, with the namespace it must be
   * unique in (`iam-role`, `sqs-queue`, …). Account-wide singletons (the Session Manager
   * preferences document) are not listed: one environment owns them, see `ACCOUNT_SINGLETONS`
   * in `load.ts`. A test checks that every name getter of this class is listed here.
   */
  public physicalNames(account: string, tenants: readonly string[] = []): PhysicalName[] {
    const n = (namespace: string, name: string): PhysicalName => ({ namespace, name });
    return [
      ...tenants.flatMap((t) => [
        n('sqs-queue', this.tenantIngestQueue(t)),
        n('sqs-queue', this.tenantIngestDlq(t)),
      ]),
      ...(['Foundation', 'Data', 'Compute', 'Ops'] as const).map((s) =>
        n('cloudformation-stack', this.stackName(s)),
      ),
      n('ec2-vpc-name', this.vpc),
      n('ec2-security-group', this.albSecurityGroup),
      n('ec2-security-group', this.ec2SecurityGroup),
      n('ec2-security-group', this.rdsSecurityGroup),
      n('ec2-security-group', this.codeBuildSecurityGroup),
      n('ec2-security-group', this.endpointsSecurityGroup),
      n('s3-bucket', this.documentsBucket(account)),
      n('s3-bucket', this.pipelineArtifactsBucket(account)),
      n('s3-bucket', this.accessLogsBucket(account)),
      n('ecr-repository', this.ecrRepository),
      n('sqs-queue', this.ingestQueue),
      n('sqs-queue', this.ingestDlq),
      n('sqs-queue', this.emailAcquireQueue),
      n('sqs-queue', this.emailAcquireDlq),
      n('rds-instance', this.dbInstance),
      n('secretsmanager-secret', this.dbSecret),
      n('ec2-security-group', this.rotationSecurityGroup),
      n('lambda-function', this.rotationFunction),
      n('lambda-function', this.restartFunction),
      n('ec2-instance-name', this.instanceName),
      n('iam-role', this.serviceRole),
      n('iam-role', this.migrationTestTriggerRole),
      n('iam-role', this.officeHoursWakeRole),
      n('lambda-function', this.deployWakeFunction),
      n('iam-managed-policy', this.developerPolicy),
      n('elb-load-balancer', this.loadBalancer),
      n('elb-target-group', this.targetGroup),
      n('wafv2-web-acl', this.webAcl),
      n('logs-log-group', this.wafLogGroup),
      n('autoscaling-group', this.autoScalingGroup),
      n('ec2-launch-template', this.launchTemplate),
      n('sns-topic', this.alertsTopic),
      n('codepipeline-pipeline', this.appPipeline),
      n('codebuild-project', this.buildProject),
      n('codebuild-project', this.recordProject),
      n('codebuild-project', this.migrationTestProject),
      n('codebuild-report-group', this.migrationTestReportGroup),
      n('codedeploy-application', this.codeDeployApplication),
      n('codedeploy-deployment-group', `${this.codeDeployApplication}/${this.codeDeployGroup}`),
      n('budget', this.budget),
      n('codeconnections-connection', this.appConnection),
      n('ssm-document', this.replPortForwardingDocument),
      n('lambda-function', this.migrationJanitor),
      n('scheduler-schedule', this.dbStartSchedule),
      n('scheduler-schedule', this.dbStopSchedule),
      n('scheduler-schedule', this.dbSleepAfterWakeSchedule),
      n('iam-role', this.dbScheduleRole),
      n('logs-log-group', this.applicationLogGroup),
      n('logs-log-group', this.userDataLogGroup),
      n('logs-log-group', this.codeBuildLogGroup),
      n('logs-log-group', this.ssmSessionsLogGroup),
      n('logs-log-group', this.vpcFlowLogGroup),
      n('ssm-parameter-path', `${this.parameterRoot}/`),
    ];
  }

  /**
   * Name prefixes this environment acts on as a whole: its migration-test janitor deletes, and
   * its migration test may create and delete, every RDS instance whose name starts with
   * `migrationTestInstancePrefix`. No other environment's name in that namespace may start with it.
   */
  public namePrefixes(): PhysicalName[] {
    return [{ namespace: 'rds-instance', name: this.migrationTestInstancePrefix }];
  }
}

/** A physical name and the namespace (resource type, per account) it must be unique in. */
export interface PhysicalName {
  readonly namespace: string;
  readonly name: string;
}

/**
 * Account-wide singletons: one per account and region, created by the one environment that owns
 * them (`compute.sessionManagerPreferences`) and used by every environment of the account.
 */
export const accountNames = {
  /** Session Manager's preferences document; its name is fixed by Session Manager. */
  sessionManagerDocument: 'SSM-SessionManagerRunShell',
  /** Every environment's sessions are streamed here (prod's name in the original design). */
  ssmSessionsLogGroup: `/${PRODUCT}/ssm-sessions`,
  /** The function that upserts the preferences document. */
  sessionPreferencesFunction: `${PRODUCT}-session-preferences`,
} as const;

/** Names of the infrastructure pipeline (one per toolchain account, not per environment). */
export const pipelineNames = {
  stack: `${PRODUCT}-infra-pipeline`,
  pipeline: `${PRODUCT}-infra`,
  notificationsTopic: `${PRODUCT}-infra-pipeline-events`,
  connection: `${PRODUCT}-infra-github`,
  /** CodeBuild projects of the pull-request checks; also their commit status contexts on GitHub. */
  infraPullRequestProject: `${PRODUCT}-infra-pr`,
  appPullRequestProject: `${PRODUCT}-app-pr`,
  pullRequestLogGroup: `/${PRODUCT}-infra/pull-requests`,
  /** Role of the pipeline step that starts an environment's migration test (trusted by that environment). */
  migrationTestStepRole: (envName: string) => `${PRODUCT}-infra-migration-test-${envName}`,
  /** Role of the pipeline step that wakes an environment with office hours (trusted by that environment). */
  wakeStepRole: (envName: string) => `${PRODUCT}-infra-wake-${envName}`,
} as const;

/** An S3 bucket owned by AWS that the instances or the migration test read from. */
export interface AwsOwnedBucket {
  /** Bucket name; `*` matches AWS's per-bucket suffix. */
  readonly name: string;
  /** Who reads it, and why. */
  readonly usedBy: string;
}

/**
 * The AWS-owned buckets that the boot path (assets/boot/boot.sh), the agents on the instances and
 * the migration test read in `region`, as AWS documents them for S3 endpoint policies. The S3
 * gateway endpoint admits exactly these besides the environment's own buckets.
 */
export function awsOwnedBuckets(region: string): AwsOwnedBucket[] {
  return [
    { name: `al2023-repos-${region}-*`, usedBy: 'dnf: the Amazon Linux 2023 package repositories' },
    { name: `prod-${region}-starport-layer-bucket`, usedBy: 'docker pull from ECR: the image layers' },
    { name: `aws-codedeploy-${region}`, usedBy: 'the CodeDeploy agent installer and its updates' },
    { name: `amazon-ssm-${region}`, usedBy: 'the SSM agent: updates and plugins' },
    { name: `amazon-ssm-packages-${region}`, usedBy: 'the SSM agent: packages' },
    { name: `${region}-birdwatcher-prod`, usedBy: 'the SSM agent: Distributor packages' },
    { name: `aws-ssm-distributor-file-${region}`, usedBy: 'the SSM agent: Distributor files' },
    { name: `aws-ssm-document-attachments-${region}`, usedBy: 'the SSM agent: document attachments' },
    { name: `aws-ssm-${region}`, usedBy: 'the SSM agent: managed documents (AWS-*)' },
    { name: `patch-baseline-snapshot-${region}`, usedBy: 'the SSM agent: Patch Manager baselines' },
  ];
}
