/**
 * One stack's change, computed the way CDK Pipelines will deploy it: a CloudFormation change set
 * of the synthesized template against the deployed stack, created with the CDK deploy role,
 * described, then deleted (never executed). CDK Pipelines creates its own change sets only in its
 * Prepare actions, one stack at a time after the approval, so this step creates its own.
 */
import {
  CreateChangeSetCommand,
  DeleteChangeSetCommand,
  DescribeChangeSetCommand,
  DescribeStacksCommand,
  type CloudFormationClient,
  type DescribeChangeSetOutput,
} from '@aws-sdk/client-cloudformation';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { readFileSync } from 'node:fs';
import type { StackChangeSet } from './render';
import type { AssemblyStack } from './assembly';

export interface StackClients {
  /** CloudFormation in the stack's account and region, as the stack's deploy role. */
  readonly cloudformation: CloudFormationClient;
  /** S3 in the stack's account and region, as the file-publishing role of the template asset. */
  readonly assets: S3Client;
}

export interface ChangeSetOptions {
  /** Name of the change set (not CDK Pipelines' `PipelineChange`). */
  readonly changeSetName: string;
  readonly log: (line: string) => void;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly pollIntervalMs?: number;
  readonly timeoutMs?: number;
}

const NO_CHANGES = /didn't contain changes|No updates are to be performed|contains no updates/i;

function message(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

async function deployedStatus(cfn: CloudFormationClient, stackName: string): Promise<string | undefined> {
  try {
    const out = await cfn.send(new DescribeStacksCommand({ StackName: stackName }));
    return out.Stacks?.[0]?.StackStatus;
  } catch (error) {
    if (error instanceof Error && /does not exist/.test(error.message)) return undefined;
    throw error;
  }
}

/** Creates, describes and deletes one change set; never throws for what CloudFormation says about the stack. */
export async function stackChangeSet(
  stack: AssemblyStack,
  clients: StackClients,
  options: ChangeSetOptions,
): Promise<StackChangeSet> {
  const { cloudformation: cfn, assets } = clients;
  const { changeSetName, log } = options;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const pollMs = options.pollIntervalMs ?? 5_000;
  const deadline = Date.now() + (options.timeoutMs ?? 10 * 60_000);
  const { stackName } = stack;

  let status: string | undefined;
  try {
    status = await deployedStatus(cfn, stackName);
  } catch (error) {
    return { stackName, outcome: 'unknown', reason: `DescribeStacks failed: ${message(error)}` };
  }
  if (status === undefined || status === 'REVIEW_IN_PROGRESS') {
    log(`${stackName}: not deployed yet, every resource is new`);
    return { stackName, outcome: 'new-stack', resources: stack.resources };
  }

  // Templates above 51,200 bytes cannot be sent inline: upload it where `cdk deploy` would.
  try {
    await assets.send(
      new PutObjectCommand({
        Bucket: stack.templateAsset.bucket,
        Key: stack.templateAsset.key,
        Body: readFileSync(stack.templateFile),
        ContentType: 'application/json',
      }),
    );
  } catch (error) {
    return { stackName, outcome: 'unknown', reason: `uploading the template failed: ${message(error)}` };
  }

  let created = false;
  try {
    await cfn.send(
      new CreateChangeSetCommand({
        StackName: stackName,
        ChangeSetName: changeSetName,
        ChangeSetType: 'UPDATE',
        TemplateURL: `https://${stack.templateAsset.bucket}.s3.${stack.region}.amazonaws.com/${stack.templateAsset.key}`,
        Capabilities: ['CAPABILITY_IAM', 'CAPABILITY_NAMED_IAM', 'CAPABILITY_AUTO_EXPAND'],
        ...(stack.executionRoleArn ? { RoleARN: stack.executionRoleArn } : {}),
        Description: 'Review only: created and deleted by the pipeline before the approval, never executed',
      }),
    );
    created = true;
    let first: DescribeChangeSetOutput;
    for (;;) {
      first = await cfn.send(
        new DescribeChangeSetCommand({ StackName: stackName, ChangeSetName: changeSetName }),
      );
      if (first.Status === 'CREATE_COMPLETE') break;
      if (first.Status === 'FAILED') {
        const reason = first.StatusReason ?? 'no reason given';
        if (NO_CHANGES.test(reason)) {
          log(`${stackName}: no changes`);
          return { stackName, outcome: 'no-changes' };
        }
        return { stackName, outcome: 'unknown', reason };
      }
      if (Date.now() > deadline) {
        return {
          stackName,
          outcome: 'unknown',
          reason: `change set still ${first.Status} after the timeout`,
        };
      }
      await sleep(pollMs);
    }
    const pages: DescribeChangeSetOutput[] = [first];
    let token = first.NextToken;
    while (token) {
      const page = await cfn.send(
        new DescribeChangeSetCommand({
          StackName: stackName,
          ChangeSetName: changeSetName,
          NextToken: token,
        }),
      );
      pages.push(page);
      token = page.NextToken;
    }
    log(`${stackName}: ${pages.reduce((n, p) => n + (p.Changes?.length ?? 0), 0)} resource changes`);
    return { stackName, outcome: 'changes', pages };
  } catch (error) {
    return { stackName, outcome: 'unknown', reason: message(error) };
  } finally {
    if (created) {
      try {
        await cfn.send(new DeleteChangeSetCommand({ StackName: stackName, ChangeSetName: changeSetName }));
      } catch (error) {
        log(
          `${stackName}: could not delete change set ${changeSetName} (${message(error)}); delete it by hand`,
        );
      }
    }
  }
}
