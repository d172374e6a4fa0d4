/**
 * Reads what the change summary needs from a stage's nested cloud assembly (`cdk.out/assembly-Prod`):
 * its stacks in deployment order, each with its template, its deploy role and where its template
 * is uploaded for CloudFormation (the template's own file asset in `<stack>.assets.json`).
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';

export interface AssemblyStack {
  /** Artifact id in the manifest (`ProdData90A795AA`). */
  readonly artifactId: string;
  readonly stackName: string;
  readonly account: string;
  readonly region: string;
  /** Absolute path of the synthesized template. */
  readonly templateFile: string;
  /** The CDK deploy role (creates and deletes change sets). */
  readonly deployRoleArn: string;
  /** The CloudFormation execution role the pipeline deploys with. */
  readonly executionRoleArn?: string;
  /** Where the template is uploaded (`s3://bucket/key` of the bootstrap assets bucket) and with which role. */
  readonly templateAsset: { readonly bucket: string; readonly key: string; readonly roleArn: string };
  /** `Type` of every resource of the template, by logical id. */
  readonly resources: readonly { readonly logicalId: string; readonly type: string }[];
}

const stackArtifact = z.object({
  type: z.literal('aws:cloudformation:stack'),
  environment: z.string().regex(/^aws:\/\/\d{12}\/[a-z0-9-]+$/, 'must be aws://<account>/<region>'),
  dependencies: z.array(z.string()).optional(),
  displayName: z.string().optional(),
  properties: z.object({
    templateFile: z.string(),
    stackName: z.string().optional(),
    assumeRoleArn: z.string(),
    cloudFormationExecutionRoleArn: z.string().optional(),
    stackTemplateAssetObjectUrl: z.string().regex(/^s3:\/\/[^/]+\/.+$/, 'must be s3://bucket/key'),
  }),
});

const assetManifest = z.object({
  files: z.record(
    z.string(),
    z.object({
      source: z.object({ path: z.string() }),
      destinations: z.record(
        z.string(),
        z.object({ bucketName: z.string(), objectKey: z.string(), assumeRoleArn: z.string() }),
      ),
    }),
  ),
});

/** Replaces `${AWS::Partition}` (and the account/region placeholders cdk-assets knows) in a manifest ARN. */
function resolvePlaceholders(value: string, account: string, region: string, partition: string): string {
  return value
    .replace(/\$\{AWS::Partition\}/g, partition)
    .replace(/\$\{AWS::AccountId\}/g, account)
    .replace(/\$\{AWS::Region\}/g, region);
}

function fail(file: string, error: z.ZodError): never {
  const issue = error.issues[0];
  throw new Error(`${file}: ${issue.path.join('.')}: ${issue.message}`);
}

/**
 * The stacks of the nested assembly at `dir`, in the manifest's order (CDK writes artifacts in
 * dependency order, the order CDK Pipelines deploys them in).
 */
export function readStageStacks(dir: string, partition = 'aws'): AssemblyStack[] {
  const manifestFile = path.join(dir, 'manifest.json');
  const manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as { artifacts?: Record<string, unknown> };
  const stacks: AssemblyStack[] = [];
  for (const [artifactId, raw] of Object.entries(manifest.artifacts ?? {})) {
    if ((raw as { type?: string }).type !== 'aws:cloudformation:stack') continue;
    const parsed = stackArtifact.safeParse(raw);
    if (!parsed.success) fail(`${manifestFile} ${artifactId}`, parsed.error);
    const artifact = parsed.data;
    const [, account, region] = /^aws:\/\/(\d{12})\/(.+)$/.exec(artifact.environment) ?? [];
    const props = artifact.properties;
    const templateFile = path.join(dir, props.templateFile);
    const [, bucket, key] = /^s3:\/\/([^/]+)\/(.+)$/.exec(props.stackTemplateAssetObjectUrl) ?? [];

    // The template's own entry in the stack's asset manifest names the role that may upload it.
    const assetsFile = path.join(dir, `${artifactId}.assets.json`);
    const assets = assetManifest.safeParse(JSON.parse(readFileSync(assetsFile, 'utf8')));
    if (!assets.success) fail(assetsFile, assets.error);
    const destination = Object.values(assets.data.files)
      .filter((f) => f.source.path === props.templateFile)
      .flatMap((f) => Object.values(f.destinations))
      .find((d) => resolvePlaceholders(d.objectKey, account, region, partition) === key);
    if (!destination) {
      throw new Error(
        `${assetsFile}: no asset destination uploads ${props.templateFile} to ${props.stackTemplateAssetObjectUrl}`,
      );
    }

    const template = JSON.parse(readFileSync(templateFile, 'utf8')) as {
      Resources?: Record<string, { Type: string }>;
    };
    stacks.push({
      artifactId,
      stackName: props.stackName ?? artifactId,
      account,
      region,
      templateFile,
      deployRoleArn: resolvePlaceholders(props.assumeRoleArn, account, region, partition),
      ...(props.cloudFormationExecutionRoleArn
        ? {
            executionRoleArn: resolvePlaceholders(
              props.cloudFormationExecutionRoleArn,
              account,
              region,
              partition,
            ),
          }
        : {}),
      templateAsset: {
        bucket: resolvePlaceholders(destination.bucketName, account, region, partition) || bucket,
        key,
        roleArn: resolvePlaceholders(destination.assumeRoleArn, account, region, partition),
      },
      resources: Object.entries(template.Resources ?? {}).map(([logicalId, r]) => ({
        logicalId,
        type: r.Type,
      })),
    });
  }
  if (stacks.length === 0) throw new Error(`${manifestFile}: no stacks in this assembly`);
  return stacks;
}
