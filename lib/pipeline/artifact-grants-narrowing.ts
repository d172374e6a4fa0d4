/**
 * A CDK PIPELINES PATCH (the second one; asset-role-narrowing.ts is the first).
 *
 * Which CDK behaviour it corrects: `CodePipeline` (aws-cdk-lib/pipelines, 2.276) grants every role
 * it creates (the pipeline's service role, the source action's role, each CodeBuild project's role,
 * self-mutation, asset publishing) access to its artifact bucket with `Bucket.grantRead` /
 * `grantReadWrite`, i.e. the wildcard action groups `s3:GetObject*`, `s3:GetBucket*`, `s3:List*`,
 * `s3:DeleteObject*` and `s3:Abort*`. Those groups allow more than moving artifacts (object ACLs
 * and retention reads, deletions of any object and version), and cdk-nag flags each of them on each
 * role (33 acknowledgements of the same five causes). CDK offers no option to pass other actions.
 *
 * What it does: in the rendered policy documents of the pipeline stack, every statement on the
 * artifact bucket (or its objects) gets the explicit actions CodePipeline and its actions use on an
 * artifact store, the same list the application pipeline grants (lib/constructs/artifact-bucket.ts):
 * `s3:GetObject*` → GetObject, GetObjectVersion; `s3:GetBucket*` → GetBucketAcl,
 * GetBucketLocation, GetBucketVersioning; `s3:List*` → ListBucket; `s3:Abort*` →
 * AbortMultipartUpload; `s3:DeleteObject*` → nothing (no pipeline action deletes an artifact).
 * Explicit actions CDK already names (PutObject, PutObjectAcl, …) stay. It composes with the asset
 * role patch (it rewrites whatever document is in place). It fails the synth, instead of silently
 * doing nothing, when no statement on the artifact bucket uses a group any more.
 *
 * Guarded by: test/pipeline/artifact-grants-narrowing.test.ts (no action group on the artifact
 * bucket anywhere in the pipeline stack; the explicit list per role kind; the shape check throws).
 */
import { Lazy, Stack, type IResolveContext } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { CodePipeline } from 'aws-cdk-lib/pipelines';
import {
  ARTIFACT_BUCKET_READ_ACTIONS,
  ARTIFACT_OBJECT_READ_ACTIONS,
  ARTIFACT_OBJECT_WRITE_ACTIONS,
} from '../constructs/artifact-bucket';

/** Each action group of CDK's bucket grants, and the explicit actions that replace it. */
export const ARTIFACT_GROUP_REPLACEMENTS: Readonly<Record<string, readonly string[]>> = {
  's3:GetObject*': ARTIFACT_OBJECT_READ_ACTIONS,
  's3:GetBucket*': ARTIFACT_BUCKET_READ_ACTIONS.filter((a) => a.startsWith('s3:GetBucket')),
  's3:List*': ARTIFACT_BUCKET_READ_ACTIONS.filter((a) => a.startsWith('s3:List')),
  's3:Abort*': ARTIFACT_OBJECT_WRITE_ACTIONS.filter((a) => a.startsWith('s3:Abort')),
  's3:DeleteObject*': [],
};

interface Statement {
  Action?: string | string[];
  Resource?: unknown;
}

/** The statement's actions with every group replaced (order kept, no duplicates). */
export function explicitArtifactActions(actions: readonly string[]): string[] {
  const out: string[] = [];
  for (const action of actions) {
    for (const a of ARTIFACT_GROUP_REPLACEMENTS[action] ?? [action]) if (!out.includes(a)) out.push(a);
  }
  return out;
}

/** Rewrites the artifact-bucket statements of every policy of the pipeline stack (see the header). */
export function narrowArtifactGrants(pipeline: CodePipeline): void {
  const stack = Stack.of(pipeline);
  const bucketId = stack.getLogicalId(pipeline.pipeline.artifactBucket.node.defaultChild as never);
  const policies = stack.node.findAll().filter((c): c is iam.Policy => c instanceof iam.Policy);
  const onBucket = (st: Statement) => JSON.stringify(st.Resource ?? null).includes(`"${bucketId}"`);
  const grouped = (st: Statement) =>
    (typeof st.Action === 'string' ? [st.Action] : (st.Action ?? [])).some(
      (a) => a in ARTIFACT_GROUP_REPLACEMENTS,
    );
  const matching = policies.filter((policy) =>
    (stack.resolve(policy.document) as { Statement?: Statement[] } | undefined)?.Statement?.some(
      (st) => onBucket(st) && grouped(st),
    ),
  );
  if (matching.length === 0) {
    throw new Error(
      'CDK Pipelines no longer grants S3 action groups on the artifact bucket: review narrowArtifactGrants()',
    );
  }
  for (const policy of policies) {
    const cfn = policy.node.defaultChild as iam.CfnPolicy;
    const previous: unknown = cfn.policyDocument;
    cfn.policyDocument = Lazy.uncachedAny({
      produce: (context: IResolveContext) => {
        const doc = context.resolve(previous) as { Statement: Statement[] };
        for (const st of doc.Statement) {
          if (!onBucket(st) || !grouped(st)) continue;
          const explicit = explicitArtifactActions(typeof st.Action === 'string' ? [st.Action] : st.Action!);
          st.Action = explicit.length === 1 ? explicit[0] : explicit;
        }
        return doc;
      },
    });
  }
}
