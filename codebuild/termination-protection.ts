/**
 * Turns on termination protection of an environment's stacks. Run by the infrastructure pipeline
 * after it deploys an environment whose stacks must be protected (prod): CDK Pipelines deploys
 * with CloudFormation change sets and ignores a stack's `terminationProtection`, so the flag the
 * stage sets only takes effect for a direct `cdk deploy`.
 *
 *   npx tsx codebuild/termination-protection.ts --region <region> [--role-arn <arn>] <stack name>...
 *
 * `--role-arn` is assumed first: the CDK bootstrap deploy role of the environment's account
 * (`cdk-hnb659fds-deploy-role-<account>-<region>`), which may update termination protection and
 * trusts the pipeline's account. Every stack is handled, even after a failure; the output says
 * per stack what was done. Exit status: 0 all protected, 1 some stack is not, 2 usage error.
 */
import {
  CloudFormationClient,
  DescribeStacksCommand,
  UpdateTerminationProtectionCommand,
} from '@aws-sdk/client-cloudformation';
import { fromTemporaryCredentials } from '@aws-sdk/credential-providers';

export type Outcome = 'enabled' | 'already-enabled' | 'failed';

export interface StackOutcome {
  readonly stackName: string;
  readonly outcome: Outcome;
  readonly error?: string;
}

const errorText = (error: unknown): string =>
  error instanceof Error ? `${error.name}: ${error.message}` : String(error);

/** Protects each stack that is not protected yet, then reads the flag back. */
export async function enforceTerminationProtection(
  cfn: CloudFormationClient,
  stackNames: readonly string[],
): Promise<StackOutcome[]> {
  const outcomes: StackOutcome[] = [];
  for (const stackName of stackNames) {
    try {
      const describe = async () => {
        const { Stacks } = await cfn.send(new DescribeStacksCommand({ StackName: stackName }));
        const stack = Stacks?.[0];
        if (!stack) throw new Error(`stack ${stackName} not found`);
        return stack;
      };
      if ((await describe()).EnableTerminationProtection === true) {
        outcomes.push({ stackName, outcome: 'already-enabled' });
        continue;
      }
      await cfn.send(
        new UpdateTerminationProtectionCommand({ StackName: stackName, EnableTerminationProtection: true }),
      );
      if ((await describe()).EnableTerminationProtection !== true) {
        throw new Error('UpdateTerminationProtection succeeded but the stack still reports it off');
      }
      outcomes.push({ stackName, outcome: 'enabled' });
    } catch (error) {
      outcomes.push({ stackName, outcome: 'failed', error: errorText(error) });
    }
  }
  return outcomes;
}

export interface Arguments {
  readonly region: string;
  readonly roleArn?: string;
  readonly stackNames: string[];
}

const USAGE = 'usage: termination-protection --region <region> [--role-arn <arn>] <stack name>...';

export function parseArgs(argv: readonly string[]): Arguments {
  let region: string | undefined;
  let roleArn: string | undefined;
  const stackNames: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--region' || arg === '--role-arn') {
      const value = argv[++i];
      if (value === undefined || value.startsWith('--')) throw new Error(`${arg} needs a value`);
      if (arg === '--region') region = value;
      else roleArn = value;
    } else if (arg.startsWith('--')) {
      throw new Error(`unknown option ${arg}; ${USAGE}`);
    } else {
      stackNames.push(arg);
    }
  }
  if (!region) throw new Error(`--region is required; ${USAGE}`);
  if (!/^[a-z]{2}(-gov)?-[a-z]+-\d$/.test(region))
    throw new Error(`--region must be an AWS region, got "${region}"`);
  if (roleArn !== undefined && !/^arn:aws[a-z-]*:iam::\d{12}:role\/.+$/.test(roleArn)) {
    throw new Error(`--role-arn must be an IAM role ARN, got "${roleArn}"`);
  }
  if (stackNames.length === 0) throw new Error(`name at least one stack; ${USAGE}`);
  return { region, roleArn, stackNames };
}

export function clientFor(args: Arguments): CloudFormationClient {
  return new CloudFormationClient({
    region: args.region,
    ...(args.roleArn
      ? {
          credentials: fromTemporaryCredentials({
            params: { RoleArn: args.roleArn, RoleSessionName: 'orcha-termination-protection' },
            clientConfig: { region: args.region },
          }),
        }
      : {}),
  });
}

export async function main(
  argv: readonly string[],
  makeClient: (args: Arguments) => CloudFormationClient = clientFor,
  log: (line: string) => void = (line) => console.log(line),
): Promise<number> {
  let args: Arguments;
  try {
    args = parseArgs(argv);
  } catch (error) {
    log((error as Error).message);
    return 2;
  }
  const outcomes = await enforceTerminationProtection(makeClient(args), args.stackNames);
  for (const o of outcomes) {
    log(`${o.stackName}: ${o.outcome === 'failed' ? `FAILED (${o.error})` : o.outcome}`);
  }
  const failed = outcomes.filter((o) => o.outcome === 'failed');
  log(
    failed.length === 0
      ? `termination protection is on for ${outcomes.length} stack(s)`
      : `termination protection is NOT on for ${failed.map((o) => o.stackName).join(', ')}`,
  );
  return failed.length === 0 ? 0 : 1;
}

if (process.argv[1] && /termination-protection\.ts$/.test(process.argv[1])) {
  void main(process.argv.slice(2)).then((code) => process.exit(code));
}
