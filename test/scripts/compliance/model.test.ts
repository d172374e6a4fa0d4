import * as path from 'node:path';
import { loadComplianceInput, readStacks } from '../../../scripts/compliance/load';
import { ruleCatalog } from '../../../scripts/compliance/catalog';
import {
  baselineFromModel,
  buildComplianceModel,
  ruleOf,
  TOP_LEVEL,
  type ComplianceInput,
  type ComplianceModel,
} from '../../../scripts/compliance/model';

// Trimmed from a real synth (cdk-nag 3.0.2, aws-cdk-lib 2.276.0): stages Dev and Prod, a
// top-level Pipeline stack, AwsSolutions enforced, NIST/HIPAA/PCI report only.
const FIXTURE = path.join(__dirname, '..', '..', 'fixtures', 'compliance', 'cloud-assembly');
const GENERATED_AT = '2026-11-27T00:00:00.000Z';
const S1_REASON_DEV = 'Server access logs replaced by CloudTrail S3 data events for this account <script>.';

function fixture(): ComplianceInput {
  return loadComplianceInput(FIXTURE, GENERATED_AT);
}

function clone<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

function stack(model: ComplianceModel, env: string, stackPath: string) {
  const found = model.environments.find((e) => e.name === env)?.stacks.find((s) => s.stackPath === stackPath);
  if (!found) throw new Error(`no stack ${stackPath} in ${env}`);
  return found;
}

function pack(s: ReturnType<typeof stack>, name: string) {
  const found = s.packs.find((p) => p.pack === name);
  if (!found) throw new Error(`no pack ${name}`);
  return found;
}

describe('loading the cloud assembly', () => {
  it('finds the stacks of every stage through the nested manifests', () => {
    expect(readStacks(FIXTURE).map((s) => [s.environment, s.stackPath, s.templateFile])).toEqual([
      ['Dev', 'Dev/Data', 'assembly-Dev/DevDataF961E460.template.json'],
      ['Prod', 'Prod/Data', 'assembly-Prod/ProdData90A795AA.template.json'],
      [TOP_LEVEL, 'Pipeline', 'Pipeline.template.json'],
    ]);
  });

  it('says what to run when there is no validation report', () => {
    expect(() => loadComplianceInput(path.join(FIXTURE, 'assembly-Dev'), GENERATED_AT)).toThrow(
      /npx cdk synth/,
    );
  });
});

describe('compliance model', () => {
  const model = buildComplianceModel(fixture());

  it('fails on the open AwsSolutions findings only', () => {
    expect(model.status).toBe('FAIL');
    expect(model.problems).toEqual([]);
    expect(model.totals).toEqual({
      environments: 3,
      stacks: 3,
      resources: 8,
      openEnforced: 2,
      openAdvisory: 57,
      acknowledged: 3,
      unusedAcknowledgements: 0,
    });
  });

  it('groups per environment and stack, alphabetically unless told an order', () => {
    expect(model.environments.map((e) => [e.name, e.stacks.map((s) => s.stackPath)])).toEqual([
      ['Dev', ['Dev/Data']],
      ['Prod', ['Prod/Data']],
      [TOP_LEVEL, ['Pipeline']],
    ]);
    const ordered = buildComplianceModel({ ...fixture(), environmentOrder: ['Prod', 'Staging', 'Dev'] });
    expect(ordered.environments.map((e) => e.name)).toEqual(['Prod', 'Dev', TOP_LEVEL]);
    const dev = pack(stack(model, 'Dev', 'Dev/Data'), 'AwsSolutions');
    expect(dev.open.map((f) => `${f.ruleId} @ ${f.resourcePath}`)).toEqual([
      'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/AmazonSSMManagedInstanceCore] @ Dev/Data/Role/Resource',
      'AwsSolutions-IAM5[Resource::*] @ Dev/Data/Role/DefaultPolicy/Resource',
    ]);
    expect(pack(stack(model, 'Prod', 'Prod/Data'), 'AwsSolutions').open).toEqual([]);
    expect(pack(stack(model, TOP_LEVEL, 'Pipeline'), 'AwsSolutions').open).toEqual([]);
    expect(pack(stack(model, TOP_LEVEL, 'Pipeline'), 'NIST.800.53.R5').open.length).toBeGreaterThan(0);
  });

  it('lists acknowledged findings with reason, resource and where they were acknowledged', () => {
    expect(pack(stack(model, 'Dev', 'Dev/Data'), 'AwsSolutions').acknowledged).toEqual([
      {
        pack: 'AwsSolutions',
        ruleId: 'AwsSolutions-IAM5[Action::s3:*]',
        resourcePath: 'Dev/Data/Role/DefaultPolicy/Resource',
        reason: 'Replication role copies every object class between the paired buckets; scoped by SCP.',
        acknowledgedAt: 'Dev/Data/Role',
      },
      {
        pack: 'AwsSolutions',
        ruleId: 'AwsSolutions-S1',
        resourcePath: 'Dev/Data/Bucket/Resource',
        reason: S1_REASON_DEV,
        acknowledgedAt: 'Dev/Data',
      },
    ]);
    expect(
      pack(stack(model, 'Prod', 'Prod/Data'), 'AwsSolutions').acknowledged.map((a) => a.acknowledgedAt),
    ).toEqual(['Prod/Data/Bucket']);
  });

  it('summarises each pack with its mode and the rules it checked', () => {
    expect(model.packs.map((p) => [p.pack, p.mode, p.open, p.acknowledged])).toEqual([
      ['AwsSolutions', 'enforce', 2, 3],
      ['HIPAA.Security', 'report-only', 19, 0],
      ['NIST.800.53.R5', 'report-only', 19, 0],
      ['PCI.DSS.321', 'report-only', 19, 0],
    ]);
    expect(pack(stack(model, 'Dev', 'Dev/Data'), 'AwsSolutions').rulesChecked).toEqual([
      'AwsSolutions-IAM4',
      'AwsSolutions-IAM5',
      'AwsSolutions-S1',
      'AwsSolutions-S10',
      'AwsSolutions-S2',
      'AwsSolutions-S5',
    ]);
    expect(model.packs[0].rulesChecked).toBe(6);
    // Report-only packs keep the severity the pack gave, not the 'info' used to keep the synth green.
    expect(pack(stack(model, 'Dev', 'Dev/Data'), 'NIST.800.53.R5').open[0].severity).toBe('error');
  });

  it('passes when the enforced pack has no open finding, whatever the report-only packs say', () => {
    const input = fixture();
    const report = clone(input.validationReport) as { pluginReports: { pluginName: string }[] };
    report.pluginReports = report.pluginReports.filter((r) => r.pluginName !== 'AwsSolutions');
    const passing = buildComplianceModel({ ...input, validationReport: report });
    expect(passing.status).toBe('PASS');
    expect(passing.totals.openEnforced).toBe(0);
    expect(passing.totals.openAdvisory).toBe(57);
  });

  it('fails when there is no proof that AwsSolutions ran', () => {
    const input = fixture();
    const report = clone(input.validationReport) as { pluginReports: { pluginName: string }[] };
    report.pluginReports = [];
    const noEvidence = buildComplianceModel({ ...input, validationReport: report, evaluations: [] });
    expect(noEvidence.status).toBe('FAIL');
    expect(noEvidence.problems).toEqual([expect.stringMatching(/No AwsSolutions evaluation/)]);
  });

  it('reports a plugin that crashed', () => {
    const input = fixture();
    const report = clone(input.validationReport) as { pluginReports: unknown[] };
    report.pluginReports.push({
      pluginName: 'Custom',
      conclusion: 'failure',
      metadata: { error: "Validation plugin 'Custom' failed: boom" },
      violations: [],
    });
    expect(buildComplianceModel({ ...input, validationReport: report }).problems).toEqual([
      "Plugin Custom failed: Validation plugin 'Custom' failed: boom",
    ]);
  });

  it('flags an acknowledgement in a template that no finding matched', () => {
    const input = fixture();
    const stacks = clone(input.stacks);
    const pipeline = stacks.find((s) => s.stackPath === 'Pipeline');
    const resources = (
      pipeline?.template as { Resources: Record<string, { Metadata: Record<string, unknown> }> }
    ).Resources;
    const bucket = Object.values(resources)[0];
    bucket.Metadata.cdk_nag = {
      rules_to_suppress: [{ id: 'AwsSolutions-S1', reason: 'Left over from an old bucket.' }],
    };
    const stale = buildComplianceModel({ ...input, stacks });
    expect(stale.totals.unusedAcknowledgements).toBe(1);
    expect(stack(stale, TOP_LEVEL, 'Pipeline').declaredAcknowledgements).toEqual([
      expect.objectContaining({
        id: 'AwsSolutions-S1',
        unused: true,
        resources: ['Pipeline/Artifacts/Resource'],
      }),
    ]);
    expect(stack(stale, 'Dev', 'Dev/Data').declaredAcknowledgements.every((d) => !d.unused)).toBe(true);
  });

  it('rejects a validation report of the wrong shape', () => {
    expect(() => buildComplianceModel({ ...fixture(), validationReport: { pluginReports: [{}] } })).toThrow();
  });
});

describe('what the auditor reads', () => {
  const catalog = ruleCatalog();
  const model = buildComplianceModel({
    ...fixture(),
    catalog,
    audit: { commit: 'abc1234', uncommittedChanges: false, tools: { 'cdk-nag': '3.0.2' } },
  });

  it('says in the headline what FAIL covers and that report-only findings are open', () => {
    expect(model.headline).toBe(
      '2 open findings in the enforced packs (AwsSolutions); 57 open findings in the report-only packs ' +
        '(HIPAA.Security, NIST.800.53.R5, PCI.DSS.321), which do not fail the build and are listed as report only.',
    );
    expect(model.audit.commit).toBe('abc1234');
  });

  it('never lets a PASS stand alone while report-only findings are open', () => {
    const input = fixture();
    const report = clone(input.validationReport) as { pluginReports: { pluginName: string }[] };
    report.pluginReports = report.pluginReports.filter((r) => r.pluginName !== 'AwsSolutions');
    const passing = buildComplianceModel({ ...input, validationReport: report });
    expect(passing.status).toBe('PASS');
    expect(passing.headline).toMatch(
      /^no open finding in the enforced packs \(AwsSolutions\); 57 open findings in the report-only packs/,
    );
  });

  it('explains every rule with findings or checks: id, whole meaning, controls', () => {
    const rule = (id: string) => model.rules.find((r) => r.id === id);
    expect(rule('NIST.800.53.R5-S3BucketVersioningEnabled')).toEqual({
      pack: 'NIST.800.53.R5',
      id: 'NIST.800.53.R5-S3BucketVersioningEnabled',
      meaning: 'The S3 Bucket does not have versioning enabled.',
      explanation: expect.stringMatching(/^Use versioning to preserve, retrieve, and restore/),
      controls: expect.arrayContaining(['CP-10', 'SC-5(2)']),
      checked: true,
      open: 3,
      acknowledged: 0,
    });
    // AwsSolutions maps to its pack, not to a control id.
    expect(rule('AwsSolutions-S1')).toMatchObject({ controls: [], open: 0, acknowledged: 2 });
    expect(rule('AwsSolutions-IAM4')).toMatchObject({ open: 1, checked: true });
    for (const r of model.rules) {
      expect(r.meaning).toBe(catalog.get(r.pack)?.rules.get(r.id)?.meaning);
      expect(r.meaning).toMatch(/[.!?)]$/);
    }
    expect(model.packs.map((p) => [p.pack, p.rulesInPack])).toEqual([
      ['AwsSolutions', catalog.get('AwsSolutions')?.rules.size],
      ['HIPAA.Security', catalog.get('HIPAA.Security')?.rules.size],
      ['NIST.800.53.R5', catalog.get('NIST.800.53.R5')?.rules.size],
      ['PCI.DSS.321', catalog.get('PCI.DSS.321')?.rules.size],
    ]);
  });

  it('finds the rule of a finding id', () => {
    expect(ruleOf('AwsSolutions-IAM5[Action::s3:*]')).toBe('AwsSolutions-IAM5');
    expect(ruleOf('NIST.800.53.R5-IAMNoInlinePolicy')).toBe('NIST.800.53.R5-IAMNoInlinePolicy');
  });

  it('counts what was fixed and what is new since the baseline', () => {
    const baseline = clone(baselineFromModel(model));
    expect(baseline.commit).toBe('abc1234');
    expect(baseline.packs.AwsSolutions.open).toEqual([
      'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/AmazonSSMManagedInstanceCore] @ Dev/Data/Role/Resource',
      'AwsSolutions-IAM5[Resource::*] @ Dev/Data/Role/DefaultPolicy/Resource',
    ]);
    // Since the baseline: one finding fixed, one acknowledged (not a fix), one new; PCI was not run.
    baseline.packs.AwsSolutions.open = [
      'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/AmazonSSMManagedInstanceCore] @ Dev/Data/Role/Resource',
      'AwsSolutions-S1 @ Dev/Data/Bucket/Resource',
      'AwsSolutions-EC23 @ Dev/Data/Gone/Resource',
    ];
    baseline.packs.AwsSolutions.acknowledged = baseline.packs.AwsSolutions.acknowledged.filter(
      (k) => !k.startsWith('AwsSolutions-S1 @ Dev/'),
    );
    baseline.packs['Serverless'] = {
      mode: 'report-only',
      open: ['Serverless-LambdaDLQ @ X'],
      acknowledged: [],
    };
    const compared = buildComplianceModel({ ...fixture(), catalog, baseline });
    expect(compared.baseline?.notRun).toEqual(['Serverless']);
    expect(compared.baseline?.packs.find((p) => p.pack === 'AwsSolutions')).toEqual({
      pack: 'AwsSolutions',
      fixed: ['AwsSolutions-EC23 @ Dev/Data/Gone/Resource'],
      added: ['AwsSolutions-IAM5[Resource::*] @ Dev/Data/Role/DefaultPolicy/Resource'],
    });
    expect(compared.packs.map((p) => [p.pack, p.fixed, p.added])).toEqual([
      ['AwsSolutions', 1, 1],
      ['HIPAA.Security', 0, 0],
      ['NIST.800.53.R5', 0, 0],
      ['PCI.DSS.321', 0, 0],
    ]);
    expect(model.packs.every((p) => p.fixed === undefined && p.added === undefined)).toBe(true);
  });
});
