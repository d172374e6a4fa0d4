import { Match, Template } from 'aws-cdk-lib/assertions';
import { ACCESS_LOGS_NONCURRENT_DAYS } from '../../lib/stacks/foundation-stack';
import { buildStages, logicalId, resourcesOf, subnetsOf } from '../helpers';
import { evaluate, roleStatements } from '../helpers/iam-evaluation';

const stages = buildStages('prod', 'staging');
const prod = Template.fromStack(stages.prod.foundation);
const staging = Template.fromStack(stages.staging.foundation);

describe('FoundationStack (prod)', () => {
  test('VPC 10.0.0.0/16 over eu-central-1a and eu-central-1b', () => {
    prod.hasResourceProperties('AWS::EC2::VPC', {
      CidrBlock: '10.0.0.0/16',
      Tags: Match.arrayWith([{ Key: 'Name', Value: 'v1-orcha-vpc' }]),
    });
    const azs = resourcesOf(prod, 'AWS::EC2::Subnet').map(([, p]) => p.AvailabilityZone);
    expect(new Set(azs)).toEqual(new Set(['eu-central-1a', 'eu-central-1b']));
  });

  test('public subnets (EC2, ALB) and private subnets (RDS) in each AZ; build subnets for the migration test', () => {
    const byType = (group: string) => subnetsOf(prod, group);
    expect(byType('public')).toHaveLength(2);
    expect(byType('private')).toHaveLength(2);
    expect(byType('build')).toHaveLength(2);
    for (const [, p] of byType('public')) expect(p.MapPublicIpOnLaunch).toBe(true);
    for (const [, p] of byType('private')) expect(p.MapPublicIpOnLaunch).toBe(false);
  });

  test("the NAT instance's role reads no environment's settings (Session Manager's policy allows all)", () => {
    const natRoles = resourcesOf(prod, 'AWS::IAM::Role').filter(([, p]) =>
      JSON.stringify(p.ManagedPolicyArns ?? []).includes('AmazonSSMManagedInstanceCore'),
    );
    expect(natRoles).toHaveLength(1);
    const statements = roleStatements(prod.toJSON(), natRoles[0][0], {
      partition: 'aws',
      region: 'eu-central-1',
      account: '700558745280',
    });
    const parameter = (name: string) => `arn:aws:ssm:eu-central-1:700558745280:parameter/${name}`;
    for (const name of ['v1-orcha/SECRET_KEY', 'v1-orcha-staging/SECRET_KEY', 'v1-orcha', 'anything']) {
      for (const action of ['ssm:GetParameter', 'ssm:GetParameters', 'ssm:GetParametersByPath'])
        expect([action, name, evaluate(statements, action, parameter(name))]).toEqual([
          action,
          name,
          'explicit-deny',
        ]);
    }
    expect(evaluate(statements, 'ssm:UpdateInstanceInformation', '*')).toBe('allow');
  });

  test('no NAT gateway; the only NAT is one t4g.nano instance for the migration test', () => {
    prod.resourceCountIs('AWS::EC2::NatGateway', 0);
    const instances = resourcesOf(prod, 'AWS::EC2::Instance');
    expect(instances).toHaveLength(1);
    expect(instances[0][1]).toMatchObject({ InstanceType: 't4g.nano', SourceDestCheck: false });
    // The private (RDS) subnets have no default route at all.
    const routes = resourcesOf(prod, 'AWS::EC2::Route').map(([id]) => id);
    expect(routes.filter((id) => id.includes('private'))).toEqual([]);
  });

  test('free S3 gateway endpoint', () => {
    prod.hasResourceProperties('AWS::EC2::VPCEndpoint', {
      VpcEndpointType: 'Gateway',
      ServiceName: Match.objectLike({ 'Fn::Join': Match.arrayWith([Match.arrayWith(['.s3'])]) }),
    });
  });

  test('rejected traffic is logged (flow logs)', () => {
    prod.hasResourceProperties('AWS::EC2::FlowLog', {
      TrafficType: 'REJECT',
      LogDestinationType: 'cloud-watch-logs',
    });
  });

  const sgId = (name: string) => {
    const found = resourcesOf(prod, 'AWS::EC2::SecurityGroup').find(([, p]) => p.GroupName === name);
    if (!found) throw new Error(`no security group ${name}`);
    return found[0];
  };

  test('v1-orcha-alb-sg: 80 and 443 from the internet, IPv4 and IPv6; out only to the instances', () => {
    const alb = resourcesOf(prod, 'AWS::EC2::SecurityGroup').find(
      ([, p]) => p.GroupName === 'v1-orcha-alb-sg',
    )![1];
    const ingress = (alb.SecurityGroupIngress as Record<string, unknown>[]).map((r) => [
      r.CidrIp ?? r.CidrIpv6,
      r.FromPort,
      r.ToPort,
    ]);
    expect(ingress).toEqual(
      expect.arrayContaining([
        ['0.0.0.0/0', 80, 80],
        ['::/0', 80, 80],
        ['0.0.0.0/0', 443, 443],
        ['::/0', 443, 443],
      ]),
    );
    expect(ingress).toHaveLength(4);
    prod.hasResourceProperties('AWS::EC2::SecurityGroupEgress', {
      GroupId: { 'Fn::GetAtt': [sgId('v1-orcha-alb-sg'), 'GroupId'] },
      DestinationSecurityGroupId: { 'Fn::GetAtt': [sgId('v1-orcha-ec2-sg'), 'GroupId'] },
      FromPort: 8888,
      ToPort: 8888,
    });
  });

  test('v1-orcha-ec2-sg: 8888 from the ALB security group only', () => {
    const rules = resourcesOf(prod, 'AWS::EC2::SecurityGroupIngress').filter(
      ([, p]) =>
        JSON.stringify(p.GroupId) === JSON.stringify({ 'Fn::GetAtt': [sgId('v1-orcha-ec2-sg'), 'GroupId'] }),
    );
    expect(rules.map(([, p]) => [p.SourceSecurityGroupId, p.FromPort, p.ToPort])).toEqual([
      [{ 'Fn::GetAtt': [sgId('v1-orcha-alb-sg'), 'GroupId'] }, 8888, 8888],
    ]);
    const ec2 = resourcesOf(prod, 'AWS::EC2::SecurityGroup').find(
      ([, p]) => p.GroupName === 'v1-orcha-ec2-sg',
    )![1];
    expect(ec2.SecurityGroupIngress).toBeUndefined();
  });

  test('v1-orcha-rds-sg: 5432 from the EC2, CodeBuild and rotation security groups only, no outbound', () => {
    const rules = resourcesOf(prod, 'AWS::EC2::SecurityGroupIngress').filter(
      ([, p]) =>
        JSON.stringify(p.GroupId) === JSON.stringify({ 'Fn::GetAtt': [sgId('v1-orcha-rds-sg'), 'GroupId'] }),
    );
    expect(rules.map(([, p]) => [p.SourceSecurityGroupId, p.FromPort, p.ToPort]).sort()).toEqual(
      [
        [{ 'Fn::GetAtt': [sgId('v1-orcha-ec2-sg'), 'GroupId'] }, 5432, 5432],
        [{ 'Fn::GetAtt': [sgId('v1-orcha-codebuild-sg'), 'GroupId'] }, 5432, 5432],
        [{ 'Fn::GetAtt': [sgId('v1-orcha-rotation-sg'), 'GroupId'] }, 5432, 5432],
      ].sort(),
    );
    const rds = resourcesOf(prod, 'AWS::EC2::SecurityGroup').find(
      ([, p]) => p.GroupName === 'v1-orcha-rds-sg',
    )![1];
    expect(rds.SecurityGroupIngress).toBeUndefined();
    // allowAllOutbound: false renders a rule that matches nothing.
    expect(rds.SecurityGroupEgress).toEqual([expect.objectContaining({ CidrIp: '255.255.255.255/32' })]);
  });

  test('v1-orcha-codebuild-sg: no inbound, outbound only', () => {
    const cb = resourcesOf(prod, 'AWS::EC2::SecurityGroup').find(
      ([, p]) => p.GroupName === 'v1-orcha-codebuild-sg',
    )![1];
    expect(cb.SecurityGroupIngress).toBeUndefined();
    expect(cb.SecurityGroupEgress).toEqual([
      expect.objectContaining({ CidrIp: '0.0.0.0/0', IpProtocol: '-1' }),
    ]);
    const inbound = resourcesOf(prod, 'AWS::EC2::SecurityGroupIngress').filter(
      ([, p]) =>
        JSON.stringify(p.GroupId) ===
        JSON.stringify({ 'Fn::GetAtt': [sgId('v1-orcha-codebuild-sg'), 'GroupId'] }),
    );
    expect(inbound).toEqual([]);
  });

  test('documents bucket: named, private, encrypted, TLS-only, versioned, retained, access-logged', () => {
    prod.hasResource('AWS::S3::Bucket', {
      Properties: Match.objectLike({
        BucketName: 'v1-orcha-global-storage-700558745280',
        VersioningConfiguration: { Status: 'Enabled' },
        BucketEncryption: {
          ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
        },
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: true,
          BlockPublicPolicy: true,
          IgnorePublicAcls: true,
          RestrictPublicBuckets: true,
        },
        LoggingConfiguration: Match.objectLike({ LogFilePrefix: 'documents/' }),
      }),
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    });
    const documents = logicalId(stages.prod.foundation.documentsBucket);
    prod.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: documents },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Action: 's3:*',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        ]),
      },
    });
  });

  test('pipeline artifacts bucket: current revisions never expire (CodeDeploy redeploys the last one to new instances)', () => {
    const [, bucket] = resourcesOf(prod, 'AWS::S3::Bucket').find(
      ([, p]) => p.BucketName === 'v1-orcha-pipeline-artifacts-700558745280',
    )!;
    const rules = (bucket.LifecycleConfiguration as { Rules: Record<string, unknown>[] }).Rules;
    expect(rules.length).toBeGreaterThan(0);
    for (const rule of rules) expect(rule.ExpirationInDays).toBeUndefined();
    expect(rules).toContainEqual(
      expect.objectContaining({ NoncurrentVersionExpiration: { NoncurrentDays: 7 } }),
    );
  });

  test('access-logs bucket: versioned (audit records), deleted or overwritten logs recoverable for 30 days', () => {
    const [, bucket] = resourcesOf(prod, 'AWS::S3::Bucket').find(
      ([, p]) => p.BucketName === 'v1-orcha-access-logs-700558745280',
    )!;
    expect(bucket.VersioningConfiguration).toEqual({ Status: 'Enabled' });
    expect((bucket.LifecycleConfiguration as { Rules: unknown[] }).Rules).toEqual([
      expect.objectContaining({
        ExpirationInDays: 365,
        NoncurrentVersionExpiration: { NoncurrentDays: ACCESS_LOGS_NONCURRENT_DAYS },
      }),
    ]);
  });

  test('pipeline artifacts bucket: named, private, encrypted, TLS-only', () => {
    prod.hasResource('AWS::S3::Bucket', {
      Properties: Match.objectLike({
        BucketName: 'v1-orcha-pipeline-artifacts-700558745280',
        BucketEncryption: Match.anyValue(),
        PublicAccessBlockConfiguration: Match.objectLike({
          BlockPublicAcls: true,
          RestrictPublicBuckets: true,
        }),
      }),
      DeletionPolicy: 'Retain',
    });
  });

  test("ECR v1-orcha: the deployed images first (never expired by the count of pushes), then the last 10 pushes (ECR retention 10, prod's choice)", () => {
    prod.hasResource('AWS::ECR::Repository', {
      Properties: Match.objectLike({
        RepositoryName: 'v1-orcha',
        ImageScanningConfiguration: { ScanOnPush: true },
        LifecyclePolicy: {
          LifecyclePolicyText: Match.serializedJson({
            rules: [
              {
                rulePriority: 1,
                description: Match.stringLikeRegexp('deployed-prod-'),
                selection: {
                  tagStatus: 'tagged',
                  tagPrefixList: ['deployed-prod-'],
                  countType: 'imageCountMoreThan',
                  countNumber: 5,
                },
                action: { type: 'expire' },
              },
              {
                rulePriority: 2,
                description: Match.anyValue(),
                selection: { tagStatus: 'any', countType: 'imageCountMoreThan', countNumber: 10 },
                action: { type: 'expire' },
              },
            ],
          }),
        },
      }),
      DeletionPolicy: 'Retain',
    });
    // Stateful: the repository keeps its logical id.
    expect(Object.keys(prod.findResources('AWS::ECR::Repository'))).toEqual([
      expect.stringMatching(/^Repository22E53BBD$/),
    ]);
  });

  test.each([
    ['v1-orcha-global-ingest', 600, 'v1-orcha-global-ingest-dlq'],
    ['v1-orcha-global-email-acquire', 300, 'v1-orcha-global-email-acquire-dlq'],
  ])('queue %s: visibility %ss, DLQ %s with 14 days retention', (name, visibility, dlq) => {
    const dlqId = resourcesOf(prod, 'AWS::SQS::Queue').find(([, p]) => p.QueueName === dlq)![0];
    prod.hasResource('AWS::SQS::Queue', {
      Properties: Match.objectLike({
        QueueName: dlq,
        MessageRetentionPeriod: 14 * 24 * 3600,
        SqsManagedSseEnabled: true,
      }),
      DeletionPolicy: 'Retain',
    });
    prod.hasResource('AWS::SQS::Queue', {
      Properties: Match.objectLike({
        QueueName: name,
        VisibilityTimeout: visibility,
        SqsManagedSseEnabled: true,
        RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [dlqId, 'Arn'] }, maxReceiveCount: 3 },
      }),
      DeletionPolicy: 'Retain',
    });
  });

  test('queues refuse plain HTTP', () => {
    expect(resourcesOf(prod, 'AWS::SQS::QueuePolicy')).toHaveLength(4);
    for (const [, p] of resourcesOf(prod, 'AWS::SQS::QueuePolicy')) {
      expect(JSON.stringify(p.PolicyDocument)).toContain('"aws:SecureTransport":"false"');
    }
  });

  test('hosted zone prod.getorcha.com, retained, its id and name servers as outputs for the delegation', () => {
    prod.hasResource('AWS::Route53::HostedZone', {
      Properties: Match.objectLike({ Name: 'prod.getorcha.com.' }),
      DeletionPolicy: 'Retain',
    });
    const zone = logicalId(stages.prod.foundation.hostedZone);
    prod.hasOutput('HostedZoneId', { Value: { Ref: zone } });
    prod.hasOutput('HostedZoneNameServers', {
      Value: { 'Fn::Join': [',', { 'Fn::GetAtt': [zone, 'NameServers'] }] },
    });
  });

  test.each([
    '/v1-orcha/application',
    '/v1-orcha/user-data',
    '/v1-orcha/codebuild',
    '/v1-orcha/ssm-sessions',
  ])('log group %s keeps 30 days', (name) => {
    prod.hasResourceProperties('AWS::Logs::LogGroup', { LogGroupName: name, RetentionInDays: 30 });
  });

  test("the account's session log group: prod owns it (same id and name as before), staging has none", () => {
    expect(logicalId(stages.prod.foundation.ssmSessionsLogGroup!)).toBe('SsmSessionsLogGroup2BAA77B5');
    const names = (t: Template) =>
      Object.values(t.findResources('AWS::Logs::LogGroup')).map(
        (r) => (r as { Properties: { LogGroupName: string } }).Properties.LogGroupName,
      );
    expect(names(prod)).toContain('/v1-orcha/ssm-sessions');
    expect(JSON.stringify(names(staging))).not.toContain('ssm-sessions');
    expect(stages.staging.foundation.ssmSessionsLogGroup).toBeUndefined();
  });

  test('logical ids of stateful resources never change', () => {
    const f = stages.prod.foundation;
    expect({
      documentsBucket: logicalId(f.documentsBucket),
      pipelineArtifactsBucket: logicalId(f.pipelineArtifactsBucket),
      accessLogsBucket: logicalId(f.accessLogsBucket),
      repository: logicalId(f.repository),
      ingestQueue: logicalId(f.ingest.queue),
      ingestDlq: logicalId(f.ingest.deadLetterQueue),
      emailAcquireQueue: logicalId(f.emailAcquire.queue),
      emailAcquireDlq: logicalId(f.emailAcquire.deadLetterQueue),
      hostedZone: logicalId(f.hostedZone),
    }).toEqual({
      documentsBucket: 'DocumentsBucket9EC9DEB9',
      pipelineArtifactsBucket: 'PipelineArtifactsBucketC4BB9BE3',
      accessLogsBucket: 'AccessLogsBucket83982689',
      repository: 'Repository22E53BBD',
      ingestQueue: 'IngestQueue2280FF4E',
      ingestDlq: 'IngestDlqAD9CBE6D',
      emailAcquireQueue: 'EmailAcquireQueue3743116C',
      emailAcquireDlq: 'EmailAcquireDlq8D6FB6D1',
      hostedZone: 'HostedZoneDB99F866',
    });
  });
});

describe('FoundationStack (staging)', () => {
  test('its own CIDR, zone and names: nothing collides with prod', () => {
    staging.hasResourceProperties('AWS::EC2::VPC', { CidrBlock: '10.1.0.0/16' });
    staging.hasResourceProperties('AWS::Route53::HostedZone', { Name: 'staging.getorcha.com.' });
    staging.hasResourceProperties('AWS::S3::Bucket', {
      BucketName: 'v1-orcha-staging-global-storage-700558745280',
    });
    staging.hasResourceProperties('AWS::ECR::Repository', { RepositoryName: 'v1-orcha-staging' });
    staging.hasResourceProperties('AWS::SQS::Queue', { QueueName: 'v1-orcha-staging-global-ingest' });
    staging.hasResourceProperties('AWS::EC2::SecurityGroup', { GroupName: 'v1-orcha-staging-rds-sg' });
    staging.hasResourceProperties('AWS::Logs::LogGroup', { LogGroupName: '/v1-orcha-staging/application' });
  });

  test('no migration test in staging: no NAT instance, no build subnets', () => {
    staging.resourceCountIs('AWS::EC2::Instance', 0);
    staging.resourceCountIs('AWS::EC2::NatGateway', 0);
    staging.resourceCountIs('AWS::EC2::Subnet', 4);
  });
});
