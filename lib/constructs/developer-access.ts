import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';
import { acknowledge } from '../nag';

export interface DeveloperAccessProps {
  /** Name of the managed policy, e.g. `v1-orcha-developer-ssm-access`. */
  readonly managedPolicyName: string;
  /** Value of the `Name` tag of the instances developers may open sessions on, e.g. `v1-orcha-app`. */
  readonly instanceName: string;
  /**
   * The account's Session Manager preferences document, used for plain shell sessions
   * (`aws ssm start-session --target …` without `--document-name`): `naming.sessionManagerDocument`.
   */
  readonly shellDocumentName: string;
  /** Name of the port-forwarding document this construct creates, e.g. `v1-orcha-repl-port-forwarding`. */
  readonly replDocumentName: string;
  /** The only instance port developers may forward to (the application's REPL, 9878). */
  readonly replPort: number;
}

/**
 * An IAM managed policy for developers: Session Manager shells and port forwarding on the
 * application instances only, nothing else. Administrators attach it to the developers' users,
 * groups or SSO permission sets; the stack attaches it to no one.
 */
export class DeveloperAccess extends Construct {
  public readonly policy: iam.ManagedPolicy;
  /** The REPL-only port-forwarding session document. */
  public readonly replDocument: ssm.CfnDocument;

  constructor(scope: Construct, id: string, props: DeveloperAccessProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const partition = stack.partition;
    const region = stack.region;
    const account = stack.account;

    // Port forwarding to the REPL port only: the AWS-owned AWS-StartPortForwardingSession would
    // let a developer forward to any port of the instance (e.g. the app's 8888, past the ALB).
    this.replDocument = new ssm.CfnDocument(this, 'ReplPortForwarding', {
      name: props.replDocumentName,
      documentType: 'Session',
      documentFormat: 'JSON',
      updateMethod: 'NewVersion',
      content: {
        schemaVersion: '1.0',
        description: `Forwards a local port to the application REPL (port ${props.replPort}) only`,
        sessionType: 'Port',
        parameters: {
          localPortNumber: {
            type: 'String',
            description: 'Local port to listen on',
            default: String(props.replPort),
            allowedPattern:
              '^([1-9][0-9]{0,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5])$',
          },
        },
        properties: {
          portNumber: String(props.replPort),
          type: 'LocalPortForwarding',
          localPortNumber: '{{ localPortNumber }}',
        },
      },
    });

    this.policy = new iam.ManagedPolicy(this, 'Policy', {
      managedPolicyName: props.managedPolicyName,
      description: `Session Manager shells and port forwarding on the ${props.instanceName} instances`,
      statements: [
        // Instances are chosen by tag: the Auto Scaling group replaces them, their ids change.
        // Session Manager documents `ssm:resourceTag/<key>` for StartSession on instances.
        // SessionDocumentAccessCheck makes Session Manager check the document below even when
        // none is named (the default shell document), so no other document can be used.
        new iam.PolicyStatement({
          sid: 'StartSessionOnAppInstances',
          actions: ['ssm:StartSession'],
          resources: [`arn:${partition}:ec2:${region}:${account}:instance/*`],
          conditions: {
            StringEquals: { 'ssm:resourceTag/Name': props.instanceName },
            BoolIfExists: { 'ssm:SessionDocumentAccessCheck': 'true' },
          },
        }),
        // The two session documents developers need: the shell (the account's preferences
        // document) and port forwarding (AWS-owned: its ARN has no account).
        new iam.PolicyStatement({
          sid: 'StartSessionWithAllowedDocuments',
          actions: ['ssm:StartSession'],
          resources: [
            `arn:${partition}:ssm:${region}:${account}:document/${props.shellDocumentName}`,
            `arn:${partition}:ssm:${region}:${account}:document/${props.replDocumentName}`,
          ],
        }),
        // Ending and resuming one's own sessions only. IAM users: session ids start with the
        // user name. Roles and SSO users: Session Manager tags each session with the caller's
        // user id (documented in "Allow a user to end only sessions they started").
        new iam.PolicyStatement({
          sid: 'ManageOwnSessionsIamUsers',
          actions: ['ssm:TerminateSession', 'ssm:ResumeSession'],
          resources: [`arn:${partition}:ssm:${region}:${account}:session/\${aws:username}-*`],
        }),
        new iam.PolicyStatement({
          sid: 'ManageOwnSessionsRoles',
          actions: ['ssm:TerminateSession', 'ssm:ResumeSession'],
          resources: [`arn:${partition}:ssm:${region}:${account}:session/*`],
          conditions: {
            StringLike: { 'ssm:resourceTag/aws:ssmmessages:session-id': ['${aws:userid}'] },
          },
        }),
        // Finding the instance (describe-instances by Name tag) and listing sessions. These
        // actions support no resource-level permissions: IAM accepts only "*" for them.
        new iam.PolicyStatement({
          sid: 'FindInstancesAndSessions',
          actions: [
            'ec2:DescribeInstances',
            'ssm:DescribeInstanceInformation',
            'ssm:DescribeSessions',
            'ssm:GetConnectionStatus',
          ],
          resources: ['*'],
        }),
      ],
    });

    const sessions = `arn:${partition}:ssm:${region}:${account}:session`;
    const ack = (id: string, reason: string) => acknowledge(this.policy, id, reason);
    ack(
      `AwsSolutions-IAM5[Resource::arn:${partition}:ec2:${region}:${account}:instance/*]`,
      `StartSession is limited by the condition ssm:resourceTag/Name = ${props.instanceName}: the Auto Scaling group replaces instances and their ids change, so they can only be named by tag (the pattern Session Manager documents).`,
    );
    ack(
      `AwsSolutions-IAM5[Resource::${sessions}/<aws:username>-*]`,
      'Terminate and resume are limited to sessions whose id starts with the caller IAM user name, which Session Manager uses as the session id prefix: each developer manages only the sessions they started.',
    );
    ack(
      `AwsSolutions-IAM5[Resource::${sessions}/*]`,
      'Terminate and resume for roles and SSO users: the condition on the session tag aws:ssmmessages:session-id = aws:userid limits them to the sessions the caller started (the pattern Session Manager documents).',
    );
    ack(
      'AwsSolutions-IAM5[Resource::*]',
      'Only ec2:DescribeInstances, ssm:DescribeInstanceInformation, ssm:DescribeSessions and ssm:GetConnectionStatus are on *: none supports resource-level permissions, and they reveal metadata only (which instance to connect to, session state).',
    );
  }
}
