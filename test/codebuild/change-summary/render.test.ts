import type { DescribeChangeSetOutput } from '@aws-sdk/client-cloudformation';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { renderChangeSummary, summarizeStack } from '../../../codebuild/change-summary/render';

const fixtures = path.join(__dirname, '..', '..', 'fixtures', 'change-sets');
function recorded<T>(name: string): T {
  return JSON.parse(readFileSync(path.join(fixtures, name), 'utf8')) as T;
}
const dataPage = recorded<DescribeChangeSetOutput>('prod-data-replace-db.json');
const computePages = recorded<{ pages: DescribeChangeSetOutput[] }>('prod-compute-two-pages.json').pages;

const stage = () =>
  renderChangeSummary('Prod change summary — v1-orcha-infra execution 0f6b2c1e', [
    { stackName: 'v1-orcha-foundation', outcome: 'no-changes' },
    { stackName: 'v1-orcha-data', outcome: 'changes', pages: [dataPage] },
    { stackName: 'v1-orcha-compute', outcome: 'changes', pages: computePages },
    {
      stackName: 'v1-orcha-ops',
      outcome: 'unknown',
      reason: 'No export named v1-orcha-compute:ExportsOutputRefAsg found',
    },
  ]);

describe('the recorded prod change with a database replacement', () => {
  const summary = stage();

  test('the replaced database is the one alarm, with the property that forces it', () => {
    expect(summary.alarms).toHaveLength(1);
    expect(summary.alarms[0]).toMatchObject({
      stackName: 'v1-orcha-data',
      logicalId: 'DatabaseB269D8BB',
      type: 'AWS::RDS::DBInstance',
      kind: 'replaced',
      physicalId: 'v1-orcha-db',
      policyAction: 'ReplaceAndSnapshot',
      dataAtRisk: 'the database (customer data)',
    });
    expect(summary.alarms[0].properties).toEqual(['KmsKeyId (replacement)', 'BackupRetentionPeriod']);
  });

  test('the headline leads with the stateful replacement and counts each changed stack', () => {
    expect(summary.headline).toBe(
      'STATEFUL RESOURCE AT RISK: DatabaseB269D8BB (RDS::DBInstance) replaced. ' +
        'v1-orcha-data: 1 added, 2 replaced; v1-orcha-compute: 2 modified, 1 removed. ' +
        'Not computed: v1-orcha-ops (see the summary).',
    );
  });

  test('the Markdown opens with the warning, then one row per stack, then each stack', () => {
    const md = summary.markdown;
    expect(md.indexOf('STOP AND READ: 1 stateful resource would be replaced or removed')).toBeGreaterThan(0);
    expect(md).toContain(
      '> - **v1-orcha-data DatabaseB269D8BB (AWS::RDS::DBInstance v1-orcha-db) REPLACED by KmsKeyId (replacement): the database (customer data) is at risk**',
    );
    expect(md).toContain('| v1-orcha-foundation | 0 | 0 | 0 | 0 | no changes |');
    expect(md).toContain('| v1-orcha-data | 1 | 0 | 2 | 0 |  |');
    expect(md).toContain('| v1-orcha-compute | 0 | 2 | 0 | 1 |  |');
    expect(md).toContain('| v1-orcha-ops | 0 | 0 | 0 | 0 | not computed |');
    expect(md).toContain(
      '| **REPLACED (STATEFUL)** | DatabaseB269D8BB | AWS::RDS::DBInstance | v1-orcha-db | KmsKeyId (replacement), BackupRetentionPeriod, policy: ReplaceAndSnapshot |',
    );
    // A conditional replacement of a non-stateful resource is listed, not alarmed.
    expect(md).toContain(
      '| may be replaced | DbCredentialsAttachment6B2E7D1A | AWS::SecretsManager::SecretTargetAttachment |',
    );
    expect(md).toContain('No export named v1-orcha-compute:ExportsOutputRefAsg found');
    // Replacements first within a stack.
    expect(md.indexOf('DatabaseB269D8BB |')).toBeLessThan(md.indexOf('DatabaseKey5A1D3C2B'));
  });

  test('both pages of a paginated change set are read', () => {
    const compute = summary.stacks.find((s) => s.stackName === 'v1-orcha-compute');
    expect(compute?.lines.map((l) => [l.kind, l.logicalId])).toEqual([
      ['removed', 'LegacyAmiParameter1F2E3D4C'],
      ['modified', 'AutoScalingGroupASG804C35BE'],
      ['modified', 'LaunchTemplate04EC5460'],
    ]);
  });
});

describe('stateful resources', () => {
  const change = (resourceChange: Record<string, unknown>) =>
    summarizeStack({
      stackName: 's',
      outcome: 'changes',
      pages: [{ Changes: [{ Type: 'Resource', ResourceChange: resourceChange }] }],
    }).lines[0];

  test.each([
    ['AWS::S3::Bucket'],
    ['AWS::SQS::Queue'],
    ['AWS::ECR::Repository'],
    ['AWS::SecretsManager::Secret'],
    ['AWS::Route53::HostedZone'],
    ['AWS::RDS::DBInstance'],
  ])('%s replaced or conditionally replaced is at risk', (type) => {
    for (const replacement of ['True', 'Conditional']) {
      const line = change({
        Action: 'Modify',
        Replacement: replacement,
        LogicalResourceId: 'X',
        ResourceType: type,
      });
      expect(line.dataAtRisk).toBeDefined();
    }
  });

  test('a removed bucket is at risk unless CloudFormation retains it', () => {
    expect(
      change({
        Action: 'Remove',
        LogicalResourceId: 'B',
        ResourceType: 'AWS::S3::Bucket',
        PolicyAction: 'Delete',
      }).dataAtRisk,
    ).toBe('the objects (documents, artifacts)');
    expect(
      change({
        Action: 'Remove',
        LogicalResourceId: 'B',
        ResourceType: 'AWS::S3::Bucket',
        PolicyAction: 'Retain',
      }).dataAtRisk,
    ).toBeUndefined();
  });

  test('an in-place change of a stateful resource is not an alarm', () => {
    expect(
      change({
        Action: 'Modify',
        Replacement: 'False',
        LogicalResourceId: 'Q',
        ResourceType: 'AWS::SQS::Queue',
      }).dataAtRisk,
    ).toBeUndefined();
  });

  test('a replaced stateless resource is listed as replaced, not alarmed', () => {
    const line = change({
      Action: 'Modify',
      Replacement: 'True',
      LogicalResourceId: 'L',
      ResourceType: 'AWS::Lambda::Function',
    });
    expect(line.kind).toBe('replaced');
    expect(line.dataAtRisk).toBeUndefined();
  });
});

test('a stage without changes says so in one line', () => {
  const summary = renderChangeSummary('t', [
    { stackName: 'a', outcome: 'no-changes' },
    { stackName: 'b', outcome: 'no-changes' },
  ]);
  expect(summary.headline).toBe('No changes.');
  expect(summary.alarms).toEqual([]);
});

test('a stack deployed for the first time lists every resource as added', () => {
  const summary = renderChangeSummary('t', [
    {
      stackName: 'v1-orcha-ops',
      outcome: 'new-stack',
      resources: [
        { logicalId: 'Topic', type: 'AWS::SNS::Topic' },
        { logicalId: 'Alarm', type: 'AWS::CloudWatch::Alarm' },
      ],
    },
  ]);
  expect(summary.headline).toBe('v1-orcha-ops: new stack, 2 added.');
  expect(summary.markdown).toContain('| v1-orcha-ops | 2 | 0 | 0 | 0 | new stack |');
});

test('the headline stays short enough for the approval comment', () => {
  const many = Array.from({ length: 40 }, (_, i) => ({
    Type: 'Resource' as const,
    ResourceChange: {
      Action: 'Modify' as const,
      Replacement: 'True' as const,
      LogicalResourceId: `Bucket${i}ABCDEF12`,
      ResourceType: 'AWS::S3::Bucket',
    },
  }));
  const summary = renderChangeSummary('t', [
    { stackName: 's', outcome: 'changes', pages: [{ Changes: many }] },
  ]);
  expect(summary.headline.length).toBeLessThanOrEqual(200);
  expect(summary.headline).toMatch(/^STATEFUL RESOURCE AT RISK/);
  expect(summary.alarms).toHaveLength(40);
});
