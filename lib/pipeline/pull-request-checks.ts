import { DefaultStackSynthesizer, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as codebuild from 'aws-cdk-lib/aws-codebuild';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { BUILD_SPEC as APP_BUILD_SPEC } from '../constructs/app-pipeline';
import { managedLogGroup } from '../constructs/log-group';
import { CODEBUILD_NODEJS_RUNTIME } from '../config/toolchain';
import { acknowledge, acknowledgeInlinePolicy } from '../nag';
import { CI_COMMANDS, CI_INSTALL_COMMANDS } from './synth-step';
import { NPM_CACHE_PATHS } from './npm-cache';

/** A GitHub repository and the branch its pull requests target. */
export interface PullRequestRepository {
  /** `owner/name`. */
  readonly repository: string;
  /** Base branch of the pull requests that are checked (`master`). */
  readonly baseBranch: string;
}

/** An environment whose deployed stacks an infrastructure pull request is compared with. */
export interface DiffTarget {
  /** Construct path of the stage in the app (`Prod`): `cdk diff "<path>/*"`. */
  readonly stagePath: string;
  readonly account: string;
  readonly region: string;
}

export interface PullRequestChecksProps {
  /**
   * CodeConnections GitHub connection, AVAILABLE, whose GitHub App installation covers both
   * repositories. CodeBuild creates the repositories' webhooks through it when the projects are
   * deployed, and reports each build's commit status through it.
   */
  readonly connectionArn: string;
  /** This repository: `npm run ci` (the Synth step's command) and a `cdk diff` per environment. */
  readonly infrastructure: PullRequestRepository;
  /** The environments the infrastructure diff compares with, read with their CDK lookup role. */
  readonly diffTargets: readonly DiffTarget[];
  /** The application repository: the `test` stage of its Dockerfile. */
  readonly application: PullRequestRepository;
  /** Names of the two CodeBuild projects (also the GitHub commit status contexts). */
  readonly infrastructureProjectName: string;
  readonly applicationProjectName: string;
  /** Log group of both projects' builds. */
  readonly logGroupName: string;
  /** Retention of the builds' logs, in days CloudWatch Logs accepts. */
  readonly logRetentionDays: number;
  /** Key of the log group (the environment's or the pipeline stack's `LogEncryptionKey`). */
  readonly logEncryptionKey: kms.IKey;
}

/** The pull-request events that run a check: opened, new commits pushed, reopened. */
const PULL_REQUEST_EVENTS = [
  codebuild.EventAction.PULL_REQUEST_CREATED,
  codebuild.EventAction.PULL_REQUEST_UPDATED,
  codebuild.EventAction.PULL_REQUEST_REOPENED,
];

/** The Dockerfile's test stage, exactly as the application pipeline's build runs it. */
export function applicationTestCommand(): string {
  const command = APP_BUILD_SPEC.phases.build.commands.find((c) => c.includes('--target test'));
  if (!command) throw new Error('the application build spec has no `docker build --target test` command');
  return command;
}

/**
 * Pull-request checks: two CodeBuild projects triggered by GitHub webhooks (through the
 * CodeConnections connection) on pull requests against the base branch, each reporting its
 * result as a commit status on the pull request (context = project name).
 *
 * - Infrastructure: `npm run ci` — the Synth step's command (lint, types, tests, synth, cdk-nag,
 *   cfn-lint) — then `cdk diff` of each target environment against what is deployed, printed in
 *   the build log (the status's "Details" link). The project may assume only the environments' CDK
 *   lookup roles (read-only): a pull request cannot deploy, change or publish anything.
 * - Application: `docker build --target test .` of the application's Dockerfile.
 *
 * Pull requests from forks build only after a collaborator with write access comments
 * `/codebuild_run(<sha>)` (CodeBuild's pull-request comment approval): their code runs with the
 * project's role.
 */
export class PullRequestChecks extends Construct {
  public readonly infrastructureProject: codebuild.Project;
  public readonly applicationProject: codebuild.Project;

  constructor(scope: Construct, id: string, props: PullRequestChecksProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const logGroup = managedLogGroup(this, 'Logs', {
      logGroupName: props.logGroupName,
      retentionDays: props.logRetentionDays,
      removalPolicy: RemovalPolicy.DESTROY,
      encryptionKey: props.logEncryptionKey,
    });

    const qualifier = DefaultStackSynthesizer.DEFAULT_QUALIFIER;
    const lookupRoles = [
      ...new Set(
        props.diffTargets.map(
          (t) =>
            `arn:${stack.partition}:iam::${t.account}:role/cdk-${qualifier}-lookup-role-${t.account}-${t.region}`,
        ),
      ),
    ];
    const stagePatterns = props.diffTargets.map((t) => `"${t.stagePath}/*"`).join(' ');

    const infrastructure = this.project('Infrastructure', props, logGroup, {
      name: props.infrastructureProjectName,
      repository: props.infrastructure,
      description: `Pull requests of ${props.infrastructure.repository}: npm run ci and cdk diff of ${props.diffTargets.map((t) => t.stagePath).join(', ')}`,
      computeType: codebuild.ComputeType.MEDIUM,
      privileged: false,
      buildSpec: {
        version: '0.2',
        env: {
          shell: 'bash',
          variables: { CI: 'true', CDK_DISABLE_CLI_TELEMETRY: '1', CI_REPORTS_DIR: 'reports' },
        },
        phases: {
          install: {
            'runtime-versions': { nodejs: CODEBUILD_NODEJS_RUNTIME },
            commands: [...CI_INSTALL_COMMANDS],
          },
          build: {
            // The pipeline's Synth command: what passes here passes there.
            commands: [...CI_COMMANDS],
          },
          post_build: {
            commands: [
              // Only after a green CI: the change against what is deployed, for the reviewer. It never
              // fails the check (a diff is information); a diff that cannot run says so.
              'if [ "$CODEBUILD_BUILD_SUCCEEDING" = "1" ]; then ' +
                `echo "===== cdk diff against the deployed stacks (read with the CDK lookup role) ====="; ` +
                `npx cdk diff -a cdk.out --method template ${stagePatterns} || echo "cdk diff could not compare (see above)"; fi`,
            ],
          },
        },
        // npm's download cache on the build host, as in the pipeline's steps.
        cache: { paths: [NPM_CACHE_PATHS] },
      },
      cache: codebuild.Cache.local(codebuild.LocalCacheMode.CUSTOM),
    });
    this.infrastructureProject = infrastructure.project;
    infrastructure.role.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['sts:AssumeRole'], resources: lookupRoles }),
    );

    this.applicationProject = this.project('Application', props, logGroup, {
      name: props.applicationProjectName,
      repository: props.application,
      description: `Pull requests of ${props.application.repository}: the test stage of its Dockerfile`,
      computeType: codebuild.ComputeType.SMALL,
      // docker build needs the build container's Docker daemon.
      privileged: true,
      buildSpec: {
        version: '0.2',
        env: { shell: 'bash', variables: { IMAGE_REPO_NAME: 'orcha-pull-request' } },
        phases: { build: { commands: [applicationTestCommand()] } },
      },
    }).project;
  }

  private project(
    id: string,
    props: PullRequestChecksProps,
    logGroup: logs.ILogGroup,
    spec: {
      name: string;
      repository: PullRequestRepository;
      description: string;
      computeType: codebuild.ComputeType;
      privileged: boolean;
      buildSpec: Record<string, unknown>;
      cache?: codebuild.Cache;
    },
  ): { project: codebuild.Project; role: iam.Role } {
    const [owner, repo] = spec.repository.repository.split('/');
    // The project's own role, handed over immutable: CDK would add its default log group
    // (/aws/codebuild/<project>, unused: the builds log to `logGroup`) and test report groups
    // (the build specs have no reports). What the build needs is granted here.
    const role = new iam.Role(this, `${id}Role`, {
      assumedBy: new iam.ServicePrincipal('codebuild.amazonaws.com'),
      description: `CodeBuild project ${spec.name}: its logs and the GitHub connection`,
    });
    logGroup.grantWrite(role);
    acknowledgeInlinePolicy(
      role,
      `The role of the pull-request check ${spec.name} may write the checks' log group and use the GitHub connection (plus, for the infrastructure check, read the environments through their CDK lookup roles)`,
    );
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: [
          'codeconnections:GetConnectionToken',
          'codeconnections:GetConnection',
          'codeconnections:UseConnection',
        ],
        resources: [props.connectionArn],
      }),
    );
    const project = new codebuild.Project(this, id, {
      role: role.withoutPolicyUpdates(),
      projectName: spec.name,
      description: spec.description,
      source: codebuild.Source.gitHub({
        owner,
        repo,
        reportBuildStatus: true,
        buildStatusContext: spec.name,
        webhook: true,
        webhookFilters: [
          codebuild.FilterGroup.inEventOf(...PULL_REQUEST_EVENTS).andBaseBranchIs(spec.repository.baseBranch),
        ],
      }),
      environment: {
        buildImage: codebuild.LinuxArmBuildImage.AMAZON_LINUX_2023_STANDARD_3_0,
        computeType: spec.computeType,
        privileged: spec.privileged,
      },
      buildSpec: codebuild.BuildSpec.fromObject(spec.buildSpec),
      logging: { cloudWatch: { logGroup } },
      timeout: Duration.minutes(30),
      concurrentBuildLimit: 2,
      ...(spec.cache && { cache: spec.cache }),
    });
    const cfn = project.node.defaultChild as codebuild.CfnProject;
    // Through the connection (CodeBuild's CODECONNECTIONS source auth), not an account-wide OAuth
    // token or a personal access token.
    cfn.addPropertyOverride('Source.Auth', { Type: 'CODECONNECTIONS', Resource: props.connectionArn });
    // Fork pull requests run only after a collaborator with write access approves them by comment.
    cfn.addPropertyOverride('Triggers.PullRequestBuildPolicy', {
      RequiresCommentApproval: 'FORK_PULL_REQUESTS',
      ApproverRoles: ['GITHUB_WRITE', 'GITHUB_MAINTAIN', 'GITHUB_ADMIN'],
    });
    // Created after its role's policy: CodeBuild uses the connection through the role when it
    // creates the webhook.
    project.node.addDependency(role);
    acknowledge(
      project,
      'AwsSolutions-CB4',
      `No customer managed key: ${spec.name} produces no artifacts (its results are the commit status and the build log).`,
    );
    return { project, role };
  }
}
