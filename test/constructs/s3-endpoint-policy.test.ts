/**
 * The S3 gateway endpoint (option `network.s3GatewayEndpoint`, on in prod): every subnet's route
 * table, the application's included, and a policy that admits the environment's buckets and the
 * AWS-owned buckets the boot path, the agents and the migration test read, nothing else.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Template } from 'aws-cdk-lib/assertions';
import { resourcesOf } from '../helpers';
import { buildVariant } from '../helpers/app';

const on = Template.fromStack(buildVariant('prod').foundation);
const off = Template.fromStack(
  buildVariant('dev', (i) => ({ ...i, network: { ...i.network, s3GatewayEndpoint: false } })).foundation,
);

interface Statement {
  Sid: string;
  Effect: string;
  Principal: unknown;
  Action: string | string[];
  Resource: string | string[];
}

function endpoint(template: Template) {
  const endpoints = resourcesOf(template, 'AWS::EC2::VPCEndpoint');
  expect(endpoints).toHaveLength(1);
  return endpoints[0]![1] as { RouteTableIds: { Ref: string }[]; PolicyDocument: { Statement: Statement[] } };
}

const list = (v: string | string[]) => (Array.isArray(v) ? v : [v]);

test('on: every route table, the application (public) subnets included', () => {
  const tables = resourcesOf(on, 'AWS::EC2::RouteTable').map(([id]) => id);
  expect(tables.filter((id) => id.includes('public'))).toHaveLength(2);
  expect(
    endpoint(on)
      .RouteTableIds.map((r) => r.Ref)
      .sort(),
  ).toEqual(tables.sort());
});

test("on: the environment's buckets fully, the AWS-owned buckets read-only, no other bucket", () => {
  const statements = endpoint(on).PolicyDocument.Statement;
  expect(statements.every((s) => s.Effect === 'Allow')).toBe(true);
  const own = statements.find((s) => s.Sid === 'EnvironmentBuckets')!;
  expect(list(own.Resource).sort()).toEqual(
    [
      'arn:aws:s3:::v1-orcha-global-storage-700558745280',
      'arn:aws:s3:::v1-orcha-global-storage-700558745280/*',
      'arn:aws:s3:::v1-orcha-pipeline-artifacts-700558745280',
      'arn:aws:s3:::v1-orcha-pipeline-artifacts-700558745280/*',
    ].sort(),
  );
  const read = statements.find((s) => s.Sid === 'ReadAwsAndAssetBuckets')!;
  expect(list(read.Action).sort()).toEqual(['s3:GetObject', 's3:GetObjectVersion']);
  const readable = list(read.Resource);
  for (const bucket of [
    'al2023-repos-eu-central-1-*', // dnf on boot
    'prod-eu-central-1-starport-layer-bucket', // docker pull from ECR
    'aws-codedeploy-eu-central-1', // CodeDeploy agent installer (boot.sh)
    'amazon-ssm-eu-central-1', // SSM agent
    'cdk-hnb659fds-assets-700558745280-eu-central-1', // the migration test's runner
  ]) {
    expect(readable).toContain(`arn:aws:s3:::${bucket}/*`);
  }
  // No statement names every bucket, and the access-logs bucket (written by ELB, not from the VPC) is out.
  const all = statements.flatMap((s) => list(s.Resource));
  expect(all.some((r) => r === '*' || r === 'arn:aws:s3:::*' || r.startsWith('arn:aws:s3:::*'))).toBe(false);
  expect(all.some((r) => r.includes('access-logs'))).toBe(false);
  expect(statements).toHaveLength(2);
});

test('every S3 host the instance scripts download from is admitted by the policy', () => {
  const dir = join(__dirname, '..', '..', 'assets', 'boot');
  const hosts = readdirSync(dir)
    .filter((f) => f.endsWith('.sh'))
    .flatMap((f) => [...readFileSync(join(dir, f), 'utf8').matchAll(/https:\/\/([^/."]+)\.s3\./g)])
    .map((m) => m[1]!.replace('${REGION}', 'eu-central-1'));
  expect(hosts.length).toBeGreaterThan(0);
  const readable = list(
    endpoint(on).PolicyDocument.Statement.find((s) => s.Sid === 'ReadAwsAndAssetBuckets')!.Resource,
  );
  for (const host of hosts) {
    const admitted = readable.some((arn) =>
      new RegExp(`^arn:aws:s3:::${arn.slice('arn:aws:s3:::'.length, -2).replace(/\*/g, '.*')}$`).test(
        `arn:aws:s3:::${host}`,
      ),
    );
    expect([host, admitted]).toEqual([host, true]);
  }
});

test('off: no endpoint', () => {
  off.resourceCountIs('AWS::EC2::VPCEndpoint', 0);
});
