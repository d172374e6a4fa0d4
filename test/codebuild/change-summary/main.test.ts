import {
  CloudFormationClient,
  CreateChangeSetCommand,
  DeleteChangeSetCommand,
  DescribeChangeSetCommand,
  DescribeStacksCommand,
  type DescribeChangeSetOutput,
} from '@aws-sdk/client-cloudformation';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { main } from '../../../codebuild/change-summary/main';

/**
 * Runs the change-summary script's entry point against a small nested cloud assembly (the shape
 * CDK writes: manifest, templates, asset manifests) with CloudFormation and S3 mocked. The role
 * credentials are never resolved: the mocked clients answer before signing.
 */

const cfn = mockClient(CloudFormationClient);
const s3 = mockClient(S3Client);
const ACCOUNT = '700558745280';
const REGION = 'eu-central-1';
const EXECUTION = '0f6b2c1e-1111-4222-8333-444455556666';
const recordedDataChange = JSON.parse(
  readFileSync(
    path.join(__dirname, '..', '..', 'fixtures', 'change-sets', 'prod-data-replace-db.json'),
    'utf8',
  ),
) as DescribeChangeSetOutput;

const noWait = async () => undefined;
let root: string;
let logs: string[];
let errors: string[];

function writeStack(
  dir: string,
  id: string,
  stackName: string,
  resources: Record<string, string>,
  deps: string[],
) {
  const template = {
    Resources: Object.fromEntries(Object.entries(resources).map(([k, type]) => [k, { Type: type }])),
  };
  writeFileSync(path.join(dir, `${id}.template.json`), JSON.stringify(template));
  const hash = `${id.toLowerCase()}0000`;
  writeFileSync(
    path.join(dir, `${id}.assets.json`),
    JSON.stringify({
      version: '55.0.0',
      files: {
        [hash]: {
          source: { path: `${id}.template.json`, packaging: 'file' },
          destinations: {
            [`${ACCOUNT}-${REGION}`]: {
              bucketName: `cdk-hnb659fds-assets-${ACCOUNT}-${REGION}`,
              objectKey: `${hash}.json`,
              region: REGION,
              assumeRoleArn: `arn:\${AWS::Partition}:iam::${ACCOUNT}:role/cdk-hnb659fds-file-publishing-role-${ACCOUNT}-${REGION}`,
            },
          },
        },
      },
      dockerImages: {},
    }),
  );
  return {
    [`${id}.assets`]: { type: 'cdk:asset-manifest', properties: { file: `${id}.assets.json` } },
    [id]: {
      type: 'aws:cloudformation:stack',
      environment: `aws://${ACCOUNT}/${REGION}`,
      properties: {
        templateFile: `${id}.template.json`,
        stackName,
        assumeRoleArn: `arn:\${AWS::Partition}:iam::${ACCOUNT}:role/cdk-hnb659fds-deploy-role-${ACCOUNT}-${REGION}`,
        cloudFormationExecutionRoleArn: `arn:\${AWS::Partition}:iam::${ACCOUNT}:role/cdk-hnb659fds-cfn-exec-role-${ACCOUNT}-${REGION}`,
        stackTemplateAssetObjectUrl: `s3://cdk-hnb659fds-assets-${ACCOUNT}-${REGION}/${hash}.json`,
      },
      dependencies: [...deps, `${id}.assets`],
    },
  };
}

beforeEach(() => {
  cfn.reset();
  s3.reset();
  root = mkdtempSync(path.join(tmpdir(), 'change-summary-'));
  const stage = path.join(root, 'cdk.out', 'assembly-Prod');
  mkdirSync(stage, { recursive: true });
  const artifacts = {
    ...writeStack(stage, 'ProdFoundationF8467B05', 'v1-orcha-foundation', { Vpc: 'AWS::EC2::VPC' }, []),
    ...writeStack(stage, 'ProdData90A795AA', 'v1-orcha-data', { DatabaseB269D8BB: 'AWS::RDS::DBInstance' }, [
      'ProdFoundationF8467B05',
    ]),
    ...writeStack(stage, 'ProdOps6F3EDC9C', 'v1-orcha-ops', { Topic: 'AWS::SNS::Topic' }, [
      'ProdData90A795AA',
    ]),
  };
  writeFileSync(path.join(stage, 'manifest.json'), JSON.stringify({ version: '55.0.0', artifacts }));
  const compliance = path.join(root, 'cdk.out', 'compliance');
  mkdirSync(compliance);
  writeFileSync(path.join(compliance, 'compliance.md'), '# Compliance\n');
  writeFileSync(path.join(compliance, 'compliance.html'), '<h1>Compliance</h1>');

  logs = [];
  errors = [];
  jest.spyOn(console, 'log').mockImplementation((line: string) => void logs.push(line));
  jest.spyOn(console, 'error').mockImplementation((line: string) => void errors.push(line));
});

afterEach(() => {
  jest.restoreAllMocks();
  rmSync(root, { recursive: true, force: true });
});

const env = (over: Record<string, string> = {}) => ({
  STAGE_ASSEMBLY: path.join(root, 'cdk.out', 'assembly-Prod'),
  STAGE_NAME: 'Prod',
  PIPELINE_NAME: 'v1-orcha-infra',
  EXECUTION_ID: EXECUTION,
  ARTIFACT_BUCKET: 'v1-orcha-infra-pipeline-artifactsbucket-1a2b3c',
  REPORTS_DIR: path.join(root, 'cdk.out', 'compliance'),
  OUT_DIR: path.join(root, 'review'),
  AWS_REGION: REGION,
  ...over,
});

function deployed() {
  cfn.on(DescribeStacksCommand, { StackName: 'v1-orcha-foundation' }).resolves({
    Stacks: [{ StackName: 'v1-orcha-foundation', StackStatus: 'UPDATE_COMPLETE', CreationTime: new Date() }],
  });
  cfn.on(DescribeStacksCommand, { StackName: 'v1-orcha-data' }).resolves({
    Stacks: [{ StackName: 'v1-orcha-data', StackStatus: 'UPDATE_COMPLETE', CreationTime: new Date() }],
  });
  const missing = Object.assign(new Error('Stack with id v1-orcha-ops does not exist'), {
    name: 'ValidationError',
  });
  cfn.on(DescribeStacksCommand, { StackName: 'v1-orcha-ops' }).rejects(missing);
  cfn.on(CreateChangeSetCommand).resolves({ Id: 'arn:cs' });
  cfn
    .on(DescribeChangeSetCommand, { StackName: 'v1-orcha-foundation' })
    .resolves({ Status: 'FAILED', StatusReason: "The submitted information didn't contain changes." });
  cfn
    .on(DescribeChangeSetCommand, { StackName: 'v1-orcha-data' })
    .resolvesOnce({ Status: 'CREATE_IN_PROGRESS' })
    .resolves(recordedDataChange);
  cfn.on(DeleteChangeSetCommand).resolves({});
  s3.on(PutObjectCommand).resolves({});
}

test('a prod change that replaces the database: summary in the log, uploaded with the compliance report, change sets deleted', async () => {
  deployed();
  const code = await main(env(), noWait);
  expect(errors).toEqual([]);
  expect(code).toBe(0);

  // Change sets for the two deployed stacks, with the synthesized template uploaded where cdk deploy puts it.
  const creates = cfn.commandCalls(CreateChangeSetCommand).map((c) => c.args[0].input);
  expect(creates.map((c) => c.StackName)).toEqual(['v1-orcha-foundation', 'v1-orcha-data']);
  expect(creates[1]).toMatchObject({
    ChangeSetName: 'orcha-review-0f6b2c1e',
    ChangeSetType: 'UPDATE',
    TemplateURL: `https://cdk-hnb659fds-assets-${ACCOUNT}-${REGION}.s3.${REGION}.amazonaws.com/proddata90a795aa0000.json`,
    RoleARN: `arn:aws:iam::${ACCOUNT}:role/cdk-hnb659fds-cfn-exec-role-${ACCOUNT}-${REGION}`,
  });
  // Never executed, always deleted.
  expect(cfn.commandCalls(DeleteChangeSetCommand).map((c) => c.args[0].input.StackName)).toEqual([
    'v1-orcha-foundation',
    'v1-orcha-data',
  ]);

  const puts = s3.commandCalls(PutObjectCommand).map((c) => c.args[0].input);
  const templateUploads = puts.filter((p) => p.Bucket === `cdk-hnb659fds-assets-${ACCOUNT}-${REGION}`);
  expect(templateUploads.map((p) => p.Key)).toEqual([
    'prodfoundationf8467b050000.json',
    'proddata90a795aa0000.json',
  ]);
  const reviewUploads = puts.filter((p) => p.Bucket === 'v1-orcha-infra-pipeline-artifactsbucket-1a2b3c');
  expect(reviewUploads.map((p) => p.Key)).toEqual([
    `reviews/${EXECUTION}/prod-change-summary.md`,
    `reviews/${EXECUTION}/compliance/compliance.html`,
    `reviews/${EXECUTION}/compliance/compliance.md`,
  ]);
  expect(String(reviewUploads[0].Body)).toContain('STOP AND READ');

  // The build log carries the whole summary.
  expect(logs).toContain('v1-orcha-ops: not deployed yet, every resource is new');
  expect(logs.join('\n')).toContain('| **REPLACED (STATEFUL)** | DatabaseB269D8BB | AWS::RDS::DBInstance |');

  // What the approval comment reads.
  expect(readFileSync(path.join(root, 'review', 'headline.txt'), 'utf8')).toBe(
    'STATEFUL RESOURCE AT RISK: DatabaseB269D8BB (RDS::DBInstance) replaced. ' +
      'v1-orcha-data: 1 added, 2 replaced; v1-orcha-ops: new stack, 1 added.',
  );
  expect(readFileSync(path.join(root, 'review', 'url.txt'), 'utf8')).toBe(
    `https://${REGION}.console.aws.amazon.com/s3/buckets/v1-orcha-infra-pipeline-artifactsbucket-1a2b3c?region=${REGION}&prefix=reviews%2F${EXECUTION}%2F`,
  );
});

test('a change set CloudFormation refuses is reported for its stack, and the others still are', async () => {
  deployed();
  cfn
    .on(DescribeChangeSetCommand, { StackName: 'v1-orcha-data' })
    .resolves({ Status: 'FAILED', StatusReason: 'No export named v1-orcha-foundation:VpcId found' });
  expect(await main(env(), noWait)).toBe(0);
  expect(readFileSync(path.join(root, 'review', 'headline.txt'), 'utf8')).toBe(
    'v1-orcha-ops: new stack, 1 added. Not computed: v1-orcha-data (see the summary).',
  );
  expect(cfn.commandCalls(DeleteChangeSetCommand)).toHaveLength(2);
});

test('a role that cannot be assumed is reported per stack, not a crash', async () => {
  cfn
    .on(DescribeStacksCommand)
    .rejects(Object.assign(new Error('not authorized to perform sts:AssumeRole'), { name: 'AccessDenied' }));
  s3.on(PutObjectCommand).resolves({});
  expect(await main(env(), noWait)).toBe(0);
  expect(readFileSync(path.join(root, 'review', 'headline.txt'), 'utf8')).toBe(
    'Not computed: v1-orcha-foundation, v1-orcha-data, v1-orcha-ops (see the summary).',
  );
  expect(cfn.commandCalls(CreateChangeSetCommand)).toHaveLength(0);
});

test('an upload the artifact bucket refuses fails the step (the approval would link nothing)', async () => {
  deployed();
  s3.on(PutObjectCommand, { Bucket: 'v1-orcha-infra-pipeline-artifactsbucket-1a2b3c' }).rejects(
    Object.assign(new Error('Access Denied'), { name: 'AccessDenied' }),
  );
  expect(await main(env(), noWait)).toBe(2);
  expect(errors).toEqual(['Change summary failed: Access Denied']);
});

test('a wrong setting names the field and its value', async () => {
  expect(await main(env({ EXECUTION_ID: '#{codepipeline.PipelineExecutionId}' }), noWait)).toBe(2);
  expect(errors).toEqual([
    'Invalid change summary settings: EXECUTION_ID="#{codepipeline.PipelineExecutionId}": must be a pipeline execution id (set it to #{codepipeline.PipelineExecutionId})',
  ]);
  expect(cfn.calls()).toHaveLength(0);
});
