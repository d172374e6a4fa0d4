import { Template } from 'aws-cdk-lib/assertions';
import refreshFailed from '../fixtures/events/autoscaling-instance-refresh-failed.json';
import rotationSucceeded from '../fixtures/events/secretsmanager-rotation-succeeded.json';
import { buildStages, resourcesOf } from '../helpers';
import { matchesEventPattern, resolveIntrinsics } from '../helpers/event-pattern';

// The rules of prod's Ops stack after a credential rotation, their patterns checked against real
// event shapes with EventBridge's matching rules (test/helpers/event-pattern.ts).
const { prod, dev } = buildStages('prod', 'dev');
const ops = Template.fromStack(prod.ops);
const SECRET_ARN = rotationSucceeded.detail.additionalEventData.SecretId;

const rules = resourcesOf(ops, 'AWS::Events::Rule');
function rule(descriptionStart: string): Record<string, unknown> {
  const found = rules.filter(([, p]) => String(p.Description).startsWith(descriptionStart));
  expect(found).toHaveLength(1);
  return found[0]![1];
}
/** The rule's pattern with the secret's cross-stack reference made the sample's ARN. */
function pattern(r: Record<string, unknown>): unknown {
  return resolveIntrinsics(r.EventPattern, (intrinsic) => {
    expect(JSON.stringify(intrinsic)).toContain('DbCredentials');
    return SECRET_ARN;
  });
}
const succeeded = rule('Rotation of /v1-orcha/db-credentials succeeded');
const failed = rule('Rotation of /v1-orcha/db-credentials failed');
const refresh = rule('An instance refresh of v1-orcha-asg');

function withDetail(event: typeof rotationSucceeded, detail: Record<string, unknown>) {
  return { ...event, detail: { ...event.detail, ...detail } };
}

describe('RotationSucceeded rule', () => {
  test('matches the CloudTrail service event of a successful rotation of the secret', () => {
    expect(matchesEventPattern(pattern(succeeded), rotationSucceeded)).toBe(true);
  });

  test('also matches the secret id under serviceEventDetails', () => {
    const { additionalEventData: _ignored, ...detail } = rotationSucceeded.detail;
    const event = {
      ...rotationSucceeded,
      detail: { ...detail, serviceEventDetails: { secretId: SECRET_ARN } },
    };
    expect(matchesEventPattern(pattern(succeeded), event)).toBe(true);
  });

  test.each([
    ['another secret', { additionalEventData: { SecretId: SECRET_ARN.replace('db-credentials', 'other') } }],
    ['a failed rotation', { eventName: 'RotationFailed' }],
    ['a started rotation', { eventName: 'RotationStarted' }],
    ['another service', { eventSource: 'kms.amazonaws.com' }],
  ])('does not match %s', (_what, detail) => {
    expect(matchesEventPattern(pattern(succeeded), withDetail(rotationSucceeded, detail))).toBe(false);
  });

  test('does not match an API call event (someone calling RotateSecret)', () => {
    const event = { ...rotationSucceeded, 'detail-type': 'AWS API Call via CloudTrail' };
    expect(matchesEventPattern(pattern(succeeded), event)).toBe(false);
  });

  test('invokes the restart function, and only it', () => {
    const targets = succeeded.Targets as { Arn: unknown }[];
    expect(targets).toHaveLength(1);
    const [fnId] = resourcesOf(ops, 'AWS::Lambda::Function').find(
      ([, p]) => p.FunctionName === 'v1-orcha-app-restart',
    )!;
    expect(targets[0]!.Arn).toEqual({ 'Fn::GetAtt': [fnId, 'Arn'] });
  });
});

describe('failure alerts', () => {
  const alertsTopic = resourcesOf(ops, 'AWS::SNS::Topic').find(
    ([, p]) => p.TopicName === 'v1-orcha-alerts',
  )![0];

  test('RotationFailed of the secret goes to the alerts topic', () => {
    expect(
      matchesEventPattern(pattern(failed), withDetail(rotationSucceeded, { eventName: 'RotationFailed' })),
    ).toBe(true);
    expect(matchesEventPattern(pattern(failed), rotationSucceeded)).toBe(false);
    const targets = failed.Targets as { Arn: unknown; InputTransformer: { InputTemplate: string } }[];
    expect(targets.map((t) => t.Arn)).toEqual([{ Ref: alertsTopic }]);
    expect(targets[0]!.InputTransformer.InputTemplate).toContain('docs/runbooks/credential-rotation.md');
  });

  test('a failed or cancelled instance refresh of the group goes to the alerts topic', () => {
    const p = refresh.EventPattern;
    expect(matchesEventPattern(p, refreshFailed)).toBe(true);
    expect(
      matchesEventPattern(p, {
        ...refreshFailed,
        'detail-type': 'EC2 Auto Scaling Instance Refresh Cancelled',
      }),
    ).toBe(true);
    expect(
      matchesEventPattern(p, {
        ...refreshFailed,
        'detail-type': 'EC2 Auto Scaling Instance Refresh Succeeded',
      }),
    ).toBe(false);
    expect(
      matchesEventPattern(p, {
        ...refreshFailed,
        detail: { ...refreshFailed.detail, AutoScalingGroupName: 'other' },
      }),
    ).toBe(false);
    expect((refresh.Targets as { Arn: unknown }[]).map((t) => t.Arn)).toEqual([{ Ref: alertsTopic }]);
  });

  test('errors of the rotation function and of the restart function alarm to the alerts topic', () => {
    for (const [name, fn] of [
      ['v1-orcha-db-rotation-errors', 'v1-orcha-db-rotation'],
      ['v1-orcha-app-restart-errors', 'v1-orcha-app-restart'],
    ] as const) {
      const [, alarm] = resourcesOf(ops, 'AWS::CloudWatch::Alarm').find(([, p]) => p.AlarmName === name)!;
      expect(alarm).toMatchObject({
        Namespace: 'AWS/Lambda',
        MetricName: 'Errors',
        Dimensions: [{ Name: 'FunctionName', Value: fn }],
        Threshold: 0,
        AlarmActions: [{ Ref: alertsTopic }],
      });
    }
  });

  test('EventBridge publishes the alerts as a role of its own; the topic and key policies trust no events.amazonaws.com', () => {
    const rules = resourcesOf(ops, 'AWS::Events::Rule').filter(([, r]) =>
      JSON.stringify(r.Targets).includes('AlertsTopic'),
    );
    expect(rules).toHaveLength(2);
    const [roleId] = resourcesOf(ops, 'AWS::IAM::Role').find(([id]) => id.includes('AlertPublisherRole'))!;
    for (const [, rule] of rules) {
      const [target] = rule.Targets as { RoleArn?: unknown }[];
      expect(target!.RoleArn).toEqual({ 'Fn::GetAtt': [roleId, 'Arn'] });
    }
    const [, role] = resourcesOf(ops, 'AWS::IAM::Role').find(([id]) => id === roleId)!;
    expect(role.AssumeRolePolicyDocument).toMatchObject({
      Statement: [
        {
          Principal: { Service: 'events.amazonaws.com' },
          Condition: { StringEquals: { 'aws:SourceAccount': '700558745280' } },
        },
      ],
    });
    const statements = resourcesOf(ops, 'AWS::IAM::Policy')
      .filter(([, p]) => JSON.stringify(p.Roles).includes(`"${roleId}"`))
      .flatMap(([, p]) => (p.PolicyDocument as { Statement: { Action: unknown }[] }).Statement);
    expect(statements.map((st) => st.Action)).toEqual([
      'sns:Publish',
      ['kms:Decrypt', 'kms:GenerateDataKey'],
    ]);
    // No resource policy lets EventBridge (of any account) publish or use the key.
    const [, policy] = resourcesOf(ops, 'AWS::SNS::TopicPolicy')[0]!;
    expect(JSON.stringify(policy.PolicyDocument)).not.toContain('events.amazonaws.com');
    const [, key] = resourcesOf(ops, 'AWS::KMS::Key')[0]!;
    expect(JSON.stringify(key.KeyPolicy)).not.toContain('events.amazonaws.com');
  });
});

test('the restart function may refresh only its group and publish only to the alerts topic', () => {
  const [, policy] = resourcesOf(ops, 'AWS::IAM::Policy').find(([, p]) =>
    JSON.stringify(p.Roles).includes('RotationRestartFunctionRole'),
  )!;
  const statements = (
    policy.PolicyDocument as { Statement: { Sid?: string; Action: unknown; Resource: unknown }[] }
  ).Statement;
  const bySid = Object.fromEntries(statements.filter((s) => s.Sid).map((s) => [s.Sid, s]));
  expect(bySid.RefreshTheGroup!.Action).toBe('autoscaling:StartInstanceRefresh');
  expect(JSON.stringify(bySid.RefreshTheGroup!.Resource)).toContain(':autoScalingGroupName/v1-orcha-asg');
  expect(bySid.PublishAlerts!.Action).toBe('sns:Publish');
  const [, fn] = resourcesOf(ops, 'AWS::Lambda::Function').find(
    ([, p]) => p.FunctionName === 'v1-orcha-app-restart',
  )!;
  expect((fn.Environment as { Variables: Record<string, unknown> }).Variables).toMatchObject({
    AUTO_SCALING_GROUP_NAME: 'v1-orcha-asg',
    INSTANCE_WARMUP_SECONDS: '300',
  });
});

test('where rotation is off (dev), none of it exists', () => {
  const devOps = Template.fromStack(dev.ops);
  devOps.resourceCountIs('AWS::Events::Rule', 0);
  expect(resourcesOf(devOps, 'AWS::Lambda::Function').map(([, p]) => p.FunctionName)).not.toContain(
    'v1-orcha-dev-app-restart',
  );
  expect(JSON.stringify(devOps.toJSON())).not.toContain('AlertPublisherRole');
});

describe("the offline matcher follows EventBridge's documented rules", () => {
  const event = {
    source: 'aws.ec2',
    detail: {
      state: 'running',
      'instance-id': 'i-1',
      c: 5,
      tags: ['a', 'b'],
      nested: [{ k: 'x' }, { k: 'y' }],
    },
  };
  test.each<[string, unknown, boolean]>([
    ['exact value', { source: ['aws.ec2'] }, true],
    ['values are alternatives', { source: ['aws.s3', 'aws.ec2'] }, true],
    ['types matter', { detail: { c: ['5'] } }, false],
    ['a field the event lacks', { detail: { missing: ['x'] } }, false],
    ['exists: false', { detail: { missing: [{ exists: false }] } }, true],
    ['exists: true on a present field', { detail: { state: [{ exists: true }] } }, true],
    ['an event array matches if one element does', { detail: { tags: ['b'] } }, true],
    ['prefix', { detail: { 'instance-id': [{ prefix: 'i-' }] } }, true],
    ['anything-but', { detail: { state: [{ 'anything-but': ['running'] }] } }, false],
    ['numeric range', { detail: { c: [{ numeric: ['>', 0, '<=', 5] }] } }, true],
    ['$or', { detail: { $or: [{ state: ['stopped'] }, { c: [5] }] } }, true],
    ['$or with no match', { detail: { $or: [{ state: ['stopped'] }, { c: [6] }] } }, false],
    ['nested objects in an array', { detail: { nested: { k: ['y'] } } }, true],
    ['an object pattern against a scalar', { detail: { state: { x: ['running'] } } }, false],
  ])('%s', (_what, pattern, expected) => {
    expect(matchesEventPattern(pattern, event)).toBe(expected);
  });

  test('syntax it does not know fails the test instead of passing it', () => {
    expect(() => matchesEventPattern({ source: [{ cidr: '10.0.0.0/24' }] }, event)).toThrow(/unsupported/);
    expect(() => matchesEventPattern({ source: [] }, event)).toThrow(/empty/);
  });
});
