import * as fs from 'node:fs';
import { CfnOutput, Duration, Stack, Token } from 'aws-cdk-lib';
import type * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as codebuild from 'aws-cdk-lib/aws-codebuild';
import * as codeconnections from 'aws-cdk-lib/aws-codeconnections';
import * as codedeploy from 'aws-cdk-lib/aws-codedeploy';
import type * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as codepipeline from 'aws-cdk-lib/aws-codepipeline';
import * as actions from 'aws-cdk-lib/aws-codepipeline-actions';
import type * as ecr from 'aws-cdk-lib/aws-ecr';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { RUNNER_ENV, RUNNER_EXPORTS, type VerdictMode } from '../config/migration-test-contract';
import { acknowledge, acknowledgeInlinePolicy } from '../nag';
import { ArtifactBucket } from './artifact-bucket';
import { grantUseConnection } from './connection-access';
import { repositoryUriOf } from './image-repository';
import { nagString } from './migration-test/arns';
import { projectPath } from '../config/project';

/** The CodeBuild image of the specification (Amazon Linux 2, ARM64, standard 3.0). */
export const BUILD_IMAGE_ID = 'aws/codebuild/amazonlinux2-aarch64-standard:3.0';

/** File the build writes into the deployment bundle: `IMAGE_URI=<repository>:<commit>`. */
export const IMAGE_ENV_FILE = 'image.env';

/** The build's exported variable naming the tag it pushed (`#{Build.IMAGE_TAG}`). */
export const IMAGE_TAG_VARIABLE = 'IMAGE_TAG';
/** Variables namespace of the MigrationTest action (its summary and report link). */
export const MIGRATION_TEST_NAMESPACE = 'MigrationTest';

/** Tags the deployed image (run by the Record stage in the bundle's directory). */
export const TAG_DEPLOYED_SCRIPT = projectPath('codebuild', 'tag-deployed-image.sh');

/** The application repository, reached through a CodeConnections (GitHub) connection. */
export interface AppSource {
  /** `owner/name` of the GitHub repository. */
  readonly repository: string;
  /** Branch whose pushes start the pipeline. */
  readonly branch: string;
  /**
   * ARN of an existing connection.
   * @default - a connection is created here; it stays PENDING until an administrator completes
   * it once in the console (Developer Tools > Settings > Connections)
   */
  readonly connectionArn?: string;
}

export interface AppPipelineProps {
  /** Name of the pipeline, e.g. `v1-orcha-deploy`. */
  readonly pipelineName: string;
  /** Name of the CodeBuild project, e.g. `v1-orcha-build`. */
  readonly buildProjectName: string;
  /** Name of the CodeDeploy application, e.g. `v1-orcha`. */
  readonly applicationName: string;
  /** Name of the CodeDeploy deployment group, e.g. `v1-orcha-production`. */
  readonly deploymentGroupName: string;
  /** Name of the connection created when `source.connectionArn` is not set, e.g. `v1-orcha-app-github`. */
  readonly connectionName: string;
  /** The application repository and branch. */
  readonly source: AppSource;
  /** Insert a manual approval between the build and the deployment. */
  readonly requireApproval: boolean;
  /** Notified when an approval is waiting (only used when `requireApproval`). */
  readonly approvalTopic: sns.ITopic;
  /**
   * Physical name of the pipeline's artifacts bucket (an existing SSE-S3 bucket, e.g.
   * `v1-orcha-pipeline-artifacts-<account>`). Referenced by name, so that the roles' statements,
   * and the acknowledgements of their object wildcard, read the same literal ARN in every synth
   * (a cross-stack reference would put a generated output name there). Every role gets explicit
   * S3 actions on it (see {@link ArtifactBucket}).
   */
  readonly artifactBucketName: string;
  /** The image repository the build pushes to. */
  readonly repository: ecr.IRepository;
  /** Log group of the builds. */
  readonly buildLogGroup: logs.ILogGroup;
  /**
   * The Auto Scaling group CodeDeploy deploys to. Its instances run the CodeDeploy agent
   * (installed by their boot script) and are granted read access to the artifact bucket.
   */
  readonly autoScalingGroup: autoscaling.IAutoScalingGroup;
  /**
   * Build timeout.
   * @default Duration.minutes(30)
   */
  readonly buildTimeout?: Duration;
  /**
   * Tag prefix given to every image after its successful deployment (`deployed-prod-`); the
   * repository's lifecycle policy keeps those images (see lib/config/app-contract.ts).
   */
  readonly deployedImageTagPrefix: string;
  /** Name of the CodeBuild project of the Record stage, e.g. `v1-orcha-build-record`. */
  readonly recordProjectName: string;
  /**
   * The moving tag of the image the environment runs now (`deployed-prod`); the Record stage
   * moves it to each image it deployed (see lib/config/app-contract.ts `currentImageTag`).
   */
  readonly currentImageTag: string;
  /**
   * The environment's migration-test project, run with the image just built (its exact tag)
   * between the build and the approval; `block` stops the pipeline on a failed verdict.
   * @default - no migration test
   */
  readonly migrationTest?: { readonly project: codebuild.IProject; readonly verdict: VerdictMode };
  /**
   * Deploy with instances in service (high availability): CodeDeploy deploys one instance at a
   * time and takes each out of this target group while it is deployed. Without it, every
   * instance at once (the original design's AllAtOnce, one instance).
   * @default - AllAtOnce, no traffic control
   */
  readonly inServiceDeploys?: elbv2.IApplicationTargetGroup;
  /**
   * The environment sleeps outside office hours: this function (lib/constructs/office-hours.ts
   * `EnvironmentWakeFunction`) wakes it in a `Wake` action, the first of the Deploy stage, so
   * that CodeDeploy finds instances to deploy to.
   * @default - no Wake action (the environment never sleeps)
   */
  readonly wake?: lambda.IFunction;
}

/**
 * The application's pipeline: GitHub (CodeConnections) → CodeBuild (tests, uberjar, image pushed
 * to ECR) → optional manual approval → CodeDeploy to the Auto Scaling group, all at once, with
 * automatic rollback.
 *
 * Contract with the application repository (the buildspec lives here, as in the original):
 * - its `Dockerfile` has a stage named `test` that runs the test suite, and a final stage that
 *   builds the uberjar and the runtime image;
 * - `appspec.yml` and `scripts/` at its root form the CodeDeploy bundle; the build adds
 *   `image.env` (`IMAGE_URI=<repository uri>:<commit sha>`); its ApplicationStart hook runs
 *   `/usr/local/bin/orcha-refresh --image "$(sed -n 's/^IMAGE_URI=//p' image.env)"`, so a
 *   deployment, a rollback and every instance the group launches run exactly the image built
 *   from that revision's commit. `latest` only names the newest build; no instance runs it.
 *   With `migrationTest`, the environment's migration test runs that exact image between the
 *   build and the approval; the Record stage moves `currentImageTag` (`deployed-prod`) to each
 *   image it deployed, the image the infrastructure pipeline's migration test runs.
 */
export class AppPipeline extends Construct {
  public readonly pipeline: codepipeline.Pipeline;
  public readonly buildProject: codebuild.PipelineProject;
  public readonly application: codedeploy.ServerApplication;
  public readonly deploymentGroup: codedeploy.ServerDeploymentGroup;
  /** Tags the image of each successful deployment (stage Record, after Deploy). */
  public readonly recordProject: codebuild.PipelineProject;
  /** ARN of the connection the source action uses. */
  public readonly connectionArn: string;
  /** The connection created here, when none was configured. */
  public readonly connection?: codeconnections.CfnConnection;

  constructor(scope: Construct, id: string, props: AppPipelineProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const [owner, repo] = splitRepository(props.source.repository);

    // --- Connection
    if (props.source.connectionArn) {
      this.connectionArn = props.source.connectionArn;
    } else {
      this.connection = new codeconnections.CfnConnection(this, 'Connection', {
        connectionName: props.connectionName,
        providerType: 'GitHub',
      });
      this.connectionArn = this.connection.attrConnectionArn;
      new CfnOutput(this, 'ConnectionArn', {
        description: `Connection to GitHub (${props.source.repository}); PENDING until completed in the console`,
        value: this.connectionArn,
      });
      new CfnOutput(this, 'ConnectionConsoleUrl', {
        description: 'Complete the pending connection here: select it, "Update pending connection"',
        value: `https://${stack.region}.console.aws.amazon.com/codesuite/settings/connections?region=${stack.region}`,
      });
    }

    // --- Artifacts: explicit S3 actions for every role that exchanges artifacts.
    const artifacts = new ArtifactBucket(this, 'PipelineArtifacts', { bucketName: props.artifactBucketName });
    const artifactObjectsArn = artifacts.arnForObjects('*');
    if (Token.isUnresolved(artifactObjectsArn)) {
      throw new Error(`AppPipeline needs a literal artifacts bucket name, got ${props.artifactBucketName}`);
    }

    // --- Build
    // The project's own role, handed over immutable: CDK would add its default log group
    // (/aws/codebuild/<project>, unused: the builds log to buildLogGroup) and test report groups
    // (the buildspec has no reports). What the build needs is granted here.
    const buildRole = new iam.Role(this, 'BuildRole', {
      assumedBy: new iam.ServicePrincipal('codebuild.amazonaws.com'),
      description: `CodeBuild project ${props.buildProjectName}: logs, artifacts, image push`,
    });
    props.buildLogGroup.grantWrite(buildRole);
    artifacts.grantReadWrite(buildRole);
    // Push and pull on this repository only (grantPullPush adds ecr:GetAuthorizationToken, which
    // has no resource-level permissions).
    props.repository.grantPullPush(buildRole);
    this.buildProject = new codebuild.PipelineProject(this, 'Build', {
      projectName: props.buildProjectName,
      description: `Tests ${props.source.repository}, builds its uberjar and Docker image, pushes the image to ECR`,
      environment: {
        buildImage: codebuild.LinuxArmBuildImage.fromCodeBuildImageId(BUILD_IMAGE_ID),
        computeType: codebuild.ComputeType.SMALL,
        // Docker builds need the Docker daemon of the build container.
        privileged: true,
      },
      // CodeBuild itself sets AWS_DEFAULT_REGION and AWS_REGION; CODEBUILD_* names are reserved.
      environmentVariables: {
        REPOSITORY_URI: { value: repositoryUriOf(props.repository) },
        IMAGE_REPO_NAME: { value: props.repository.repositoryName },
        AWS_ACCOUNT_ID: { value: stack.account },
      },
      buildSpec: codebuild.BuildSpec.fromObject(BUILD_SPEC),
      cache: codebuild.Cache.local(codebuild.LocalCacheMode.DOCKER_LAYER),
      logging: { cloudWatch: { logGroup: props.buildLogGroup } },
      timeout: props.buildTimeout ?? Duration.minutes(30),
      role: buildRole.withoutPolicyUpdates(),
    });
    // No build before the role's policy exists.
    this.buildProject.node.addDependency(buildRole);
    acknowledge(
      buildRole,
      'AwsSolutions-IAM5[Resource::*]',
      'Only ecr:GetAuthorizationToken is on *: it has no resource-level permissions; the registry token it returns is useless without the push and pull statement, which is scoped to the one application repository.',
    );
    acknowledge(
      buildRole,
      `AwsSolutions-IAM5[Resource::${artifactObjectsArn}]`,
      'The build reads the source artifact and uploads the deployment bundle under keys CodePipeline generates per execution, so it needs the objects of the one pipeline artifacts bucket; object read and upload only, no delete. Revisit if the bucket is shared with another pipeline.',
    );
    acknowledge(
      this.buildProject,
      'AwsSolutions-CB4',
      'No customer managed key: the build writes only appspec.yml, deploy scripts and image.env (no secrets) to the pipeline artifacts bucket, which is SSE-S3 encrypted, TLS-only and private; a CMK would add cost and key policy for no data worth it. Revisit if build outputs ever carry secrets.',
    );

    // --- Deploy target
    this.application = new codedeploy.ServerApplication(this, 'Application', {
      applicationName: props.applicationName,
    });
    this.deploymentGroup = new codedeploy.ServerDeploymentGroup(this, 'DeploymentGroup', {
      application: this.application,
      deploymentGroupName: props.deploymentGroupName,
      autoScalingGroups: [props.autoScalingGroup],
      deploymentConfig: props.inServiceDeploys
        ? codedeploy.ServerDeploymentConfig.ONE_AT_A_TIME
        : codedeploy.ServerDeploymentConfig.ALL_AT_ONCE,
      loadBalancers: props.inServiceDeploys
        ? [codedeploy.LoadBalancer.application(props.inServiceDeploys)]
        : undefined,
      // The instances' boot script installs the agent; CDK's installer would add user data.
      installAgent: false,
      autoRollback: { failedDeployment: true, stoppedDeployment: true, deploymentInAlarm: false },
    });
    if (this.deploymentGroup.role) {
      acknowledge(
        this.deploymentGroup.role,
        'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSCodeDeployRole]',
        'AWSCodeDeployRole is the service role policy AWS documents and maintains for CodeDeploy to EC2 and Auto Scaling (lifecycle hooks, instance and load balancer calls); only codedeploy.amazonaws.com can assume the role. Revisit if a scoped policy is needed for a shared account.',
      );
    }

    // --- Pipeline
    this.pipeline = new codepipeline.Pipeline(this, 'Pipeline', {
      pipelineName: props.pipelineName,
      pipelineType: codepipeline.PipelineType.V2,
      artifactBucket: artifacts,
      restartExecutionOnUpdate: false,
    });
    acknowledge(
      this.pipeline.role,
      `AwsSolutions-IAM5[Resource::${artifactObjectsArn}]`,
      'CodePipeline moves every artifact of this pipeline through the one artifacts bucket under keys it generates per execution; the role gets object read and upload there only, no delete. Revisit if the bucket is shared with another pipeline.',
    );

    // CDK's source action adds `codestar-connections:UseConnection`; the connection's ARN prefix
    // (`codeconnections`) needs the other one (see grantUseConnection).
    const sourceRole = new iam.Role(this, 'SourceActionRole', {
      assumedBy: new iam.ArnPrincipal(this.pipeline.role.roleArn),
      description: `Source action of ${props.pipelineName}`,
    });
    grantUseConnection(sourceRole, this.connectionArn);
    acknowledge(
      sourceRole,
      `AwsSolutions-IAM5[Resource::${artifactObjectsArn}]`,
      'The source action uploads the repository snapshot of each execution under a key CodePipeline generates, in the one pipeline artifacts bucket; object read, upload and ACL only, no delete. Revisit if the bucket is shared with another pipeline.',
    );

    const sourceOutput = new codepipeline.Artifact('Source');
    const bundle = new codepipeline.Artifact('Bundle');
    const source = new actions.CodeStarConnectionsSourceAction({
      actionName: 'GitHub',
      owner,
      repo,
      branch: props.source.branch,
      connectionArn: this.connectionArn,
      triggerOnPush: true,
      output: sourceOutput,
      role: sourceRole,
      variablesNamespace: 'Source',
    });
    this.pipeline.addStage({ stageName: 'Source', actions: [source] });

    this.pipeline.addStage({
      stageName: 'Build',
      actions: [
        new actions.CodeBuildAction({
          actionName: 'BuildAndPushImage',
          project: this.buildProject,
          input: sourceOutput,
          outputs: [bundle],
          environmentVariables: { COMMIT_ID: { value: source.variables.commitId } },
          variablesNamespace: 'Build',
        }),
      ],
    });

    if (props.migrationTest) {
      // The migration test of exactly the image this execution built, against the newest
      // snapshot; the project's role gets read access to the bundle (its input) from CDK.
      this.pipeline.addStage({
        stageName: 'MigrationTest',
        actions: [
          new actions.CodeBuildAction({
            actionName: 'MigrationTest',
            project: props.migrationTest.project,
            input: bundle,
            environmentVariables: {
              [RUNNER_ENV.imageTag]: { value: `#{Build.${IMAGE_TAG_VARIABLE}}` },
              [RUNNER_ENV.verdict]: { value: props.migrationTest.verdict },
            },
            // Its summary and report link, quoted by the approval.
            variablesNamespace: MIGRATION_TEST_NAMESPACE,
          }),
        ],
      });
    }

    if (props.requireApproval) {
      // Its own role with exact actions: CDK's topic grant would add kms:GenerateDataKey*.
      const approvalRole = new iam.Role(this, 'ApprovalActionRole', {
        assumedBy: new iam.ArnPrincipal(this.pipeline.role.roleArn),
        description: `Approval action of ${props.pipelineName}: notify the approvers`,
      });
      approvalRole.addToPolicy(
        new iam.PolicyStatement({
          actions: ['sns:Publish'],
          resources: [props.approvalTopic.topicArn],
        }),
      );
      if (props.approvalTopic.masterKey) {
        // What SNS needs of a publisher to an encrypted topic.
        approvalRole.addToPolicy(
          new iam.PolicyStatement({
            actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
            resources: [props.approvalTopic.masterKey.keyArn],
          }),
        );
      }
      this.pipeline.addStage({
        stageName: 'Approve',
        actions: [
          new actions.ManualApprovalAction({
            actionName: 'Approve',
            role: approvalRole.withoutPolicyUpdates(),
            notificationTopic: props.approvalTopic,
            additionalInformation:
              `Deploy ${props.source.repository}@${source.variables.commitId} (${source.variables.commitMessage}) to ${props.deploymentGroupName}?` +
              (props.migrationTest
                ? ` Migration test (${props.migrationTest.verdict}): #{${MIGRATION_TEST_NAMESPACE}.${RUNNER_EXPORTS.summary}}`
                : ''),
            // The migration report, one click from the approval (in this account's CodeBuild console).
            ...(props.migrationTest
              ? { externalEntityLink: `#{${MIGRATION_TEST_NAMESPACE}.${RUNNER_EXPORTS.reportUrl}}` }
              : {}),
            timeout: Duration.days(3),
          }),
        ],
      });
    }

    // A role of this construct (rather than the one CDK would generate inside the pipeline) so
    // that its acknowledgement sits on it; CDK adds the CodeDeploy and artifact read statements.
    const deployRole = new iam.Role(this, 'DeployActionRole', {
      assumedBy: new iam.ArnPrincipal(this.pipeline.role.roleArn),
      description: `Deploy action of ${props.pipelineName}: start CodeDeploy deployments`,
    });
    // A sleeping environment has no instance, and CodeDeploy fails a deployment that reaches none:
    // wake it first (after the approval, so that an approval left waiting wakes nothing).
    const wake = props.wake ? this.wakeAction(props.pipelineName, props.wake) : undefined;
    this.pipeline.addStage({
      stageName: 'Deploy',
      actions: [
        ...(wake ? [wake] : []),
        new actions.CodeDeployServerDeployAction({
          actionName: 'Deploy',
          input: bundle,
          deploymentGroup: this.deploymentGroup,
          role: deployRole,
          runOrder: wake ? 2 : 1,
        }),
      ],
    });
    acknowledge(
      deployRole,
      `AwsSolutions-IAM5[Resource::${artifactObjectsArn}]`,
      'The deploy action reads the deployment bundle of each execution under a key CodePipeline generates, in the one pipeline artifacts bucket; object read only. Revisit if the bucket is shared with another pipeline.',
    );

    // --- Record: only after a successful deployment (a failed one stops the pipeline before),
    // tag its image deployed-<env>-<commit> so that the lifecycle policy keeps it.
    const recordRole = new iam.Role(this, 'RecordRole', {
      assumedBy: new iam.ServicePrincipal('codebuild.amazonaws.com'),
      description: `CodeBuild project ${props.recordProjectName}: tag the deployed image`,
    });
    props.buildLogGroup.grantWrite(recordRole);
    artifacts.grantRead(recordRole);
    recordRole.addToPolicy(
      new iam.PolicyStatement({
        sid: 'TagDeployedImage',
        actions: ['ecr:BatchGetImage', 'ecr:PutImage'],
        resources: [props.repository.repositoryArn],
      }),
    );
    this.recordProject = new codebuild.PipelineProject(this, 'Record', {
      projectName: props.recordProjectName,
      description: `Tags the image of each successful deployment ${props.deployedImageTagPrefix}<commit>`,
      environment: {
        buildImage: codebuild.LinuxArmBuildImage.fromCodeBuildImageId(BUILD_IMAGE_ID),
        computeType: codebuild.ComputeType.SMALL,
      },
      environmentVariables: {
        REPOSITORY_URI: { value: repositoryUriOf(props.repository) },
        IMAGE_REPO_NAME: { value: props.repository.repositoryName },
        DEPLOYED_TAG_PREFIX: { value: props.deployedImageTagPrefix },
        CURRENT_TAG: { value: props.currentImageTag },
      },
      buildSpec: codebuild.BuildSpec.fromObject({
        version: '0.2',
        env: { shell: 'bash' },
        phases: { build: { commands: [fs.readFileSync(TAG_DEPLOYED_SCRIPT, 'utf8')] } },
      }),
      logging: { cloudWatch: { logGroup: props.buildLogGroup } },
      timeout: Duration.minutes(10),
      role: recordRole.withoutPolicyUpdates(),
    });
    this.recordProject.node.addDependency(recordRole);
    acknowledge(
      recordRole,
      `AwsSolutions-IAM5[Resource::${artifactObjectsArn}]`,
      'The Record stage reads image.env from the deployment bundle of each execution under a key CodePipeline generates, in the one pipeline artifacts bucket; object read only. Revisit if the bucket is shared with another pipeline.',
    );
    acknowledge(
      this.recordProject,
      'AwsSolutions-CB4',
      'No customer managed key: the project writes no artifacts (it only adds a tag in ECR); its logs go to the build log group. Revisit if it ever produces artifacts.',
    );
    this.pipeline.addStage({
      stageName: 'Record',
      actions: [
        new actions.CodeBuildAction({
          actionName: 'TagDeployedImage',
          project: this.recordProject,
          input: bundle,
        }),
      ],
    });
    this.acknowledgeInlinePolicies({ buildRole, sourceRole, deployRole, recordRole });
  }

  /**
   * The Wake action: invokes the wake function, which CodePipeline invokes again (continuation
   * token) until the environment is awake. Its own role, on which CDK puts `lambda:InvokeFunction`
   * on the function and `lambda:ListFunctions`, as the CodePipeline user guide's service role has.
   */
  private wakeAction(pipelineName: string, fn: lambda.IFunction): actions.LambdaInvokeAction {
    const role = new iam.Role(this, 'WakeActionRole', {
      assumedBy: new iam.ArnPrincipal(this.pipeline.role.roleArn),
      description: `Wake action of ${pipelineName}: invoke the wake function`,
    });
    const action = new actions.LambdaInvokeAction({ actionName: 'Wake', lambda: fn, role, runOrder: 1 });
    const stack = Stack.of(this);
    acknowledge(
      role,
      'AwsSolutions-IAM5[Resource::*]',
      'Only lambda:ListFunctions is on *: a read-only list call without resource-level permissions, which CDK grants every Lambda invoke action as the CodePipeline service role policy documents; the one invoke statement names the wake function.',
    );
    acknowledge(
      role,
      `AwsSolutions-IAM5[Resource::${nagString(stack, fn.functionArn)}:*]`,
      'The wildcard after the wake function ARN stands for its versions and aliases (CDK grantInvoke); it matches no other function.',
    );
    acknowledgeInlinePolicy(
      role,
      "The application pipeline's wake action role may invoke the one wake function (and list functions, read-only)",
    );
    return action;
  }

  /** NIST IAMNoInlinePolicy, once per role of the pipeline, each saying what that role may do. */
  private acknowledgeInlinePolicies(roles: Record<string, iam.IRole>): void {
    const what: Record<string, string> = {
      buildRole:
        'may read the source artifact, upload the deployment bundle, push images to the one repository and write the build log group',
      sourceRole: 'may use the GitHub connection and upload the repository snapshot to the artifacts bucket',
      deployRole:
        'may read the deployment bundle and start deployments of the one CodeDeploy deployment group',
      recordRole: 'may read image.env from the bundle and tag the deployed image in the one repository',
    };
    for (const [key, role] of Object.entries(roles)) {
      acknowledgeInlinePolicy(
        role,
        `The application pipeline's ${key.replace(/Role$/, '')} role ${what[key]}`,
      );
    }
    acknowledgeInlinePolicy(
      this.pipeline.role,
      "The application pipeline's service role may move artifacts through the one artifacts bucket and assume its own action roles",
    );
    const approval = this.node.tryFindChild('ApprovalActionRole');
    if (approval) {
      acknowledgeInlinePolicy(
        approval,
        "The application pipeline's approval action role may publish the approval request to the one alerts topic (with its key)",
      );
    }
    // The roles CodePipeline creates for the CodeBuild actions: each may start and read its one project.
    for (const role of this.pipeline.node.findAll().filter((c) => c.node.id === 'CodePipelineActionRole')) {
      const action = role.node.scope!;
      acknowledgeInlinePolicy(
        role,
        `The application pipeline's role of the ${action.node.scope!.node.id}/${action.node.id} action may start and read the builds of that action's one CodeBuild project`,
      );
    }
  }
}

/**
 * Tests, uberjar and image in Docker (the build image has Docker but no Clojure toolchain; the
 * image's own stages pin it). Every phase aborts the build on failure, so nothing is pushed
 * after a failed test.
 */
export const BUILD_SPEC = {
  version: '0.2',
  env: { shell: 'bash', 'exported-variables': [IMAGE_TAG_VARIABLE] },
  phases: {
    pre_build: {
      'on-failure': 'ABORT',
      commands: [
        'export IMAGE_TAG="${COMMIT_ID:-$CODEBUILD_RESOLVED_SOURCE_VERSION}"',
        'test -n "$IMAGE_TAG"',
        'echo "Building $IMAGE_REPO_NAME:$IMAGE_TAG"',
        'aws ecr get-login-password --region "$AWS_DEFAULT_REGION" | docker login --username AWS --password-stdin "${REPOSITORY_URI%%/*}"',
      ],
    },
    build: {
      'on-failure': 'ABORT',
      commands: [
        // The Dockerfile's `test` stage runs the test suite; a failing test fails the build.
        'docker build --target test --tag "$IMAGE_REPO_NAME:test" .',
        // The final stage builds the uberjar and the runtime image.
        'docker build --tag "$REPOSITORY_URI:$IMAGE_TAG" --tag "$REPOSITORY_URI:latest" .',
      ],
    },
    post_build: {
      'on-failure': 'ABORT',
      commands: [
        'docker push "$REPOSITORY_URI:$IMAGE_TAG"',
        'docker push "$REPOSITORY_URI:latest"',
        `echo "IMAGE_URI=$REPOSITORY_URI:$IMAGE_TAG" > ${IMAGE_ENV_FILE}`,
      ],
    },
  },
  artifacts: {
    files: ['appspec.yml', 'scripts/**/*', IMAGE_ENV_FILE],
  },
} as const;

function splitRepository(repository: string): [string, string] {
  const parts = repository.split('/');
  if (parts.length !== 2 || !parts[0] || !parts[1]) {
    throw new Error(`Application repository must be owner/name, got ${JSON.stringify(repository)}`);
  }
  return [parts[0], parts[1]];
}
