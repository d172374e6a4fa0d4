import {
  awsSolutionsRuleIds,
  MIN_REASON_LENGTH,
  nistRuleIds,
  validateAcknowledgementId,
  validateAcknowledgementReason,
} from '../../lib/nag/acknowledgement-rules';
import { RESOURCE_STAR, S3_FULL } from '../helpers/nag';

describe('acknowledgement id', () => {
  it.each([
    ['two rules, comma', 'AwsSolutions-S1,AwsSolutions-S10'],
    ['two rules, space', 'AwsSolutions-S1 AwsSolutions-S10'],
    ['wildcard rule', 'AwsSolutions-*'],
    ['rule prefix only', 'AwsSolutions-IAM'],
    ['report-only pack', 'HIPAA.Security-S3BucketLoggingEnabled'],
    ['unknown NIST rule', 'NIST.800.53.R5-S3BucketTeleportEnabled'],
    ['NIST rule, wrong case of the pack', 'nist.800.53.r5-S3BucketLoggingEnabled'],
    ['two NIST findings', 'NIST.800.53.R5-IAMNoInlinePolicy[a][b]'],
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
    'NIST.800.53.R5-S3BucketLoggingEnabled',
    'NIST.800.53.R5-IAMNoInlinePolicy',
  ])('accepts %s', (id) => {
    expect(() => validateAcknowledgementId(id)).not.toThrow();
  });

  it('knows the rules of the installed AwsSolutions pack', () => {
    const rules = awsSolutionsRuleIds();
    expect(rules.size).toBeGreaterThan(100);
    expect(rules).toContain('AwsSolutions-IAM5');
    expect(rules).toContain('AwsSolutions-L1');
  });

  it('knows the rules of the installed NIST 800-53 R5 pack', () => {
    const rules = nistRuleIds();
    expect(rules.size).toBeGreaterThan(80);
    expect(rules).toContain('NIST.800.53.R5-IAMNoInlinePolicy');
    expect(rules).toContain('NIST.800.53.R5-CloudWatchLogGroupEncrypted');
  });
});

describe('acknowledgement reason', () => {
  const CONTROL = 'Access is audited by CloudTrail S3 data events in the organisation trail';

  it.each([
    ['empty', ''],
    ['blank', '        '],
    ['short', 'Not needed here.'],
    ['generic words only', 'This is acceptable and not needed, suppressed for now; ok, fine, by design.'],
    ['generic repeated', 'false positive false positive false positive false positive false positive ok'],
    [
      'placeholder',
      'TODO: explain why the bucket does not need access logs at all, later on, in a follow-up',
    ],
  ])('rejects reason: %s', (_label, reason) => {
    expect(() => validateAcknowledgementReason('AwsSolutions-S1', reason)).toThrow(
      /Reason for AwsSolutions-S1/,
    );
  });

  it(`has one minimum length, ${MIN_REASON_LENGTH} characters after folding white space`, () => {
    const exactly = CONTROL.padEnd(MIN_REASON_LENGTH - 1, '.') + '.';
    expect(exactly).toHaveLength(MIN_REASON_LENGTH);
    expect(() => validateAcknowledgementReason('AwsSolutions-S1', exactly)).not.toThrow();
    expect(() => validateAcknowledgementReason('AwsSolutions-S1', exactly.slice(1))).toThrow(
      new RegExp(`too short \\(${MIN_REASON_LENGTH - 1} < ${MIN_REASON_LENGTH} characters\\)`),
    );
    // Padding with white space does not count.
    expect(() =>
      validateAcknowledgementReason('AwsSolutions-S1', exactly.slice(1).replace(' ', '          ')),
    ).toThrow(/too short/);
  });

  it('accepts a reason that names the compensating control', () => {
    expect(() =>
      validateAcknowledgementReason('AwsSolutions-S1', `${CONTROL}, kept 90 days in CloudTrail Lake.`),
    ).not.toThrow();
  });
});
