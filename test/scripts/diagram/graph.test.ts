import type { StackInput } from '../../../scripts/compliance/model';
import { arnMatches, buildEnvironmentGraph } from '../../../scripts/diagram/graph';
import { environmentMermaid, mermaidText } from '../../../scripts/diagram/render';

function stack(stackPath: string, stackName: string, template: unknown): StackInput {
  return { environment: 'Test', stackPath, stackName, templateFile: `${stackName}.template.json`, template };
}

// Two stacks: a queue and a security group in one, a function in the other that uses both across
// stacks (Fn::GetStackOutput), the way CDK writes weak cross-stack references.
const network = stack('Test/Network', 'test-network', {
  Resources: {
    Queue: { Type: 'AWS::SQS::Queue', Properties: { QueueName: 'jobs' } },
    Bucket: { Type: 'AWS::S3::Bucket', Properties: { BucketName: 'docs-bucket' } },
    FnSg: { Type: 'AWS::EC2::SecurityGroup', Properties: { GroupDescription: 'fn' } },
    DbSg: {
      Type: 'AWS::EC2::SecurityGroup',
      Properties: {
        GroupDescription: 'db',
        SecurityGroupIngress: [
          {
            IpProtocol: 'tcp',
            FromPort: 5432,
            ToPort: 5432,
            SourceSecurityGroupId: { 'Fn::GetAtt': ['FnSg', 'GroupId'] },
          },
        ],
      },
    },
    Db: {
      Type: 'AWS::RDS::DBInstance',
      Properties: {
        Engine: 'postgres',
        DBInstanceIdentifier: 'db',
        DBInstanceClass: 'db.t4g.micro',
        VPCSecurityGroups: [{ 'Fn::GetAtt': ['DbSg', 'GroupId'] }],
      },
    },
  },
  Outputs: {
    QueueArn: { Value: { 'Fn::GetAtt': ['Queue', 'Arn'] } },
    FnSgId: { Value: { 'Fn::GetAtt': ['FnSg', 'GroupId'] } },
  },
});
const compute = stack('Test/Compute', 'test-compute', {
  Resources: {
    Role: { Type: 'AWS::IAM::Role', Properties: {} },
    Policy: {
      Type: 'AWS::IAM::Policy',
      Properties: {
        Roles: [{ Ref: 'Role' }],
        PolicyDocument: {
          Statement: [
            {
              Effect: 'Allow',
              Action: ['sqs:ReceiveMessage', 'sqs:DeleteMessage'],
              Resource: { 'Fn::GetStackOutput': { StackName: 'test-network', OutputName: 'QueueArn' } },
            },
            { Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::docs-bucket/*' },
            { Effect: 'Deny', Action: 's3:PutObject', Resource: 'arn:aws:s3:::docs-bucket/*' },
            { Effect: 'Allow', Action: 'sqs:SendMessage', Resource: 'arn:aws:s3:::docs-bucket/*' },
          ],
        },
      },
    },
    Fn: {
      Type: 'AWS::Lambda::Function',
      Properties: {
        FunctionName: 'worker',
        Role: { 'Fn::GetAtt': ['Role', 'Arn'] },
        VpcConfig: {
          SecurityGroupIds: [{ 'Fn::GetStackOutput': { StackName: 'test-network', OutputName: 'FnSgId' } }],
        },
        Environment: {
          Variables: { DB_SG: { 'Fn::GetStackOutput': { StackName: 'test-network', OutputName: 'FnSgId' } } },
        },
      },
    },
  },
});

describe('environment graph from templates', () => {
  const graph = buildEnvironmentGraph({ environment: 'Test', stacks: [network, compute] });
  const label = new Map(graph.nodes.map((n) => [n.id, n.label]));
  const edges = graph.edges.map((e) => `${label.get(e.from)} -${e.kind}:${e.label}-> ${label.get(e.to)}`);

  it('draws main resources only, in their stacks', () => {
    expect(graph.nodes.map((n) => [n.label, n.stack])).toEqual([
      ['Lambda worker', 'Test/Compute'],
      ['S3 docs-bucket', 'Test/Network'],
      ['RDS postgres db (db.t4g.micro)', 'Test/Network'],
      ['SQS jobs', 'Test/Network'],
    ]);
  });

  it('derives network, IAM and direction from the templates, across stacks', () => {
    expect(edges).toEqual([
      'Lambda worker -traffic:tcp 5432-> RDS postgres db (db.t4g.micro)',
      'Lambda worker -iam:sqs write-> SQS jobs',
      'S3 docs-bucket -iam:s3 read-> Lambda worker',
      'SQS jobs -iam:sqs read-> Lambda worker',
    ]);
  });

  it('renders stable Mermaid', () => {
    const mermaid = environmentMermaid(graph);
    expect(mermaid.split('\n').slice(0, 3)).toEqual([
      'flowchart LR',
      '  subgraph stack1["Test/Network (test-network)"]',
      '    Network_Bucket["S3 docs-bucket"]',
    ]);
    expect(mermaid).toContain('  Compute_Fn -->|"tcp 5432"| Network_Db');
    expect(mermaid).toContain('  Network_Queue -.->|"sqs read"| Compute_Fn');
    expect(mermaidText('say "hi"')).toBe('say #quot;hi#quot;');
  });
});

describe('literal ARNs in IAM policies', () => {
  it('match a resource by its physical name, objects under it and wildcards', () => {
    expect(arnMatches('arn:aws:s3:::docs-bucket', 'docs-bucket')).toBe(true);
    expect(arnMatches('arn:aws:s3:::docs-bucket/*', 'docs-bucket')).toBe(true);
    expect(arnMatches('arn:aws:ecr:eu-central-1:1:repository/app', 'app')).toBe(true);
    expect(arnMatches('arn:aws:rds:eu-central-1:1:db:v1-orcha-migtest-*', 'v1-orcha-migtest-x')).toBe(true);
    expect(arnMatches('arn:aws:rds:eu-central-1:1:db:v1-orcha-migtest-*', 'v1-orcha-db')).toBe(false);
    expect(arnMatches('arn:aws:s3:::docs-bucket-other', 'docs-bucket')).toBe(false);
    expect(arnMatches('*', 'docs-bucket')).toBe(false);
    expect(arnMatches('arn:aws:sqs:eu-central-1:1:*', 'jobs')).toBe(false);
  });
});
