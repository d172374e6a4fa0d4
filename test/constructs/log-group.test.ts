import { App, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import {
  LOGS_KEY_ACTIONS,
  LogEncryptionKey,
  managedLogGroup,
  retentionDays,
} from '../../lib/constructs/log-group';

describe('retentionDays()', () => {
  it.each([1, 30, 3653])('accepts %i days', (days) => {
    expect(retentionDays(days)).toBe(days);
  });

  it.each([0, 31, 9999])('refuses %i days, naming the accepted values', (days) => {
    expect(() => retentionDays(days)).toThrow(
      new RegExp(`^Log retention of ${days} days: must be one of 1, 3, 5`),
    );
  });
});

describe('managedLogGroup()', () => {
  it('creates the group directly under the scope (logical ids unchanged), with retention and removal policy', () => {
    const stack = new Stack(new App(), 'S');
    const key = new kms.Key(stack, 'Key');
    const group = managedLogGroup(stack, 'Logs', {
      logGroupName: '/x/y',
      retentionDays: 14,
      removalPolicy: RemovalPolicy.RETAIN,
      encryptionKey: key,
    });
    expect(group.node.path).toBe('S/Logs');
    const template = Template.fromStack(stack);
    template.hasResource('AWS::Logs::LogGroup', {
      Properties: {
        LogGroupName: '/x/y',
        RetentionInDays: 14,
        KmsKeyId: { 'Fn::GetAtt': ['Key961B73FD', 'Arn'] },
      },
      DeletionPolicy: 'Retain',
    });
    template.resourceCountIs('Custom::LogRetention', 0);
  });
});

describe('LogEncryptionKey', () => {
  const stack = new Stack(new App(), 'S', { env: { account: '111111111111', region: 'eu-central-1' } });
  new LogEncryptionKey(stack, 'LogKey', { description: 'Orcha test: log groups' });
  const template = Template.fromStack(stack);

  it('is rotated yearly and retained on teardown (retained log groups stay readable)', () => {
    template.hasResource('AWS::KMS::Key', {
      Properties: { EnableKeyRotation: true, Description: 'Orcha test: log groups' },
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    });
  });

  it("lets CloudWatch Logs of the key's region use it, only for log groups of the key's account and region", () => {
    const [key] = Object.values(template.findResources('AWS::KMS::Key')) as {
      Properties: { KeyPolicy: { Statement: Record<string, unknown>[] } };
    }[];
    const logs = key.Properties.KeyPolicy.Statement.filter(
      (s) => JSON.stringify(s.Principal) === JSON.stringify({ Service: 'logs.eu-central-1.amazonaws.com' }),
    );
    expect(logs).toEqual([
      {
        Sid: 'CloudWatchLogsOfThisAccountAndRegion',
        Effect: 'Allow',
        Principal: { Service: 'logs.eu-central-1.amazonaws.com' },
        Action: [...LOGS_KEY_ACTIONS].sort(),
        Resource: '*',
        Condition: {
          ArnLike: {
            'kms:EncryptionContext:aws:logs:arn': 'arn:aws:logs:eu-central-1:111111111111:log-group:*',
          },
        },
      },
    ]);
  });
});
