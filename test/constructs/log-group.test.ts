import { App, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import { managedLogGroup, retentionDays } from '../../lib/constructs/log-group';

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
