import { ManualApprovalStep } from 'aws-cdk-lib/pipelines';
import type { OrchaStage } from '../stages/orcha-stage';

export interface DeployApprovalStepProps {
  /** The stage the approval lets through. */
  readonly stage: OrchaStage;
  /** `owner/name` of the infrastructure repository and its branch (the commits link). */
  readonly repository: string;
  readonly branch: string;
  /** The permissions check's result (a pipeline variable), quoted in the comment. */
  readonly permissionsCheck: string;
}

/**
 * `<Stage>-Approve`, the one approval before a gated stage: says what is approved, what to read
 * first (the previous smoke test, the migration report when the stage runs the migration test,
 * the IAM check's result) and links to the commits.
 */
export class DeployApprovalStep extends ManualApprovalStep {
  constructor(props: DeployApprovalStepProps) {
    const { config } = props.stage;
    super(`${props.stage.stageName}-Approve`, {
      comment:
        `Deploy the commit of this execution to ${config.name} (${config.account}, ${config.region}). ` +
        `Before approving: the previous stage's smoke test passed, ` +
        (config.migrationTest.enabled ? 'read the migration report of the MigrationTest action, ' : '') +
        `and review the commits. IAM check: ${props.permissionsCheck}`,
      reviewUrl: `https://github.com/${props.repository}/commits/${props.branch}`,
    });
  }
}
