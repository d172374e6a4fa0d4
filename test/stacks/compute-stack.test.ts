import * as zlib from 'node:zlib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { Naming } from '../../lib/config/naming';
import { USER_DATA_LIMIT_BYTES } from '../../lib/constructs/app-instance-boot';
import { nagFindings } from '../../lib/nag';
import type { OrchaStage } from '../../lib/stages/orcha-stage';
import { buildStages, logicalId } from '../helpers';
import {
  evaluate,
  roleStatements as evaluableRoleStatements,
  type Decision,
  type Statement,
} from '../helpers/iam-evaluation';

/** The launch template's user data with every CloudFormation reference replaced by `<ref>`. */
export function userDataOf(template: Template): string {
  const [lt] = Object.values(template.findResources('AWS::EC2::LaunchTemplate')) as {
    Properties: { LaunchTemplateData: { UserData: { 'Fn::Base64': unknown } } };
  }[];
  const body = lt.Properties.LaunchTemplateData.UserData['Fn::Base64'];
  if (typeof body === 'string') return body;
  const parts = (body as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1];
  return parts.map((p) => (typeof p === 'string' ? p : '<ref>')).join('');
}

/** The user data with its gzipped files decoded in place (what the instance writes). */
function expandedUserDataOf(template: Template): string {
  return userDataOf(template).replace(
    /(base64 -d <<'ORCHA_EOF' \| gunzip > \S+\n)([A-Za-z0-9+/=\n]+?)\nORCHA_EOF\n/g,
    (_m, head: string, blob: string) =>
      `${head}${zlib.gunzipSync(Buffer.from(blob, 'base64')).toString('utf8')}ORCHA_EOF\n`,
  );
}

/** The two public subnets of FoundationStack's VPC. */
const PUBLIC_SUBNETS = ['1', '2'].map((n) =>
  Match.objectLike({
    'Fn::GetStackOutput': Match.objectLike({
      OutputName: Match.stringLikeRegexp(`VpcpublicSubnet${n}Subnet`),
    }),
  }),
);

let prod: OrchaStage;
let staging: OrchaStage;
let t: Template;
let st: Template;

beforeAll(() => {
  ({ prod, staging } = buildStages('prod', 'staging'));
  t = Template.fromStack(prod.compute);
  st = Template.fromStack(staging.compute);
});

/** Statements of the service role's inline policy. */
function roleStatements(template: Template): Record<string, unknown>[] {
  const policies = Object.values(template.findResources('AWS::IAM::Policy')) as {
    Properties: { PolicyDocument: { Statement: Record<string, unknown>[] } };
  }[];
  return policies.flatMap((p) => p.Properties.PolicyDocument.Statement);
}

describe('ComputeStack (prod): load balancer', () => {
  it('is an internet-facing ALB named v1-orcha-alb in the public subnets, protected, logging, dropping bad headers', () => {
    t.resourceCountIs('AWS::ElasticLoadBalancingV2::LoadBalancer', 1);
    t.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', {
      Name: 'v1-orcha-alb',
      Scheme: 'internet-facing',
      Subnets: PUBLIC_SUBNETS,
      SecurityGroups: [Match.objectLike({ 'Fn::GetStackOutput': Match.anyValue() })],
      LoadBalancerAttributes: Match.arrayWith([
        { Key: 'deletion_protection.enabled', Value: 'true' },
        { Key: 'routing.http.drop_invalid_header_fields.enabled', Value: 'true' },
        { Key: 'access_logs.s3.enabled', Value: 'true' },
        { Key: 'access_logs.s3.prefix', Value: 'alb' },
      ]),
    });
  });

  it('listens on 443 with the certificate and a TLS 1.3 policy, forwarding to the target group', () => {
    t.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      Port: 443,
      Protocol: 'HTTPS',
      SslPolicy: 'ELBSecurityPolicy-TLS13-1-2-2021-06',
      Certificates: [{ CertificateArn: { Ref: Match.stringLikeRegexp('^Certificate') } }],
      DefaultActions: [{ Type: 'forward', TargetGroupArn: { Ref: Match.stringLikeRegexp('^TargetGroup') } }],
    });
  });

  it('redirects HTTP 80 permanently to HTTPS 443', () => {
    t.resourceCountIs('AWS::ElasticLoadBalancingV2::Listener', 2);
    t.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      Port: 80,
      Protocol: 'HTTP',
      DefaultActions: [
        { Type: 'redirect', RedirectConfig: { Protocol: 'HTTPS', Port: '443', StatusCode: 'HTTP_301' } },
      ],
    });
  });

  it('targets HTTP 8888 on the instances with the /health check and a 30 s deregistration delay', () => {
    t.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', {
      Name: 'v1-orcha-tg',
      Port: 8888,
      Protocol: 'HTTP',
      TargetType: 'instance',
      HealthCheckPath: '/health',
      HealthCheckProtocol: 'HTTP',
      Matcher: { HttpCode: '200' },
      TargetGroupAttributes: Match.arrayWith([{ Key: 'deregistration_delay.timeout_seconds', Value: '30' }]),
    });
  });

  it('adds no security group rules: both groups are imported immutable from FoundationStack', () => {
    t.resourceCountIs('AWS::EC2::SecurityGroup', 0);
    t.resourceCountIs('AWS::EC2::SecurityGroupIngress', 0);
    t.resourceCountIs('AWS::EC2::SecurityGroupEgress', 0);
    st.resourceCountIs('AWS::EC2::SecurityGroupIngress', 0);
    st.resourceCountIs('AWS::EC2::SecurityGroupEgress', 0);
  });

  it('gives the access-logs bucket the ELB delivery statement for the alb/ prefix', () => {
    const foundation = Template.fromStack(prod.foundation);
    foundation.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: 's3:PutObject',
            Effect: 'Allow',
            Resource: Match.objectLike({
              'Fn::Join': ['', Match.arrayWith(['/alb/AWSLogs/700558745280/*'])],
            }),
          }),
        ]),
      },
    });
  });
});

describe('ComputeStack (prod): certificate and DNS', () => {
  it('requests a DNS-validated certificate for app.prod.getorcha.com in the hosted zone', () => {
    t.resourceCountIs('AWS::CertificateManager::Certificate', 1);
    t.hasResourceProperties('AWS::CertificateManager::Certificate', {
      DomainName: 'app.prod.getorcha.com',
      ValidationMethod: 'DNS',
      DomainValidationOptions: [
        {
          DomainName: 'app.prod.getorcha.com',
          HostedZoneId: Match.objectLike({ 'Fn::GetStackOutput': Match.anyValue() }),
        },
      ],
    });
  });

  it('points the alias A record app.prod.getorcha.com. at the ALB, and no AAAA record (IPv4 ALB)', () => {
    t.resourceCountIs('AWS::Route53::RecordSet', 1);
    t.hasResourceProperties('AWS::Route53::RecordSet', {
      Name: 'app.prod.getorcha.com.',
      Type: 'A',
      AliasTarget: {
        DNSName: {
          'Fn::Join': [
            '',
            ['dualstack.', { 'Fn::GetAtt': [Match.stringLikeRegexp('^LoadBalancer'), 'DNSName'] }],
          ],
        },
        HostedZoneId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^LoadBalancer'), 'CanonicalHostedZoneID'] },
      },
    });
    expect(prod.compute.appUrl).toBe('https://app.prod.getorcha.com');
  });
});

describe('ComputeStack (prod): instances', () => {
  it('launches t4g.medium, the pinned Amazon Linux 2023 ARM64 image, IMDSv2 with hop limit 2, no key pair', () => {
    t.hasResourceProperties('AWS::EC2::LaunchTemplate', {
      LaunchTemplateName: 'v1-orcha-lt',
      LaunchTemplateData: Match.objectLike({
        InstanceType: 't4g.medium',
        // The image id the Foundation stack resolved from the pinned release name, passed whole.
        ImageId: {
          'Fn::GetStackOutput': Match.objectLike({
            StackName: 'v1-orcha-foundation',
            OutputName: Match.stringLikeRegexp('AmiLookup.*Images0ImageId'),
          }),
        },
        MetadataOptions: { HttpTokens: 'required', HttpPutResponseHopLimit: 2 },
        KeyName: Match.absent(),
        Monitoring: { Enabled: true },
        NetworkInterfaces: [
          Match.objectLike({
            AssociatePublicIpAddress: true,
            DeviceIndex: 0,
            Groups: [Match.objectLike({ 'Fn::GetStackOutput': Match.anyValue() })],
          }),
        ],
        BlockDeviceMappings: [
          {
            DeviceName: '/dev/xvda',
            Ebs: { VolumeType: 'gp3', Encrypted: true, VolumeSize: 30, DeleteOnTermination: true },
          },
        ],
      }),
    });
    // No image read from the `latest` SSM parameter: an AWS release does not replace instances.
    const params = (t.toJSON().Parameters ?? {}) as Record<string, { Type: string }>;
    expect(Object.values(params).filter((p) => p.Type.includes('AWS::EC2::Image::Id'))).toEqual([]);
  });

  it('runs an Auto Scaling group v1-orcha-asg of 1 (max 2 for rolling updates) in the public subnets with ELB health checks and a 300 s grace', () => {
    t.hasResourceProperties('AWS::AutoScaling::AutoScalingGroup', {
      AutoScalingGroupName: 'v1-orcha-asg',
      MinSize: '1',
      MaxSize: '2',
      DesiredCapacity: Match.absent(),
      HealthCheckType: 'ELB',
      HealthCheckGracePeriod: 300,
      VPCZoneIdentifier: PUBLIC_SUBNETS,
      TargetGroupARNs: [{ Ref: Match.stringLikeRegexp('^TargetGroup') }],
      MetricsCollection: [{ Granularity: '1Minute' }],
      LaunchTemplate: {
        LaunchTemplateId: { Ref: Match.stringLikeRegexp('^LaunchTemplate') },
        Version: { 'Fn::GetAtt': [Match.stringLikeRegexp('^LaunchTemplate'), 'LatestVersionNumber'] },
      },
    });
  });

  it('tags the instances Name=v1-orcha-app at launch', () => {
    t.hasResourceProperties('AWS::AutoScaling::AutoScalingGroup', {
      Tags: Match.arrayWith([{ Key: 'Name', Value: 'v1-orcha-app', PropagateAtLaunch: true }]),
    });
  });

  it('rolls instances with the new one in service before the old one leaves, waiting for the boot signal', () => {
    const [asg] = Object.values(t.findResources('AWS::AutoScaling::AutoScalingGroup')) as {
      Properties: { MinSize: string; MaxSize: string };
      UpdatePolicy: { AutoScalingRollingUpdate: { MinInstancesInService: number; MaxBatchSize: number } };
    }[];
    const update = asg!.UpdatePolicy.AutoScalingRollingUpdate;
    // CloudFormation needs MinInstancesInService < MaxSize; batch 1 into the headroom.
    expect(update.MinInstancesInService).toBe(Number(asg!.Properties.MinSize));
    expect(update.MinInstancesInService + update.MaxBatchSize).toBeLessThanOrEqual(
      Number(asg!.Properties.MaxSize),
    );
    t.hasResource('AWS::AutoScaling::AutoScalingGroup', {
      UpdatePolicy: {
        AutoScalingRollingUpdate: Match.objectLike({
          MaxBatchSize: 1,
          MinInstancesInService: 1,
          WaitOnResourceSignals: true,
          PauseTime: 'PT15M',
        }),
      },
      CreationPolicy: { ResourceSignal: { Count: 1, Timeout: 'PT15M' } },
    });
  });
});

describe('ComputeStack (prod): service role', () => {
  it('is v1-orcha-service-role for EC2 with AmazonSSMManagedInstanceCore', () => {
    t.hasResourceProperties('AWS::IAM::Role', {
      RoleName: 'v1-orcha-service-role',
      AssumeRolePolicyDocument: {
        Statement: [
          { Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' } },
        ],
      },
      ManagedPolicyArns: [
        {
          'Fn::Join': [
            '',
            ['arn:', { Ref: 'AWS::Partition' }, ':iam::aws:policy/AmazonSSMManagedInstanceCore'],
          ],
        },
      ],
    });
    t.hasResourceProperties('AWS::IAM::InstanceProfile', {
      Roles: [{ Ref: Match.stringLikeRegexp('^ServiceRole') }],
    });
  });

  it('reads SSM parameters under /v1-orcha only', () => {
    expect(roleStatements(t)).toContainEqual({
      Sid: 'ReadSettings',
      Effect: 'Allow',
      Action: ['ssm:GetParameter', 'ssm:GetParameters', 'ssm:GetParametersByPath'],
      Resource: [
        'arn:aws:ssm:eu-central-1:700558745280:parameter/v1-orcha',
        'arn:aws:ssm:eu-central-1:700558745280:parameter/v1-orcha/*',
      ],
    });
  });

  it('reads the database secret and the secrets under /v1-orcha only', () => {
    const statements = roleStatements(t);
    expect(statements).toContainEqual({
      Sid: 'ReadSecrets',
      Effect: 'Allow',
      Action: ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue'],
      Resource: 'arn:aws:secretsmanager:eu-central-1:700558745280:secret:/v1-orcha/*',
    });
    const dbSecret = statements.find(
      (s) => s.Sid === undefined && JSON.stringify(s.Action).includes('secretsmanager:GetSecretValue'),
    );
    expect(JSON.stringify(dbSecret?.Resource)).toContain('DbCredentials');
  });

  it('reads and writes the documents bucket objects with explicit actions', () => {
    const statements = roleStatements(t);
    expect(statements).toContainEqual({
      Sid: 'DocumentsObjects',
      Effect: 'Allow',
      Action: [
        's3:AbortMultipartUpload',
        's3:DeleteObject',
        's3:GetObject',
        's3:GetObjectVersion',
        's3:PutObject',
      ],
      Resource: 'arn:aws:s3:::v1-orcha-global-storage-700558745280/*',
    });
    expect(statements).toContainEqual({
      Sid: 'DocumentsBucket',
      Effect: 'Allow',
      Action: ['s3:GetBucketLocation', 's3:ListBucket'],
      Resource: 'arn:aws:s3:::v1-orcha-global-storage-700558745280',
    });
    // The statements name the bucket FoundationStack creates.
    Template.fromStack(prod.foundation).hasResourceProperties('AWS::S3::Bucket', {
      BucketName: 'v1-orcha-global-storage-700558745280',
    });
  });

  it('consumes from and sends to the ingest and email-acquire queues, not their DLQs', () => {
    const queueStatements = roleStatements(t).filter((s) => JSON.stringify(s.Action).includes('sqs:'));
    const text = JSON.stringify(queueStatements);
    expect(text).toContain('IngestQueue');
    expect(text).toContain('EmailAcquireQueue');
    expect(text).not.toMatch(/Dlq/);
    const actions = new Set(queueStatements.flatMap((s) => s.Action as string[]));
    for (const action of [
      'sqs:ReceiveMessage',
      'sqs:DeleteMessage',
      'sqs:ChangeMessageVisibility',
      'sqs:SendMessage',
    ]) {
      expect(actions).toContain(action);
    }
    for (const s of queueStatements) expect(s.Resource).not.toBe('*');
  });

  it('pulls from the v1-orcha repository; the registry token is the one action on ECR "*"', () => {
    const statements = roleStatements(t);
    expect(statements).toContainEqual(
      expect.objectContaining({
        Action: ['ecr:BatchCheckLayerAvailability', 'ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer'],
        Resource: expect.objectContaining({ 'Fn::GetStackOutput': expect.anything() }),
      }),
    );
    expect(statements).toContainEqual({
      Effect: 'Allow',
      Action: 'ecr:GetAuthorizationToken',
      Resource: '*',
    });
  });

  it("writes to the application, user-data and the account's ssm-sessions log groups only", () => {
    const statements = roleStatements(t);
    const writes = statements.filter((s) => JSON.stringify(s.Action).includes('logs:PutLogEvents'));
    const resources = JSON.stringify(writes.map((s) => s.Resource));
    expect(resources).toContain('ApplicationLogGroup');
    expect(resources).toContain('UserDataLogGroup');
    expect(resources).toContain('arn:aws:logs:eu-central-1:700558745280:log-group:/v1-orcha/ssm-sessions:*');
    expect(resources).not.toContain('CodeBuildLogGroup');
    for (const s of writes) expect(s.Resource).not.toBe('*');
    expect(statements).toContainEqual({
      Sid: 'SessionLogGroupCheck',
      Effect: 'Allow',
      Action: 'logs:DescribeLogGroups',
      Resource: '*',
    });
  });

  it('lets the CodeDeploy agent download revisions from the pipeline artifacts bucket', () => {
    const statement = roleStatements(t).find((s) => s.Sid === 'ReadDeployRevisions');
    expect(statement?.Action).toEqual(['s3:GetObject', 's3:GetObjectVersion']);
    // By name: a literal ARN, no cross-stack output.
    expect(statement?.Resource).toBe('arn:aws:s3:::v1-orcha-pipeline-artifacts-700558745280/*');
  });

  it('has "*" only for ecr:GetAuthorizationToken and logs:DescribeLogGroups', () => {
    const star = roleStatements(t)
      .filter((s) => s.Resource === '*' || (Array.isArray(s.Resource) && s.Resource.includes('*')))
      .map((s) => s.Action);
    expect(star.sort()).toEqual(['ecr:GetAuthorizationToken', 'logs:DescribeLogGroups']);
  });
});

describe('ComputeStack (prod): the pinned compose plugin and the first deployment', () => {
  it('copies the pinned compose release into the artifacts bucket before any instance boots', () => {
    const copies = t.findResources('Custom::ToolMirror');
    expect(Object.values(copies)).toHaveLength(1);
    const [id, copy] = Object.entries(copies)[0]! as [string, { Properties: Record<string, unknown> }];
    expect(copy.Properties).toMatchObject({
      Url: 'https://github.com/docker/compose/releases/download/v2.33.0/docker-compose-linux-aarch64',
      Sha256: '03a42a0fc0614ffc3c9ebca521cab75e02c427b68e45e3f6867d9510b9a28818',
      Bucket: 'v1-orcha-pipeline-artifacts-700558745280',
      Key: 'tools/docker-compose/v2.33.0/docker-compose-linux-aarch64',
    });
    const [asg] = Object.values(t.findResources('AWS::AutoScaling::AutoScalingGroup')) as {
      DependsOn?: string[];
    }[];
    expect(asg!.DependsOn).toEqual(expect.arrayContaining([id]));
    // The copying function may write that one object, nothing else.
    const statements = Object.values(t.findResources('AWS::IAM::Policy')).flatMap(
      (p) =>
        (p as { Properties: { PolicyDocument: { Statement: { Sid?: string }[] } } }).Properties.PolicyDocument
          .Statement,
    );
    expect(statements.filter((st) => st.Sid === 'WriteThePinnedPlugin')).toEqual([
      {
        Sid: 'WriteThePinnedPlugin',
        Effect: 'Allow',
        Action: ['s3:GetObject', 's3:PutObject'],
        Resource:
          'arn:aws:s3:::v1-orcha-pipeline-artifacts-700558745280/tools/docker-compose/v2.33.0/docker-compose-linux-aarch64',
      },
    ]);
  });

  it('keeps an instance without an image: ELB health answered by the placeholder until the first deployment', () => {
    const ud = expandedUserDataOf(t);
    expect(ud).toContain('ConditionPathExists=!/opt/orcha/.env');
    expect(ud).toContain('ExecStart=/usr/bin/python3 /opt/orcha/placeholder.py 8888 /health');
    t.hasResourceProperties('AWS::AutoScaling::AutoScalingGroup', {
      HealthCheckType: 'ELB',
      HealthCheckGracePeriod: 300,
    });
    t.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', {
      HealthCheckPath: '/health',
      Matcher: { HttpCode: '200' },
    });
  });
});

describe('ComputeStack (prod): Session Manager and user data', () => {
  it('upserts the SSM-SessionManagerRunShell preferences (custom resource, not AWS::SSM::Document) logging to /v1-orcha/ssm-sessions', () => {
    // AWS::SSM::Document fails with DocumentAlreadyExists in nearly every account.
    t.resourceCountIs('AWS::SSM::Document', 0);
    const resources = t.findResources('Custom::SessionManagerPreferences');
    expect(Object.keys(resources)).toHaveLength(1);
    const [resource] = Object.values(resources) as {
      Properties: { DocumentName: string; Content: string; ServiceToken: unknown };
      DeletionPolicy: string;
    }[];
    expect(resource.Properties.DocumentName).toBe('SSM-SessionManagerRunShell');
    expect(resource.DeletionPolicy).toBe('Retain');
    expect(JSON.parse(resource.Properties.Content)).toEqual({
      schemaVersion: '1.0',
      description: 'Session Manager preferences: session logs to CloudWatch Logs',
      sessionType: 'Standard_Stream',
      inputs: expect.objectContaining({
        cloudWatchLogGroupName: '/v1-orcha/ssm-sessions',
        cloudWatchStreamingEnabled: true,
        cloudWatchEncryptionEnabled: false,
        s3BucketName: '',
        runAsEnabled: false,
        idleSessionTimeout: '20',
      }) as unknown,
    });
    const fnId = (resource.Properties.ServiceToken as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
    t.hasResourceProperties('AWS::Lambda::Function', {
      FunctionName: 'v1-orcha-session-preferences',
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
    });
    expect(Object.keys(t.findResources('AWS::Lambda::Function'))).toContain(fnId);
  });

  it('the upsert function may read and write that one document only', () => {
    const statement = roleStatements(t).find((s) => s.Sid === 'UpsertSessionPreferences');
    expect({ ...statement, Action: [...(statement?.Action as string[])].sort() }).toEqual({
      Sid: 'UpsertSessionPreferences',
      Effect: 'Allow',
      Action: [
        'ssm:CreateDocument',
        'ssm:GetDocument',
        'ssm:ListDocumentVersions',
        'ssm:UpdateDocument',
        'ssm:UpdateDocumentDefaultVersion',
      ],
      Resource: 'arn:aws:ssm:eu-central-1:700558745280:document/SSM-SessionManagerRunShell',
    });
  });

  it('boots with docker, compose, the CodeDeploy and CloudWatch agents, settings from SSM and a systemd unit', () => {
    const ud = expandedUserDataOf(t);
    expect(ud.startsWith('#!/bin/bash\n')).toBe(true);
    expect(ud).toContain('set -euo pipefail');
    expect(ud).toMatch(/retry 5 dnf install -y .*\\\n\s*docker amazon-cloudwatch-agent aws-cfn-bootstrap/);
    expect(ud).toContain('/usr/local/lib/docker/cli-plugins/docker-compose');
    // The compose plugin from the environment's artifacts bucket, never from GitHub at launch.
    expect(ud).toContain(
      "readonly COMPOSE_SOURCE='s3://v1-orcha-pipeline-artifacts-700558745280/tools/docker-compose/v2.33.0/docker-compose-linux-aarch64'",
    );
    expect(ud).not.toContain('github.com');
    expect(ud).toContain('sha256sum --check --strict');
    expect(ud).toContain('https://aws-codedeploy-${REGION}.s3.${REGION}.amazonaws.com/latest/install');
    expect(ud).toContain("readonly REGION='eu-central-1'");
    expect(ud).toContain('systemctl enable --now codedeploy-agent');
    expect(ud).toContain('amazon-cloudwatch-agent-ctl');
    expect(ud).toContain('"log_group_name":"<ref>"');
    expect(ud).toContain('/var/log/cloud-init-output.log');
    expect(ud).toContain('/var/log/orcha/boot.log');
    expect(ud).toContain('/var/lib/docker/containers/*/*-json.log');
    expect(ud).toContain("ORCHA_PARAMETER_ROOT='/v1-orcha'");
    expect(ud).toContain('aws ssm get-parameters-by-path');
    expect(ud).toContain('--with-decryption');
    expect(ud).toContain('aws secretsmanager get-secret-value');
    expect(ud).toContain('aws ecr get-login-password');
    expect(ud).toContain("ORCHA_DB_NAME='orcha'");
    expect(ud).toContain("ORCHA_DB_HOST='<ref>'");
    expect(ud).toContain("- '8888:8888'");
    expect(ud).toContain("- '127.0.0.1:9878:9878'");
    expect(ud).toContain('command: ["worker"]');
    expect(ud).toContain('Restart=always');
    expect(ud).toContain('After=docker.service');
    expect(ud).toContain('systemctl enable orcha.service orcha-placeholder.service');
    expect(ud).toContain('/usr/local/bin/orcha-refresh');
    expect(ud).toContain('/opt/aws/bin/cfn-signal');
    expect(ud).not.toMatch(/\{\{[A-Z_]+(:[^}]*)?\}\}/);
  });

  it('names the log groups, secret, queues and the signalled group in the user data', () => {
    const [lt] = Object.values(t.findResources('AWS::EC2::LaunchTemplate'));
    const raw = JSON.stringify(lt);
    for (const ref of [
      'ApplicationLogGroup',
      'UserDataLogGroup',
      'DbCredentials',
      'IngestQueue',
      'EmailAcquireQueue',
      'DocumentsBucket',
      'DatabaseB269D8BB',
    ]) {
      expect(raw).toContain(ref);
    }
    // The registry is built from the repository's account and region, not parsed from its ARN.
    expect(userDataOf(t)).toContain("ORCHA_REGISTRY='700558745280.dkr.ecr.eu-central-1.<ref>'\n");
    expect(raw).toContain(`ORCHA_REGISTRY='700558745280.dkr.ecr.eu-central-1.",{"Ref":"AWS::URLSuffix"}`);
    const asgId = Object.keys(t.findResources('AWS::AutoScaling::AutoScalingGroup'))[0];
    expect(userDataOf(t)).toContain(`--resource '${asgId}'`);
  });

  it('stays under the EC2 user data limit', () => {
    // Each <ref> resolves to at most ~120 characters (queue URLs, ARNs).
    const ud = userDataOf(t);
    const refs = ud.split('<ref>').length - 1;
    expect(Buffer.byteLength(ud) + refs * 120).toBeLessThan(USER_DATA_LIMIT_BYTES);
  });

  it('has no open cdk-nag finding of its own', () => {
    // The one left is OpsStack's: its CodeDeploy action grants this role read on the artifact
    // bucket through a cross-stack reference (see the report to the lead).
    const findings = nagFindings(prod.compute).filter((f) => !f.includes('PipelineArtifactsBucket'));
    expect(findings).toEqual([]);
  });
});

describe('ComputeStack (staging)', () => {
  it('uses t4g.small with a 20 GiB root volume (compute.rootVolumeGiB) and the staging names', () => {
    st.hasResourceProperties('AWS::EC2::LaunchTemplate', {
      LaunchTemplateName: 'v1-orcha-staging-lt',
      LaunchTemplateData: Match.objectLike({
        InstanceType: 't4g.small',
        BlockDeviceMappings: [
          Match.objectLike({ Ebs: Match.objectLike({ VolumeSize: 20, VolumeType: 'gp3' }) }),
        ],
      }),
    });
    st.hasResourceProperties('AWS::AutoScaling::AutoScalingGroup', {
      AutoScalingGroupName: 'v1-orcha-staging-asg',
      Tags: Match.arrayWith([{ Key: 'Name', Value: 'v1-orcha-staging-app', PropagateAtLaunch: true }]),
    });
    st.hasResourceProperties('AWS::IAM::Role', { RoleName: 'v1-orcha-staging-service-role' });
    st.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', {
      Name: 'v1-orcha-staging-alb',
      LoadBalancerAttributes: Match.arrayWith([{ Key: 'deletion_protection.enabled', Value: 'false' }]),
    });
    st.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', {
      Name: 'v1-orcha-staging-tg',
      Port: 8888,
    });
  });

  it('serves app.staging.getorcha.com', () => {
    st.hasResourceProperties('AWS::CertificateManager::Certificate', {
      DomainName: 'app.staging.getorcha.com',
    });
    st.hasResourceProperties('AWS::Route53::RecordSet', { Name: 'app.staging.getorcha.com.', Type: 'A' });
  });

  it('scopes the role to /v1-orcha-staging and its own bucket', () => {
    const statements = JSON.stringify(roleStatements(st));
    expect(statements).toContain('parameter/v1-orcha-staging/*');
    expect(statements).toContain('secret:/v1-orcha-staging/*');
    expect(statements).toContain('v1-orcha-staging-global-storage-700558745280/*');
    expect(statements).not.toMatch(/parameter\/v1-orcha\/|secret:\/v1-orcha\//);
    expect(userDataOf(st)).toContain("ORCHA_PARAMETER_ROOT='/v1-orcha-staging'");
  });

  it('leaves the account-wide Session Manager preferences to prod', () => {
    st.resourceCountIs('AWS::SSM::Document', 0);
    st.resourceCountIs('Custom::SessionManagerPreferences', 0);
    expect(staging.compute.sessionManagerPreferences).toBeUndefined();
  });

  it("may write its sessions to the account's session log group, the one the preferences name", () => {
    const writes = roleStatements(st).filter((s) => JSON.stringify(s.Action).includes('logs:PutLogEvents'));
    expect(JSON.stringify(writes.map((s) => s.Resource))).toContain(
      'arn:aws:logs:eu-central-1:700558745280:log-group:/v1-orcha/ssm-sessions:*',
    );
  });
});

// --- Isolation: the instance roles of prod and staging (one account), evaluated like IAM would:
// the role's inline statements plus the AWS managed policy AmazonSSMManagedInstanceCore (which
// allows ssm:GetParameter(s) on every parameter of the account).
const pseudo = { partition: 'aws', region: 'eu-central-1', account: '700558745280' };
const roles = {} as Record<'prod' | 'staging', Statement[]>;
beforeAll(() => {
  roles.prod = evaluableRoleStatements(t.toJSON(), logicalId(prod.compute.serviceRole), pseudo);
  roles.staging = evaluableRoleStatements(st.toJSON(), logicalId(staging.compute.serviceRole), pseudo);
});

const parameter = (name: string) => `arn:aws:ssm:eu-central-1:700558745280:parameter/${name}`;
const READS = ['ssm:GetParameter', 'ssm:GetParameters', 'ssm:GetParametersByPath', 'ssm:GetParameterHistory'];
const decisions = (statements: readonly Statement[], resource: string): Record<string, Decision> =>
  Object.fromEntries(READS.map((action) => [action, evaluate(statements, action, resource)]));
const all = (decision: Decision) => Object.fromEntries(READS.map((action) => [action, decision]));
const ownReads = { ...all('allow'), 'ssm:GetParameterHistory': 'implicit-deny' };

describe('settings stay in their environment (one account, SSM Parameter Store)', () => {
  test('the roots do not contain each other', () => {
    expect(new Naming('prod').parameterRoot).toBe('/v1-orcha');
    expect(new Naming('staging').parameterRoot).toBe('/v1-orcha-staging');
  });

  test("staging's instances cannot read prod's parameters, by name or by path", () => {
    expect(decisions(roles.staging, parameter('v1-orcha/db-credentials'))).toEqual(all('explicit-deny'));
    expect(decisions(roles.staging, parameter('v1-orcha/SECRET_KEY'))).toEqual(all('explicit-deny'));
    // GetParametersByPath is authorised on the path itself.
    expect(decisions(roles.staging, parameter('v1-orcha'))).toEqual(all('explicit-deny'));
  });

  test("prod's instances cannot read staging's (or dev's) parameters", () => {
    expect(decisions(roles.prod, parameter('v1-orcha-staging/SECRET_KEY'))).toEqual(all('explicit-deny'));
    expect(decisions(roles.prod, parameter('v1-orcha-staging'))).toEqual(all('explicit-deny'));
    expect(decisions(roles.prod, parameter('v1-orcha-dev/SECRET_KEY'))).toEqual(all('explicit-deny'));
  });

  test('no instance reads parameters outside any environment, nor the whole store by path', () => {
    for (const statements of Object.values(roles)) {
      expect(decisions(statements, parameter('other-team/api-key'))).toEqual(all('explicit-deny'));
      expect(evaluate(statements, 'ssm:GetParametersByPath', parameter(''))).toBe('explicit-deny');
    }
  });

  test('each environment reads its own settings (by name and by path)', () => {
    expect(decisions(roles.staging, parameter('v1-orcha-staging/SECRET_KEY'))).toEqual(ownReads);
    expect(decisions(roles.staging, parameter('v1-orcha-staging'))).toEqual(ownReads);
    expect(decisions(roles.prod, parameter('v1-orcha/SECRET_KEY'))).toEqual(ownReads);
    expect(decisions(roles.prod, parameter('v1-orcha'))).toEqual(ownReads);
  });

  test("AWS's public parameters (AMI ids) stay readable; Session Manager's agent actions are untouched", () => {
    const ami =
      'arn:aws:ssm:eu-central-1::parameter/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64';
    for (const statements of Object.values(roles)) {
      expect(evaluate(statements, 'ssm:GetParameter', ami)).toBe('allow');
      for (const action of [
        'ssm:UpdateInstanceInformation',
        'ssmmessages:CreateControlChannel',
        'ssmmessages:OpenDataChannel',
        'ec2messages:GetMessages',
        'ssm:GetDocument',
      ])
        expect(evaluate(statements, action, '*')).toBe('allow');
    }
  });

  test('it is the explicit deny that closes the managed policy’s grant (without it staging reads prod)', () => {
    const withoutDeny = roles.staging.filter((s) => s.Effect !== 'Deny');
    expect(withoutDeny.length).toBe(roles.staging.length - 1);
    expect(evaluate(withoutDeny, 'ssm:GetParameter', parameter('v1-orcha/SECRET_KEY'))).toBe('allow');
  });
});
