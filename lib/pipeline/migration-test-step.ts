import { Duration, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { CodeBuildStep, type IFileSetProducer } from 'aws-cdk-lib/pipelines';
import type { Construct } from 'constructs';
import { currentImageTag } from '../config/app-contract';
import { pipelineNames } from '../config/naming';
import type { OrchaStage } from '../stages/orcha-stage';

/**
 * `<Stage>-MigrationTest`, before a gated stage: runs the environment's migration test project
 * (deployed by that stage, found by its fixed name) and waits for its verdict
 * (codebuild/migration-test/trigger.ts). In another account it assumes the environment's trigger
 * role, which trusts exactly this step's role (a fixed name).
 */
export class MigrationTestStep extends CodeBuildStep {
  /**
   * @param scope the pipeline stack: the step's role is created there
   */
  constructor(scope: Construct, stage: OrchaStage, input: IFileSetProducer) {
    const { config, naming } = stage;
    const pipelineStack = Stack.of(scope);
    const projectArn = pipelineStack.formatArn({
      service: 'codebuild',
      resource: 'project',
      resourceName: naming.migrationTestProject,
      account: config.account,
      region: config.region,
    });
    const crossAccount = config.account !== pipelineStack.account;
    const roleArn = `arn:${pipelineStack.partition}:iam::${config.account}:role/${naming.migrationTestTriggerRole}`;
    super(`${stage.stageName}-MigrationTest`, {
      input,
      // A fixed name: the environment's trigger role trusts exactly this role.
      role: new iam.Role(scope, `${stage.stageName}MigrationTestStepRole`, {
        roleName: pipelineNames.migrationTestStepRole(config.name),
        assumedBy: new iam.ServicePrincipal('codebuild.amazonaws.com'),
        description: `Runs the migration test of ${config.name} before it is deployed`,
      }),
      installCommands: ['npm ci --no-audit --no-fund'],
      commands: ['npx tsx codebuild/migration-test/trigger.ts'],
      env: {
        MIGRATION_TEST_PROJECT: naming.migrationTestProject,
        AWS_REGION: config.region,
        // The image the environment runs now (moved by its app pipeline's Record stage).
        MIGRATION_IMAGE_TAG: currentImageTag(config.name),
        TRIGGER_TIMEOUT_MINUTES: String(config.migrationTest.timeoutMinutes + 30),
        ...(crossAccount
          ? {
              ROLE_ARN: roleArn,
              // The role is created by the stage itself: before its first deploy there is nothing to test.
              ALLOW_MISSING_ROLE: 'true',
            }
          : {}),
      },
      timeout: Duration.minutes(config.migrationTest.timeoutMinutes + 45),
      rolePolicyStatements: [
        crossAccount
          ? new iam.PolicyStatement({ actions: ['sts:AssumeRole'], resources: [roleArn] })
          : new iam.PolicyStatement({
              actions: ['codebuild:StartBuild', 'codebuild:BatchGetBuilds', 'codebuild:BatchGetProjects'],
              resources: [projectArn],
            }),
      ],
    });
  }
}
