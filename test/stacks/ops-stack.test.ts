import { Match, type Template } from 'aws-cdk-lib/assertions';
import { ALARM_KEYS } from '../../lib/constructs/alarms';
import { prodAndStagingOps, resourcesOf } from '../helpers';

// What the Ops stack itself holds (the alerts topic and its key) and how it composes its
// constructs; each construct's own behaviour is tested in test/constructs/<construct>.test.ts.
// prod and staging built by buildApp as `cdk synth` builds them (one App), each synthesized once.
const { prodTemplate, stagingTemplate, topic } = prodAndStagingOps();

describe('OpsStack (prod): alerts topic', () => {
  test('topic v1-orcha-alerts, encrypted with its own rotating key, e-mail subscription', () => {
    prodTemplate.resourceCountIs('AWS::SNS::Topic', 1);
    prodTemplate.hasResourceProperties('AWS::SNS::Topic', {
      TopicName: 'v1-orcha-alerts',
      KmsMasterKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^AlertsKey'), 'Arn'] },
    });
    prodTemplate.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'alerts@getorcha.com',
      TopicArn: topic(),
    });
    prodTemplate.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
    prodTemplate.hasResourceProperties('AWS::KMS::Alias', { AliasName: 'alias/v1-orcha-alerts' });
  });

  test('topic policy: TLS only; CloudWatch, Budgets and CodeStar notifications publish for this account', () => {
    prodTemplate.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Principal: '*',
            Action: 'sns:Publish',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
          Match.objectLike({
            Effect: 'Allow',
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: 'sns:Publish',
            Resource: topic(),
            Condition: {
              StringEquals: { 'aws:SourceAccount': '700558745280' },
              ArnLike: { 'aws:SourceArn': 'arn:aws:cloudwatch:eu-central-1:700558745280:alarm:*' },
            },
          }),
          Match.objectLike({
            Effect: 'Allow',
            Principal: { Service: 'budgets.amazonaws.com' },
            Action: 'sns:Publish',
            Condition: {
              StringEquals: { 'aws:SourceAccount': '700558745280' },
              ArnLike: { 'aws:SourceArn': 'arn:aws:budgets::700558745280:*' },
            },
          }),
          Match.objectLike({
            Effect: 'Allow',
            Principal: { Service: 'codestar-notifications.amazonaws.com' },
            Action: 'sns:Publish',
            Condition: { StringEquals: { 'aws:SourceAccount': '700558745280' } },
          }),
        ]),
      },
    });
  });

  test('key policy lets the publishing services encrypt through SNS', () => {
    const keyUse = ['kms:Decrypt', 'kms:GenerateDataKey*'];
    prodTemplate.hasResourceProperties('AWS::KMS::Key', {
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({ Principal: { Service: 'cloudwatch.amazonaws.com' }, Action: keyUse }),
          Match.objectLike({
            Principal: { Service: 'budgets.amazonaws.com' },
            Action: keyUse,
            Condition: {
              StringEquals: { 'aws:SourceAccount': '700558745280' },
              ArnLike: { 'aws:SourceArn': 'arn:aws:budgets::700558745280:*' },
            },
          }),
          Match.objectLike({
            Principal: { Service: 'codestar-notifications.amazonaws.com' },
            Action: keyUse,
            Condition: { StringEquals: { 'kms:ViaService': 'sns.eu-central-1.amazonaws.com' } },
          }),
        ]),
      },
    });
  });
});

describe('OpsStack (prod): scope', () => {
  test('no database or security group of its own; tags are only the stage ones', () => {
    prodTemplate.resourceCountIs('AWS::RDS::DBInstance', 0);
    prodTemplate.resourceCountIs('AWS::EC2::SecurityGroup', 0);
    const keys = new Set<string>();
    for (const r of Object.values(
      prodTemplate.toJSON().Resources as Record<string, { Properties?: { Tags?: unknown } }>,
    )) {
      const tags = r.Properties?.Tags;
      if (Array.isArray(tags)) for (const t of tags as { Key: string }[]) keys.add(t.Key);
    }
    expect([...keys].filter((k) => k !== 'Name').sort()).toEqual(['Environment', 'ManagedBy', 'Project']);
  });
});

describe('OpsStack (staging)', () => {
  test('names carry the environment', () => {
    stagingTemplate.hasResourceProperties('AWS::SNS::Topic', { TopicName: 'v1-orcha-staging-alerts' });
    stagingTemplate.hasResourceProperties('AWS::CodePipeline::Pipeline', { Name: 'v1-orcha-staging-deploy' });
    stagingTemplate.hasResourceProperties('AWS::CodeBuild::Project', { Name: 'v1-orcha-staging-build' });
    stagingTemplate.hasResourceProperties('AWS::CodeDeploy::Application', {
      ApplicationName: 'v1-orcha-staging',
    });
    stagingTemplate.hasResourceProperties('AWS::CodeDeploy::DeploymentGroup', {
      DeploymentGroupName: 'v1-orcha-staging-production',
    });
    stagingTemplate.hasResourceProperties('AWS::CodeConnections::Connection', {
      ConnectionName: 'v1-orcha-staging-app-github',
    });
    stagingTemplate.hasResourceProperties('AWS::IAM::ManagedPolicy', {
      ManagedPolicyName: 'v1-orcha-staging-developer-ssm-access',
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Condition: Match.objectLike({ StringEquals: { 'ssm:resourceTag/Name': 'v1-orcha-staging-app' } }),
          }),
        ]),
      },
    });
    stagingTemplate.hasResourceProperties('AWS::Budgets::Budget', {
      Budget: Match.objectLike({
        BudgetName: 'v1-orcha-staging-monthly',
        BudgetLimit: { Amount: 150, Unit: 'USD' },
      }),
    });
    const alarmNames = resourcesOf(stagingTemplate, 'AWS::CloudWatch::Alarm').map(([, p]) => p.AlarmName);
    expect(alarmNames.sort()).toEqual(ALARM_KEYS.map((k) => `v1-orcha-staging-${k}`).sort());
  });

  test('no physical name is shared with prod', () => {
    const names = (t: Template) =>
      new Set(
        [
          ...resourcesOf(t, 'AWS::CloudWatch::Alarm').map(([, p]) => p.AlarmName),
          ...resourcesOf(t, 'AWS::SNS::Topic').map(([, p]) => p.TopicName),
          ...resourcesOf(t, 'AWS::CodePipeline::Pipeline').map(([, p]) => p.Name),
          ...resourcesOf(t, 'AWS::CodeBuild::Project').map(([, p]) => p.Name),
          ...resourcesOf(t, 'AWS::CodeDeploy::Application').map(([, p]) => p.ApplicationName),
          ...resourcesOf(t, 'AWS::CodeDeploy::DeploymentGroup').map(([, p]) => p.DeploymentGroupName),
          ...resourcesOf(t, 'AWS::IAM::ManagedPolicy').map(([, p]) => p.ManagedPolicyName),
          ...resourcesOf(t, 'AWS::CodeConnections::Connection').map(([, p]) => p.ConnectionName),
          ...resourcesOf(t, 'AWS::KMS::Alias').map(([, p]) => p.AliasName),
          ...resourcesOf(t, 'AWS::Budgets::Budget').map(
            ([, p]) => (p.Budget as { BudgetName: string }).BudgetName,
          ),
        ].map(String),
      );
    const prodNames = names(prodTemplate);
    const stagingNames = names(stagingTemplate);
    // 21 of the application pipeline (its Record project included), alarms, budget, topic and
    // policy, plus the migration-test project, plus the rotation's two alarms (prod only).
    expect(prodNames.size).toBe(24);
    expect([...stagingNames].filter((n) => prodNames.has(n))).toEqual([]);
  });
});
