import { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { ALARM_KEYS } from '../../lib/constructs/alarms';
import type { OrchaStage } from '../../lib/stages/orcha-stage';
import { readFileSync } from 'node:fs';
import { environmentNames, loadEnvironment } from '../../lib/config/load';
import { buildStages, logicalId, resourcesOf } from '../helpers';
import { projectPath } from '../../lib/config/project';

// One App, two environments (prod and staging) built as the app builds them (OrchaStage),
// synthesized once.
let prod: OrchaStage;
let staging: OrchaStage;
let prodTemplate: Template;
let stagingTemplate: Template;

beforeAll(() => {
  ({ prod, staging } = buildStages('prod', 'staging'));
  prodTemplate = Template.fromStack(prod.ops);
  stagingTemplate = Template.fromStack(staging.ops);
});

/** `{ Ref }` of the alerts topic, in its own stack. */
const topic = () => ({ Ref: logicalId(prod.ops.alertsTopic) });

function alarm(template: Template, name: string): Record<string, unknown> {
  const found = resourcesOf(template, 'AWS::CloudWatch::Alarm').filter(([, p]) => p.AlarmName === name);
  expect(found).toHaveLength(1);
  return found[0][1];
}

function dimensionNames(props: Record<string, unknown>): string[] {
  return (props.Dimensions as { Name: string }[]).map((d) => d.Name).sort();
}

/** Stack-output name a cross-stack reference resolves to (whatever intrinsic carries it). */
function outputNames(value: unknown): string[] {
  const json = JSON.stringify(value);
  return [...json.matchAll(/"(?:OutputName|Fn::ImportValue)":"([^"]+)"/g)].map((m) => m[1]);
}

function exportOf(stack: Stack, token: string): string {
  // The producer's output whose value is this token's resolution.
  const resolved = JSON.stringify(stack.resolve(token));
  const template = Template.fromStack(stack).toJSON() as { Outputs?: Record<string, { Value: unknown }> };
  const entry = Object.entries(template.Outputs ?? {}).find(([, o]) => JSON.stringify(o.Value) === resolved);
  if (!entry) throw new Error(`no output of ${stack.stackName} carries ${resolved}`);
  return entry[0];
}

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

describe('OpsStack (prod): alarms', () => {
  const GIB = 1024 ** 3;
  const cases: {
    name: string;
    namespace: string;
    metric: string;
    dims: string[];
    statistic: string;
    period: number;
    operator: string;
    threshold: number;
    evaluationPeriods: number;
    missing: string;
    severity: 'critical' | 'operational';
  }[] = [
    {
      name: 'v1-orcha-alb-unhealthy',
      namespace: 'AWS/ApplicationELB',
      metric: 'HealthyHostCount',
      dims: ['LoadBalancer', 'TargetGroup'],
      statistic: 'Minimum',
      period: 60,
      operator: 'LessThanThreshold',
      threshold: 1,
      evaluationPeriods: 3,
      missing: 'breaching',
      severity: 'critical',
    },
    {
      name: 'v1-orcha-ec2-status-check',
      namespace: 'AWS/AutoScaling',
      metric: 'GroupInServiceInstances',
      dims: ['AutoScalingGroupName'],
      statistic: 'Minimum',
      period: 60,
      operator: 'LessThanThreshold',
      threshold: 1,
      evaluationPeriods: 3,
      missing: 'breaching',
      severity: 'critical',
    },
    {
      name: 'v1-orcha-rds-no-connections',
      namespace: 'AWS/RDS',
      metric: 'DatabaseConnections',
      dims: ['DBInstanceIdentifier'],
      statistic: 'Maximum',
      period: 60,
      operator: 'LessThanThreshold',
      threshold: 1,
      evaluationPeriods: 5,
      missing: 'breaching',
      severity: 'critical',
    },
    {
      name: 'v1-orcha-ingest-dlq-not-empty',
      namespace: 'AWS/SQS',
      metric: 'ApproximateNumberOfMessagesVisible',
      dims: ['QueueName'],
      statistic: 'Maximum',
      period: 300,
      operator: 'GreaterThanThreshold',
      threshold: 0,
      evaluationPeriods: 1,
      missing: 'notBreaching',
      severity: 'critical',
    },
    {
      name: 'v1-orcha-email-acquire-dlq-not-empty',
      namespace: 'AWS/SQS',
      metric: 'ApproximateNumberOfMessagesVisible',
      dims: ['QueueName'],
      statistic: 'Maximum',
      period: 300,
      operator: 'GreaterThanThreshold',
      threshold: 0,
      evaluationPeriods: 1,
      missing: 'notBreaching',
      severity: 'critical',
    },
    {
      name: 'v1-orcha-ec2-high-cpu',
      namespace: 'AWS/EC2',
      metric: 'CPUUtilization',
      dims: ['AutoScalingGroupName'],
      statistic: 'Average',
      period: 300,
      operator: 'GreaterThanThreshold',
      threshold: 80,
      evaluationPeriods: 3,
      missing: 'notBreaching',
      severity: 'operational',
    },
    {
      name: 'v1-orcha-rds-high-cpu',
      namespace: 'AWS/RDS',
      metric: 'CPUUtilization',
      dims: ['DBInstanceIdentifier'],
      statistic: 'Average',
      period: 300,
      operator: 'GreaterThanThreshold',
      threshold: 80,
      evaluationPeriods: 3,
      missing: 'notBreaching',
      severity: 'operational',
    },
    {
      name: 'v1-orcha-rds-low-storage',
      namespace: 'AWS/RDS',
      metric: 'FreeStorageSpace',
      dims: ['DBInstanceIdentifier'],
      statistic: 'Minimum',
      period: 300,
      operator: 'LessThanThreshold',
      threshold: 5 * GIB,
      evaluationPeriods: 1,
      missing: 'notBreaching',
      severity: 'operational',
    },
    {
      name: 'v1-orcha-rds-high-connections',
      namespace: 'AWS/RDS',
      metric: 'DatabaseConnections',
      dims: ['DBInstanceIdentifier'],
      statistic: 'Maximum',
      period: 300,
      operator: 'GreaterThanThreshold',
      threshold: 100,
      evaluationPeriods: 3,
      missing: 'notBreaching',
      severity: 'operational',
    },
    {
      name: 'v1-orcha-cert-expiring',
      namespace: 'AWS/CertificateManager',
      metric: 'DaysToExpiry',
      dims: ['CertificateArn'],
      statistic: 'Minimum',
      period: 86400,
      operator: 'LessThanThreshold',
      threshold: 14,
      evaluationPeriods: 1,
      missing: 'notBreaching',
      severity: 'operational',
    },
    {
      name: 'v1-orcha-ingest-backlog',
      namespace: 'AWS/SQS',
      metric: 'ApproximateNumberOfMessagesVisible',
      dims: ['QueueName'],
      statistic: 'Maximum',
      period: 300,
      operator: 'GreaterThanThreshold',
      threshold: 500,
      evaluationPeriods: 3,
      missing: 'notBreaching',
      severity: 'operational',
    },
  ];

  test('exactly the eleven alarms of the specification, plus the two of the credential rotation', () => {
    const names = resourcesOf(prodTemplate, 'AWS::CloudWatch::Alarm').map(([, p]) => p.AlarmName);
    expect(names.sort()).toEqual(
      [...cases.map((c) => c.name), 'v1-orcha-db-rotation-errors', 'v1-orcha-app-restart-errors'].sort(),
    );
    expect(Object.keys(prod.ops.alarms.alarms).sort()).toEqual([...ALARM_KEYS].sort());
  });

  test.each(cases)('$name: $metric $operator $threshold', (c) => {
    const p = alarm(prodTemplate, c.name);
    expect(p).toMatchObject({
      Namespace: c.namespace,
      MetricName: c.metric,
      Statistic: c.statistic,
      Period: c.period,
      ComparisonOperator: c.operator,
      Threshold: c.threshold,
      EvaluationPeriods: c.evaluationPeriods,
      DatapointsToAlarm: c.evaluationPeriods,
      TreatMissingData: c.missing,
      AlarmActions: [topic()],
    });
    expect(dimensionNames(p)).toEqual(c.dims);
    expect(p.AlarmDescription).toMatch(new RegExp(`^\\[${c.severity}\\] `));
    if (c.severity === 'critical') {
      expect(p.OKActions).toEqual([topic()]);
    } else {
      expect(p.OKActions).toBeUndefined();
    }
  });

  test('dimensions point at the right resources', () => {
    const f = prod.foundation;
    const d = prod.data;
    const c = prod.compute;
    const dim = (name: string, key: string) =>
      (alarm(prodTemplate, name).Dimensions as { Name: string; Value: unknown }[]).find((x) => x.Name === key)
        ?.Value;
    expect(outputNames(dim('v1-orcha-ingest-dlq-not-empty', 'QueueName'))).toEqual([
      exportOf(f, f.ingest.deadLetterQueue.queueName),
    ]);
    expect(outputNames(dim('v1-orcha-email-acquire-dlq-not-empty', 'QueueName'))).toEqual([
      exportOf(f, f.emailAcquire.deadLetterQueue.queueName),
    ]);
    expect(outputNames(dim('v1-orcha-ingest-backlog', 'QueueName'))).toEqual([
      exportOf(f, f.ingest.queue.queueName),
    ]);
    for (const name of ['v1-orcha-rds-no-connections', 'v1-orcha-rds-high-cpu', 'v1-orcha-rds-low-storage']) {
      expect(outputNames(dim(name, 'DBInstanceIdentifier'))).toEqual([
        exportOf(d, d.database.instanceIdentifier),
      ]);
    }
    const asgOutput = exportOf(c, c.autoScalingGroup.autoScalingGroupName);
    expect(outputNames(dim('v1-orcha-ec2-status-check', 'AutoScalingGroupName'))).toEqual([asgOutput]);
    expect(outputNames(dim('v1-orcha-ec2-high-cpu', 'AutoScalingGroupName'))).toEqual([asgOutput]);
    expect(outputNames(dim('v1-orcha-cert-expiring', 'CertificateArn'))).toEqual([
      exportOf(c, c.certificate.certificateArn),
    ]);
    expect(outputNames(dim('v1-orcha-alb-unhealthy', 'TargetGroup'))).toEqual([
      exportOf(c, c.targetGroup.targetGroupFullName),
    ]);
    // The load balancer's LoadBalancerFullName attribute, whole (not parsed from an ARN).
    expect(dim('v1-orcha-alb-unhealthy', 'LoadBalancer')).toEqual({
      'Fn::GetStackOutput': expect.objectContaining({
        OutputName: exportOf(c, c.loadBalancer.loadBalancerFullName),
      }) as unknown,
    });
  });
});

describe('OpsStack: budget', () => {
  test('v1-orcha-monthly: monthly cost of prod only (Environment tag), 300 USD, 80% actual and 100% forecast', () => {
    // One notification path: the alerts topic, whose e-mail subscription delivers each alert once.
    const subscribers = [{ SubscriptionType: 'SNS', Address: topic() }];
    prodTemplate.resourceCountIs('AWS::Budgets::Budget', 1);
    prodTemplate.hasResourceProperties('AWS::Budgets::Budget', {
      Budget: {
        BudgetName: 'v1-orcha-monthly',
        BudgetType: 'COST',
        TimeUnit: 'MONTHLY',
        BudgetLimit: { Amount: 300, Unit: 'USD' },
        CostFilters: { TagKeyValue: ['user:Environment$prod'] },
      },
      NotificationsWithSubscribers: [
        {
          Notification: {
            NotificationType: 'ACTUAL',
            ComparisonOperator: 'GREATER_THAN',
            Threshold: 80,
            ThresholdType: 'PERCENTAGE',
          },
          Subscribers: subscribers,
        },
        {
          Notification: {
            NotificationType: 'FORECASTED',
            ComparisonOperator: 'GREATER_THAN',
            Threshold: 100,
            ThresholdType: 'PERCENTAGE',
          },
          Subscribers: subscribers,
        },
      ],
    });
  });

  test("staging's budget counts staging's costs only, not the account's", () => {
    stagingTemplate.hasResourceProperties('AWS::Budgets::Budget', {
      Budget: Match.objectLike({
        BudgetName: 'v1-orcha-staging-monthly',
        BudgetLimit: { Amount: 150, Unit: 'USD' },
        CostFilters: { TagKeyValue: ['user:Environment$staging'] },
      }),
    });
  });

  test('the filter is the tag every resource of the environment carries', () => {
    // The tag the stage puts on every resource (checked on every resource in orcha-stage.test.ts).
    const tags = prodTemplate.findResources('AWS::SNS::Topic');
    expect(JSON.stringify(tags)).toContain('{"Key":"Environment","Value":"prod"}');
  });

  test('no direct e-mail subscriber: every alert arrives once, through the topic', () => {
    for (const template of [prodTemplate, stagingTemplate]) {
      const [[, budget]] = resourcesOf(template, 'AWS::Budgets::Budget');
      const subscribers = (
        budget.NotificationsWithSubscribers as { Subscribers: { SubscriptionType: string }[] }[]
      ).flatMap((n) => n.Subscribers.map((sub) => sub.SubscriptionType));
      expect(subscribers).toEqual(['SNS', 'SNS']);
    }
  });

  test('created after the topic policy that lets Budgets publish', () => {
    const [[, budget]] = Object.entries(prodTemplate.findResources('AWS::Budgets::Budget'));
    const [policyId] = Object.keys(prodTemplate.findResources('AWS::SNS::TopicPolicy'));
    expect((budget as { DependsOn: string[] }).DependsOn).toContain(policyId);
  });
});

describe('OpsStack (prod): application pipeline', () => {
  const pipeline = () => {
    const found = resourcesOf(prodTemplate, 'AWS::CodePipeline::Pipeline');
    expect(found).toHaveLength(1);
    return found[0][1] as {
      Name: string;
      PipelineType: string;
      ArtifactStore: { Type: string; Location: unknown };
      Stages: {
        Name: string;
        Actions: {
          Name: string;
          ActionTypeId: { Category: string; Provider: string; Owner: string };
          Configuration: Record<string, unknown>;
          RoleArn: unknown;
        }[];
      }[];
    };
  };

  test('v1-orcha-deploy, V2, artifacts in the pipeline-artifacts bucket', () => {
    const p = pipeline();
    expect(p.Name).toBe('v1-orcha-deploy');
    expect(p.PipelineType).toBe('V2');
    expect(p.ArtifactStore.Type).toBe('S3');
    // FoundationStack's bucket, by its physical name (no cross-stack output).
    expect(p.ArtifactStore.Location).toBe('v1-orcha-pipeline-artifacts-700558745280');
    Template.fromStack(prod.foundation).hasResourceProperties('AWS::S3::Bucket', {
      BucketName: 'v1-orcha-pipeline-artifacts-700558745280',
    });
    // No pipeline-owned bucket or key.
    prodTemplate.resourceCountIs('AWS::S3::Bucket', 0);
    prodTemplate.resourceCountIs('AWS::KMS::Key', 1);
  });

  test('stages in order: Source (GitHub) → Build (CodeBuild) → MigrationTest (CodeBuild) → Approve (manual) → Deploy (CodeDeploy) → Record (tag the deployed image)', () => {
    const stages = pipeline().Stages.map((s) => [
      s.Name,
      s.Actions.map((a) => `${a.ActionTypeId.Category}/${a.ActionTypeId.Provider}`),
    ]);
    expect(stages).toEqual([
      ['Source', ['Source/CodeStarSourceConnection']],
      ['Build', ['Build/CodeBuild']],
      ['MigrationTest', ['Build/CodeBuild']],
      ['Approve', ['Approval/Manual']],
      ['Deploy', ['Deploy/CodeDeploy']],
      ['Record', ['Build/CodeBuild']],
    ]);
  });

  test('source: getorcha/orcha, master, on push, through the connection created here', () => {
    const [source] = pipeline().Stages[0].Actions;
    const [connectionId] = Object.keys(prodTemplate.findResources('AWS::CodeConnections::Connection'));
    expect(source.Configuration).toEqual({
      ConnectionArn: { 'Fn::GetAtt': [connectionId, 'ConnectionArn'] },
      FullRepositoryId: 'getorcha/orcha',
      BranchName: 'master',
      DetectChanges: true,
    });
    prodTemplate.hasResourceProperties('AWS::CodeConnections::Connection', {
      ConnectionName: 'v1-orcha-app-github',
      ProviderType: 'GitHub',
    });
  });

  test('the new connection is announced: its ARN and the console page that completes it', () => {
    const outputs = prodTemplate.toJSON().Outputs as Record<string, { Value: unknown }>;
    const [connectionId] = Object.keys(prodTemplate.findResources('AWS::CodeConnections::Connection'));
    const values = Object.values(outputs).map((o) => o.Value);
    expect(values).toContainEqual({ 'Fn::GetAtt': [connectionId, 'ConnectionArn'] });
    expect(values).toContainEqual(
      'https://eu-central-1.console.aws.amazon.com/codesuite/settings/connections?region=eu-central-1',
    );
  });

  test('the source role may use the connection with the codeconnections prefix its ARN has', () => {
    const [source] = pipeline().Stages[0].Actions;
    const roleId = (source.RoleArn as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
    const [connectionId] = Object.keys(prodTemplate.findResources('AWS::CodeConnections::Connection'));
    prodTemplate.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: roleId }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: Match.arrayWith(['codeconnections:UseConnection']),
            Resource: { 'Fn::GetAtt': [connectionId, 'ConnectionArn'] },
          }),
        ]),
      },
    });
  });

  test('build: v1-orcha-build, ARM image amazonlinux2-aarch64-standard:3.0, privileged, env vars, log group', () => {
    const [, project] = resourcesOf(prodTemplate, 'AWS::CodeBuild::Project').find(
      ([, p]) => p.Name === 'v1-orcha-build',
    )!;
    expect(project).toMatchObject({
      Name: 'v1-orcha-build',
      Environment: {
        Type: 'ARM_CONTAINER',
        Image: 'aws/codebuild/amazonlinux2-aarch64-standard:3.0',
        ComputeType: 'BUILD_GENERAL1_SMALL',
        PrivilegedMode: true,
      },
      Source: { Type: 'CODEPIPELINE' },
      TimeoutInMinutes: 30,
    });
    const env = (project.Environment as { EnvironmentVariables: { Name: string; Value: unknown }[] })
      .EnvironmentVariables;
    expect(env.map((v) => v.Name).sort()).toEqual(['AWS_ACCOUNT_ID', 'IMAGE_REPO_NAME', 'REPOSITORY_URI']);
    const value = (name: string) => env.find((v) => v.Name === name)?.Value;
    expect(value('AWS_ACCOUNT_ID')).toBe('700558745280');
    const f = prod.foundation;
    expect(outputNames(value('IMAGE_REPO_NAME'))).toEqual([exportOf(f, f.repository.repositoryName)]);
    // Built from the repository's account, region and name, not by splitting its ARN.
    expect(value('REPOSITORY_URI')).toEqual({
      'Fn::Join': [
        '',
        [
          '700558745280.dkr.ecr.eu-central-1.',
          { Ref: 'AWS::URLSuffix' },
          '/',
          {
            'Fn::GetStackOutput': expect.objectContaining({
              OutputName: exportOf(f, f.repository.repositoryName),
            }) as unknown,
          },
        ],
      ],
    });
    const logs = project.LogsConfig as { CloudWatchLogs: { Status: string; GroupName: unknown } };
    expect(logs.CloudWatchLogs.Status).toBe('ENABLED');
    expect(outputNames(logs.CloudWatchLogs.GroupName)).toEqual([
      exportOf(f, f.codeBuildLogGroup.logGroupName),
    ]);
  });

  test('buildspec: tests, image tagged with the commit and latest, pushed, CodeDeploy bundle as output', () => {
    const [, project] = resourcesOf(prodTemplate, 'AWS::CodeBuild::Project').find(
      ([, p]) => p.Name === 'v1-orcha-build',
    )!;
    const spec = JSON.parse((project.Source as { BuildSpec: string }).BuildSpec) as {
      phases: Record<string, { 'on-failure': string; commands: string[] }>;
      artifacts: { files: string[] };
    };
    const commands = Object.values(spec.phases).flatMap((p) => p.commands);
    const index = (pattern: RegExp) => commands.findIndex((c) => pattern.test(c));
    const login = index(/docker login --username AWS --password-stdin/);
    const test = index(/^docker build --target test /);
    const build = index(
      /^docker build --tag "\$REPOSITORY_URI:\$IMAGE_TAG" --tag "\$REPOSITORY_URI:latest" \.$/,
    );
    const pushSha = index(/^docker push "\$REPOSITORY_URI:\$IMAGE_TAG"$/);
    const pushLatest = index(/^docker push "\$REPOSITORY_URI:latest"$/);
    for (const i of [login, test, build, pushSha, pushLatest]) expect(i).toBeGreaterThanOrEqual(0);
    expect(login).toBeLessThan(test);
    expect(test).toBeLessThan(build);
    expect(build).toBeLessThan(pushSha);
    // Exported: the app pipeline's migration test runs exactly this tag (#{Build.IMAGE_TAG}).
    expect(commands).toContain('export IMAGE_TAG="${COMMIT_ID:-$CODEBUILD_RESOLVED_SOURCE_VERSION}"');
    // A failing phase stops the build: nothing is pushed after a failed test.
    for (const phase of Object.values(spec.phases)) expect(phase['on-failure']).toBe('ABORT');
    expect(spec.artifacts.files).toEqual(['appspec.yml', 'scripts/**/*', 'image.env']);
  });

  test('the build action passes the commit id and outputs the bundle the deploy action consumes', () => {
    const p = pipeline();
    const build = p.Stages.find((s) => s.Name === 'Build')!.Actions[0] as unknown as {
      Configuration: { EnvironmentVariables: string };
      OutputArtifacts: { Name: string }[];
    };
    expect(JSON.parse(build.Configuration.EnvironmentVariables)).toEqual([
      { name: 'COMMIT_ID', type: 'PLAINTEXT', value: '#{Source.CommitId}' },
    ]);
    const deploy = p.Stages.find((s) => s.Name === 'Deploy')!.Actions[0] as unknown as {
      InputArtifacts: { Name: string }[];
    };
    expect(deploy.InputArtifacts).toEqual(build.OutputArtifacts);
  });

  test('build role: push and pull on the repository only, plus ecr:GetAuthorizationToken', () => {
    const f = prod.foundation;
    // The application pipeline's policies (the migration test's pull is asserted in its own tests).
    const policies = resourcesOf(prodTemplate, 'AWS::IAM::Policy')
      .filter(([id]) => !id.startsWith('MigrationTest'))
      .map(
        ([, p]) =>
          (p.PolicyDocument as { Statement: { Action: string | string[]; Resource: unknown }[] }).Statement,
      );
    const ecrStatements = policies
      .flat()
      .filter((s) => [s.Action].flat().some((a) => a.startsWith('ecr:')))
      .filter((s) => (s as { Sid?: string }).Sid !== 'TagDeployedImage');
    expect(ecrStatements).toHaveLength(2);
    const push = ecrStatements.find((s) => [s.Action].flat().includes('ecr:PutImage'));
    expect(outputNames(push?.Resource)).toEqual([exportOf(f, f.repository.repositoryArn)]);
    expect([push?.Action].flat()).toEqual(
      expect.arrayContaining([
        'ecr:PutImage',
        'ecr:InitiateLayerUpload',
        'ecr:UploadLayerPart',
        'ecr:BatchGetImage',
      ]),
    );
    const token = ecrStatements.find((s) => s.Action === 'ecr:GetAuthorizationToken');
    expect(token?.Resource).toBe('*');
  });

  test('approval: manual, notified through the alerts topic', () => {
    const [approve] = pipeline().Stages.find((s) => s.Name === 'Approve')!.Actions;
    expect(approve.Name).toBe('Approve');
    expect(approve.Configuration.NotificationArn).toEqual(topic());
    expect(approve.Configuration.CustomData).toMatch(/#\{Source\.CommitId\}/);
  });

  test('deploy: CodeDeploy v1-orcha / v1-orcha-production, ASG, AllAtOnce, rollback on failure and stop', () => {
    const [deploy] = pipeline().Stages.find((s) => s.Name === 'Deploy')!.Actions;
    const [appId] = Object.keys(prodTemplate.findResources('AWS::CodeDeploy::Application'));
    const [groupId] = Object.keys(prodTemplate.findResources('AWS::CodeDeploy::DeploymentGroup'));
    expect(deploy.Configuration).toEqual({
      ApplicationName: { Ref: appId },
      DeploymentGroupName: { Ref: groupId },
    });
    prodTemplate.hasResourceProperties('AWS::CodeDeploy::Application', {
      ApplicationName: 'v1-orcha',
      ComputePlatform: 'Server',
    });
    const [[, group]] = resourcesOf(prodTemplate, 'AWS::CodeDeploy::DeploymentGroup');
    expect(group).toMatchObject({
      DeploymentGroupName: 'v1-orcha-production',
      DeploymentConfigName: 'CodeDeployDefault.AllAtOnce',
      AutoRollbackConfiguration: {
        Enabled: true,
        Events: ['DEPLOYMENT_FAILURE', 'DEPLOYMENT_STOP_ON_REQUEST'],
      },
    });
    const c = prod.compute;
    expect(outputNames(group.AutoScalingGroups)).toEqual([
      exportOf(c, c.autoScalingGroup.autoScalingGroupName),
    ]);
  });

  test('the instances may read the deployment bundle; no agent installer user data is added', () => {
    const compute = Template.fromStack(prod.compute);
    const bucketArn = 'arn:aws:s3:::v1-orcha-pipeline-artifacts-700558745280';
    const statements = resourcesOf(compute, 'AWS::IAM::Policy').flatMap(
      ([, p]) => (p.PolicyDocument as { Statement: { Action: string[]; Resource: unknown }[] }).Statement,
    );
    // The deploy action's grant: explicit read actions (no s3:GetObject*, s3:List* groups).
    expect(statements).toContainEqual({
      Effect: 'Allow',
      Action: ['s3:GetObject', 's3:GetObjectVersion'],
      Resource: `${bucketArn}/*`,
    });
    expect(statements).toContainEqual({
      Effect: 'Allow',
      Action: ['s3:GetBucketAcl', 's3:GetBucketLocation', 's3:GetBucketVersioning', 's3:ListBucket'],
      Resource: bucketArn,
    });
    // installAgent: false — the only agent installer is the boot script's own.
    expect(JSON.stringify(compute.toJSON()).match(/aws-codedeploy-/g)).toHaveLength(1);
  });
});

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

describe('OpsStack: who is notified, per environment (docs/runbooks/alarms.md)', () => {
  type Behaviour = 'pages' | 'mails' | 'silent';
  /** What an alarm of a synthesized template does: notify on ALARM and OK, ALARM only, or nobody. */
  const behaviours = (template: Template, env: string): Record<string, [string, Behaviour]> => {
    const topicRef = JSON.stringify({ Ref: logicalId((env === 'prod' ? prod : staging).ops.alertsTopic) });
    const prefix = env === 'prod' ? 'v1-orcha-' : `v1-orcha-${env}-`;
    return Object.fromEntries(
      resourcesOf(template, 'AWS::CloudWatch::Alarm').map(([, p]) => {
        const severity = /^\[(\w+)\]/.exec(p.AlarmDescription as string)![1];
        const onAlarm = JSON.stringify(p.AlarmActions) === `[${topicRef}]`;
        const onOk = JSON.stringify(p.OKActions ?? []) === `[${topicRef}]`;
        expect(onAlarm).toBe(true); // the action stays attached: paging is one switch
        const behaviour: Behaviour = p.ActionsEnabled === false ? 'silent' : onOk ? 'pages' : 'mails';
        return [(p.AlarmName as string).slice(prefix.length), [severity, behaviour]];
      }),
    );
  };
  /** The table of the runbook: alarm → severity and one cell per environment column. */
  const table = () => {
    const doc = readFileSync(projectPath('docs', 'runbooks', 'alarms.md'), 'utf8');
    const section = doc.split('## Who is notified, per environment')[1].split('\n## ')[0];
    const rows = section
      .split('\n')
      .filter((l) => l.startsWith('|'))
      .map((l) =>
        l
          .split('|')
          .slice(1, -1)
          .map((c) => c.trim().replace(/`/g, '')),
      );
    const [header, , ...body] = rows;
    return { columns: header.slice(2), rows: body };
  };

  test('the table lists every alarm with its severity, and every environment', () => {
    const { columns, rows } = table();
    expect([...columns].sort()).toEqual([...environmentNames()].sort());
    expect(rows.map((r) => r[0]).sort()).toEqual([...ALARM_KEYS].sort());
    const synthesized = behaviours(prodTemplate, 'prod');
    for (const [key, severity] of rows) expect(synthesized[key][0]).toBe(severity);
  });

  test('prod and staging alarms do what the table says', () => {
    const { columns, rows } = table();
    for (const [env, template] of [
      ['prod', prodTemplate],
      ['staging', stagingTemplate],
    ] as const) {
      const synthesized = behaviours(template, env);
      const column = columns.indexOf(env) + 2;
      for (const row of rows) expect([row[0], synthesized[row[0]][1]]).toEqual([row[0], row[column]]);
    }
  });

  test('every column follows its configuration: critical alarms page only where pageOnCriticalAlarms', () => {
    const { columns, rows } = table();
    for (const env of columns) {
      const pages = loadEnvironment(env).monitoring.pageOnCriticalAlarms;
      const column = columns.indexOf(env) + 2;
      for (const [key, severity, ...cells] of rows) {
        const expected = severity === 'critical' ? (pages ? 'pages' : 'silent') : 'mails';
        expect([env, key, cells[column - 2]]).toEqual([env, key, expected]);
      }
    }
    expect(loadEnvironment('prod').monitoring.pageOnCriticalAlarms).toBe(true);
    expect(loadEnvironment('staging').monitoring.pageOnCriticalAlarms).toBe(false);
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

  test('no approval stage (requireApproval false)', () => {
    const [[, p]] = resourcesOf(stagingTemplate, 'AWS::CodePipeline::Pipeline');
    expect((p.Stages as { Name: string }[]).map((s) => s.Name)).toEqual([
      'Source',
      'Build',
      'Deploy',
      'Record',
    ]);
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
