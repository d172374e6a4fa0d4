import * as fs from 'node:fs';
import * as path from 'node:path';
import { App, Stack, Stage, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import {
  acknowledge,
  awsSolutionsRuleIds,
  extraPacksFromContext,
  listAcknowledgements,
  nagFindings,
  nagViolations,
  NagPackPlugin,
  registerNag,
  validateAcknowledgementId,
  validateAcknowledgementReason,
} from '../../lib/nag';
import { packEvaluationSchema } from '../../lib/nag/evaluation';

const GOOD_REASON = 'Replication role copies every object between the paired buckets; scoped by an SCP.';
const S3_FULL = 'AwsSolutions-IAM5[Action::s3:*]';
const RESOURCE_STAR = 'AwsSolutions-IAM5[Resource::*]';

function stageWithData(app: App, name = 'Dev') {
  const stage = new Stage(app, name, { env: { account: '111111111111', region: 'eu-central-1' } });
  const stack = new Stack(stage, 'Data');
  const bucket = new s3.Bucket(stack, 'Bucket'); // no access logs, no SSL enforcement
  const role = new iam.Role(stack, 'Role', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
  role.addToPolicy(new iam.PolicyStatement({ actions: ['s3:*'], resources: ['*'] }));
  return { stage, stack, bucket, role };
}

/** The CDK prints the validation report to stderr; the tests assert on its JSON copy instead. */
function quietly<T>(fn: () => T): T {
  const spy = jest.spyOn(console, 'error').mockImplementation(() => undefined);
  try {
    return fn();
  } finally {
    spy.mockRestore();
  }
}

describe('acknowledge() id guard', () => {
  it.each([
    ['two rules, comma', 'AwsSolutions-S1,AwsSolutions-S10'],
    ['two rules, space', 'AwsSolutions-S1 AwsSolutions-S10'],
    ['wildcard rule', 'AwsSolutions-*'],
    ['rule prefix only', 'AwsSolutions-IAM'],
    ['other pack', 'NIST.800.53.R5-S3BucketLoggingEnabled'],
    ['namespaced id (ignored by cdk-nag)', 'AwsSolutions::AwsSolutions-S1'],
    ['unknown rule', 'AwsSolutions-S99'],
    ['IAM5 without finding', 'AwsSolutions-IAM5'],
    ['IAM5 with a bare finding', 'AwsSolutions-IAM5[s3:*]'],
    ['IAM5 with two findings', 'AwsSolutions-IAM5[Action::s3:*][Resource::*]'],
    ['IAM4 without finding', 'AwsSolutions-IAM4'],
    ['IAM4 with an action finding', 'AwsSolutions-IAM4[Action::s3:*]'],
    ['empty', ''],
  ])('rejects %s', (_label, id) => {
    expect(() => validateAcknowledgementId(id)).toThrow();
  });

  it.each([
    'AwsSolutions-S1',
    'AwsSolutions-EC23',
    S3_FULL,
    RESOURCE_STAR,
    'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::bucket/*]',
    'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/AmazonSSMManagedInstanceCore]',
  ])('accepts %s', (id) => {
    expect(() => validateAcknowledgementId(id)).not.toThrow();
  });

  it('knows the rules of the installed AwsSolutions pack', () => {
    const rules = awsSolutionsRuleIds();
    expect(rules.size).toBeGreaterThan(100);
    expect(rules).toContain('AwsSolutions-IAM5');
    expect(rules).toContain('AwsSolutions-L1');
  });
});

describe('acknowledge() reason guard', () => {
  it.each([
    ['empty', ''],
    ['blank', '        '],
    ['short', 'Not needed here.'],
    ['generic words only', 'This is acceptable and not needed, suppressed for now; ok, fine, by design.'],
    ['generic repeated', 'false positive false positive false positive false positive'],
    ['placeholder', 'TODO: explain why the bucket does not need access logs at all later on'],
  ])('rejects reason: %s', (_label, reason) => {
    expect(() => validateAcknowledgementReason('AwsSolutions-S1', reason)).toThrow(
      /Reason for AwsSolutions-S1/,
    );
  });

  it('accepts a reason that names the compensating control', () => {
    expect(() =>
      validateAcknowledgementReason(
        'AwsSolutions-S1',
        'Access is audited by CloudTrail S3 data events in the org trail.',
      ),
    ).not.toThrow();
  });
});

describe('acknowledge()', () => {
  it('records the acknowledgement in construct metadata and in the registry', () => {
    const app = new App();
    const { role, stack } = stageWithData(app);
    acknowledge(role, S3_FULL, GOOD_REASON);
    expect(listAcknowledgements(app)).toEqual([
      { id: S3_FULL, reason: GOOD_REASON, path: 'Dev/Data/Role', stackPath: 'Dev/Data' },
    ]);
    expect(listAcknowledgements(stack)).toHaveLength(1);
    const meta = role.node.metadata.filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY);
    expect(meta.map((m) => m.data)).toEqual([{ [`Annotation::${S3_FULL}`]: GOOD_REASON }]);
    expect(listAcknowledgements(new App())).toEqual([]);
  });

  it('rejects bad input before recording anything', () => {
    const app = new App();
    const { role } = stageWithData(app);
    expect(() => acknowledge(role, 'AwsSolutions-IAM5', GOOD_REASON)).toThrow(/must name the wildcard/);
    expect(() => acknowledge(role, S3_FULL, 'acceptable')).toThrow(/too short/);
    expect(listAcknowledgements(app)).toEqual([]);
    expect(role.node.metadata.some((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)).toBe(
      false,
    );
  });

  it('refuses App- and Stage-wide acknowledgements and duplicates', () => {
    const app = new App();
    const { stage, role } = stageWithData(app);
    expect(() => acknowledge(app, 'AwsSolutions-S1', GOOD_REASON)).toThrow(/Stack/);
    expect(() => acknowledge(stage, 'AwsSolutions-S1', GOOD_REASON)).toThrow(/Stack/);
    acknowledge(role, S3_FULL, GOOD_REASON);
    expect(() => acknowledge(role, S3_FULL, GOOD_REASON)).toThrow(/already acknowledged/);
  });

  it('writes the acknowledgement into the template Metadata of a Stage stack', () => {
    const app = new App();
    const { stack, role } = stageWithData(app);
    acknowledge(role, S3_FULL, GOOD_REASON);
    const policy = Template.fromStack(stack).findResources('AWS::IAM::Policy');
    const metadata = Object.values(policy).map((r) => (r as { Metadata: Record<string, unknown> }).Metadata);
    expect(metadata).toEqual([
      expect.objectContaining({ cdk_nag: { rules_to_suppress: [{ id: S3_FULL, reason: GOOD_REASON }] } }),
    ]);
  });
});

describe('nagViolations()', () => {
  it('reports a non-compliant bucket and a wildcard policy', () => {
    const app = new App();
    const { stack } = stageWithData(app);
    expect(nagFindings(stack)).toEqual([
      'AwsSolutions-IAM5[Action::s3:*] @ Dev/Data/Role/DefaultPolicy/Resource',
      'AwsSolutions-IAM5[Resource::*] @ Dev/Data/Role/DefaultPolicy/Resource',
      'AwsSolutions-S1 @ Dev/Data/Bucket/Resource',
      'AwsSolutions-S10 @ Dev/Data/Bucket/Resource',
    ]);
    expect(nagViolations(stack).find((v) => v.ruleName === 'AwsSolutions-S1')?.severity).toBe('error');
  });

  it('drops exactly the acknowledged findings (validateScope honours acknowledgements)', () => {
    const app = new App();
    const { stack, bucket, role } = stageWithData(app);
    acknowledge(role, S3_FULL, GOOD_REASON);
    acknowledge(
      bucket,
      'AwsSolutions-S1',
      'Access is audited by CloudTrail S3 data events in the org trail.',
    );
    expect(nagFindings(stack)).toEqual([
      'AwsSolutions-IAM5[Resource::*] @ Dev/Data/Role/DefaultPolicy/Resource',
      'AwsSolutions-S10 @ Dev/Data/Bucket/Resource',
    ]);
  });

  it('a stack-level acknowledgement covers the resources of that stack only', () => {
    const app = new App();
    const dev = stageWithData(app, 'Dev');
    const prod = stageWithData(app, 'Prod');
    acknowledge(dev.stack, 'AwsSolutions-S10', 'Bucket policy denying non-TLS access is set by the org SCP.');
    expect(nagFindings(dev.stack)).not.toContain('AwsSolutions-S10 @ Dev/Data/Bucket/Resource');
    expect(nagFindings(prod.stack)).toContain('AwsSolutions-S10 @ Prod/Data/Bucket/Resource');
  });
});

describe('registerNag()', () => {
  it('registers once per App', () => {
    const app = new App();
    registerNag(app);
    expect(() => registerNag(app)).toThrow(/already/);
  });

  it('parses the compliancePacks switch', () => {
    expect(extraPacksFromContext(new App())).toEqual([]);
    expect(extraPacksFromContext(new App({ context: { compliancePacks: 'nist, PCI,nist' } }))).toEqual([
      'nist',
      'pci',
    ]);
    expect(extraPacksFromContext(new App({ context: { compliancePacks: 'all' } }))).toEqual([
      'nist',
      'hipaa',
      'pci',
    ]);
    expect(() => extraPacksFromContext(new App({ context: { compliancePacks: 'nist,sox' } }))).toThrow(/sox/);
  });

  it('fails the synth on an open AwsSolutions finding and lists it in the validation report', () => {
    const app = new App();
    stageWithData(app);
    registerNag(app);
    expect(() => quietly(() => app.synth())).toThrow(/AwsSolutions-S1/);
    const report = JSON.parse(fs.readFileSync(path.join(app.outdir, 'validation-report.json'), 'utf8'));
    const aws = report.pluginReports.find((r: { pluginName: string }) => r.pluginName === 'AwsSolutions');
    expect(aws.conclusion).toBe('failure');
    expect(aws.violations.map((v: { ruleName: string }) => v.ruleName)).toContain('AwsSolutions-S10');
  });

  it('passes once every finding is fixed or acknowledged, and records what was checked', () => {
    const app = new App();
    const stage = new Stage(app, 'Dev');
    const stack = new Stack(stage, 'Data');
    const bucket = new s3.Bucket(stack, 'Bucket', { enforceSSL: true });
    acknowledge(
      bucket,
      'AwsSolutions-S1',
      'Access is audited by CloudTrail S3 data events in the org trail.',
    );
    registerNag(app, { extraPacks: ['nist'] });
    expect(() => quietly(() => app.synth())).not.toThrow();
    const evaluation = packEvaluationSchema.parse(
      JSON.parse(fs.readFileSync(path.join(app.outdir, 'nag-evaluation', 'AwsSolutions.json'), 'utf8')),
    );
    expect(evaluation.mode).toBe('enforce');
    const data = evaluation.stacks.find((s) => s.stackPath === 'Dev/Data');
    expect(data?.rulesChecked).toEqual(expect.arrayContaining(['AwsSolutions-S1', 'AwsSolutions-S10']));
    expect(data?.rulesChecked).not.toContain('AwsSolutions-IAM5');
    expect(data?.acknowledged).toEqual([
      {
        ruleId: 'AwsSolutions-S1',
        resourcePath: 'Dev/Data/Bucket/Resource',
        reason: 'Access is audited by CloudTrail S3 data events in the org trail.',
        acknowledgedAt: 'Dev/Data/Bucket',
      },
    ]);
    // NIST findings on the same bucket are reported but did not fail the synth.
    const report = JSON.parse(fs.readFileSync(path.join(app.outdir, 'validation-report.json'), 'utf8'));
    const nist = report.pluginReports.find((r: { pluginName: string }) => r.pluginName === 'NIST.800.53.R5');
    expect(nist.conclusion).toBe('success');
    expect(nist.violations.length).toBeGreaterThan(0);
    expect(nist.violations[0].ruleMetadata).toEqual(expect.objectContaining({ mode: 'report-only' }));
  });

  it('a report-only plugin returns the findings with success and severity info', () => {
    const app = new App();
    const { stack } = stageWithData(app);
    const context = { appConstruct: app, templatePaths: [], stackTemplates: [] };
    const enforced = new NagPackPlugin('pci', 'enforce').validate(context);
    const reportOnly = new NagPackPlugin('pci', 'report-only').validate(context);
    expect(enforced.success).toBe(false);
    expect(reportOnly.success).toBe(true);
    expect(reportOnly.violations.map((v) => v.ruleName)).toEqual(enforced.violations.map((v) => v.ruleName));
    expect(new Set(reportOnly.violations.map((v) => v.severity))).toEqual(new Set(['info']));
    expect(reportOnly.violations[0].ruleMetadata?.packSeverity).toBe(enforced.violations[0].severity);
    expect(stack.node.path).toBe('Dev/Data');
  });
});
