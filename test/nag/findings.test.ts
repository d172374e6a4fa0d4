import { App } from 'aws-cdk-lib';
import { acknowledge } from '../../lib/nag/acknowledge';
import { nagFindings, nagViolations, unusedAcknowledgements } from '../../lib/nag/findings';
import { BUCKET_REASON, GOOD_REASON, S3_FULL, stageWithData } from '../helpers/nag';

describe('nagViolations() and nagFindings()', () => {
  it('report a non-compliant bucket and a wildcard policy', () => {
    const { stack } = stageWithData(new App());
    const findings = nagFindings(stack);
    expect(findings.filter((f) => f.startsWith('AwsSolutions-'))).toEqual([
      'AwsSolutions-IAM5[Action::s3:*] @ Dev/Data/Role/DefaultPolicy/Resource',
      'AwsSolutions-IAM5[Resource::*] @ Dev/Data/Role/DefaultPolicy/Resource',
      'AwsSolutions-S1 @ Dev/Data/Bucket/Resource',
      'AwsSolutions-S10 @ Dev/Data/Bucket/Resource',
    ]);
    // The second enforced pack reports the same resources against its own rules.
    expect(findings).toEqual(
      expect.arrayContaining([
        'NIST.800.53.R5-IAMNoInlinePolicy @ Dev/Data/Role/DefaultPolicy/Resource',
        'NIST.800.53.R5-IAMPolicyNoStatementsWithFullAccess @ Dev/Data/Role/DefaultPolicy/Resource',
        'NIST.800.53.R5-S3BucketSSLRequestsOnly @ Dev/Data/Bucket/Resource',
      ]),
    );
    expect(findings.every((f) => /^(AwsSolutions|NIST\.800\.53\.R5)-/.test(f))).toBe(true);
    expect(nagViolations(stack).find((v) => v.ruleName === 'AwsSolutions-S1')?.severity).toBe('error');
  });

  it('drop exactly the acknowledged findings (validateScope honours acknowledgements)', () => {
    const { stack, bucket, role } = stageWithData(new App());
    acknowledge(role, S3_FULL, GOOD_REASON);
    acknowledge(bucket, 'AwsSolutions-S1', BUCKET_REASON);
    acknowledge(bucket, 'NIST.800.53.R5-S3BucketLoggingEnabled', BUCKET_REASON);
    const findings = nagFindings(stack);
    expect(findings.filter((f) => f.startsWith('AwsSolutions-'))).toEqual([
      'AwsSolutions-IAM5[Resource::*] @ Dev/Data/Role/DefaultPolicy/Resource',
      'AwsSolutions-S10 @ Dev/Data/Bucket/Resource',
    ]);
    // A NIST acknowledgement drops its own finding only: AwsSolutions-S1 was acknowledged on its own.
    expect(findings).not.toContain('NIST.800.53.R5-S3BucketLoggingEnabled @ Dev/Data/Bucket/Resource');
    expect(findings).toContain('NIST.800.53.R5-S3BucketVersioningEnabled @ Dev/Data/Bucket/Resource');
  });

  it('look only under the scope they are given', () => {
    const app = new App();
    const dev = stageWithData(app, 'Dev');
    const prod = stageWithData(app, 'Prod');
    acknowledge(dev.bucket, 'AwsSolutions-S10', BUCKET_REASON);
    expect(nagFindings(dev.stack).every((f) => f.includes(' @ Dev/'))).toBe(true);
    expect(nagFindings(dev.stack)).not.toContain('AwsSolutions-S10 @ Dev/Data/Bucket/Resource');
    expect(nagFindings(prod.stack)).toContain('AwsSolutions-S10 @ Prod/Data/Bucket/Resource');
  });
});

describe('unusedAcknowledgements()', () => {
  it('lists acknowledgements of either enforced pack that cover no finding, and only those', () => {
    const { stack, bucket, role } = stageWithData(new App());
    acknowledge(bucket, 'AwsSolutions-S1', BUCKET_REASON); // used
    acknowledge(bucket, 'NIST.800.53.R5-S3BucketLoggingEnabled', BUCKET_REASON); // used
    acknowledge(role, 'AwsSolutions-L1', GOOD_REASON); // a role has no Lambda runtime
    acknowledge(role, 'NIST.800.53.R5-LambdaDLQ', GOOD_REASON); // nor a dead-letter queue
    expect(unusedAcknowledgements(stack).sort()).toEqual([
      'AwsSolutions-L1 @ Dev/Data/Role',
      'NIST.800.53.R5-LambdaDLQ @ Dev/Data/Role',
    ]);
  });

  it('does not count an acknowledgement of one pack as used by the other', () => {
    const { stack, bucket } = stageWithData(new App());
    // S3 logging is a finding of both packs; acknowledged for NIST only, AwsSolutions-S1 stays open.
    acknowledge(bucket, 'NIST.800.53.R5-S3BucketLoggingEnabled', BUCKET_REASON);
    expect(unusedAcknowledgements(stack)).toEqual([]);
    expect(nagFindings(stack)).toContain('AwsSolutions-S1 @ Dev/Data/Bucket/Resource');
  });
});
