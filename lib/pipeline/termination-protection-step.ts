import { DefaultStackSynthesizer, type Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { CodeBuildStep, type IFileSetProducer } from 'aws-cdk-lib/pipelines';
import type { OrchaStage } from '../stages/orcha-stage';

/**
 * `<Stage>-TerminationProtection`, after a stage whose stacks ask for termination protection
 * (prod: `database.deletionProtection`): turns it on (codebuild/termination-protection.ts). CDK
 * Pipelines deploys through change sets and ignores a stack's `terminationProtection`, so without
 * this step the flag only works for a direct `cdk deploy`. The step assumes the CDK bootstrap
 * deploy role of the environment's account (it may update termination protection and trusts the
 * pipeline's account), so it works across accounts too.
 */
export class TerminationProtectionStep extends CodeBuildStep {
  /** The step for the stage, or undefined when none of its stacks asks for termination protection. */
  public static forStage(
    stage: OrchaStage,
    input: IFileSetProducer,
    pipelineStack: Stack,
  ): TerminationProtectionStep | undefined {
    const stacks = [stage.foundation, stage.data, stage.compute, stage.ops].filter(
      (s) => s.terminationProtection,
    );
    if (stacks.length === 0) return undefined;
    return new TerminationProtectionStep(stage, stacks, input, pipelineStack);
  }

  private constructor(
    stage: OrchaStage,
    stacks: readonly Stack[],
    input: IFileSetProducer,
    pipelineStack: Stack,
  ) {
    const synthesizer = stage.foundation.synthesizer;
    if (!(synthesizer instanceof DefaultStackSynthesizer)) {
      throw new Error(
        `${stage.stageName}: termination protection needs the default stack synthesizer's deploy role`,
      );
    }
    const deployRoleArn = synthesizer.deployRoleArn.replace('${AWS::Partition}', pipelineStack.partition);
    super(`${stage.stageName}-TerminationProtection`, {
      input,
      installCommands: ['npm ci --no-audit --no-fund'],
      commands: [
        'npx tsx codebuild/termination-protection.ts --region "$STACK_REGION" --role-arn "$DEPLOY_ROLE_ARN" $STACK_NAMES',
      ],
      env: {
        STACK_REGION: stage.config.region,
        DEPLOY_ROLE_ARN: deployRoleArn,
        STACK_NAMES: stacks.map((s) => s.stackName).join(' '),
      },
      rolePolicyStatements: [
        new iam.PolicyStatement({ actions: ['sts:AssumeRole'], resources: [deployRoleArn] }),
      ],
    });
  }
}
