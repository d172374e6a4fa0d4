import { DefaultStackSynthesizer, Lazy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { CodeBuildStep, type CodePipeline, type IFileSetProducer } from 'aws-cdk-lib/pipelines';
import { pipelineNames } from '../config/naming';
import { REVIEW_KEY_PREFIX, REVIEW_OUTPUT_FILES } from '../../codebuild/change-summary/contract';
import { acknowledge } from '../nag';
import type { OrchaStage } from '../stages/orcha-stage';
import { CLOUD_ASSEMBLY_REPORTS_DIR } from './synth-step';

export interface ReviewStepProps {
  /** The stage whose change is reviewed. */
  readonly stage: OrchaStage;
  /** This repository (the change-summary script and its npm dependencies). */
  readonly source: IFileSetProducer;
  /** The pipeline (its cloud assembly, its artifact bucket). */
  readonly pipeline: CodePipeline;
  /** Told about a broadening (or a check that could not run). */
  readonly topic: sns.ITopic;
  /** The pipeline stack (partition of the role ARNs). */
  readonly pipelineStack: Stack;
}

/** Where the step writes what the approval shows (codebuild/change-summary/main.ts `OUT_DIR`). */
const OUT_DIR = 'review';

/**
 * `<Stage>-Review`, before a gated stage's approval, in one CodeBuild project:
 *
 * 1. the IAM-broadening check: `cdk diff --security-only` of the stage's stacks against what is
 *    deployed, with the pinned CDK CLI of package.json (CDK Pipelines' ConfirmPermissionsBroadening
 *    installs an unpinned one); a broadening (or a check that could not run) also notifies the topic;
 * 2. the change summary (codebuild/change-summary/main.ts): a change set per stack, created with the
 *    stage's CDK deploy role, described and deleted, rendered per stack with stateful replacements
 *    called out, printed into the build log and uploaded with this execution's compliance report to
 *    the artifact bucket under `reviews/<execution id>/`.
 *
 * It never blocks by itself: the approval follows in every case and shows {@link permissionsCheck},
 * {@link changeSummary} and links {@link reviewUrl}.
 */
export class ReviewStep extends CodeBuildStep {
  /** The IAM check's one-line result (pipeline variable). */
  public readonly permissionsCheck: string;
  /** The change summary's headline (pipeline variable). */
  public readonly changeSummary: string;
  /** Console link of `reviews/<execution id>/` (pipeline variable). */
  public readonly reviewUrl: string;

  constructor(props: ReviewStepProps) {
    const { stage, pipelineStack } = props;
    const { config } = stage;
    const qualifier = DefaultStackSynthesizer.DEFAULT_QUALIFIER;
    // deploy: change sets (and what `cdk diff` tries first); lookup: `cdk diff --method template`;
    // file-publishing: the templates the change sets are created from.
    const roles = ['deploy', 'lookup', 'file-publishing'].map(
      (kind) =>
        `arn:${pipelineStack.partition}:iam::${config.account}:role/cdk-${qualifier}-${kind}-role-${config.account}-${config.region}`,
    );
    const subject = `[Orcha infra] ${config.name}: IAM or security-group broadening to confirm`;
    const assembly = 'cdk.out';
    super(`${stage.stageName}-Review`, {
      input: props.source,
      additionalInputs: { [assembly]: props.pipeline.cloudAssemblyFileSet },
      installCommands: ['npm ci --no-audit --no-fund'],
      env: {
        STAGE_PATH: stage.node.path,
        TOPIC_ARN: props.topic.topicArn,
        SUBJECT: subject,
        STAGE_ASSEMBLY: `${assembly}/${stage.artifactId}`,
        STAGE_NAME: stage.stageName,
        PIPELINE_NAME: pipelineNames.pipeline,
        EXECUTION_ID: '#{codepipeline.PipelineExecutionId}',
        ARTIFACT_BUCKET: Lazy.string({ produce: () => props.pipeline.pipeline.artifactBucket.bucketName }),
        REPORTS_DIR: `${assembly}/${CLOUD_ASSEMBLY_REPORTS_DIR}`,
        OUT_DIR,
      },
      commands: [
        `if npx cdk diff -a ${assembly} --security-only --fail-on broadening --method template "$STAGE_PATH/*"; then ` +
          'export PERMISSIONS_CHECK="no broadening found."; ' +
          'else export PERMISSIONS_CHECK="BROADENING (or the check could not run): read the Review log before approving."; ' +
          'aws sns publish --topic-arn "$TOPIC_ARN" --subject "$SUBJECT" --message "$PERMISSIONS_CHECK Build: $CODEBUILD_BUILD_URL"; fi',
        // The whole diff for the log (template against template: what the change set cannot compute
        // for a stack that uses an output added in this same deployment is still readable here).
        `npx cdk diff -a ${assembly} --method template "$STAGE_PATH/*" || true`,
        'npx tsx codebuild/change-summary/main.ts',
        `export CHANGE_SUMMARY="$(cat ${OUT_DIR}/${REVIEW_OUTPUT_FILES.headline})"`,
        `export REVIEW_URL="$(cat ${OUT_DIR}/${REVIEW_OUTPUT_FILES.url})"`,
      ],
      rolePolicyStatements: [
        new iam.PolicyStatement({ actions: ['sts:AssumeRole'], resources: roles }),
        new iam.PolicyStatement({ actions: ['sns:Publish'], resources: [props.topic.topicArn] }),
      ],
    });
    this.permissionsCheck = this.exportedVariable('PERMISSIONS_CHECK');
    this.changeSummary = this.exportedVariable('CHANGE_SUMMARY');
    this.reviewUrl = this.exportedVariable('REVIEW_URL');
  }

  /**
   * After `buildPipeline()`: lets the step's project write `reviews/*` of the artifact bucket (CDK
   * Pipelines grants a step without outputs read access only).
   */
  public grantReviewUploads(bucket: s3.IBucket): void {
    const role = this.project.role;
    if (!role) throw new Error(`${this.id}: the review project has no role`);
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['s3:PutObject'],
        resources: [bucket.arnForObjects(`${REVIEW_KEY_PREFIX}*`)],
      }),
    );
    const bucketRef = Stack.of(bucket).getLogicalId(bucket.node.defaultChild as never);
    acknowledge(
      role,
      `AwsSolutions-IAM5[Resource::<${bucketRef}.Arn>/${REVIEW_KEY_PREFIX}*]`,
      `${this.id} uploads the change summary and the compliance report under ${REVIEW_KEY_PREFIX}<execution id>/ ` +
        "of the pipeline's own artifact bucket; execution ids are only known at run time. Upload only (no delete), that prefix only.",
    );
  }
}
