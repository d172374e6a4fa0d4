import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { RUNNER_ENV, buildReportsUrl } from '../../lib/config/migration-test-contract';
import { parseAllowList } from './allow-list';
import { temporaryInstanceId } from './identifier';

/**
 * Every setting of the migration-test runner, read from environment variables (the
 * CodeBuild project sets them; see docs/runbooks/migration-test.md to run it by hand).
 *
 * | variable | required | meaning |
 * | --- | --- | --- |
 * | `SOURCE_DB_INSTANCE_ID` | yes | instance whose newest snapshot is restored (`v1-orcha-db`) |
 * | `TEMP_INSTANCE_PREFIX` | yes | prefix of the temporary instance (`v1-orcha-migtest-`); the janitor deletes by it |
 * | `CODEBUILD_BUILD_ID` | no | build id (set by CodeBuild); default `local-<epoch ms>`; sanitised into the instance id |
 * | `CODEBUILD_BUILD_ARN` | no | build ARN (set by CodeBuild): the console link of this build's reports goes to `report-url.txt` |
 * | `DB_SUBNET_GROUP_NAME` | yes | DB subnet group of the temporary instance (the source's, private subnets) |
 * | `DB_SECURITY_GROUP_IDS` | yes | comma-separated VPC security group ids of the temporary instance (`v1-orcha-rds-sg`) |
 * | `TEMP_INSTANCE_CLASS` | yes | class of the temporary instance; one that supports the snapshot's engine version (the source's class does) |
 * | `TIMEOUT_MINUTES` | no | deadline of the whole test, restore included; default 90 |
 * | `INSTANCE_TTL_HOURS` | no | `ExpiresAt` tag = now + this; the janitor deletes after it; default 3 |
 * | `MIGRATION_IMAGE` | yes | image (repository URI) that runs the migrations |
 * | `MIGRATION_IMAGE_TAG` | no | its tag; default `latest` (the project sets the image the environment runs now, `deployed-<env>`; the app pipeline overrides it per build) |
 * | `MIGRATION_COMMAND` | no | JSON array of arguments given to the image; default `["migrate"]` |
 * | `ALLOW_DATA_LOSS` | no | JSON array of `table` / `table.column` / `schema.table.column` whose loss is intended; default `[]` |
 * | `ALLOW_DATA_LOSS_FILE` | no | path of an allow-list file (one entry a line, `#` comments, or a JSON array), e.g. kept in the application's repository |
 * | `REPORT_DIR` | no | where `migration-report.md`, `migration-report.xml` and `summary.txt` go; default `reports` |
 * | `DATABASE_NAME` | no | database inspected and migrated; default `orcha` |
 * | `MIGRATIONS_TABLE` | no | `[schema.]table` recording applied migrations, when not one of the well-known ones |
 * | `DB_SSL_MODE` | no | `verify-full` (default when `DB_SSL_CA_FILE` is set), `require` (default otherwise) or `disable` |
 * | `DB_SSL_CA_FILE` | no | PEM bundle used to verify the instance's certificate (the RDS global bundle) |
 * | `AWS_REGION` | yes | region of the source instance (`AWS_DEFAULT_REGION` is accepted too) |
 */

const RDS_ID_PREFIX = /^[a-z](?!.*--)[a-z0-9-]{0,30}$/;
const SECURITY_GROUP_ID = /^sg-[0-9a-f]{8,17}$/;

function jsonArrayOfStrings(variable: string) {
  return z.string().transform((text, ctx): string[] => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      ctx.addIssue({ code: 'custom', message: `${variable} must be a JSON array of strings` });
      return z.NEVER;
    }
    if (!Array.isArray(parsed) || parsed.some((item) => typeof item !== 'string')) {
      ctx.addIssue({ code: 'custom', message: `${variable} must be a JSON array of strings` });
      return z.NEVER;
    }
    return parsed as string[];
  });
}

const intFrom = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

const envSchema = z.object({
  [RUNNER_ENV.sourceInstanceId]: z
    .string()
    .regex(/^[a-z][a-z0-9-]{0,62}$/, 'must be an RDS instance identifier such as v1-orcha-db'),
  [RUNNER_ENV.instancePrefix]: z
    .string()
    .regex(RDS_ID_PREFIX, 'must be a lower-case RDS identifier prefix such as v1-orcha-migtest-'),
  CODEBUILD_BUILD_ID: z.string().min(1).optional(),
  CODEBUILD_BUILD_ARN: z.string().min(1).optional(),
  [RUNNER_ENV.subnetGroupName]: z.string().min(1, 'must name the DB subnet group'),
  [RUNNER_ENV.securityGroupIds]: z
    .string()
    .transform((text) =>
      text
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    )
    .pipe(
      z
        .array(z.string().regex(SECURITY_GROUP_ID, 'must be security group ids (sg-…)'))
        .min(1, 'must list at least one security group id'),
    ),
  [RUNNER_ENV.instanceClass]: z
    .string()
    .regex(/^db\.[a-z0-9]+\.[a-z0-9]+$/, 'must be an RDS class such as db.t4g.medium'),
  [RUNNER_ENV.timeoutMinutes]: intFrom(5, 480).default(90),
  [RUNNER_ENV.ttlHours]: intFrom(1, 48).default(3),
  [RUNNER_ENV.image]: z
    .string()
    .regex(/^[a-z0-9.-]+(:\d+)?(\/[a-z0-9._-]+)+$/, 'must be an image repository URI (no tag)'),
  [RUNNER_ENV.imageTag]: z
    .string()
    .regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/, 'must be an image tag')
    .default('latest'),
  [RUNNER_ENV.command]: jsonArrayOfStrings('MIGRATION_COMMAND')
    .pipe(z.array(z.string()).min(1, 'must name the migration command'))
    .default(['migrate']),
  [RUNNER_ENV.allowDataLoss]: jsonArrayOfStrings('ALLOW_DATA_LOSS').default([]),
  ALLOW_DATA_LOSS_FILE: z.string().min(1).optional(),
  [RUNNER_ENV.reportDir]: z.string().min(1).default('reports'),
  [RUNNER_ENV.databaseName]: z
    .string()
    .regex(/^[A-Za-z_][A-Za-z0-9_$-]{0,62}$/, 'must be a database name')
    .default('orcha'),
  MIGRATIONS_TABLE: z
    .string()
    .regex(/^([a-z_][a-z0-9_]*\.)?[a-z_][a-z0-9_]*$/, 'must be [schema.]table')
    .optional(),
  DB_SSL_MODE: z.enum(['verify-full', 'require', 'disable']).optional(),
  [RUNNER_ENV.sslCaFile]: z.string().min(1).optional(),
  AWS_REGION: z.string().regex(/^[a-z]{2}(-gov)?-[a-z]+-\d$/, 'must be an AWS region such as eu-central-1'),
});

export type SslMode = 'verify-full' | 'require' | 'disable';

/** The validated settings of one run. */
export interface Settings {
  readonly sourceInstanceId: string;
  readonly instancePrefix: string;
  /** The raw build id (tag `CreatedBy`). */
  readonly buildId: string;
  /** `<prefix><sanitised build id>`, a valid RDS identifier of at most 63 characters. */
  readonly tempInstanceId: string;
  /** Console page of this build's reports (inside CodeBuild only). */
  readonly reportUrl?: string;
  readonly subnetGroupName: string;
  readonly securityGroupIds: readonly string[];
  readonly instanceClass: string;
  readonly timeoutMinutes: number;
  readonly ttlHours: number;
  readonly image: string;
  readonly imageTag: string;
  readonly command: readonly string[];
  /** Merged from `ALLOW_DATA_LOSS` and `ALLOW_DATA_LOSS_FILE`, normalised to lower case. */
  readonly allowDataLoss: readonly string[];
  readonly reportDir: string;
  readonly databaseName: string;
  readonly migrationsTable?: string;
  readonly sslMode: SslMode;
  /** PEM text of the CA bundle when `DB_SSL_CA_FILE` is set. */
  readonly sslCa?: string;
  readonly region: string;
}

/** Settings that are missing or malformed. The message names every bad variable. */
export class SettingsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SettingsError';
  }
}

export type FileReader = (path: string) => string;

const readText: FileReader = (path) => readFileSync(path, 'utf8');

/** Reads and validates the runner's settings; throws {@link SettingsError}. */
export function loadSettings(
  env: NodeJS.ProcessEnv = process.env,
  readFile: FileReader = readText,
  now: () => number = Date.now,
): Settings {
  const input: Record<string, string | undefined> = { ...env };
  input.AWS_REGION = env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  // Empty variables mean "not set" (CodeBuild passes empty strings for unset overrides).
  for (const key of Object.keys(input)) if (input[key] === '') delete input[key];

  const result = envSchema.safeParse(input);
  if (!result.success) {
    const lines = result.error.issues.map((issue) => {
      const name = String(issue.path[0] ?? '(environment)');
      return `${name}: ${issue.message}`;
    });
    throw new SettingsError(`Invalid migration-test settings: ${lines.join('; ')}`);
  }
  const e = result.data;

  const allow = [...e.ALLOW_DATA_LOSS];
  if (e.ALLOW_DATA_LOSS_FILE) {
    let text: string;
    try {
      text = readFile(e.ALLOW_DATA_LOSS_FILE);
    } catch (error) {
      throw new SettingsError(
        `ALLOW_DATA_LOSS_FILE: cannot read ${e.ALLOW_DATA_LOSS_FILE}: ${(error as Error).message}`,
      );
    }
    allow.push(...parseAllowListFile(text, e.ALLOW_DATA_LOSS_FILE));
  }
  let allowDataLoss: string[];
  try {
    allowDataLoss = parseAllowList(allow);
  } catch (error) {
    throw new SettingsError(`ALLOW_DATA_LOSS: ${(error as Error).message}`);
  }

  let sslCa: string | undefined;
  if (e.DB_SSL_CA_FILE) {
    try {
      sslCa = readFile(e.DB_SSL_CA_FILE);
    } catch (error) {
      throw new SettingsError(`DB_SSL_CA_FILE: cannot read ${e.DB_SSL_CA_FILE}: ${(error as Error).message}`);
    }
  }
  const sslMode: SslMode = e.DB_SSL_MODE ?? (sslCa ? 'verify-full' : 'require');
  if (sslMode === 'verify-full' && !sslCa) {
    throw new SettingsError('DB_SSL_MODE: verify-full needs DB_SSL_CA_FILE (the RDS CA bundle)');
  }

  const buildId = e.CODEBUILD_BUILD_ID ?? `local-${now()}`;
  const reportUrl = e.CODEBUILD_BUILD_ARN ? buildReportsUrl(e.CODEBUILD_BUILD_ARN) : undefined;
  return {
    sourceInstanceId: e.SOURCE_DB_INSTANCE_ID,
    instancePrefix: e.TEMP_INSTANCE_PREFIX,
    buildId,
    tempInstanceId: temporaryInstanceId(e.TEMP_INSTANCE_PREFIX, buildId),
    ...(reportUrl ? { reportUrl } : {}),
    subnetGroupName: e.DB_SUBNET_GROUP_NAME,
    securityGroupIds: e.DB_SECURITY_GROUP_IDS,
    instanceClass: e.TEMP_INSTANCE_CLASS,
    timeoutMinutes: e.TIMEOUT_MINUTES,
    ttlHours: e.INSTANCE_TTL_HOURS,
    image: e.MIGRATION_IMAGE,
    imageTag: e.MIGRATION_IMAGE_TAG,
    command: e.MIGRATION_COMMAND,
    allowDataLoss,
    reportDir: e.REPORT_DIR,
    databaseName: e.DATABASE_NAME,
    ...(e.MIGRATIONS_TABLE ? { migrationsTable: e.MIGRATIONS_TABLE } : {}),
    sslMode,
    ...(sslCa ? { sslCa } : {}),
    region: e.AWS_REGION,
  };
}

/** An allow-list file: a JSON array, or one entry a line with `#` comments. */
export function parseAllowListFile(text: string, where: string): string[] {
  const trimmed = text.trim();
  if (trimmed.startsWith('[')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(trimmed);
    } catch {
      throw new SettingsError(`ALLOW_DATA_LOSS_FILE: ${where} is not valid JSON`);
    }
    if (!Array.isArray(parsed) || parsed.some((item) => typeof item !== 'string')) {
      throw new SettingsError(`ALLOW_DATA_LOSS_FILE: ${where} must hold a JSON array of strings`);
    }
    return parsed as string[];
  }
  return trimmed
    .split(/\r?\n/)
    .map((line) => line.replace(/#.*$/, '').trim())
    .filter(Boolean);
}
