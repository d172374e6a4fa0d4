import { RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { acknowledge, acknowledgeInlinePolicy, acknowledgeProviderFunction } from '../nag';
import { managedLogGroup } from './log-group';

/** Owner of Amazon Linux images (the `amazon` alias of account 137112412989). */
export const AMAZON_IMAGE_OWNER = 'amazon';

export interface PinnedAmiProps {
  /**
   * Exact name of the image, e.g. `al2023-ami-2023.6.20241111.0-kernel-6.1-arm64`. The name of an
   * Amazon Linux release is the same in every region; its image id differs per region.
   */
  readonly imageName: string;
  /** Retention of the lookup function's log group. */
  readonly logRetentionDays: number;
  /** Key of the log group (the environment's or the pipeline stack's `LogEncryptionKey`). */
  readonly logEncryptionKey: kms.IKey;
}

/**
 * An Amazon Linux image pinned by its release name and resolved to this region's image id when
 * the stack deploys (`ec2:DescribeImages`, owner `amazon`, deprecated images included).
 *
 * Why by name: a pinned image id cannot be checked by an offline synth, and a wrong one fails the
 * first deploy; an image read from AWS's `latest` SSM parameter moves whenever AWS publishes one
 * and replaces the instances at the next deploy. The name is a release the team chose; the
 * lookup runs only when the name changes (it is the custom resource's physical id), so the id
 * never moves by itself. A name that does not exist fails the stack update at this resource,
 * before any instance is touched, and CloudFormation rolls back.
 */
export class PinnedAmi extends Construct {
  /** This region's image id of the pinned release (a deploy-time attribute). */
  public readonly imageId: string;

  constructor(scope: Construct, id: string, props: PinnedAmiProps) {
    super(scope, id);
    const lookup = new cr.AwsCustomResource(this, 'Lookup', {
      resourceType: 'Custom::PinnedAmi',
      onUpdate: {
        service: 'EC2',
        action: 'describeImages',
        parameters: {
          Owners: [AMAZON_IMAGE_OWNER],
          IncludeDeprecated: true,
          Filters: [
            { Name: 'name', Values: [props.imageName] },
            { Name: 'architecture', Values: ['arm64'] },
            { Name: 'state', Values: ['available'] },
          ],
        },
        physicalResourceId: cr.PhysicalResourceId.of(props.imageName),
        outputPaths: ['Images.0.ImageId'],
      },
      policy: cr.AwsCustomResourcePolicy.fromStatements([
        // DescribeImages supports no resource-level permissions: `*` is the only resource.
        new iam.PolicyStatement({ actions: ['ec2:DescribeImages'], resources: ['*'] }),
      ]),
      installLatestAwsSdk: false,
      logGroup: managedLogGroup(this, 'Logs', {
        retentionDays: props.logRetentionDays,
        removalPolicy: RemovalPolicy.DESTROY,
        encryptionKey: props.logEncryptionKey,
      }),
    });
    this.imageId = lookup.getResponseField('Images.0.ImageId');

    const singletonRole = Stack.of(this)
      .node.findAll()
      .find(
        (c) =>
          c instanceof iam.Role &&
          c.node.path.endsWith(
            `/AWS${cr.AwsCustomResource.PROVIDER_FUNCTION_UUID.replace(/-/g, '')}/ServiceRole`,
          ),
      );
    if (!(singletonRole instanceof iam.Role)) {
      throw new Error(
        'PinnedAmi: the AwsCustomResource provider role was not found; review its acknowledgements',
      );
    }
    acknowledge(
      singletonRole,
      'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      "CDK's AwsCustomResource provider (one per stack) writes its own logs with the AWS managed basic execution policy; its only other permission is ec2:DescribeImages for the pinned image lookup.",
    );
    acknowledge(
      lookup,
      'AwsSolutions-IAM5[Resource::*]',
      'ec2:DescribeImages has no resource-level permissions (the IAM service authorization reference lists no resource type for it), so * is the only resource; the call is read-only.',
    );
    acknowledgeInlinePolicy(
      lookup,
      'The pinned-image lookup (CDK AwsCustomResource) policy allows ec2:DescribeImages only, for the provider role of this stack',
    );
    acknowledgeProviderFunction(
      singletonRole.node.scope!,
      "CDK's AwsCustomResource provider of this stack (the pinned-image lookup)",
      'EC2 DescribeImages',
    );
  }

  /** The pinned image as a machine image for launch templates and instances in `region`. */
  public machineImage(region: string): ec2.IMachineImage {
    return ec2.MachineImage.genericLinux({ [region]: this.imageId });
  }
}
