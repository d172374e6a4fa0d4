import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { buildApp } from '../../lib/app';
import { listAcknowledgements, MIN_REASON_LENGTH, nagFindings, unusedAcknowledgements } from '../../lib/nag';
import { resourcesOf } from '../helpers';

const built = buildApp(new App());
const pipelineStack = built.pipeline!;

test('the pipeline stack has no open AwsSolutions or NIST 800-53 R5 finding', () => {
  expect(nagFindings(pipelineStack)).toEqual([]);
});

test('every acknowledgement of the pipeline stack covers a finding of its pack', () => {
  expect(unusedAcknowledgements(pipelineStack)).toEqual([]);
});

test('every acknowledgement of the pipeline stack is on one resource, for one finding, with a reason', () => {
  const acks = listAcknowledgements(pipelineStack);
  expect(acks.length).toBeGreaterThan(20);
  for (const ack of acks) {
    expect(ack.id).toMatch(/^(AwsSolutions-[A-Z]+\d+|NIST\.800\.53\.R5-[A-Za-z0-9]+)(\[[^\]\s]+\])?$/);
    if (/IAM[45]/.test(ack.id)) expect(ack.id).toMatch(/\[(Action|Resource|Policy)::/);
    expect(ack.reason.length).toBeGreaterThanOrEqual(MIN_REASON_LENGTH);
  }
});

test('the audit can fail: a non-compliant bucket in the pipeline stack is reported', () => {
  const other = buildApp(new App());
  new s3.Bucket(other.pipeline!, 'NonCompliant');
  expect(nagFindings(other.pipeline!)).toEqual(
    expect.arrayContaining([
      expect.stringMatching(/^AwsSolutions-S1 @ .*NonCompliant/),
      expect.stringMatching(/^AwsSolutions-S10 @ .*NonCompliant/),
    ]),
  );
});

test("the artifact bucket's acknowledgements say how it is encrypted: the AWS-managed S3 key (no key of ours)", () => {
  const template = Template.fromStack(pipelineStack);
  const [[, bucket]] = resourcesOf(template, 'AWS::S3::Bucket').filter(([logicalId]) =>
    logicalId.startsWith('PipelineArtifactsBucket'),
  );
  expect(bucket.BucketEncryption).toEqual({
    ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms' } }],
  });
  const reasons = listAcknowledgements(pipelineStack)
    .filter((ack) => ack.stackPath === pipelineStack.node.path)
    .filter((ack) => ack.path.includes('ArtifactsBucket') || ack.id === 'AwsSolutions-CB4')
    .map((ack) => ack.reason);
  expect(reasons.some((r) => r.includes('AWS-managed S3 key (aws/s3)'))).toBe(true);
  expect(reasons.filter((r) => r.includes('SSE-S3'))).toEqual([]);
});
