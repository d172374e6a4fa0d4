import { Duration, Stack } from 'aws-cdk-lib';
import type * as codebuild from 'aws-cdk-lib/aws-codebuild';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';
import { acknowledgeInlinePolicy } from '../../nag';

export interface MigrationTestTriggerProps {
  /** Fixed name of the role (`v1-orcha-migration-test-trigger`). */
  readonly roleName: string;
  /** The project it may run. */
  readonly project: codebuild.IProject;
  /** Its fixed name (for the description). */
  readonly projectName: string;
  /** Account of the infrastructure pipeline. */
  readonly pipelineAccount: string;
  /** Fixed name of the pipeline step's role in that account: the only principal trusted. */
  readonly stepRoleName: string;
}

/**
 * The role that lets the infrastructure pipeline, in another account, start and watch the
 * migration-test project (and nothing else); trusted by the pipeline step's own role only.
 *
 * A piece of {@link MigrationTest}: it adds `TriggerRole` to the given scope.
 */
export class MigrationTestTrigger {
  public readonly role: iam.Role;

  constructor(scope: Construct, props: MigrationTestTriggerProps) {
    const stack = Stack.of(scope);
    this.role = new iam.Role(scope, 'TriggerRole', {
      roleName: props.roleName,
      description: `Lets the infrastructure pipeline (${props.pipelineAccount}) run ${props.projectName}`,
      assumedBy: new iam.ArnPrincipal(
        `arn:${stack.partition}:iam::${props.pipelineAccount}:role/${props.stepRoleName}`,
      ),
      maxSessionDuration: Duration.hours(4),
    });
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'RunMigrationTest',
        actions: ['codebuild:StartBuild', 'codebuild:BatchGetBuilds', 'codebuild:ListBuildsForProject'],
        resources: [props.project.projectArn],
      }),
    );
    acknowledgeInlinePolicy(
      this.role,
      `The migration test's trigger role (assumed by the pipeline account's step role only) may start and read the builds of ${props.projectName}`,
    );
  }
}
