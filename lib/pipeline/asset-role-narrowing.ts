/**
 * A CDK PIPELINES PATCH (the first one; artifact-grants-narrowing.ts is the second).
 *
 * Which CDK behaviour it corrects: `CodePipeline` (aws-cdk-lib/pipelines, 2.276) gives the
 * asset-publishing role (`Pipeline/Assets/FileRole`) a statement allowing
 * `codebuild:StartBuild`, `codebuild:BatchGetBuilds` and `codebuild:StopBuild` on `Resource: *`,
 * i.e. on ANY CodeBuild project of the account, including the migration test, which restores
 * prod snapshots. CDK offers no option to scope it.
 *
 * What it does: with `publishAssetsInParallel: false` there is exactly one asset project
 * (`FileAsset`); the rendered policy document of that role is rewritten so the statement names
 * that project only. It fails the synth, instead of silently doing nothing, when CDK changes the
 * shape it relies on (no or several asset projects, no or several `StartBuild` statements on `*`).
 *
 * Guarded by: test/pipeline/asset-role-narrowing.test.ts (the statement names the asset project
 * only; the shape checks throw) and the whole-pipeline test in test/pipeline/pipeline-stack.test.ts
 * ("the asset-publishing role may start only the asset project").
 */
import { Lazy, type IResolveContext } from 'aws-cdk-lib';
import * as codebuild from 'aws-cdk-lib/aws-codebuild';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type { CodePipeline } from 'aws-cdk-lib/pipelines';

/** Scopes the asset role's `codebuild:StartBuild` statement to the one asset project (see the header). */
export function narrowAssetPublishingRole(pipeline: CodePipeline): void {
  const projects = pipeline.node
    .findAll()
    .filter((c): c is codebuild.Project => c instanceof codebuild.Project && c.node.id === 'FileAsset');
  if (projects.length !== 1)
    throw new Error(`expected one asset-publishing project, found ${projects.length}`);
  const policy = pipeline.node
    .findChild('Assets')
    .node.findChild('FileRole')
    .node.findChild('DefaultPolicy') as iam.Policy;
  const cfn = policy.node.defaultChild as iam.CfnPolicy;
  const projectArn = projects[0].projectArn;
  // Rewrites the rendered document, which is what CloudFormation and cdk-nag both read.
  cfn.policyDocument = Lazy.uncachedAny({
    produce: (context: IResolveContext) => {
      const doc = context.resolve(policy.document) as {
        Statement: { Action: unknown; Resource: unknown }[];
      };
      const start = doc.Statement.filter(
        (st) => JSON.stringify(st.Action).includes('codebuild:StartBuild') && st.Resource === '*',
      );
      if (start.length !== 1) {
        throw new Error('CDK Pipelines asset role changed: review narrowAssetPublishingRole()');
      }
      start[0].Resource = context.resolve(projectArn);
      return doc;
    },
  });
}
