import { App, Stack, Stage } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { stageId } from '../../lib/app';
import { loadEnvironment, loadPipeline } from '../../lib/config/load';
import { pipelineNames } from '../../lib/config/naming';
import { PipelineStack } from '../../lib/pipeline/pipeline-stack';
import { OrchaStage } from '../../lib/stages/orcha-stage';
import { acknowledge } from '../../lib/nag/acknowledge';
import { packEvaluationSchema } from '../../lib/nag/evaluation';
import { extraPacksFromContext, registerNag } from '../../lib/nag/registration';
import { BUCKET_REASON, quietly, stageWithData } from '../helpers/nag';

/**
 * The registration itself, as bin/ does it: AwsSolutions registered once on the App must
 * audit the pipeline stack and the stacks of the stages deployed by the pipeline. One
 * deliberately non-compliant bucket in each must both be reported, and fail the synth.
 */
const outdirs: string[] = [];
afterAll(() => outdirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

test('one registration on the App audits the pipeline stack and every stage inside the pipeline', () => {
  const outdir = mkdtempSync(path.join(tmpdir(), 'orcha-nag-'));
  outdirs.push(outdir);
  const app = new App({ outdir });
  // The stages of lib/app.ts, wired the same way; the planted bucket must be in prod before
  // the pipeline adds the stage (CDK Pipelines synthesizes a stage when it is added).
  const dev = new OrchaStage(app, stageId('dev'), { config: loadEnvironment('dev') });
  const staging = new OrchaStage(app, stageId('staging'), { config: loadEnvironment('staging') });
  const prod = new OrchaStage(app, stageId('prod'), { config: loadEnvironment('prod') });
  new s3.Bucket(prod.data, 'DeliberatelyNonCompliant');
  new s3.Bucket(dev.compute, 'DeliberatelyNonCompliant');
  const pipeline = new PipelineStack(app, pipelineNames.stack, {
    env: { account: '700558745280', region: 'eu-central-1' },
    pipeline: loadPipeline(),
    stages: [staging, prod],
  });
  new s3.Bucket(pipeline, 'DeliberatelyNonCompliant');
  registerNag(app);

  const error = jest.spyOn(console, 'error').mockImplementation(() => undefined);
  try {
    expect(() => app.synth()).toThrow(/AwsSolutions/);
  } finally {
    error.mockRestore();
  }

  const report = JSON.parse(readFileSync(path.join(app.outdir, 'validation-report.json'), 'utf8')) as {
    pluginReports: {
      pluginName: string;
      conclusion: string;
      violations: { ruleName: string; violatingConstructs: { constructPath: string }[] }[];
    }[];
  };
  const aws = report.pluginReports.find((r) => r.pluginName === 'AwsSolutions')!;
  expect(aws.conclusion).toBe('failure');
  const found = aws.violations.flatMap((v) =>
    v.violatingConstructs.map((c) => `${v.ruleName} @ ${c.constructPath}`),
  );
  // Exactly the planted findings: everything else of the real app is fixed or acknowledged.
  expect(found.sort()).toEqual(
    [
      'AwsSolutions-S1 @ Dev/Compute/DeliberatelyNonCompliant/Resource',
      'AwsSolutions-S10 @ Dev/Compute/DeliberatelyNonCompliant/Resource',
      'AwsSolutions-S1 @ Prod/Data/DeliberatelyNonCompliant/Resource',
      'AwsSolutions-S10 @ Prod/Data/DeliberatelyNonCompliant/Resource',
      'AwsSolutions-S1 @ v1-orcha-infra-pipeline/DeliberatelyNonCompliant/Resource',
      'AwsSolutions-S10 @ v1-orcha-infra-pipeline/DeliberatelyNonCompliant/Resource',
    ].sort(),
  );
  // The second enforced pack: it fails too, and only on the planted buckets.
  const nist = report.pluginReports.find((r) => r.pluginName === 'NIST.800.53.R5')!;
  expect(nist.conclusion).toBe('failure');
  const nistPaths = new Set(
    nist.violations.flatMap((v) => v.violatingConstructs.map((c) => c.constructPath)),
  );
  expect([...nistPaths].sort()).toEqual(
    [
      'Dev/Compute/DeliberatelyNonCompliant/Resource',
      'Prod/Data/DeliberatelyNonCompliant/Resource',
      'v1-orcha-infra-pipeline/DeliberatelyNonCompliant/Resource',
    ].sort(),
  );
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
    const report = JSON.parse(readFileSync(path.join(app.outdir, 'validation-report.json'), 'utf8'));
    const aws = report.pluginReports.find((r: { pluginName: string }) => r.pluginName === 'AwsSolutions');
    expect(aws.conclusion).toBe('failure');
    expect(aws.violations.map((v: { ruleName: string }) => v.ruleName)).toContain('AwsSolutions-S10');
  });

  it('fails the synth on an open NIST 800-53 R5 finding when AwsSolutions has none', () => {
    const app = new App();
    const stack = new Stack(new Stage(app, 'Dev'), 'Data');
    const bucket = new s3.Bucket(stack, 'Bucket', { enforceSSL: true });
    acknowledge(bucket, 'AwsSolutions-S1', BUCKET_REASON);
    registerNag(app);
    expect(() => quietly(() => app.synth())).toThrow(/NIST\.800\.53\.R5-S3BucketVersioningEnabled/);
    const report = JSON.parse(readFileSync(path.join(app.outdir, 'validation-report.json'), 'utf8'));
    const plugins = report.pluginReports as { pluginName: string; conclusion: string }[];
    expect(plugins.find((r) => r.pluginName === 'NIST.800.53.R5')?.conclusion).toBe('failure');
    // AwsSolutions had nothing open: cdk-nag leaves a pack without findings out of the report.
    expect(plugins.find((r) => r.pluginName === 'AwsSolutions')).toBeUndefined();
  });

  it('passes once every finding is fixed or acknowledged, and records what was checked', () => {
    const app = new App();
    const stage = new Stage(app, 'Dev');
    const stack = new Stack(stage, 'Data');
    const bucket = new s3.Bucket(stack, 'Bucket', {
      enforceSSL: true,
      versioned: true,
      encryption: s3.BucketEncryption.KMS_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    });
    acknowledge(bucket, 'AwsSolutions-S1', BUCKET_REASON);
    acknowledge(bucket, 'NIST.800.53.R5-S3BucketLoggingEnabled', BUCKET_REASON);
    acknowledge(bucket, 'NIST.800.53.R5-S3BucketReplicationEnabled', BUCKET_REASON);
    // `nist` in the switch changes nothing (it is enforced anyway); HIPAA runs report-only.
    registerNag(app, { extraPacks: ['nist', 'hipaa'] });
    expect(() => quietly(() => app.synth())).not.toThrow();
    const evaluation = packEvaluationSchema.parse(
      JSON.parse(readFileSync(path.join(app.outdir, 'nag-evaluation', 'AwsSolutions.json'), 'utf8')),
    );
    expect(evaluation.mode).toBe('enforce');
    const data = evaluation.stacks.find((s) => s.stackPath === 'Dev/Data');
    expect(data?.rulesChecked).toEqual(expect.arrayContaining(['AwsSolutions-S1', 'AwsSolutions-S10']));
    expect(data?.rulesChecked).not.toContain('AwsSolutions-IAM5');
    expect(data?.acknowledged).toEqual([
      {
        ruleId: 'AwsSolutions-S1',
        resourcePath: 'Dev/Data/Bucket/Resource',
        reason: BUCKET_REASON,
        acknowledgedAt: 'Dev/Data/Bucket',
      },
    ]);
    const nist = packEvaluationSchema.parse(
      JSON.parse(readFileSync(path.join(app.outdir, 'nag-evaluation', 'NIST.800.53.R5.json'), 'utf8')),
    );
    expect(nist.mode).toBe('enforce');
    expect(nist.stacks[0].acknowledged.map((a) => a.ruleId).sort()).toEqual([
      'NIST.800.53.R5-S3BucketLoggingEnabled',
      'NIST.800.53.R5-S3BucketReplicationEnabled',
    ]);
    // HIPAA findings on the same bucket are reported but did not fail the synth.
    const report = JSON.parse(readFileSync(path.join(app.outdir, 'validation-report.json'), 'utf8'));
    const hipaa = report.pluginReports.find((r: { pluginName: string }) => r.pluginName === 'HIPAA.Security');
    expect(hipaa.conclusion).toBe('success');
    expect(hipaa.violations.length).toBeGreaterThan(0);
    expect(hipaa.violations[0].ruleMetadata).toEqual(expect.objectContaining({ mode: 'report-only' }));
  });
});
