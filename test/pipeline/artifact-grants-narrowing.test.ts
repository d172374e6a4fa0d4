/**
 * The second CDK Pipelines patch (lib/pipeline/artifact-grants-narrowing.ts): the pipeline roles
 * get explicit actions on the artifact bucket instead of CDK's S3 action groups.
 */
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type { CodePipeline } from 'aws-cdk-lib/pipelines';
import { Construct } from 'constructs';
import { buildApp } from '../../lib/app';
import {
  ARTIFACT_GROUP_REPLACEMENTS,
  explicitArtifactActions,
  narrowArtifactGrants,
} from '../../lib/pipeline/artifact-grants-narrowing';
import { resourcesOf } from '../helpers';
import { evaluate, roleStatements } from '../helpers/iam-evaluation';

const pipelineStack = buildApp(new App()).pipeline!;
const json = Template.fromStack(pipelineStack).toJSON() as {
  Resources: Record<string, { Type: string; Properties?: Record<string, unknown> }>;
};
const template = Template.fromJSON(json);
const bucketId = resourcesOf(template, 'AWS::S3::Bucket').find(([id]) =>
  id.startsWith('PipelineArtifactsBucket'),
)![0];
const pseudo = { partition: 'aws', region: 'eu-central-1', account: '700558745280' };
// How the evaluator writes the bucket's ARN (a GetAtt it does not resolve).
const BUCKET = `<Fn::GetAtt:${JSON.stringify([bucketId, 'Arn'])}>`;

interface Statement {
  Action: string | string[];
  Resource: unknown;
}
const statementsOnBucket = (): [string, Statement][] =>
  resourcesOf(template, 'AWS::IAM::Policy').flatMap(([id, p]) =>
    (p.PolicyDocument as { Statement: Statement[] }).Statement.filter((st) =>
      JSON.stringify(st.Resource).includes(`"${bucketId}"`),
    ).map((st): [string, Statement] => [id, st]),
  );
const roleId = (prefix: string) =>
  resourcesOf(template, 'AWS::IAM::Role').find(([id]) => id.startsWith(prefix))![0];

test('no statement on the artifact bucket uses an S3 action group any more', () => {
  const onBucket = statementsOnBucket();
  expect(onBucket.length).toBeGreaterThan(10);
  const s3Wildcards = onBucket.flatMap(([id, st]) =>
    [st.Action]
      .flat()
      .filter((a) => a.startsWith('s3:') && a.includes('*'))
      .map((a) => `${id}: ${a}`),
  );
  expect(s3Wildcards).toEqual([]);
});

test("the pipeline's service role moves artifacts and may not delete them; the asset role only reads", () => {
  const object = `${BUCKET}/Source/abc.zip`;
  const pipelineRole = roleStatements(json, roleId('PipelineRole'), pseudo);
  for (const action of ['s3:GetObject', 's3:GetObjectVersion', 's3:PutObject', 's3:AbortMultipartUpload']) {
    expect([action, evaluate(pipelineRole, action, object)]).toEqual([action, 'allow']);
  }
  for (const action of [
    's3:GetBucketLocation',
    's3:GetBucketVersioning',
    's3:GetBucketAcl',
    's3:ListBucket',
  ]) {
    expect([action, evaluate(pipelineRole, action, BUCKET)]).toEqual([action, 'allow']);
  }
  for (const action of [
    's3:DeleteObject',
    's3:DeleteObjectVersion',
    's3:GetObjectAcl',
    's3:GetBucketPolicy',
  ]) {
    expect([action, evaluate(pipelineRole, action, action.includes('Bucket') ? BUCKET : object)]).toEqual([
      action,
      'implicit-deny',
    ]);
  }
  const assetRole = roleStatements(json, roleId('PipelineAssetsFileRole'), pseudo);
  expect(evaluate(assetRole, 's3:GetObject', object)).toBe('allow');
  expect(evaluate(assetRole, 's3:PutObject', object)).toBe('implicit-deny');
});

test("the pipeline's service role keeps the CodePipeline user guide's minimum on its artifact store", () => {
  // "Manage the CodePipeline service role", policy AllowS3BucketAccess / AllowS3ObjectAccess.
  // Not s3:PutObjectAcl: CDK never granted it to this role (only to the source action's role),
  // and the narrowing neither adds nor removes it.
  const pipelineRole = roleStatements(json, roleId('PipelineRole'), pseudo);
  for (const action of ['s3:GetBucketVersioning', 's3:GetBucketAcl', 's3:GetBucketLocation']) {
    expect([action, evaluate(pipelineRole, action, BUCKET)]).toEqual([action, 'allow']);
  }
  for (const action of ['s3:PutObject', 's3:GetObject', 's3:GetObjectVersion']) {
    expect([action, evaluate(pipelineRole, action, `${BUCKET}/Source/x.zip`)]).toEqual([action, 'allow']);
  }
});

test('each group maps to the actions CodePipeline uses on an artifact store; deletion to none', () => {
  expect(ARTIFACT_GROUP_REPLACEMENTS).toEqual({
    's3:GetObject*': ['s3:GetObject', 's3:GetObjectVersion'],
    's3:GetBucket*': ['s3:GetBucketAcl', 's3:GetBucketLocation', 's3:GetBucketVersioning'],
    's3:List*': ['s3:ListBucket'],
    's3:Abort*': ['s3:AbortMultipartUpload'],
    's3:DeleteObject*': [],
  });
  expect(
    explicitArtifactActions([
      's3:GetObject*',
      's3:GetObject',
      's3:DeleteObject*',
      's3:PutObject',
      's3:Abort*',
    ]),
  ).toEqual(['s3:GetObject', 's3:GetObjectVersion', 's3:PutObject', 's3:AbortMultipartUpload']);
});

test('it fails the synth when CDK no longer grants action groups on the bucket (nothing to narrow)', () => {
  const stack = new Stack(new App(), 'Fake');
  const bucket = new s3.Bucket(stack, 'Artifacts');
  const role = new iam.Role(stack, 'Role', {
    assumedBy: new iam.ServicePrincipal('codebuild.amazonaws.com'),
  });
  role.addToPolicy(
    new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: [bucket.arnForObjects('*')] }),
  );
  const fake = Object.assign(new Construct(stack, 'Pipeline'), { pipeline: { artifactBucket: bucket } });
  expect(() => narrowArtifactGrants(fake as unknown as CodePipeline)).toThrow(
    /no longer grants S3 action groups on the artifact bucket/,
  );
  bucket.grantRead(role);
  expect(() => narrowArtifactGrants(fake as unknown as CodePipeline)).not.toThrow();
});
