/**
 * The one CDK Pipelines patch (lib/pipeline/asset-role-narrowing.ts) on a small pipeline of its
 * own: it narrows the asset role's StartBuild statement to the asset project, and it refuses to
 * run on a shape it does not know (several asset projects) instead of doing nothing.
 */
import { App, Stack, Stage } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { Asset } from 'aws-cdk-lib/aws-s3-assets';
import { CodePipeline, CodePipelineSource, ShellStep } from 'aws-cdk-lib/pipelines';
import { projectPath } from '../../lib/config/project';
import { narrowAssetPublishingRole } from '../../lib/pipeline/asset-role-narrowing';

const env = { account: '111111111111', region: 'eu-central-1' };

function pipelineWithTwoAssets(publishAssetsInParallel: boolean): { stack: Stack; pipeline: CodePipeline } {
  const app = new App();
  const stack = new Stack(app, 'P', { env });
  const pipeline = new CodePipeline(stack, 'Pipeline', {
    publishAssetsInParallel,
    synth: new ShellStep('Synth', {
      input: CodePipelineSource.connection('o/r', 'main', {
        connectionArn: 'arn:aws:codeconnections:eu-central-1:111111111111:connection/x',
      }),
      commands: ['true'],
    }),
  });
  const stage = new Stage(app, 'S', { env });
  const app1 = new Stack(stage, 'A');
  new Asset(app1, 'One', { path: projectPath('codebuild', 'smoke-test.ts') });
  new Asset(app1, 'Two', {
    path: projectPath('codebuild', 'termination-protection.ts'),
  });
  pipeline.addStage(stage);
  pipeline.buildPipeline();
  return { stack, pipeline };
}

test('one asset project: StartBuild names that project only, no statement on *', () => {
  const { stack } = pipelineWithTwoAssets(false);
  // Without the patch, CDK grants StartBuild on "*" (what this patch exists for).
  const before = JSON.stringify(Template.fromStack(stack).toJSON());
  expect(before).toMatch(/"codebuild:StartBuild"[^}]*"Resource":"\*"/);

  const { stack: patched, pipeline } = pipelineWithTwoAssets(false);
  narrowAssetPublishingRole(pipeline);
  const policies = Template.fromStack(patched).findResources('AWS::IAM::Policy');
  const [, policy] = Object.entries(policies).find(([id]) =>
    id.startsWith('PipelineAssetsFileRoleDefaultPolicy'),
  )!;
  const statements = (
    policy as { Properties: { PolicyDocument: { Statement: { Action: unknown; Resource: unknown }[] } } }
  ).Properties.PolicyDocument.Statement;
  const start = statements.filter((st) => JSON.stringify(st.Action).includes('codebuild:StartBuild'));
  expect(start).toHaveLength(1);
  expect(start[0].Resource).toEqual({
    'Fn::GetAtt': [expect.stringMatching(/^PipelineAssetsFileAsset/), 'Arn'],
  });
  expect(JSON.stringify(statements)).not.toContain('"Resource":"*"');
});

test('assets published in parallel (one project per asset): the patch refuses instead of doing nothing', () => {
  const { pipeline } = pipelineWithTwoAssets(true);
  expect(() => narrowAssetPublishingRole(pipeline)).toThrow('expected one asset-publishing project, found 0');
});
