import { Duration, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { CodeBuildStep, type IFileSetProducer } from 'aws-cdk-lib/pipelines';
import type { Construct } from 'constructs';
import { currentImageTag } from '../config/app-contract';
import { RUNNER_EXPORTS, TRIGGER_RESULT_FILES } from '../config/migration-test-contract';
import { pipelineNames } from '../config/naming';
import type { OrchaStage } from '../stages/orcha-stage';

/** The variable `--start` exports and `--wait` reads. */
export const MIGRATION_BUILD_ID = 'MIGRATION_BUILD_ID';
/** Where `--wait` writes the summary and the report link it exports. */
const RESULT_DIR = 'migration-result';

/**
 * The migration test of a gated stage, in two steps so that the ~30-minute test runs while the
 * previous stage deploys (codebuild/migration-test/trigger.ts):
 * - `start` (`<Stage>-MigrationTestStart`, first of the previous stage): starts the environment's
 *   migration-test project (deployed by that environment, found by its fixed name) with the image
 *   the environment runs now, and exports the build id;
 * - `wait` (`<Stage>-MigrationTest`, before the gated stage's approval): waits for that build's
 *   verdict and exports its summary and the link of its report, which the approval quotes.
 * In another account both assume the environment's trigger role, which trusts exactly their
 * role (a fixed name).
 */
export class MigrationTestSteps {
  public readonly start: CodeBuildStep;
  public readonly wait: CodeBuildStep;
  /** The verdict's one-line summary (pipeline variable of {@link wait}). */
  public readonly summary: string;
  /** Console page of the migration report, in the environment's account (pipeline variable of {@link wait}). */
  public readonly reportUrl: string;

  /**
   * @param scope the pipeline stack: the steps' role is created there
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
    // A fixed name: the environment's trigger role trusts exactly this role.
    const role = new iam.Role(scope, `${stage.stageName}MigrationTestStepRole`, {
      roleName: pipelineNames.migrationTestStepRole(config.name),
      assumedBy: new iam.ServicePrincipal('codebuild.amazonaws.com'),
      description: `Runs the migration test of ${config.name} before it is deployed`,
    });
    const env = {
      MIGRATION_TEST_PROJECT: naming.migrationTestProject,
      AWS_REGION: config.region,
      ...(crossAccount
        ? {
            ROLE_ARN: roleArn,
            // The role is created by the stage itself: before its first deploy there is nothing to test.
            ALLOW_MISSING_ROLE: 'true',
          }
        : {}),
    };
    const rolePolicyStatements = [
      crossAccount
        ? new iam.PolicyStatement({ actions: ['sts:AssumeRole'], resources: [roleArn] })
        : new iam.PolicyStatement({
            actions: ['codebuild:StartBuild', 'codebuild:BatchGetBuilds', 'codebuild:BatchGetProjects'],
            resources: [projectArn],
          }),
    ];
    this.start = new CodeBuildStep(`${stage.stageName}-MigrationTestStart`, {
      input,
      role,
      installCommands: ['npm ci --no-audit --no-fund'],
      commands: [
        // Two commands: `export X="$(…)"` would hide a failure of the command.
        `${MIGRATION_BUILD_ID}="$(npx tsx codebuild/migration-test/trigger.ts --start)"`,
        `export ${MIGRATION_BUILD_ID}`,
      ],
      env: {
        ...env,
        // The image the environment runs now (moved by its app pipeline's Record stage).
        MIGRATION_IMAGE_TAG: currentImageTag(config.name),
      },
      timeout: Duration.minutes(15),
      rolePolicyStatements,
    });
    this.wait = new CodeBuildStep(`${stage.stageName}-MigrationTest`, {
      input,
      role,
      installCommands: ['npm ci --no-audit --no-fund'],
      commands: [
        'npx tsx codebuild/migration-test/trigger.ts --wait',
        // What the approval quotes (written by --wait; two commands each, see above).
        ...[
          [RUNNER_EXPORTS.summary, TRIGGER_RESULT_FILES.summary],
          [RUNNER_EXPORTS.reportUrl, TRIGGER_RESULT_FILES.reportUrl],
        ].flatMap(([name, file]) => [`${name}="$(cat ${RESULT_DIR}/${file})"`, `export ${name}`]),
      ],
      env: {
        ...env,
        MIGRATION_RESULT_DIR: RESULT_DIR,
        TRIGGER_TIMEOUT_MINUTES: String(config.migrationTest.timeoutMinutes + 30),
        [MIGRATION_BUILD_ID]: this.start.exportedVariable(MIGRATION_BUILD_ID),
      },
      timeout: Duration.minutes(config.migrationTest.timeoutMinutes + 45),
      rolePolicyStatements,
    });
    this.summary = this.wait.exportedVariable(RUNNER_EXPORTS.summary);
    this.reportUrl = this.wait.exportedVariable(RUNNER_EXPORTS.reportUrl);
  }
}
