import { App, Stack, Stage } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { MIN_REASON_LENGTH } from '../../lib/nag';

/** A reason acknowledge() accepts: it names the control and is at least MIN_REASON_LENGTH long. */
export const GOOD_REASON =
  'Replication role copies every object between the paired buckets; its scope is bounded by an SCP on the account.';
/** A second acceptable reason, for a bucket finding. */
export const BUCKET_REASON =
  'Access to this bucket is audited by CloudTrail S3 data events in the organisation trail (90 days in Lake).';
if (GOOD_REASON.length < MIN_REASON_LENGTH || BUCKET_REASON.length < MIN_REASON_LENGTH) {
  throw new Error('test/helpers/nag.ts: a sample reason is shorter than MIN_REASON_LENGTH');
}

export const S3_FULL = 'AwsSolutions-IAM5[Action::s3:*]';
export const RESOURCE_STAR = 'AwsSolutions-IAM5[Resource::*]';

/**
 * A stage with one stack `Data` holding a bucket without access logs or SSL enforcement and a
 * role with an `s3:*` on `*` policy: four AwsSolutions findings.
 */
export function stageWithData(app: App, name = 'Dev') {
  const stage = new Stage(app, name, { env: { account: '111111111111', region: 'eu-central-1' } });
  const stack = new Stack(stage, 'Data');
  const bucket = new s3.Bucket(stack, 'Bucket');
  const role = new iam.Role(stack, 'Role', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
  role.addToPolicy(new iam.PolicyStatement({ actions: ['s3:*'], resources: ['*'] }));
  return { stage, stack, bucket, role };
}

/** The CDK prints the validation report to stderr; the tests assert on its JSON copy instead. */
export function quietly<T>(fn: () => T): T {
  const spy = jest.spyOn(console, 'error').mockImplementation(() => undefined);
  try {
    return fn();
  } finally {
    spy.mockRestore();
  }
}
