import { Duration, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { CodeBuildStep, type IFileSetProducer } from 'aws-cdk-lib/pipelines';
import type { Construct } from 'constructs';
import { pipelineNames } from '../config/naming';
import { acknowledgeWakeFindings, WAKE_WAIT_MINUTES, wakeStatements } from '../constructs/office-hours';
import type { OrchaStage } from '../stages/orcha-stage';

/**
 * `<Stage>-Wake`, first thing in a stage whose environment sleeps outside office hours
 * (`officeHours.enabled`): runs codebuild/wake.ts, the ops command `wake`
 * (scripts/ops/commands/wake.ts), which starts
 * the database, restores the Auto Scaling group and waits until the database is available and
 * the instances are in service, so that the deploy updates a running environment and the smoke
 * test after it finds the application. Awake (office hours), it only describes both and goes on.
 * The scheduled sleep puts the environment back to sleep in the evening.
 *
 * Its role has the fixed name `pipelineNames.wakeStepRole(env)`. In the environment's account it
 * may describe and start the one database and describe and resize the one group (the statements
 * of {@link wakeStatements}); in another account it may only assume the environment's wake role
 * (lib/constructs/office-hours.ts `OfficeHoursWakeRole`), which trusts exactly this role.
 */
export class WakeStep extends CodeBuildStep {
  /** The step of the stage, or undefined when its environment never sleeps. */
  public static forStage(scope: Construct, stage: OrchaStage, input: IFileSetProducer): WakeStep | undefined {
    return stage.config.officeHours.enabled ? new WakeStep(scope, stage, input) : undefined;
  }

  /**
   * @param scope the pipeline stack: the step's role is created there
   */
  private constructor(scope: Construct, stage: OrchaStage, input: IFileSetProducer) {
    const { config, naming } = stage;
    const pipelineStack = Stack.of(scope);
    const crossAccount = config.account !== pipelineStack.account;
    const wakeRoleArn = `arn:${pipelineStack.partition}:iam::${config.account}:role/${naming.officeHoursWakeRole}`;
    // A fixed name: in another account, the environment's wake role trusts exactly this role.
    const role = new iam.Role(scope, `${stage.stageName}WakeStepRole`, {
      roleName: pipelineNames.wakeStepRole(config.name),
      assumedBy: new iam.ServicePrincipal('codebuild.amazonaws.com'),
      description: `Wakes ${config.name} (office hours) before the pipeline deploys it`,
    });
    if (crossAccount) {
      role.addToPrincipalPolicy(
        new iam.PolicyStatement({ actions: ['sts:AssumeRole'], resources: [wakeRoleArn] }),
      );
    } else {
      for (const statement of wakeStatements(pipelineStack, naming, config.region, config.account))
        role.addToPrincipalPolicy(statement);
      acknowledgeWakeFindings(role, naming, config.region, config.account);
    }
    super(`${stage.stageName}-Wake`, {
      input,
      role,
      installCommands: ['npm ci --no-audit --no-fund'],
      commands: [
        // --allow-missing: before the environment's first deploy there is nothing to wake.
        `npx tsx codebuild/wake.ts --env ${config.name} --wait ${WAKE_WAIT_MINUTES * 60} --poll 20 --allow-missing` +
          (crossAccount ? ` --role-arn ${wakeRoleArn}` : ''),
      ],
      timeout: Duration.minutes(WAKE_WAIT_MINUTES + 15),
    });
  }
}
