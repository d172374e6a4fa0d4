/**
 * The contract of the migration test, in ONE place, shared by the three sides that must agree:
 * - the constructs (lib/constructs/migration-test/): the project's environment variables and the
 *   IAM conditions of its role and of the janitor's role;
 * - the runner (codebuild/migration-test/): the variables it reads and the tags it sends with the
 *   restore;
 * - the janitor (lambda/migration-janitor/): the variable it reads and the tags it deletes by.
 * Plain TypeScript (no CDK import): the runner and the janitor are bundled with it.
 * test/config/migration-test-contract.test.ts runs all three against each other.
 */

/** `Purpose=migration-test`: every temporary instance; IAM modify/delete and the janitor require it. */
export const PURPOSE_TAG = { Key: 'Purpose', Value: 'migration-test' } as const;
/** `ManagedBy=migration-test-runner`: required on the restore request. */
export const MANAGED_BY_TAG = { Key: 'ManagedBy', Value: 'migration-test-runner' } as const;
/** The build that created the instance (its CodeBuild build id). */
export const CREATED_BY_TAG_KEY = 'CreatedBy';
/** ISO-8601 time after which the janitor deletes the instance. */
export const EXPIRES_AT_TAG_KEY = 'ExpiresAt';

/** Every tag key of a restore request, in the order the runner sends them; IAM allows no other. */
export const RUNNER_TAG_KEYS = [
  PURPOSE_TAG.Key,
  CREATED_BY_TAG_KEY,
  EXPIRES_AT_TAG_KEY,
  MANAGED_BY_TAG.Key,
] as const;

export interface Tag {
  readonly Key: string;
  readonly Value: string;
}

/** The tags the runner puts on a temporary instance (see {@link RUNNER_TAG_KEYS}). */
export function runnerTags(buildId: string, expiresAt: string): Tag[] {
  return [
    PURPOSE_TAG,
    { Key: CREATED_BY_TAG_KEY, Value: buildId },
    { Key: EXPIRES_AT_TAG_KEY, Value: expiresAt },
    MANAGED_BY_TAG,
  ];
}

/**
 * Environment variables of the runner: the project sets them, codebuild/migration-test/settings.ts
 * reads them (its table says what each means).
 */
export const RUNNER_ENV = {
  sourceInstanceId: 'SOURCE_DB_INSTANCE_ID',
  instancePrefix: 'TEMP_INSTANCE_PREFIX',
  subnetGroupName: 'DB_SUBNET_GROUP_NAME',
  securityGroupIds: 'DB_SECURITY_GROUP_IDS',
  instanceClass: 'TEMP_INSTANCE_CLASS',
  timeoutMinutes: 'TIMEOUT_MINUTES',
  ttlHours: 'INSTANCE_TTL_HOURS',
  image: 'MIGRATION_IMAGE',
  /** Overridden per build: the app pipeline passes the tag it just built. */
  imageTag: 'MIGRATION_IMAGE_TAG',
  command: 'MIGRATION_COMMAND',
  allowDataLoss: 'ALLOW_DATA_LOSS',
  reportDir: 'REPORT_DIR',
  databaseName: 'DATABASE_NAME',
  sslCaFile: 'DB_SSL_CA_FILE',
  /** `block` (a failed verdict fails the build) or `report-only`; overridden per build. */
  verdict: 'MIGRATION_VERDICT',
} as const;

/** How a failed verdict (migrations failed or lost data) acts on the build that ran the test. */
export const VERDICT_MODES = ['block', 'report-only'] as const;
export type VerdictMode = (typeof VERDICT_MODES)[number];

/**
 * Variables the build exports: the infrastructure pipeline's trigger reads them, the app
 * pipeline's approval quotes them (`#{MigrationTest.…}`), the pipeline notifier puts them into the
 * approval e-mail.
 */
export const RUNNER_EXPORTS = {
  exitCode: 'MIGRATION_EXIT_CODE',
  summary: 'MIGRATION_SUMMARY',
  reportUrl: 'MIGRATION_REPORT_URL',
} as const;

/** Where the runner writes the link {@link RUNNER_EXPORTS.reportUrl} is exported from (in its report directory). */
export const REPORT_URL_FILE = 'report-url.txt';

/**
 * What the infrastructure pipeline's trigger (`--wait`, codebuild/migration-test/trigger.ts) writes
 * into MIGRATION_RESULT_DIR and its pipeline step exports as {@link RUNNER_EXPORTS}' summary and
 * report link (lib/pipeline/migration-test-step.ts).
 */
export const TRIGGER_RESULT_FILES = { summary: 'summary.txt', reportUrl: 'report-url.txt' } as const;
/** Their longest values (the approval's comment that quotes them stays within CodePipeline's 1000 characters). */
export const TRIGGER_RESULT_LIMITS = { summary: 150, reportUrl: 300 } as const;

/** Console host per partition (the commercial one takes the region as a subdomain). */
const CONSOLE_HOSTS: Readonly<Record<string, (region: string) => string>> = {
  aws: (region) => `${region}.console.aws.amazon.com`,
  'aws-cn': () => 'console.amazonaws.cn',
  'aws-us-gov': () => 'console.amazonaws-us-gov.com',
};

/**
 * The console page of a migration-test build's reports (the JUnit report, which carries the whole
 * Markdown report), from the build's ARN (`CODEBUILD_BUILD_ARN` inside the build, `Build.arn` from
 * BatchGetBuilds): `undefined` for anything that is not a CodeBuild build ARN. The page is in the
 * environment's account: an approver signs in there to open it.
 */
export function buildReportsUrl(buildArn: string): string | undefined {
  const match =
    /^arn:(aws[a-z-]*):codebuild:([a-z]{2}(?:-gov)?-[a-z]+-\d):(\d{12}):build\/([A-Za-z0-9][A-Za-z0-9_-]*):([0-9a-f-]{36})$/.exec(
      buildArn,
    );
  const host = match ? CONSOLE_HOSTS[match[1]] : undefined;
  if (!match || !host) return undefined;
  const [, , region, account, project, uuid] = match;
  return (
    `https://${host(region)}/codesuite/codebuild/${account}/projects/${project}` +
    `/build/${encodeURIComponent(`${project}:${uuid}`)}/reports?region=${region}`
  );
}

/** Environment variables of the janitor Lambda. */
export const JANITOR_ENV = { instancePrefix: 'INSTANCE_PREFIX' } as const;
