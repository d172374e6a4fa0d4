import { Match, Template } from 'aws-cdk-lib/assertions';
import { buildStages, resourcesOf } from '../helpers';

// One App, prod built by buildApp as `cdk synth` builds it, synthesized once.
const { prod } = buildStages('prod');
const prodTemplate = Template.fromStack(prod.ops);

describe('OpsStack (prod): developer access', () => {
  test('v1-orcha-developer-ssm-access: sessions and port forwarding on v1-orcha-app instances only', () => {
    prodTemplate.resourceCountIs('AWS::IAM::ManagedPolicy', 1);
    const [[, policy]] = resourcesOf(prodTemplate, 'AWS::IAM::ManagedPolicy');
    expect(policy.ManagedPolicyName).toBe('v1-orcha-developer-ssm-access');
    expect(policy.Roles ?? policy.Users ?? policy.Groups).toBeUndefined();
    const statements = (policy.PolicyDocument as { Statement: Record<string, unknown>[] }).Statement;
    expect(statements).toEqual([
      {
        Sid: 'StartSessionOnAppInstances',
        Effect: 'Allow',
        Action: 'ssm:StartSession',
        Resource: 'arn:aws:ec2:eu-central-1:700558745280:instance/*',
        Condition: {
          StringEquals: { 'ssm:resourceTag/Name': 'v1-orcha-app' },
          BoolIfExists: { 'ssm:SessionDocumentAccessCheck': 'true' },
        },
      },
      {
        Sid: 'StartSessionWithAllowedDocuments',
        Effect: 'Allow',
        Action: 'ssm:StartSession',
        Resource: [
          'arn:aws:ssm:eu-central-1:700558745280:document/SSM-SessionManagerRunShell',
          'arn:aws:ssm:eu-central-1:700558745280:document/v1-orcha-repl-port-forwarding',
        ],
      },
      {
        Sid: 'ManageOwnSessionsIamUsers',
        Effect: 'Allow',
        Action: ['ssm:ResumeSession', 'ssm:TerminateSession'],
        Resource: 'arn:aws:ssm:eu-central-1:700558745280:session/${aws:username}-*',
      },
      {
        Sid: 'ManageOwnSessionsRoles',
        Effect: 'Allow',
        Action: ['ssm:ResumeSession', 'ssm:TerminateSession'],
        Resource: 'arn:aws:ssm:eu-central-1:700558745280:session/*',
        Condition: { StringLike: { 'ssm:resourceTag/aws:ssmmessages:session-id': ['${aws:userid}'] } },
      },
      {
        Sid: 'FindInstancesAndSessions',
        Effect: 'Allow',
        Action: [
          'ec2:DescribeInstances',
          'ssm:DescribeInstanceInformation',
          'ssm:DescribeSessions',
          'ssm:GetConnectionStatus',
        ],
        Resource: '*',
      },
    ]);
  });
});

describe('OpsStack (prod): REPL port forwarding', () => {
  test('a Session document that forwards to the REPL port 9878 and no other', () => {
    prodTemplate.hasResourceProperties('AWS::SSM::Document', {
      Name: 'v1-orcha-repl-port-forwarding',
      DocumentType: 'Session',
      Content: Match.objectLike({
        sessionType: 'Port',
        properties: {
          portNumber: '9878',
          type: 'LocalPortForwarding',
          localPortNumber: '{{ localPortNumber }}',
        },
      }),
    });
    // No statement of any policy in the stack allows the AWS-owned any-port forwarding documents.
    expect(JSON.stringify(prodTemplate.toJSON())).not.toContain('AWS-StartPortForwardingSession');
  });
});
