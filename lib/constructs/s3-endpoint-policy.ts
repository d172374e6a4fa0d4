import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { awsOwnedBuckets } from '../config/naming';

export interface S3EndpointPolicyProps {
  /** The environment's own buckets, by name (documents, pipeline artifacts): every S3 action. */
  readonly environmentBuckets: readonly string[];
  /** Region of the VPC: the AWS-owned buckets are regional. */
  readonly region: string;
  /**
   * Buckets only read from the VPC besides the AWS-owned ones, e.g. the CDK asset bucket the
   * migration test's CodeBuild downloads its runner from.
   * @default - none
   */
  readonly readOnlyBuckets?: readonly string[];
}

/**
 * The policy of the S3 gateway endpoint: traffic from the VPC to S3 in the region reaches the
 * environment's own buckets and the AWS-owned buckets the instances and the migration test read
 * (package repositories, ECR image layers, the CodeDeploy and SSM agents' buckets), and no other
 * bucket. IAM still decides what each role may do; the endpoint policy stops a credential that
 * leaks into the VPC (or a compromised container) from writing to a bucket outside the
 * environment. Buckets in other regions are not reached through the endpoint.
 */
export function applyS3EndpointPolicy(endpoint: ec2.GatewayVpcEndpoint, props: S3EndpointPolicyProps): void {
  const bucketArn = (name: string) => `arn:aws:s3:::${name}`;
  endpoint.addToPolicy(
    new iam.PolicyStatement({
      sid: 'EnvironmentBuckets',
      principals: [new iam.AnyPrincipal()],
      actions: ['s3:*'],
      resources: props.environmentBuckets.flatMap((name) => [bucketArn(name), `${bucketArn(name)}/*`]),
    }),
  );
  const readOnly = [...awsOwnedBuckets(props.region).map((b) => b.name), ...(props.readOnlyBuckets ?? [])];
  endpoint.addToPolicy(
    new iam.PolicyStatement({
      sid: 'ReadAwsAndAssetBuckets',
      principals: [new iam.AnyPrincipal()],
      actions: ['s3:GetObject', 's3:GetObjectVersion'],
      resources: readOnly.map((name) => `${bucketArn(name)}/*`),
    }),
  );
}
