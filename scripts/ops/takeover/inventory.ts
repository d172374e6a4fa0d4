import {
  GetTemplateCommand,
  paginateListStackResources,
  paginateListStacks,
  type CloudFormationClient,
} from '@aws-sdk/client-cloudformation';
import { DescribeLogGroupsCommand } from '@aws-sdk/client-cloudwatch-logs';
import { DescribeLaunchTemplatesCommand, DescribeSecurityGroupsCommand } from '@aws-sdk/client-ec2';
import { DescribeRepositoriesCommand } from '@aws-sdk/client-ecr';
import { DescribeDBInstancesCommand } from '@aws-sdk/client-rds';
import { ListHostedZonesByNameCommand } from '@aws-sdk/client-route-53';
import { HeadBucketCommand } from '@aws-sdk/client-s3';
import { DescribeSecretCommand } from '@aws-sdk/client-secrets-manager';
import { GetQueueUrlCommand } from '@aws-sdk/client-sqs';
import { DescribeDocumentCommand } from '@aws-sdk/client-ssm';
import { toOpsError, OperationError } from '../errors';
import type { TakeoverClients } from './clients';
import {
  isStateful,
  retainsOnDelete,
  type CfnTemplate,
  type NamedResource,
  type SynthesizedStack,
} from './templates';

/** A stack of the account (any stack that is not DELETE_COMPLETE). */
export interface AccountStack {
  readonly name: string;
  readonly id: string;
  readonly status: string;
  readonly created: Date;
}

/** A resource some stack of the account manages. */
export interface StackResourceEntry {
  readonly stackName: string;
  readonly logicalId: string;
  readonly physicalId: string;
  readonly type: string;
  readonly status: string;
}

export interface AccountIndex {
  readonly stacks: AccountStack[];
  readonly resources: StackResourceEntry[];
}

/** Every stack of the account and region, and every resource they manage (ListStacks, ListStackResources). */
export async function indexAccount(cfn: CloudFormationClient): Promise<AccountIndex> {
  const stacks: AccountStack[] = [];
  const resources: StackResourceEntry[] = [];
  try {
    for await (const page of paginateListStacks({ client: cfn }, {})) {
      for (const s of page.StackSummaries ?? []) {
        if (!s.StackName || !s.StackId || s.StackStatus === 'DELETE_COMPLETE') continue;
        stacks.push({
          name: s.StackName,
          id: s.StackId,
          status: s.StackStatus ?? 'UNKNOWN',
          created: s.CreationTime ?? new Date(0),
        });
      }
    }
    for (const stack of stacks) {
      for await (const page of paginateListStackResources({ client: cfn }, { StackName: stack.id })) {
        for (const r of page.StackResourceSummaries ?? []) {
          if (!r.LogicalResourceId || !r.PhysicalResourceId || !r.ResourceType) continue;
          if (r.ResourceStatus === 'DELETE_COMPLETE') continue;
          resources.push({
            stackName: stack.name,
            logicalId: r.LogicalResourceId,
            physicalId: r.PhysicalResourceId,
            type: r.ResourceType,
            status: r.ResourceStatus ?? 'UNKNOWN',
          });
        }
      }
    }
  } catch (err) {
    throw toOpsError(err, 'Cannot list the CloudFormation stacks of the account');
  }
  return { stacks, resources };
}

/** What the account holds under one of the new stacks' physical names. */
export interface Finding {
  /** `unknown`: a stateless resource that no stack manages and that has no describe call here. */
  readonly exists: 'yes' | 'no' | 'unknown';
  /** The value of the type's import identifier (QueueUrl, the secret's ARN, the zone's id, …). */
  readonly identifier?: string;
  /** The stack entries that manage it (normally zero or one). */
  readonly owners: StackResourceEntry[];
  /** Why it cannot be taken over as is (bucket of another account, two zones of that name, …). */
  readonly blocker?: string;
  /** A fact worth printing (database status, VPC of a security group). */
  readonly note?: string;
}

const NOT_FOUND = new Set([
  'DBInstanceNotFound',
  'DBInstanceNotFoundFault',
  'ResourceNotFoundException',
  'RepositoryNotFoundException',
  'QueueDoesNotExist',
  'AWS.SimpleQueueService.NonExistentQueue',
  'NotFound',
  'NoSuchBucket',
  'InvalidDocument',
]);

function errName(err: unknown): string {
  return err && typeof err === 'object' && 'name' in err ? String(err.name) : '';
}

function ownersOf(index: AccountIndex, type: string, physicalId: string): StackResourceEntry[] {
  return index.resources.filter((r) => r.type === type && r.physicalId === physicalId);
}

/** A stack entry whose physical id is this name or an ARN that ends with it. */
function ownersByName(index: AccountIndex, type: string, name: string): StackResourceEntry[] {
  return index.resources.filter(
    (r) =>
      r.type === type &&
      (r.physicalId === name ||
        r.physicalId === `${name}.` ||
        r.physicalId.endsWith(`/${name}`) ||
        r.physicalId.endsWith(`:${name}`) ||
        r.physicalId.includes(`/${name}/`)),
  );
}

/** Looks one named resource up with a read-only call of its service. */
export async function findResource(
  clients: TakeoverClients,
  index: AccountIndex,
  resource: NamedResource,
): Promise<Finding> {
  const name = resource.physicalName;
  const what = `Cannot look up ${resource.type} ${name}`;
  const absent: Finding = { exists: 'no', owners: [] };
  const found = (identifier: string, extra: Partial<Finding> = {}): Finding => ({
    exists: 'yes',
    identifier,
    owners: ownersOf(index, resource.type, identifier),
    ...extra,
  });
  try {
    switch (resource.type) {
      case 'AWS::RDS::DBInstance': {
        const { DBInstances = [] } = await clients.rds.send(
          new DescribeDBInstancesCommand({ DBInstanceIdentifier: name }),
        );
        const db = DBInstances[0];
        if (!db) return absent;
        return found(name, {
          note: `${db.DBInstanceStatus ?? 'unknown status'}, ${db.Engine ?? '?'} ${db.EngineVersion ?? '?'}, VPC ${db.DBSubnetGroup?.VpcId ?? '?'}`,
        });
      }
      case 'AWS::SecretsManager::Secret': {
        const secret = await clients.secretsManager.send(new DescribeSecretCommand({ SecretId: name }));
        if (!secret.ARN) return absent;
        return found(secret.ARN, {
          blocker: secret.DeletedDate
            ? `the secret is scheduled for deletion (${secret.DeletedDate.toISOString()}): restore it first (aws secretsmanager restore-secret --secret-id ${name})`
            : undefined,
        });
      }
      case 'AWS::S3::Bucket': {
        try {
          await clients.s3.send(new HeadBucketCommand({ Bucket: name }));
        } catch (err) {
          const code = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
          if (code === 403 || errName(err) === 'Forbidden') {
            return {
              exists: 'yes',
              owners: [],
              blocker:
                'the bucket exists but cannot be read with these credentials (another account owns the name, or s3:ListBucket is missing)',
            };
          }
          throw err;
        }
        return found(name);
      }
      case 'AWS::ECR::Repository': {
        const { repositories = [] } = await clients.ecr.send(
          new DescribeRepositoriesCommand({ repositoryNames: [name] }),
        );
        return repositories.length > 0 ? found(name) : absent;
      }
      case 'AWS::Route53::HostedZone': {
        const fqdn = `${name}.`.toLowerCase();
        const { HostedZones = [] } = await clients.route53.send(
          new ListHostedZonesByNameCommand({ DNSName: fqdn, MaxItems: 10 }),
        );
        const zones = HostedZones.filter((z) => z.Name?.toLowerCase() === fqdn && !z.Config?.PrivateZone);
        if (zones.length === 0) return absent;
        const ids = zones.map((z) => (z.Id ?? '').replace(/^\/?hostedzone\//, ''));
        if (ids.length > 1) {
          return {
            exists: 'yes',
            owners: ids.flatMap((id) => ownersOf(index, resource.type, id)),
            blocker: `${ids.length} public zones are named ${name} (${ids.join(', ')}): keep the one the parent zone delegates to (dig NS ${name}) and delete the other`,
          };
        }
        return found(ids[0] ?? '', { note: `${zones[0]?.ResourceRecordSetCount ?? '?'} records` });
      }
      case 'AWS::SQS::Queue': {
        const { QueueUrl } = await clients.sqs.send(new GetQueueUrlCommand({ QueueName: name }));
        return QueueUrl ? found(QueueUrl) : absent;
      }
      case 'AWS::Logs::LogGroup': {
        const { logGroups = [] } = await clients.logs.send(
          new DescribeLogGroupsCommand({ logGroupNamePrefix: name, limit: 50 }),
        );
        const group = logGroups.find((g) => g.logGroupName === name);
        return group ? found(name, { note: `${group.storedBytes ?? 0} bytes stored` }) : absent;
      }
      case 'AWS::EC2::SecurityGroup': {
        const { SecurityGroups = [] } = await clients.ec2.send(
          new DescribeSecurityGroupsCommand({ Filters: [{ Name: 'group-name', Values: [name] }] }),
        );
        if (SecurityGroups.length === 0) return absent;
        // Group names are unique per VPC only, and the new stacks create their own VPC: a
        // group of that name elsewhere is no collision, just a fact to print.
        return {
          exists: 'yes',
          owners: SecurityGroups.flatMap((g) => ownersOf(index, resource.type, g.GroupId ?? '')),
          note: SecurityGroups.map((g) => `${g.GroupId ?? '?'} in ${g.VpcId ?? '?'}`).join(', '),
        };
      }
      case 'AWS::EC2::LaunchTemplate': {
        const { LaunchTemplates = [] } = await clients.ec2.send(
          new DescribeLaunchTemplatesCommand({ Filters: [{ Name: 'launch-template-name', Values: [name] }] }),
        );
        const lt = LaunchTemplates[0];
        if (!lt?.LaunchTemplateId) return absent;
        const owners = ownersOf(index, resource.type, lt.LaunchTemplateId);
        return {
          exists: 'yes',
          owners,
          blocker:
            owners.length === 0
              ? `launch template ${lt.LaunchTemplateId} is in no stack: delete it (aws ec2 delete-launch-template --launch-template-id ${lt.LaunchTemplateId}) before the pipeline deploys`
              : undefined,
        };
      }
      case 'AWS::SSM::Document': {
        const owners = ownersByName(index, resource.type, name);
        if (owners.length > 0) return { exists: 'yes', owners };
        const { Document } = await clients.ssm.send(new DescribeDocumentCommand({ Name: name }));
        if (!Document) return absent;
        return {
          exists: 'yes',
          owners,
          // Session Manager's preferences document is account-wide and usually created by the console.
          blocker:
            `SSM document ${name} exists outside any stack and the pipeline creates it: delete it ` +
            `(aws ssm delete-document --name ${name}) before "takeover detach"; the new stack writes it again`,
        };
      }
      default: {
        const owners = ownersByName(index, resource.type, name);
        return owners.length > 0 ? { exists: 'yes', owners } : { exists: 'unknown', owners: [] };
      }
    }
  } catch (err) {
    if (NOT_FOUND.has(errName(err))) return absent;
    throw toOpsError(err, what);
  }
}

/** A stateful resource of an original stack and whether deleting that stack keeps it. */
export interface RetentionEntry {
  readonly stackName: string;
  readonly logicalId: string;
  readonly type: string;
  readonly deletionPolicy: string;
  readonly retained: boolean;
}

/** The template CloudFormation holds for a stack (GetTemplate), parsed; JSON only (CDK writes JSON). */
export async function deployedTemplate(cfn: CloudFormationClient, stackName: string): Promise<CfnTemplate> {
  let body: string | undefined;
  try {
    ({ TemplateBody: body } = await cfn.send(
      new GetTemplateCommand({ StackName: stackName, TemplateStage: 'Original' }),
    ));
  } catch (err) {
    throw toOpsError(err, `Cannot read the template of stack ${stackName}`);
  }
  try {
    return JSON.parse(body ?? '{}') as CfnTemplate;
  } catch {
    throw new OperationError(
      `The template of stack ${stackName} is not JSON (YAML?); check its DeletionPolicy attributes by hand ` +
        `(aws cloudformation get-template --stack-name ${stackName}) — nothing was changed`,
    );
  }
}

/** Every stateful resource of the original stacks, with its DeletionPolicy (GetTemplate). */
export async function retentionOf(
  cfn: CloudFormationClient,
  stackNames: readonly string[],
): Promise<RetentionEntry[]> {
  const entries: RetentionEntry[] = [];
  for (const stackName of stackNames) {
    const template = await deployedTemplate(cfn, stackName);
    for (const [logicalId, r] of Object.entries(template.Resources ?? {})) {
      if (!isStateful(r.Type)) continue;
      const policy = r.DeletionPolicy ?? 'Delete (default)';
      entries.push({
        stackName,
        logicalId,
        type: r.Type,
        deletionPolicy: policy,
        retained: retainsOnDelete(r.DeletionPolicy),
      });
    }
  }
  return entries;
}

/**
 * Whether a stack entry belongs to the new app: the stack has one of the new names and
 * the synthesized template has this logical id with this type (an original stack that
 * happens to share a name has other logical ids).
 */
export function isNewStackEntry(entry: StackResourceEntry, stacks: readonly SynthesizedStack[]): boolean {
  const stack = stacks.find((s) => s.stackName === entry.stackName);
  return stack?.template.Resources?.[entry.logicalId]?.Type === entry.type;
}
