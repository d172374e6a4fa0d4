import { DefaultStackSynthesizer, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { CodeBuildStep, type IFileSetProducer } from 'aws-cdk-lib/pipelines';
import { cdkCliVersion } from '../config/toolchain';
import type { OrchaStage } from '../stages/orcha-stage';

export interface PermissionsCheckStepProps {
  /** The stage whose stacks are compared with what is deployed. */
  readonly stage: OrchaStage;
  /** The pipeline's cloud assembly (`CodePipeline.cloudAssemblyFileSet`). */
  readonly cloudAssembly: IFileSetProducer;
  /** Told about a broadening (or a check that could not run). */
  readonly topic: sns.ITopic;
  /** The pipeline stack (partition of the role ARNs). */
  readonly pipelineStack: Stack;
}

/**
 * `<Stage>-PermissionsCheck`, before a gated stage: `cdk diff --security-only` of the stage's
 * stacks against what is deployed, with the pinned CDK CLI (CDK Pipelines'
 * ConfirmPermissionsBroadening installs an unpinned `aws-cdk` and cannot be told otherwise). It
 * never blocks by itself: the stage's manual approval follows in every case and shows
 * {@link result}; a broadening also notifies the topic. A check that cannot run (no role, no
 * network) reports itself as a possible broadening.
 */
export class PermissionsCheckStep extends CodeBuildStep {
  /** The check's one-line result, as a pipeline variable (for the approval's comment). */
  public readonly result: string;

  constructor(props: PermissionsCheckStepProps) {
    const { config } = props.stage;
    const qualifier = DefaultStackSynthesizer.DEFAULT_QUALIFIER;
    // `--method template` reads the deployed templates through the lookup role; the deploy role is
    // what `cdk diff` tries first.
    const roles = ['deploy', 'lookup'].map(
      (kind) =>
        `arn:${props.pipelineStack.partition}:iam::${config.account}:role/cdk-${qualifier}-${kind}-role-${config.account}-${config.region}`,
    );
    const subject = `[Orcha infra] ${config.name}: IAM or security-group broadening to confirm`;
    super(`${props.stage.stageName}-PermissionsCheck`, {
      input: props.cloudAssembly,
      installCommands: [`npm install -g aws-cdk@${cdkCliVersion()}`],
      env: {
        STAGE_PATH: props.stage.node.path,
        TOPIC_ARN: props.topic.topicArn,
        SUBJECT: subject,
      },
      commands: [
        'if cdk diff -a . --security-only --fail-on broadening --method template "$STAGE_PATH/*"; then ' +
          'export PERMISSIONS_CHECK="no broadening found."; ' +
          'else export PERMISSIONS_CHECK="BROADENING (or the check could not run): read the PermissionsCheck log before approving."; ' +
          'aws sns publish --topic-arn "$TOPIC_ARN" --subject "$SUBJECT" --message "$PERMISSIONS_CHECK Build: $CODEBUILD_BUILD_URL"; fi',
      ],
      rolePolicyStatements: [
        new iam.PolicyStatement({ actions: ['sts:AssumeRole'], resources: roles }),
        new iam.PolicyStatement({ actions: ['sns:Publish'], resources: [props.topic.topicArn] }),
      ],
    });
    this.result = this.exportedVariable('PERMISSIONS_CHECK');
  }
}
