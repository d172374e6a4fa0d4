/**
 * Runs the migration test from the infrastructure pipeline (pipeline account) before prod:
 * starts a build of the `v1-orcha-migration-test` CodeBuild project, waits for it, prints
 * the log link and the report summary, and exits with the build's verdict.
 *
 * Three modes, so that the ~30-minute test runs while staging deploys:
 * - no argument: start and wait;
 * - `--start`: start only; prints the build id (or `none` when there is nothing to test yet) on
 *   stdout, everything else on stderr; the pipeline step exports it as `MIGRATION_BUILD_ID`;
 * - `--wait`: wait for the build `MIGRATION_BUILD_ID` (`none`: nothing to test, exit 0).
 *
 * Environment:
 * | variable | required | meaning |
 * | --- | --- | --- |
 * | `MIGRATION_TEST_PROJECT` | yes | CodeBuild project name (`v1-orcha-migration-test`) |
 * | `AWS_REGION` | yes | region of the project (`AWS_DEFAULT_REGION` accepted) |
 * | `ROLE_ARN` | no | role to assume first (`v1-orcha-migration-test-trigger` in the environment's account) |
 * | `MIGRATION_IMAGE_TAG` | no | overrides the image tag the build migrates with |
 * | `TRIGGER_TIMEOUT_MINUTES` | no | how long to wait for the build; default 150 |
 * | `ALLOW_MISSING_ROLE` | no | `true`: a role that cannot be assumed (not deployed yet) means "first deploy", exit 0 |
 * | `MIGRATION_BUILD_ID` | with `--wait` | the build `--start` started, or `none` |
 * | `MIGRATION_RESULT_DIR` | no | with `--wait`: directory receiving `summary.txt` and `report-url.txt` (one line each) for the step to export |
 *
 * Exit status: 0 passed or nothing to test yet (no project: first deploy); 1 the
 * migrations failed or lost data; 2 the test could not run (or its outcome is unknown).
 */
import {
  BatchGetBuildsCommand,
  CodeBuildClient,
  StartBuildCommand,
  type Build,
  type EnvironmentVariable,
} from '@aws-sdk/client-codebuild';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fromTemporaryCredentials } from '@aws-sdk/credential-providers';
import { z } from 'zod';
import {
  RUNNER_EXPORTS,
  TRIGGER_RESULT_FILES,
  TRIGGER_RESULT_LIMITS as RESULT_LIMITS,
  buildReportsUrl,
} from '../../lib/config/migration-test-contract';

export const TRIGGER_EXIT = { PASS: 0, FAIL: 1, ERROR: 2 } as const;

export interface TriggerDependencies {
  readonly codebuild: CodeBuildClient;
  readonly projectName: string;
  readonly log: (line: string) => void;
  readonly imageTag?: string;
  readonly timeoutMs?: number;
  readonly pollIntervalMs?: number;
  readonly allowMissingRole?: boolean;
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
}

function errorName(error: unknown): string {
  return error instanceof Error ? error.name : '';
}

function isMissingRole(error: unknown): boolean {
  const message = error instanceof Error ? error.message : '';
  return errorName(error) === 'AccessDenied' && /AssumeRole/i.test(message);
}

function exported(build: Build, name: string): string | undefined {
  return build.exportedEnvironmentVariables?.find((v) => v.name === name)?.value || undefined;
}

/** What starting the build came to. */
export type StartResult =
  | { readonly kind: 'started'; readonly id: string; readonly build: Build }
  | { readonly kind: 'nothing-to-test' }
  | { readonly kind: 'error' };

/** Starts a build of the project (with the image tag override, if any). */
export async function startBuild(deps: TriggerDependencies): Promise<StartResult> {
  const { codebuild, projectName, log } = deps;
  const overrides: EnvironmentVariable[] = deps.imageTag
    ? [{ name: 'MIGRATION_IMAGE_TAG', value: deps.imageTag, type: 'PLAINTEXT' }]
    : [];
  let build: Build | undefined;
  try {
    const started = await codebuild.send(
      new StartBuildCommand({
        projectName,
        ...(overrides.length > 0 ? { environmentVariablesOverride: overrides } : {}),
      }),
    );
    build = started.build;
  } catch (error) {
    if (errorName(error) === 'ResourceNotFoundException') {
      log(`Project ${projectName} does not exist yet: first deploy, no database to test. Skipping.`);
      return { kind: 'nothing-to-test' };
    }
    if (isMissingRole(error) && deps.allowMissingRole) {
      log(`Cannot assume the trigger role (not deployed yet?): treating this as the first deploy. Skipping.`);
      return { kind: 'nothing-to-test' };
    }
    log(`Cannot start ${projectName}: ${errorName(error)}: ${(error as Error).message}`);
    return { kind: 'error' };
  }
  const id = build?.id;
  if (!id) {
    log(`StartBuild of ${projectName} returned no build id`);
    return { kind: 'error' };
  }
  log(`Started ${id}`);
  return { kind: 'started', id, build: build! };
}

/** What a finished (or abandoned) migration-test build says, for the approval. */
export interface Verdict {
  /** Exit status ({@link TRIGGER_EXIT}). */
  readonly code: number;
  /** The runner's one-line summary, when the build exported one. */
  readonly summary?: string;
  /** Console page of the build's reports (the migration report). */
  readonly reportUrl?: string;
}

function reportUrlOf(build: Build | undefined): string | undefined {
  const exportedUrl = build ? exported(build, RUNNER_EXPORTS.reportUrl) : undefined;
  if (exportedUrl?.startsWith('https://')) return exportedUrl;
  return build?.arn ? buildReportsUrl(build.arn) : undefined;
}

/**
 * Waits for the build `id` and returns the exit status of its verdict; `initial` is the build as
 * StartBuild returned it (else the first poll is immediate).
 */
export async function waitForBuild(deps: TriggerDependencies, id: string, initial?: Build): Promise<number> {
  return (await awaitVerdict(deps, id, initial)).code;
}

/** {@link waitForBuild}, with the summary and the report link. */
export async function awaitVerdict(deps: TriggerDependencies, id: string, initial?: Build): Promise<Verdict> {
  const { codebuild, log } = deps;
  const now = deps.now ?? Date.now;
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const timeoutMs = deps.timeoutMs ?? 150 * 60_000;
  const poll = deps.pollIntervalMs ?? 20_000;

  const fetch = async (): Promise<Build | undefined> => {
    try {
      const out = await codebuild.send(new BatchGetBuildsCommand({ ids: [id] }));
      return out.builds?.[0];
    } catch (error) {
      log(`BatchGetBuilds failed (${errorName(error)}); retrying`);
      return undefined;
    }
  };
  const startedAt = now();
  let build: Build | undefined = initial ?? (await fetch());
  let phase = '';
  let linkShown = false;
  for (;;) {
    if (build?.logs?.deepLink && !linkShown) {
      log(`Logs: ${build.logs.deepLink}`);
      linkShown = true;
    }
    if (build?.currentPhase && build.currentPhase !== phase) {
      phase = build.currentPhase;
      log(`[${Math.round((now() - startedAt) / 1000)}s] phase ${phase}`);
    }
    if (build?.buildComplete) break;
    if (now() - startedAt > timeoutMs) {
      log(
        `Gave up waiting for ${id} after ${Math.round(timeoutMs / 60_000)} min; the build keeps running and cleans up after itself.`,
      );
      const reportUrl = reportUrlOf(build);
      return {
        code: TRIGGER_EXIT.ERROR,
        summary: 'unknown: gave up waiting for the build',
        ...(reportUrl ? { reportUrl } : {}),
      };
    }
    await sleep(poll);
    build = (await fetch()) ?? build;
  }

  const status = build.buildStatus ?? 'UNKNOWN';
  const summary = exported(build, RUNNER_EXPORTS.summary);
  const code = exported(build, RUNNER_EXPORTS.exitCode);
  const reportUrl = reportUrlOf(build);
  log(`Build ${id}: ${status}`);
  log(summary ? `Report: ${summary}` : 'Report: no summary exported (see the logs and the report group).');
  if (reportUrl) log(`Report page: ${reportUrl}`);
  if (build.logs?.deepLink && !linkShown) log(`Logs: ${build.logs.deepLink}`);
  const verdict = {
    summary: summary ?? `no summary exported (build ${status})`,
    ...(reportUrl ? { reportUrl } : {}),
  };
  if (status === 'SUCCEEDED') return { code: TRIGGER_EXIT.PASS, ...verdict };
  if (status === 'FAILED' && code === '1') return { code: TRIGGER_EXIT.FAIL, ...verdict };
  return { code: TRIGGER_EXIT.ERROR, ...verdict };
}

/**
 * Writes the verdict's summary and report link, one line each, for the step to export (the
 * approval and its e-mail quote them). Values are single lines of bounded length.
 */
export function writeResult(dir: string, verdict: Omit<Verdict, 'code'>): void {
  const line = (text: string, max: number) => {
    const one = text.replace(/\s+/g, ' ').trim();
    return one.length > max ? `${one.slice(0, max - 1)}…` : one;
  };
  mkdirSync(dir, { recursive: true });
  const summary = line(verdict.summary ?? 'no summary', RESULT_LIMITS.summary);
  writeFileSync(join(dir, TRIGGER_RESULT_FILES.summary), `${summary}\n`);
  // A link is never cut: one that does not fit is not a link.
  const url =
    verdict.reportUrl && verdict.reportUrl.length <= RESULT_LIMITS.reportUrl ? verdict.reportUrl : 'none';
  writeFileSync(join(dir, TRIGGER_RESULT_FILES.reportUrl), `${url}\n`);
}

/** Starts the build and waits for it; returns the exit status. */
export async function runTrigger(deps: TriggerDependencies): Promise<number> {
  const started = await startBuild(deps);
  if (started.kind === 'nothing-to-test') return TRIGGER_EXIT.PASS;
  if (started.kind === 'error') return TRIGGER_EXIT.ERROR;
  return waitForBuild(deps, started.id, started.build);
}

/** `MIGRATION_BUILD_ID` when there was nothing to start. */
export const NO_BUILD = 'none';

const triggerEnv = z.object({
  MIGRATION_TEST_PROJECT: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9_-]{1,254}$/, 'must be a CodeBuild project name'),
  AWS_REGION: z.string().regex(/^[a-z]{2}(-gov)?-[a-z]+-\d$/, 'must be an AWS region'),
  ROLE_ARN: z
    .string()
    .regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/, 'must be an IAM role ARN')
    .optional(),
  MIGRATION_IMAGE_TAG: z
    .string()
    .regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/)
    .optional(),
  TRIGGER_TIMEOUT_MINUTES: z.coerce.number().int().min(1).max(600).default(150),
  ALLOW_MISSING_ROLE: z.enum(['true', 'false']).default('false'),
  MIGRATION_BUILD_ID: z
    .string()
    .regex(/^([A-Za-z0-9][A-Za-z0-9_-]*:[0-9a-f-]{36}|none)$/, 'must be a CodeBuild build id or none')
    .optional(),
  MIGRATION_RESULT_DIR: z.string().min(1).optional(),
});

export async function main(argv: readonly string[] = process.argv.slice(2)): Promise<number> {
  const mode = argv.includes('--start') ? 'start' : argv.includes('--wait') ? 'wait' : 'run';
  const input: Record<string, string | undefined> = { ...process.env };
  input.AWS_REGION = process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION;
  for (const key of Object.keys(input)) if (input[key] === '') delete input[key];
  const parsed = triggerEnv.safeParse(input);
  if (!parsed.success) {
    console.error(
      `Invalid trigger settings: ${parsed.error.issues.map((i) => `${String(i.path[0])}: ${i.message}`).join('; ')}`,
    );
    return TRIGGER_EXIT.ERROR;
  }
  const env = parsed.data;
  const codebuild = new CodeBuildClient({
    region: env.AWS_REGION,
    ...(env.ROLE_ARN
      ? {
          credentials: fromTemporaryCredentials({
            params: {
              RoleArn: env.ROLE_ARN,
              RoleSessionName: 'migration-test-trigger',
              DurationSeconds: 3600,
            },
            clientConfig: { region: env.AWS_REGION },
          }),
        }
      : {}),
  });
  const deps: TriggerDependencies = {
    codebuild,
    projectName: env.MIGRATION_TEST_PROJECT,
    // --start prints only the build id on stdout (the step captures it).
    log: (line) => (mode === 'start' ? console.error(line) : console.log(line)),
    ...(env.MIGRATION_IMAGE_TAG ? { imageTag: env.MIGRATION_IMAGE_TAG } : {}),
    timeoutMs: env.TRIGGER_TIMEOUT_MINUTES * 60_000,
    allowMissingRole: env.ALLOW_MISSING_ROLE === 'true',
  };
  if (mode === 'start') {
    const started = await startBuild(deps);
    if (started.kind === 'error') return TRIGGER_EXIT.ERROR;
    console.log(started.kind === 'started' ? started.id : NO_BUILD);
    return TRIGGER_EXIT.PASS;
  }
  if (mode === 'wait') {
    if (!env.MIGRATION_BUILD_ID) {
      console.error('Invalid trigger settings: MIGRATION_BUILD_ID: required with --wait');
      return TRIGGER_EXIT.ERROR;
    }
    const verdict: Verdict =
      env.MIGRATION_BUILD_ID === NO_BUILD
        ? { code: TRIGGER_EXIT.PASS, summary: 'not run: first deploy, nothing to test yet' }
        : await awaitVerdict(deps, env.MIGRATION_BUILD_ID);
    if (env.MIGRATION_BUILD_ID === NO_BUILD) {
      console.log('No migration test was started (first deploy: nothing to test). Skipping.');
    }
    if (env.MIGRATION_RESULT_DIR) writeResult(env.MIGRATION_RESULT_DIR, verdict);
    return verdict.code;
  }
  return runTrigger(deps);
}

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error(`Trigger error: ${error instanceof Error ? error.message : String(error)}`);
      process.exit(TRIGGER_EXIT.ERROR);
    },
  );
}
