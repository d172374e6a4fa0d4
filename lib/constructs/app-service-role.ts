import { ArnFormat, Stack } from 'aws-cdk-lib';
import type * as ecr from 'aws-cdk-lib/aws-ecr';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { acknowledge } from '../nag';
import { confineParameterReads } from './parameter-isolation';

export interface AppServiceRoleProps {
  /** Physical name of the role (`v1-orcha-service-role`). */
  readonly roleName: string;
  /**
   * Root of the environment's SSM parameters and secrets (`/v1-orcha`): the role reads the
   * parameters and the secrets under it.
   */
  readonly parameterRoot: string;
  /** The database credentials (read). */
  readonly databaseSecret: secretsmanager.ISecret;
  /**
   * Physical name of the documents bucket (read and write). Statements are scoped by name so
   * that the policy, and the acknowledgement of its object wildcard, read the same in every
   * synth (a cross-stack reference would put a generated output name there).
   */
  readonly documentsBucketName: string;
  /**
   * Physical name of the application pipeline's artifacts bucket: the CodeDeploy agent
   * downloads revisions from it. By name, like the documents bucket, for the same reason.
   */
  readonly pipelineArtifactsBucketName: string;
  /** Queues the app sends to and the worker consumes from. */
  readonly workQueues: readonly sqs.IQueue[];
  /** The application image repository (pull). */
  readonly repository: ecr.IRepository;
  /**
   * Log groups the instance writes to: the CloudWatch agent's (application, user data) and
   * the Session Manager session logs.
   */
  readonly logGroups: readonly logs.ILogGroup[];
}

/**
 * The application instances' role: Session Manager (the AWS managed policy, with its grant to
 * read every parameter of the account cut back to the environment's own by an explicit deny), the
 * environment's parameters and secrets, its bucket, queues, image repository and log groups,
 * and the CodeDeploy revisions. Every statement is scoped to its own resources; the two
 * actions that have no resource-level permissions are the only ones on `*`.
 */
export class AppServiceRole extends Construct {
  public readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: AppServiceRoleProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const root = props.parameterRoot;
    const rootName = root.replace(/^\//, '');
    // Built once: the same strings scope the statements and name the acknowledged wildcards.
    const parameterArns = [
      stack.formatArn({ service: 'ssm', resource: 'parameter', resourceName: rootName }),
      stack.formatArn({ service: 'ssm', resource: 'parameter', resourceName: `${rootName}/*` }),
    ];
    const secretsArn = stack.formatArn({
      service: 'secretsmanager',
      resource: 'secret',
      resourceName: `${root}/*`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    const documentsArn = `arn:${stack.partition}:s3:::${props.documentsBucketName}`;
    const revisionsArn = `arn:${stack.partition}:s3:::${props.pipelineArtifactsBucketName}/*`;

    this.role = new iam.Role(this, 'Role', {
      roleName: props.roleName,
      description: 'Orcha application instances: SSM, settings, documents, queues, image pull, logs, deploys',
      assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com'),
      managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('AmazonSSMManagedInstanceCore')],
    });
    const role = this.role;

    // Settings: SSM parameters under the root (GetParametersByPath is authorised on the path).
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'ReadSettings',
        actions: ['ssm:GetParameter', 'ssm:GetParameters', 'ssm:GetParametersByPath'],
        resources: parameterArns,
      }),
    );
    // Isolation: AmazonSSMManagedInstanceCore allows ssm:GetParameter(s) on every parameter of
    // the account; an explicit deny keeps this environment's instances inside its own root.
    confineParameterReads(role, parameterArns);

    // Secrets: the database credentials, and any other secret the app keeps under the root.
    props.databaseSecret.grantRead(role);
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'ReadSecrets',
        actions: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
        resources: [secretsArn],
      }),
    );

    // Documents: object read/write/delete and listing, without the s3:*Object* wildcards of grantReadWrite.
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'DocumentsObjects',
        actions: [
          's3:GetObject',
          's3:GetObjectVersion',
          's3:PutObject',
          's3:DeleteObject',
          's3:AbortMultipartUpload',
        ],
        resources: [`${documentsArn}/*`],
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'DocumentsBucket',
        actions: ['s3:ListBucket', 's3:GetBucketLocation'],
        resources: [documentsArn],
      }),
    );
    for (const queue of props.workQueues) {
      queue.grantConsumeMessages(role);
      queue.grantSendMessages(role);
    }
    // Includes ecr:GetAuthorizationToken on "*" (it has no resource-level permissions).
    props.repository.grantPull(role);

    for (const group of props.logGroups) group.grantWrite(role);
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'DescribeOwnLogStreams',
        actions: ['logs:DescribeLogStreams'],
        resources: props.logGroups.map((group) => group.logGroupArn),
      }),
    );
    // The SSM agent checks that the session log group exists before it streams a session.
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'SessionLogGroupCheck',
        actions: ['logs:DescribeLogGroups'],
        resources: ['*'],
      }),
    );

    // CodeDeploy agent: download the revisions of the application pipeline.
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'ReadDeployRevisions',
        actions: ['s3:GetObject', 's3:GetObjectVersion'],
        resources: [revisionsArn],
      }),
    );

    this.acknowledgeWildcards(parameterArns[1], secretsArn, `${documentsArn}/*`, revisionsArn);
  }

  private acknowledgeWildcards(
    parameters: string,
    secrets: string,
    documentObjects: string,
    revisions: string,
  ): void {
    const ack = (id: string, reason: string) => acknowledge(this.role, id, reason);
    ack(
      'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/AmazonSSMManagedInstanceCore]',
      'Session Manager is the only access path to the instances (no SSH, no key pair); AWS maintains this policy with exactly the ssm, ssmmessages and ec2messages actions the SSM agent needs.',
    );
    ack(
      'AwsSolutions-IAM5[Resource::*]',
      'Only ecr:GetAuthorizationToken and logs:DescribeLogGroups are on *: neither action supports resource-level permissions; the token only works with the repository pull statement scoped to v1-orcha, and DescribeLogGroups reveals group metadata only.',
    );
    ack(
      `AwsSolutions-IAM5[Resource::${parameters}]`,
      'The application reads all of its settings with GetParametersByPath under the environment root path; the wildcard is limited to that path, which only the update-secrets tool writes.',
    );
    ack(
      `AwsSolutions-IAM5[Resource::${secrets}]`,
      'Read access is limited to secrets named under the environment root path (the database credentials and application secrets kept there); no other secret of the account matches.',
    );
    ack(
      `AwsSolutions-IAM5[Resource::${documentObjects}]`,
      'The app and worker store and read customer documents under arbitrary keys of the documents bucket; access is limited to that one bucket, with explicit object actions and no s3 action wildcard.',
    );
    ack(
      `AwsSolutions-IAM5[Resource::${revisions}]`,
      'The CodeDeploy agent downloads each deployment bundle from the pipeline artifacts bucket under a key CodePipeline generates per execution; GetObject and GetObjectVersion only, on that one bucket, which holds no customer data.',
    );
  }
}
