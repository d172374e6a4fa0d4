import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { ArtifactBucket } from '../../lib/constructs/artifact-bucket';

const env = { account: '700558745280', region: 'eu-central-1' };
const BUCKET = 'arn:aws:s3:::test-artifacts';

/** The statements each grant leaves in the role's DefaultPolicy. */
function statementsAfter(grant: (bucket: ArtifactBucket, role: iam.Role) => void): unknown[] {
  const stack = new Stack(new App(), 'Test', { env });
  const bucket = new ArtifactBucket(stack, 'Artifacts', { bucketName: 'test-artifacts' });
  const role = new iam.Role(stack, 'Role', {
    assumedBy: new iam.ServicePrincipal('codebuild.amazonaws.com'),
  });
  grant(bucket, role);
  const policies = Object.values(Template.fromStack(stack).findResources('AWS::IAM::Policy')) as {
    Properties: { PolicyDocument: { Statement: unknown[] } };
  }[];
  return policies.flatMap((p) => p.Properties.PolicyDocument.Statement);
}

const BUCKET_READ = {
  Effect: 'Allow',
  Action: ['s3:GetBucketAcl', 's3:GetBucketLocation', 's3:GetBucketVersioning', 's3:ListBucket'],
  Resource: BUCKET,
};

describe('ArtifactBucket', () => {
  test('is the existing bucket, by name, with a literal ARN and no key', () => {
    const stack = new Stack(new App(), 'Test', { env });
    const bucket = new ArtifactBucket(stack, 'Artifacts', { bucketName: 'test-artifacts' });
    expect(stack.resolve(bucket.bucketArn)).toBe(BUCKET);
    expect(stack.resolve(bucket.bucketName)).toBe('test-artifacts');
    expect(bucket.encryptionKey).toBeUndefined();
    Template.fromStack(stack).resourceCountIs('AWS::S3::Bucket', 0);
    Template.fromStack(stack).resourceCountIs('AWS::S3::BucketPolicy', 0);
  });

  test('grantRead: object download and bucket lookups, explicit actions only', () => {
    expect(statementsAfter((b, r) => b.grantRead(r))).toEqual([
      { Effect: 'Allow', Action: ['s3:GetObject', 's3:GetObjectVersion'], Resource: `${BUCKET}/*` },
      BUCKET_READ,
    ]);
  });

  test('grantReadWrite: read plus upload and abort, no delete', () => {
    expect(statementsAfter((b, r) => b.grantReadWrite(r))).toEqual([
      {
        Effect: 'Allow',
        Action: ['s3:AbortMultipartUpload', 's3:GetObject', 's3:GetObjectVersion', 's3:PutObject'],
        Resource: `${BUCKET}/*`,
      },
      BUCKET_READ,
    ]);
  });

  test('grantWrite and grantPutAcl: object actions only, on the key pattern given', () => {
    expect(statementsAfter((b, r) => b.grantWrite(r, 'bundles/*'))).toEqual([
      {
        Effect: 'Allow',
        Action: ['s3:AbortMultipartUpload', 's3:PutObject'],
        Resource: `${BUCKET}/bundles/*`,
      },
    ]);
    expect(statementsAfter((b, r) => b.grantPutAcl(r))).toEqual([
      { Effect: 'Allow', Action: ['s3:PutObjectAcl', 's3:PutObjectVersionAcl'], Resource: `${BUCKET}/*` },
    ]);
  });

  test('no grant uses an action wildcard', () => {
    const all = statementsAfter((b, r) => {
      b.grantRead(r);
      b.grantWrite(r);
      b.grantPut(r);
      b.grantReadWrite(r);
      b.grantPutAcl(r);
    });
    expect(JSON.stringify(all)).not.toMatch(/"s3:[A-Za-z]*\*"/);
  });

  test('a key pattern that is not a string fails with its type', () => {
    const stack = new Stack(new App(), 'Test', { env });
    const bucket = new ArtifactBucket(stack, 'Artifacts', { bucketName: 'test-artifacts' });
    const role = new iam.Role(stack, 'Role', {
      assumedBy: new iam.ServicePrincipal('codebuild.amazonaws.com'),
    });
    expect(() => bucket.grantRead(role, 42)).toThrow(
      'ArtifactBucket grants take a key pattern string, got number',
    );
  });
});
