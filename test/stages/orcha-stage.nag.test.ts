import { App, type Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { buildApp, type BuiltApp } from '../../lib/app';
import {
  listAcknowledgements,
  MIN_REASON_LENGTH,
  nagFindings,
  unusedAcknowledgements,
  type AcknowledgementRecord,
} from '../../lib/nag';
import type { OrchaStage } from '../../lib/stages/orcha-stage';

// The whole App as `bin/` builds it: every environment's stage and the pipeline stack.
let app: App;
let built: BuiltApp;

beforeAll(() => {
  app = new App();
  built = buildApp(app);
});

const ENVIRONMENTS = ['dev', 'staging', 'prod'] as const;
const STACKS = ['foundation', 'data', 'compute', 'ops'] as const;
const stackOf = (env: string, name: (typeof STACKS)[number]): Stack => {
  const stage: OrchaStage | undefined = built.stages[env];
  if (!stage) throw new Error(`no ${env} stage in the App`);
  return stage[name];
};

describe('every stage stack has no open AwsSolutions or NIST 800-53 R5 finding', () => {
  test('the App holds exactly the dev, staging and prod stages', () => {
    expect(Object.keys(built.stages).sort()).toEqual([...ENVIRONMENTS].sort());
  });

  test.each(ENVIRONMENTS.flatMap((env) => STACKS.map((stack) => [env, stack] as const)))(
    '%s %s',
    (env, stack) => {
      expect(nagFindings(stackOf(env, stack))).toEqual([]);
    },
  );
});

describe('acknowledgements of the stage stacks', () => {
  let acks: AcknowledgementRecord[];

  beforeAll(() => {
    const stagePaths = Object.values(built.stages).map((s) => `${s.node.path}/`);
    acks = listAcknowledgements(app).filter((a) => stagePaths.some((p) => a.path.startsWith(p)));
  });

  test('there are some, in every stage', () => {
    for (const stage of Object.values(built.stages)) {
      expect(acks.some((a) => a.path.startsWith(`${stage.node.path}/`))).toBe(true);
    }
  });

  test('each names one rule, with its finding in brackets for IAM4 and IAM5', () => {
    for (const { id } of acks) {
      expect(id).toMatch(/^(AwsSolutions-[A-Z]+[0-9]+|NIST\.800\.53\.R5-[A-Za-z0-9]+)(\[[^[\]\s]+\])?$/);
      if (/^AwsSolutions-IAM[45]\b/.test(id)) {
        expect(id).toMatch(/^AwsSolutions-IAM4\[Policy::.+\]$|^AwsSolutions-IAM5\[(Action|Resource)::.+\]$/);
      }
    }
  });

  test('each IAM5 finding names a readable ARN, not a generated cross-stack output', () => {
    for (const { id } of acks.filter((a) => a.id.startsWith('AwsSolutions-IAM5'))) {
      expect(id).not.toMatch(/GetStackOutput|Fn::|\$\{Token/);
    }
  });

  test(`each has a reason of at least ${MIN_REASON_LENGTH} characters`, () => {
    const short = acks
      .filter((a) => a.reason.length < MIN_REASON_LENGTH)
      .map((a) => `${a.id} @ ${a.path}: ${a.reason}`);
    expect(short).toEqual([]);
  });

  test('none covers nothing: every acknowledgement of either pack is used by a finding', () => {
    for (const stage of Object.values(built.stages)) expect(unusedAcknowledgements(stage)).toEqual([]);
  });

  test('NIST acknowledgements do not stand in for AwsSolutions ones: each names its own pack', () => {
    const nist = acks.filter((a) => a.id.startsWith('NIST.800.53.R5-'));
    expect(nist.length).toBeGreaterThan(20);
    // Every AwsSolutions finding the stages had before NIST was enforced is still acknowledged as such.
    expect(acks.filter((a) => a.id.startsWith('AwsSolutions-')).length).toBeGreaterThan(20);
  });

  test('none is made twice on the same resource', () => {
    const keys = acks.map((a) => `${a.id} @ ${a.path}`);
    expect(new Set(keys).size).toBe(keys.length);
  });
});

// Findings fixed rather than acknowledged: these keep them fixed (an acknowledgement would
// also make the audit above pass).
describe('fixed, not acknowledged', () => {
  /** The IAM policies of a stack, optionally only those whose logical id starts with `prefix`. */
  const policyText = (stack: Stack, prefix = '') =>
    JSON.stringify(
      Object.entries(Template.fromStack(stack).findResources('AWS::IAM::Policy')).filter(([id]) =>
        id.startsWith(prefix),
      ),
    );

  test.each(ENVIRONMENTS)('%s Data: no LogRetention Lambda (its IAM4 and IAM5 findings)', (env) => {
    const data = Template.fromStack(stackOf(env, 'data'));
    data.resourceCountIs('AWS::Lambda::Function', 0);
    data.resourceCountIs('Custom::LogRetention', 0);
  });

  test('prod Foundation: the NAT instance root volume is encrypted (EC26)', () => {
    Template.fromStack(stackOf('prod', 'foundation')).hasResourceProperties('AWS::EC2::Instance', {
      BlockDeviceMappings: [
        { DeviceName: '/dev/xvda', Ebs: { Encrypted: true, VolumeType: 'gp3', DeleteOnTermination: true } },
      ],
    });
  });

  test.each(ENVIRONMENTS)(
    '%s Ops: no S3 action wildcard, no unused report-group or default log-group grant in the app pipeline',
    (env) => {
      const text = policyText(stackOf(env, 'ops'), 'AppPipeline');
      expect(text).toContain('AppPipelineBuildRole');
      expect(text).not.toMatch(/"s3:[A-Za-z]*\*"/);
      expect(text).not.toContain('report-group/');
      expect(text).not.toContain('/aws/codebuild/');
    },
  );

  test('prod Ops: the approval role publishes with kms:GenerateDataKey, not kms:GenerateDataKey*', () => {
    const text = policyText(stackOf('prod', 'ops'), 'AppPipeline');
    expect(text).toContain('"kms:GenerateDataKey"');
    expect(text).not.toContain('kms:GenerateDataKey*');
  });

  test.each(ENVIRONMENTS)("%s: every log group is encrypted with the environment's one log key", (env) => {
    const stage = built.stages[env];
    const keyRef = stage.foundation.resolve(stage.foundation.logEncryptionKey.keyArn) as unknown;
    const keyIds = STACKS.flatMap((name) =>
      Object.values(Template.fromStack(stackOf(env, name)).findResources('AWS::Logs::LogGroup')).map(
        (r) => (r as { Properties: { KmsKeyId?: unknown } }).Properties.KmsKeyId,
      ),
    );
    expect(keyIds.length).toBeGreaterThan(4);
    // In Foundation a reference to the key, elsewhere a cross-stack reference to its ARN.
    expect(keyIds.every((id) => id !== undefined)).toBe(true);
    expect(keyIds).toContainEqual(keyRef);
    expect(Template.fromStack(stackOf(env, 'foundation')).findResources('AWS::KMS::Key')).not.toEqual({});
  });

  test.each(ENVIRONMENTS)('%s Compute: no S3 action wildcard on the service role', (env) => {
    expect(policyText(stackOf(env, 'compute'))).not.toMatch(/"s3:[A-Za-z]*\*"/);
  });
});

describe('the audit can fail', () => {
  test('a bucket without encryption settings, SSL enforcement or access logs is reported', () => {
    const other = buildApp(new App());
    const data = other.stages.dev.data;
    new s3.Bucket(data, 'NonCompliant');
    const findings = nagFindings(data);
    expect(findings).toEqual(
      expect.arrayContaining([
        'AwsSolutions-S1 @ Dev/Data/NonCompliant/Resource',
        'AwsSolutions-S10 @ Dev/Data/NonCompliant/Resource',
      ]),
    );
    // Only the added bucket is reported: the rest of the stack stays clean.
    expect(findings.every((f) => f.endsWith(' @ Dev/Data/NonCompliant/Resource'))).toBe(true);
  });
});
