import { Stack } from 'aws-cdk-lib';
import * as codebuild from 'aws-cdk-lib/aws-codebuild';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type { CodePipeline } from 'aws-cdk-lib/pipelines';
import type { IConstruct } from 'constructs';
import { acknowledge, acknowledgeInlinePolicy } from '../nag';

/**
 * cdk-nag acknowledgements of what CDK Pipelines itself generates (roles, CodeBuild projects,
 * artifact bucket) in the pipeline stack. Each is made on the one resource that carries the
 * finding, for that one finding. The pipeline's own additions (smoke tests, migration-test
 * trigger, notifications) are scoped so that they add no finding of their own beyond the
 * CodeBuild defaults acknowledged here.
 */

const REASON = {
  bucketObjects: (who: string) =>
    `${who} needs every object key of the pipeline's artifact bucket: artifact keys are generated per execution ` +
    'by CodePipeline and cannot be listed in advance. Scoped to that one bucket.',
  logs: (project: string) =>
    `CodeBuild project ${project} writes its build logs to its own log group /aws/codebuild/<project>; ` +
    'log stream names are generated per build, hence the stream wildcard. No other log group matches.',
  reports: (project: string) =>
    `CodeBuild project ${project} may create test report groups named after itself (<project>-*), ` +
    'the CodeBuild default grant. No other project report group matches.',
  cb4: (project: string) =>
    `CodeBuild project ${project} uses the AWS-managed key for its artifacts: the pipeline runs in one account ` +
    'and its artifact bucket is encrypted with the AWS-managed S3 key (aws/s3), so a customer-managed key would cost $1/month without adding an ' +
    'access boundary. Configuring another account for staging or prod turns on crossAccountKeys (a rotated KMS key).',
} as const;

/**
 * The one finding left of a role's artifact access once narrowArtifactGrants() has replaced CDK's
 * action groups by explicit actions: the object wildcard of the artifact bucket.
 */
function ackArtifactObjects(role: iam.IRole, who: string, bucketRef: string): void {
  acknowledge(role, `AwsSolutions-IAM5[Resource::${bucketRef}/*]`, REASON.bucketObjects(who));
}

function logicalRef(construct: IConstruct): string {
  return `<${Stack.of(construct).getLogicalId(construct.node.defaultChild as never)}>`;
}

function child(scope: IConstruct, path: string): IConstruct {
  const found = scope.node.tryFindChild(path.split('/')[0]);
  if (!found)
    throw new Error(
      `CDK Pipelines layout changed: ${scope.node.path}/${path} not found; review lib/pipeline/acknowledgements.ts`,
    );
  const rest = path.split('/').slice(1).join('/');
  return rest ? child(found, rest) : found;
}

/** Acknowledges the findings of the constructs CDK Pipelines generated (call after buildPipeline()). */
export function acknowledgePipelineFindings(pipeline: CodePipeline): void {
  const stack = Stack.of(pipeline);
  const cp = pipeline.pipeline;
  const region = stack.region;
  const account = stack.account;
  const bucket = logicalRef(cp.artifactBucket).replace('>', '.Arn>');

  acknowledge(
    cp.artifactBucket,
    'AwsSolutions-S1',
    "CDK Pipelines' artifact bucket holds build outputs only (templates, assets, reports), is private, " +
      'encrypted with the AWS-managed S3 key (aws/s3) and TLS-only; every read and write is by the pipeline roles, which CloudTrail records. ' +
      'Server access logs would add a log bucket that duplicates that trail. Revisit if CloudTrail data events are turned off.',
  );
  acknowledge(
    cp.artifactBucket,
    'NIST.800.53.R5-S3BucketLoggingEnabled',
    "CDK Pipelines' artifact bucket holds build outputs only and is read and written by the pipeline roles alone, each call recorded by CloudTrail; server access logs would add a log bucket duplicating that trail for outputs any run reproduces. Revisit if CloudTrail data events are turned off.",
  );
  acknowledge(
    cp.artifactBucket,
    'NIST.800.53.R5-S3BucketVersioningEnabled',
    "CDK Pipelines' artifact bucket holds templates, assets and reports that every pipeline run writes under new keys and that the next run rebuilds from the commit; nothing is overwritten in place, so versions would only keep copies of reproducible build outputs.",
  );
  acknowledge(
    cp.artifactBucket,
    'NIST.800.53.R5-S3BucketReplicationEnabled',
    "CDK Pipelines' artifact bucket serves the pipeline in its own region; its contents are rebuilt from the repository by the next run, so a replica in a second region would store outputs that no pipeline there reads.",
  );
  ackArtifactObjects(cp.role, 'The pipeline role', bucket);
  acknowledgeInlinePolicy(
    cp.role,
    'The infrastructure pipeline service role may move artifacts through its artifact bucket and assume its own action roles',
  );
  const sourceRole = child(cp, 'Source/GitHub/CodePipelineActionRole') as iam.IRole;
  ackArtifactObjects(sourceRole, 'The GitHub source action', bucket);
  acknowledgeInlinePolicy(
    sourceRole,
    "The infrastructure pipeline's GitHub source action role may use the GitHub connection and upload the repository snapshot to the artifact bucket",
  );
  acknowledgeInlinePolicy(
    child(pipeline, 'CodeBuildActionRole'),
    "CDK Pipelines' CodeBuild action role may start and read the builds of the pipeline's own CodeBuild projects",
  );

  // Every CodeBuild project of the pipeline: its key, logs and report groups.
  const projects = pipeline.node
    .findAll()
    .filter((c): c is codebuild.Project => c instanceof codebuild.Project);
  // A role shared by two projects (the migration test's start and wait steps) is acknowledged once
  // for the artifacts bucket.
  const s3Acknowledged = new Set<iam.IRole>();
  for (const project of projects) {
    const name = project.node.path.split('/').slice(2).join('/');
    acknowledge(project, 'AwsSolutions-CB4', REASON.cb4(name));
    if (project.node.id === 'FileAsset') continue; // shares the assets role, acknowledged below
    const role = project.role!;
    const ref = logicalRef(project);
    acknowledge(
      role,
      `AwsSolutions-IAM5[Resource::arn:aws:logs:${region}:${account}:log-group:/aws/codebuild/${ref}:*]`,
      REASON.logs(name),
    );
    acknowledge(
      role,
      `AwsSolutions-IAM5[Resource::arn:aws:codebuild:${region}:${account}:report-group/${ref}-*]`,
      REASON.reports(name),
    );
    if (!s3Acknowledged.has(role)) {
      ackArtifactObjects(role, `CodeBuild project ${name}`, bucket);
      acknowledgeInlinePolicy(
        role,
        `The role of the pipeline's CodeBuild project ${name} may write its build logs and reports, read (and, for the synth, write) the pipeline artifacts and do what its step's own statements name`,
      );
      s3Acknowledged.add(role);
    }
  }

  // Self-mutation: `cdk deploy` of this stack through the bootstrap roles.
  const selfMutation = child(pipeline, 'UpdatePipeline/SelfMutation/Role') as iam.IRole;
  acknowledge(
    selfMutation,
    `AwsSolutions-IAM5[Resource::arn:*:iam::${account}:role/*]`,
    'Self-mutation runs `cdk deploy` of this stack, which assumes the CDK bootstrap roles of this account; the ' +
      'statement is conditioned on iam:ResourceTag/aws-cdk:bootstrap-role in (deploy, file-publishing, ' +
      'image-publishing), so only those roles match. Revisit if the bootstrap qualifier lets us name the roles.',
  );
  acknowledge(
    selfMutation,
    'AwsSolutions-IAM5[Resource::*]',
    'cloudformation:DescribeStacks and s3:ListBucket on * let `cdk deploy` read the stack status and the ' +
      'bootstrap bucket; both are read-only and the stack name is only known to CloudFormation at run time.',
  );

  // Asset publishing: one project (publishAssetsInParallel: false) with its own role.
  const fileRole = child(pipeline, 'Assets/FileRole') as iam.IRole;
  acknowledgeInlinePolicy(
    fileRole,
    'The asset-publishing role may assume the CDK bootstrap file-publishing role, start the one asset project, read the artifacts and write its build logs',
  );
  acknowledge(
    fileRole,
    `AwsSolutions-IAM5[Resource::arn:aws:logs:${region}:${account}:log-group:/aws/codebuild/*]`,
    'The asset-publishing role is shared by the asset projects CDK Pipelines creates, whose names are generated; it ' +
      'may write build logs under /aws/codebuild/ in this account and region only.',
  );
  acknowledge(
    fileRole,
    `AwsSolutions-IAM5[Resource::arn:aws:codebuild:${region}:${account}:report-group/*]`,
    'The asset-publishing role is shared by the generated asset projects and may create their test report ' +
      'groups; report groups carry build metadata only, in this account and region.',
  );
  ackArtifactObjects(fileRole, 'The asset-publishing role', bucket);
}
