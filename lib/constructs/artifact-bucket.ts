import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';

/** Object actions of an artifact consumer: download an artifact (any version). */
export const ARTIFACT_OBJECT_READ_ACTIONS = ['s3:GetObject', 's3:GetObjectVersion'] as const;
/** Bucket actions CodePipeline, CodeBuild and CodeDeploy call before they touch an artifact. */
export const ARTIFACT_BUCKET_READ_ACTIONS = [
  's3:GetBucketAcl',
  's3:GetBucketLocation',
  's3:GetBucketVersioning',
  's3:ListBucket',
] as const;
/** Object actions of an artifact producer: upload (multipart included) and abort an upload. */
export const ARTIFACT_OBJECT_WRITE_ACTIONS = ['s3:PutObject', 's3:AbortMultipartUpload'] as const;
/** The ACL actions the CodeStar Connections source action asks for. */
export const ARTIFACT_OBJECT_ACL_ACTIONS = ['s3:PutObjectAcl', 's3:PutObjectVersionAcl'] as const;

export interface ArtifactBucketProps {
  /** Physical name of an existing bucket (SSE-S3, no KMS key), e.g. `v1-orcha-pipeline-artifacts-<account>`. */
  readonly bucketName: string;
}

/**
 * An existing pipeline artifacts bucket, referenced by name, whose `grantRead`, `grantWrite`,
 * `grantPut`, `grantReadWrite` and `grantPutAcl` name explicit S3 actions rather than the action
 * groups of CDK's bucket grants (`s3:GetObject*`, `s3:GetBucket*`, `s3:List*`, `s3:DeleteObject*`,
 * `s3:Abort*`). CodePipeline and its actions call exactly these methods on the artifact bucket for
 * every role that exchanges artifacts (pipeline, source, build, deploy, and the instances the
 * deploy reaches), so each of them gets read or read-and-upload on this bucket and nothing more:
 * no deletes (the bucket's lifecycle rules expire artifacts), no tagging, no bucket
 * configuration. The `grants` facade and the other grant methods keep CDK's behaviour.
 */
export class ArtifactBucket extends s3.BucketBase {
  public readonly bucketArn: string;
  public readonly bucketName: string;
  public readonly bucketDomainName: string;
  public readonly bucketWebsiteUrl: string;
  public readonly bucketWebsiteDomainName: string;
  public readonly bucketRegionalDomainName: string;
  public readonly bucketDualStackDomainName: string;
  /** SSE-S3: no key for grantees to be allowed on. */
  public readonly encryptionKey?: kms.IKey = undefined;
  public readonly isWebsite = false;
  public policy?: s3.BucketPolicy = undefined;
  public replicationRoleArn?: string = undefined;
  public disallowPublicAccess = true;
  /** The bucket belongs to another stack: its policy is not written here. */
  protected autoCreatePolicy = false;

  constructor(scope: Construct, id: string, props: ArtifactBucketProps) {
    super(scope, id);
    // The attributes CDK derives for a bucket imported by name (ARN and domain names).
    const imported = s3.Bucket.fromBucketName(this, 'Imported', props.bucketName);
    this.bucketArn = imported.bucketArn;
    this.bucketName = imported.bucketName;
    this.bucketDomainName = imported.bucketDomainName;
    this.bucketWebsiteUrl = imported.bucketWebsiteUrl;
    this.bucketWebsiteDomainName = imported.bucketWebsiteDomainName;
    this.bucketRegionalDomainName = imported.bucketRegionalDomainName;
    this.bucketDualStackDomainName = imported.bucketDualStackDomainName;
  }

  /** Download artifacts: GetObject(Version) on the objects, location, ACL, versioning and listing on the bucket. */
  public override grantRead(identity: iam.IGrantable, objectsKeyPattern: unknown = '*'): iam.Grant {
    return this.grantArtifactAccess(identity, [...ARTIFACT_OBJECT_READ_ACTIONS], objectsKeyPattern, true);
  }

  /** Upload artifacts: PutObject and AbortMultipartUpload on the objects (no deletes). */
  public override grantWrite(
    identity: iam.IGrantable,
    objectsKeyPattern: unknown = '*',
    _allowedActionPatterns?: string[],
  ): iam.Grant {
    return this.grantArtifactAccess(identity, [...ARTIFACT_OBJECT_WRITE_ACTIONS], objectsKeyPattern, false);
  }

  /** Same as {@link grantWrite}. */
  public override grantPut(identity: iam.IGrantable, objectsKeyPattern: unknown = '*'): iam.Grant {
    return this.grantWrite(identity, objectsKeyPattern);
  }

  /** {@link grantRead} and {@link grantWrite}. */
  public override grantReadWrite(identity: iam.IGrantable, objectsKeyPattern: unknown = '*'): iam.Grant {
    return this.grantArtifactAccess(
      identity,
      [...ARTIFACT_OBJECT_READ_ACTIONS, ...ARTIFACT_OBJECT_WRITE_ACTIONS],
      objectsKeyPattern,
      true,
    );
  }

  /** PutObjectAcl and PutObjectVersionAcl on the objects. */
  public override grantPutAcl(identity: iam.IGrantable, objectsKeyPattern = '*'): iam.Grant {
    return this.grantArtifactAccess(identity, [...ARTIFACT_OBJECT_ACL_ACTIONS], objectsKeyPattern, false);
  }

  private grantArtifactAccess(
    grantee: iam.IGrantable,
    objectActions: string[],
    objectsKeyPattern: unknown,
    withBucketRead: boolean,
  ): iam.Grant {
    if (typeof objectsKeyPattern !== 'string') {
      throw new Error(`ArtifactBucket grants take a key pattern string, got ${typeof objectsKeyPattern}`);
    }
    const objects = iam.Grant.addToPrincipalOrResource({
      grantee,
      actions: objectActions,
      resourceArns: [this.arnForObjects(objectsKeyPattern)],
      resource: this,
    });
    if (!withBucketRead) return objects;
    return objects.combine(
      iam.Grant.addToPrincipalOrResource({
        grantee,
        actions: [...ARTIFACT_BUCKET_READ_ACTIONS],
        resourceArns: [this.bucketArn],
        resource: this,
      }),
    );
  }
}
