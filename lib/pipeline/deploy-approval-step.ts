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
  /** The migration test's verdict (pipeline variables, see MigrationTestSteps), when the stage has one. */
  readonly migrationTest?: {
    /** One line: passed, failed (what was lost) or not run. */
    readonly summary: string;
    /** Console page of the migration report. */
    readonly reportUrl: string;
  };
}

/**
 * `<Stage>-Approve`, the one approval before a gated stage: says what is approved, quotes the
 * change summary's headline and the IAM check, and links (the approval's review link) to this
 * execution's change summary and compliance report; quotes the migration test's verdict and links
 * its report (in the environment's account). CodePipeline resolves the variables when the
 * approval starts.
 */
export class DeployApprovalStep extends ManualApprovalStep {
  constructor(props: DeployApprovalStepProps) {
    const { config } = props.stage;
    const { review, migrationTest } = props;
    super(`${props.stage.stageName}-Approve`, {
      comment:
        `Deploy to ${config.name} (${config.account}, ${config.region}). Change: ${review.changeSummary} ` +
        `Read the change summary and compliance report (review link). IAM check: ${review.permissionsCheck}` +
        (migrationTest ? ` Migration test: ${migrationTest.summary} Report: ${migrationTest.reportUrl}` : ''),
      reviewUrl: review.reviewUrl,
    });
    // CDK Pipelines looks for other steps' outputs in the comment only: register the link's too
    // (it orders this step after the review and gives the review step its variables namespace).
    this.discoverReferencedOutputs(review.reviewUrl);
  }
}
