/**
 * Before a gated stage's approval (CodeBuild, pipeline account): computes the change set of each of
 * the stage's stacks against what is deployed, prints the readable summary into the build log,
 * uploads it and this execution's compliance report to the pipeline's artifact bucket under
 * `reviews/<execution id>/`, and writes the headline and the link for the approval comment.
 *
 * Environment:
 * | variable | meaning |
 * | --- | --- |
 * | `STAGE_ASSEMBLY` | the stage's nested cloud assembly (`cdk.out/assembly-Prod`) |
 * | `STAGE_NAME` | `Prod` |
 * | `PIPELINE_NAME`, `EXECUTION_ID` | this pipeline execution (`#{codepipeline.PipelineExecutionId}`) |
 * | `ARTIFACT_BUCKET` | the pipeline's artifact bucket (receives `reviews/<execution id>/…`) |
 * | `REPORTS_DIR` | optional: directory whose files (the compliance report) are uploaded next to the summary |
 * | `OUT_DIR` | where `headline.txt` and `url.txt` are written (default `review`) |
 * | `AWS_REGION` | the pipeline's region |
 *
 * Exit status 0 when the summary was written and uploaded (whatever it says: the approval decides),
 * 2 when it could not be (bad settings, unreadable assembly, upload refused).
 */
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { fromTemporaryCredentials } from '@aws-sdk/credential-providers';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import { readStageStacks, type AssemblyStack } from './assembly';
import { REVIEW_KEY_PREFIX, REVIEW_OUTPUT_FILES } from './contract';
import { stackChangeSet, type StackClients } from './change-sets';
import { renderChangeSummary, type ChangeSummary } from './render';

export const settingsSchema = z.object({
  STAGE_ASSEMBLY: z.string().min(1, 'must name the stage assembly directory'),
  STAGE_NAME: z.string().regex(/^[A-Za-z0-9-]+$/, 'must be a stage name such as Prod'),
  PIPELINE_NAME: z.string().min(1, 'must not be empty'),
  EXECUTION_ID: z
    .string()
    .regex(
      /^[0-9a-f-]{36}$/,
      'must be a pipeline execution id (set it to #{codepipeline.PipelineExecutionId})',
    ),
  ARTIFACT_BUCKET: z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be an S3 bucket name'),
  REPORTS_DIR: z.string().optional(),
  OUT_DIR: z.string().default('review'),
  AWS_REGION: z.string().regex(/^[a-z]{2}(-gov)?-[a-z]+-\d$/, 'must be an AWS region'),
});
export type Settings = z.infer<typeof settingsSchema>;

export interface ReviewDependencies {
  /** S3 in the pipeline account (the build's own role). */
  readonly s3: S3Client;
  /** Clients for one stack (its deploy role, its asset-publishing role). */
  readonly clientsFor: (stack: AssemblyStack) => StackClients;
  readonly log: (line: string) => void;
  readonly sleep?: (ms: number) => Promise<void>;
}

/** The S3 console page of a key prefix (`…/`) or of one object. */
export function consoleUrl(bucket: string, region: string, key: string): string {
  const kind = key.endsWith('/') ? 'buckets' : 'object';
  return `https://${region}.console.aws.amazon.com/s3/${kind}/${bucket}?region=${region}&prefix=${encodeURIComponent(key)}`;
}

export interface ReviewResult {
  readonly summary: ChangeSummary;
  /** Console link of `reviews/<execution id>/`. */
  readonly url: string;
  readonly uploaded: readonly string[];
}

export async function runReview(settings: Settings, deps: ReviewDependencies): Promise<ReviewResult> {
  const stacks = readStageStacks(settings.STAGE_ASSEMBLY);
  const changeSetName = `orcha-review-${settings.EXECUTION_ID.slice(0, 8)}`;
  const results = [];
  // One stack at a time, in deployment order: the output stays readable and CloudFormation's
  // change-set quota is never a concern.
  for (const stack of stacks) {
    results.push(
      await stackChangeSet(stack, deps.clientsFor(stack), {
        changeSetName,
        log: deps.log,
        ...(deps.sleep ? { sleep: deps.sleep } : {}),
      }),
    );
  }
  const summary = renderChangeSummary(
    `${settings.STAGE_NAME} change summary — ${settings.PIPELINE_NAME} execution ${settings.EXECUTION_ID}`,
    results,
  );
  deps.log('');
  for (const line of summary.markdown.split('\n')) deps.log(line);

  const prefix = `${REVIEW_KEY_PREFIX}${settings.EXECUTION_ID}/`;
  const uploads: { key: string; body: Buffer | string; type: string }[] = [
    {
      key: `${prefix}${settings.STAGE_NAME.toLowerCase()}-change-summary.md`,
      body: summary.markdown,
      type: 'text/markdown; charset=utf-8',
    },
  ];
  if (settings.REPORTS_DIR) {
    for (const name of readdirSync(settings.REPORTS_DIR).sort()) {
      const file = path.join(settings.REPORTS_DIR, name);
      if (!statSync(file).isFile()) continue;
      const type = name.endsWith('.html')
        ? 'text/html; charset=utf-8'
        : name.endsWith('.md')
          ? 'text/markdown; charset=utf-8'
          : name.endsWith('.json')
            ? 'application/json'
            : 'text/plain; charset=utf-8';
      uploads.push({ key: `${prefix}compliance/${name}`, body: readFileSync(file), type });
    }
  }
  for (const u of uploads) {
    await deps.s3.send(
      new PutObjectCommand({
        Bucket: settings.ARTIFACT_BUCKET,
        Key: u.key,
        Body: u.body,
        ContentType: u.type,
      }),
    );
  }
  const url = consoleUrl(settings.ARTIFACT_BUCKET, settings.AWS_REGION, prefix);
  deps.log('');
  deps.log(`Summary and reports: ${url}`);

  mkdirSync(settings.OUT_DIR, { recursive: true });
  writeFileSync(path.join(settings.OUT_DIR, REVIEW_OUTPUT_FILES.headline), summary.headline);
  writeFileSync(path.join(settings.OUT_DIR, REVIEW_OUTPUT_FILES.url), url);
  return { summary, url, uploaded: uploads.map((u) => u.key) };
}

/** Clients that assume the stack's deploy role and its template's publishing role. */
function roleClients(stack: AssemblyStack): StackClients {
  const as = (roleArn: string) =>
    fromTemporaryCredentials({
      params: { RoleArn: roleArn, RoleSessionName: 'orcha-change-summary', DurationSeconds: 900 },
      clientConfig: { region: stack.region },
    });
  return {
    cloudformation: new CloudFormationClient({ region: stack.region, credentials: as(stack.deployRoleArn) }),
    assets: new S3Client({ region: stack.region, credentials: as(stack.templateAsset.roleArn) }),
  };
}

export async function main(
  env: NodeJS.ProcessEnv = process.env,
  sleep?: (ms: number) => Promise<void>,
): Promise<number> {
  const input: Record<string, string | undefined> = {
    ...env,
    AWS_REGION: env.AWS_REGION ?? env.AWS_DEFAULT_REGION,
  };
  for (const key of Object.keys(input)) if (input[key] === '') delete input[key];
  const parsed = settingsSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = String(issue.path[0]);
    console.error(
      `Invalid change summary settings: ${field}=${JSON.stringify(input[field] ?? '')}: ${issue.message}`,
    );
    return 2;
  }
  try {
    await runReview(parsed.data, {
      s3: new S3Client({ region: parsed.data.AWS_REGION }),
      clientsFor: roleClients,
      log: (line) => console.log(line),
      ...(sleep ? { sleep } : {}),
    });
    return 0;
  } catch (error) {
    console.error(`Change summary failed: ${error instanceof Error ? error.message : String(error)}`);
    return 2;
  }
}

if (require.main === module) {
  void main().then((code) => process.exit(code));
}
