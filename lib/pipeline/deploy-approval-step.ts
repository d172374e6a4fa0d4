import { ManualApprovalStep } from 'aws-cdk-lib/pipelines';
import type { OrchaStage } from '../stages/orcha-stage';

export interface DeployApprovalStepProps {
  /** The stage the approval lets through. */
  readonly stage: OrchaStage;
  /** What the stage's review step found (pipeline variables, see ReviewStep). */
  readonly review: {
    /** One line: the change per stack, stateful replacements first. */
    readonly changeSummary: string;
    /** The IAM check's one-line result. */
    readonly permissionsCheck: string;
    /** Console link of this execution's change summary and compliance report. */
    readonly reviewUrl: string;
  };
}

/**
 * `<Stage>-Approve`, the one approval before a gated stage: says what is approved, quotes the
 * change summary's headline and the IAM check, and links (the approval's review link) to this
 * execution's change summary and compliance report; the migration report is the MigrationTest
 * action's (its link is in the approval e-mail). CodePipeline resolves the variables when the
 * approval starts.
 */
export class DeployApprovalStep extends ManualApprovalStep {
  constructor(props: DeployApprovalStepProps) {
    const { config } = props.stage;
    const { review } = props;
    super(`${props.stage.stageName}-Approve`, {
      comment:
        `Deploy to ${config.name} (${config.account}, ${config.region}). Change: ${review.changeSummary} ` +
        `Read the change summary and compliance report (review link)` +
        (config.migrationTest.enabled ? ', the MigrationTest report' : '') +
        `. IAM check: ${review.permissionsCheck}`,
      reviewUrl: review.reviewUrl,
    });
    // CDK Pipelines looks for other steps' outputs in the comment only: register the link's too
    // (it orders this step after the review and gives the review step its variables namespace).
    this.discoverReferencedOutputs(review.reviewUrl);
  }
}
