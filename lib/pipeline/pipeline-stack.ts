import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import * as codebuild from 'aws-cdk-lib/aws-codebuild';
import * as codeconnections from 'aws-cdk-lib/aws-codeconnections';
import * as codepipeline from 'aws-cdk-lib/aws-codepipeline';
import { CodePipeline, CodePipelineSource, type ManualApprovalStep, Step } from 'aws-cdk-lib/pipelines';
import type { Construct } from 'constructs';
import { pipelineNames } from '../config/naming';
import type { PipelineConfig } from '../config/schema';
import { CDK_ASSETS_VERSION, CODEBUILD_NODEJS_RUNTIME, cdkCliVersion } from '../config/toolchain';
import type { OrchaStage } from '../stages/orcha-stage';
import { LogEncryptionKey } from '../constructs/log-group';
import { acknowledgePipelineFindings } from './acknowledgements';
import { narrowArtifactGrants } from './artifact-grants-narrowing';
import { narrowAssetPublishingRole } from './asset-role-narrowing';
import { NPM_CACHE_PATHS } from './npm-cache';
import { DeployApprovalStep } from './deploy-approval-step';
import { MigrationTestSteps } from './migration-test-step';
import { PipelineNotifications } from './notifications';
import { PullRequestChecks } from './pull-request-checks';
import { ReviewStep } from './review-step';
import { SmokeTestStep } from './smoke-test-step';
import { grantSourceConnection } from './source-connection';
import { SynthStep } from './synth-step';
import { TerminationProtectionStep } from './termination-protection-step';
import { WakeStep } from './wake-step';

export interface PipelineStackProps extends StackProps {
  /** The validated pipeline configuration. */
  readonly pipeline: PipelineConfig;
  /** The stages to deploy, in order. Every stage after the first is gated. */
  readonly stages: readonly OrchaStage[];
}

/** Retention of the pipeline stack's own log groups (the notifier's), in days. */
const PIPELINE_LOG_RETENTION_DAYS = 30;

/**
 * The self-mutating infrastructure pipeline: GitHub `master` → synth (lint, type-check,
 * tests, cdk synth, compliance report) → self-update → assets → staging (+ smoke test) →
 * migration test, IAM-broadening check, manual approval → prod (+ smoke test, termination
 * protection). This class only composes: every step is a class of its own in this directory.
 */
export class PipelineStack extends Stack {
  public readonly pipeline: CodePipeline;
  public readonly notifications: PipelineNotifications;
  /** Whether some stage lives in another account than the pipeline (then artifacts use KMS keys). */
  public readonly crossAccount: boolean;

  constructor(scope: Construct, id: string, props: PipelineStackProps) {
    super(scope, id, props);
    const { pipeline: config } = props;

    const connectionArn =
      config.source.connectionArn ??
      new codeconnections.CfnConnection(this, 'GitHubConnection', {
        connectionName: pipelineNames.connection,
        providerType: 'GitHub',
      }).attrConnectionArn;
    const source = CodePipelineSource.connection(config.source.repository, config.source.branch, {
      connectionArn,
      triggerOnPush: true,
      actionName: 'GitHub',
    });

    // The pipeline stack's own log groups (notifier, pull-request checks) under one key of its own.
    const logEncryptionKey = new LogEncryptionKey(this, 'LogEncryptionKey', {
      description: 'Orcha infrastructure pipeline: encrypts the CloudWatch log groups of the pipeline stack',
    }).key;
    this.notifications = new PipelineNotifications(this, 'Notifications', {
      topicName: pipelineNames.notificationsTopic,
      email: config.notificationEmail,
      subjectPrefix: '[Orcha infra]',
      logRetentionDays: PIPELINE_LOG_RETENTION_DAYS,
      logEncryptionKey,
    });

    this.crossAccount = props.stages.some((stage) => stage.config.account !== config.account);
    // Every step's Node runtime, and npm's download cache kept on the build host between builds
    // (a local cache: best effort, free): `npm ci` then fetches only what changed.
    const nodeRuntime = codebuild.BuildSpec.fromObject({
      phases: { install: { 'runtime-versions': { nodejs: CODEBUILD_NODEJS_RUNTIME } } },
      cache: { paths: [NPM_CACHE_PATHS] },
    });

    this.pipeline = new CodePipeline(this, 'Pipeline', {
      pipelineName: pipelineNames.pipeline,
      pipelineType: codepipeline.PipelineType.V2,
      selfMutation: true,
      cliVersion: cdkCliVersion(),
      cdkAssetsCliVersion: CDK_ASSETS_VERSION,
      // One asset project: see asset-role-narrowing.ts.
      publishAssetsInParallel: false,
      crossAccountKeys: this.crossAccount,
      enableKeyRotation: this.crossAccount,
      dockerEnabledForSynth: false,
      codeBuildDefaults: {
        buildEnvironment: {
          buildImage: codebuild.LinuxArmBuildImage.AMAZON_LINUX_2023_STANDARD_3_0,
          computeType: codebuild.ComputeType.SMALL,
        },
        partialBuildSpec: nodeRuntime,
        cache: codebuild.Cache.local(codebuild.LocalCacheMode.CUSTOM),
      },
      synth: new SynthStep(source),
    });

    /** The approvals that wait for a person (the notifier mails only these). */
    const manualApprovals: ManualApprovalStep[] = [];
    // The migration test of each gated stage starts first thing in the stage before it and runs
    // while that stage deploys; the gated stage waits for its verdict next to the review (IAM check and change summary).
    const migrationTests = props.stages.map((stage, index) =>
      index > 0 && stage.config.migrationTest.enabled
        ? new MigrationTestSteps(this, stage, source)
        : undefined,
    );
    const reviews: ReviewStep[] = [];
    props.stages.forEach((stage, index) => {
      const pre: Step[] = [];
      const next = migrationTests[index + 1];
      if (next) pre.push(next.start);
      // A sleeping environment (office hours) is woken before its deploy, so that the deploy and
      // the smoke test find it running: first thing, next to the migration test's start; in a
      // gated stage after the approval (an approval may wait past the evening's sleep).
      const wake = WakeStep.forStage(this, stage, source);
      if (index > 0) {
        const review = new ReviewStep({
          stage,
          source,
          pipeline: this.pipeline,
          topic: this.notifications.topic,
          pipelineStack: this,
        });
        const approval = new DeployApprovalStep({
          stage,
          review: {
            changeSummary: review.changeSummary,
            permissionsCheck: review.permissionsCheck,
            reviewUrl: review.reviewUrl,
          },
          ...(migrationTests[index]
            ? {
                migrationTest: {
                  summary: migrationTests[index].summary,
                  reportUrl: migrationTests[index].reportUrl,
                },
              }
            : {}),
        });
        manualApprovals.push(approval);
        reviews.push(review);
        // The checks in parallel, the approval after both.
        const checks: Step[] = [review, ...(migrationTests[index] ? [migrationTests[index].wait] : [])];
        for (const check of checks) approval.addStepDependency(check);
        pre.push(...checks, approval);
        wake?.addStepDependency(approval);
      }
      if (wake) pre.push(wake);
      const protect = TerminationProtectionStep.forStage(stage, source, this);
      this.pipeline.addStage(stage, {
        pre: pre.length > 0 ? pre : undefined,
        post: [new SmokeTestStep(stage.stageName, stage.config, source), ...(protect ? [protect] : [])],
      });
    });

    this.pipeline.buildPipeline();
    grantSourceConnection(this.pipeline, connectionArn);
    narrowAssetPublishingRole(this.pipeline);
    narrowArtifactGrants(this.pipeline);
    acknowledgePipelineFindings(this.pipeline);
    for (const review of reviews) review.grantReviewUploads(this.pipeline.pipeline.artifactBucket);
    this.notifications.watch(
      this.pipeline.pipeline,
      approvalActionNames(this.pipeline.pipeline, manualApprovals),
    );

    if (config.pullRequestChecks) {
      const app = props.stages[props.stages.length - 1].config.appPipeline.source;
      new PullRequestChecks(this, 'PullRequestChecks', {
        connectionArn,
        infrastructure: { repository: config.source.repository, baseBranch: config.source.branch },
        diffTargets: props.stages.map((s) => ({
          stagePath: s.node.path,
          account: s.config.account,
          region: s.config.region,
        })),
        application: { repository: app.repository, baseBranch: app.branch },
        infrastructureProjectName: pipelineNames.infraPullRequestProject,
        applicationProjectName: pipelineNames.appPullRequestProject,
        logGroupName: pipelineNames.pullRequestLogGroup,
        logRetentionDays: PIPELINE_LOG_RETENTION_DAYS,
        logEncryptionKey,
      });
    }

    if (!config.source.connectionArn) {
      new CfnOutput(this, 'CompleteGitHubConnection', {
        description: 'Complete the pending GitHub connection once, then release a change',
        value: `https://${this.region}.console.aws.amazon.com/codesuite/settings/connections?region=${this.region}`,
      });
    }
  }
}

/**
 * The CodePipeline action names of the given manual approval steps, read from the built
 * pipeline (CDK Pipelines names each action after its step); a step without its action throws.
 */
export function approvalActionNames(
  pipeline: codepipeline.IPipeline & { readonly stages: codepipeline.IStage[] },
  steps: readonly ManualApprovalStep[],
): string[] {
  const approvals = pipeline.stages.flatMap((stage) =>
    stage.actions
      .filter((action) => action.actionProperties.category === codepipeline.ActionCategory.APPROVAL)
      .map((action) => action.actionProperties.actionName),
  );
  return steps.map((step) => {
    if (!approvals.includes(step.id)) {
      throw new Error(`no approval action named ${step.id} in the pipeline (found: ${approvals.join(', ')})`);
    }
    return step.id;
  });
}
