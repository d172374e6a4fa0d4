import { App } from 'aws-cdk-lib';
import { acknowledge } from '../../lib/nag/acknowledge';
import { nagFindings, nagViolations } from '../../lib/nag/findings';
import { BUCKET_REASON, GOOD_REASON, S3_FULL, stageWithData } from '../helpers/nag';

describe('nagViolations() and nagFindings()', () => {
  it('report a non-compliant bucket and a wildcard policy', () => {
    const { stack } = stageWithData(new App());
    expect(nagFindings(stack)).toEqual([
      'AwsSolutions-IAM5[Action::s3:*] @ Dev/Data/Role/DefaultPolicy/Resource',
      'AwsSolutions-IAM5[Resource::*] @ Dev/Data/Role/DefaultPolicy/Resource',
      'AwsSolutions-S1 @ Dev/Data/Bucket/Resource',
      'AwsSolutions-S10 @ Dev/Data/Bucket/Resource',
    ]);
    expect(nagViolations(stack).find((v) => v.ruleName === 'AwsSolutions-S1')?.severity).toBe('error');
  });

  it('drop exactly the acknowledged findings (validateScope honours acknowledgements)', () => {
    const { stack, bucket, role } = stageWithData(new App());
    acknowledge(role, S3_FULL, GOOD_REASON);
    acknowledge(bucket, 'AwsSolutions-S1', BUCKET_REASON);
    expect(nagFindings(stack)).toEqual([
      'AwsSolutions-IAM5[Resource::*] @ Dev/Data/Role/DefaultPolicy/Resource',
      'AwsSolutions-S10 @ Dev/Data/Bucket/Resource',
    ]);
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
