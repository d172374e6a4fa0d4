import { DescribeInstancesCommand, type EC2Client, type Instance } from '@aws-sdk/client-ec2';
import type { STSClient } from '@aws-sdk/client-sts';
import { verifyAccount, type AwsTarget } from '../aws';
import { resolveEnvironment } from '../environment';
import { toOpsError, OperationError, UsageError } from '../errors';
import type { Output } from '../output';

export interface SessionOptions {
  env: string;
  /** Forward the application's REPL port instead of opening a shell. */
  repl?: boolean;
  /** Local port of the REPL forwarding (default: the REPL port). */
  localPort?: number;
  /** Pick this instance among the running ones. */
  instanceId?: string;
  /** Run the command (needs the AWS CLI and session-manager-plugin on PATH). */
  exec?: boolean;
  profile?: string;
  region?: string;
}

/** Runs a program with inherited stdio and resolves with its exit code. */
export type RunInteractive = (command: string, args: string[]) => Promise<number>;

export interface SessionDeps {
  clients: { sts(target: AwsTarget): STSClient; ec2(target: AwsTarget): EC2Client };
  out: Output;
  /** Full path of a program on PATH, or undefined. */
  which(program: string): string | undefined;
  run: RunInteractive;
}

export interface SessionResult {
  instanceId: string;
  /** `aws` and its arguments. */
  command: string[];
  /** Exit code of the session when run with --exec. */
  exitCode?: number;
}

export const SESSION_MANAGER_PLUGIN = 'session-manager-plugin';
const PLUGIN_INSTALL_URL =
  'https://docs.aws.amazon.com/systems-manager/latest/userguide/session-manager-working-with-install-plugin.html';

/** Quotes an argument for a POSIX shell when it needs quoting. */
export function shellQuote(arg: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

/**
 * Finds the environment's running application instance (tag Name=v1-orcha-app for prod) and
 * prints — or, with --exec, runs — the `aws ssm start-session` command for a shell or for
 * port forwarding to the REPL.
 */
export async function session(options: SessionOptions, deps: SessionDeps): Promise<SessionResult> {
  const { config, naming } = resolveEnvironment(options.env);
  const remotePort = config.compute.replPort;
  const localPort = options.localPort ?? remotePort;
  if (!Number.isInteger(localPort) || localPort < 1 || localPort > 65535) {
    throw new UsageError(`--local-port ${localPort} must be a port number from 1 to 65535`);
  }
  const { out } = deps;
  const target: AwsTarget = { region: options.region ?? config.region, profile: options.profile };
  await verifyAccount(deps.clients.sts(target), {
    account: config.account,
    envName: config.name,
    profile: options.profile,
  });

  const instances = await runningInstances(deps.clients.ec2(target), naming.instanceName);
  if (instances.length === 0) {
    throw new OperationError(
      `No running instance tagged Name=${naming.instanceName} in account ${config.account} ${target.region} ` +
        `(check the Auto Scaling group ${naming.autoScalingGroup})`,
    );
  }
  let chosen: Instance | undefined;
  if (options.instanceId) {
    chosen = instances.find((i) => i.InstanceId === options.instanceId);
    if (!chosen) {
      throw new UsageError(
        `${options.instanceId} is not a running ${naming.instanceName} instance (running: ${instances.map((i) => i.InstanceId).join(', ')})`,
      );
    }
  } else {
    chosen = instances[0];
    if (instances.length > 1) {
      out.error(
        `${instances.length} running ${naming.instanceName} instances: ${instances.map((i) => i.InstanceId).join(', ')}; ` +
          `using the newest, ${chosen?.InstanceId} (choose another with --instance-id)`,
      );
    }
  }
  const instanceId = chosen?.InstanceId ?? '';
  out.error(
    `Instance ${instanceId} (${naming.instanceName}, launched ${chosen?.LaunchTime?.toISOString() ?? '?'})`,
  );

  const args = ['ssm', 'start-session', '--target', instanceId, '--region', target.region];
  if (options.profile) args.push('--profile', options.profile);
  if (options.repl) {
    args.push(
      '--document-name',
      // The environment's REPL-only document (the developer policy allows no other forwarding);
      // it fixes the instance port to compute.replPort.
      naming.replPortForwardingDocument,
      '--parameters',
      JSON.stringify({ localPortNumber: [String(localPort)] }),
    );
  }
  const command = ['aws', ...args];
  const printed = command.map(shellQuote).join(' ');

  if (!options.exec) {
    out.info(printed);
    if (options.repl) out.error(`Then connect to the REPL on localhost:${localPort}.`);
    return { instanceId, command };
  }

  if (!deps.which(SESSION_MANAGER_PLUGIN)) {
    throw new UsageError(
      `${SESSION_MANAGER_PLUGIN} is not on PATH; install it (${PLUGIN_INSTALL_URL}) or run the command yourself:\n  ${printed}`,
    );
  }
  if (!deps.which('aws')) {
    throw new UsageError(
      `The AWS CLI (aws) is not on PATH; install AWS CLI v2 or run the command yourself:\n  ${printed}`,
    );
  }
  out.error(`Running: ${printed}`);
  if (options.repl) out.error(`The REPL is on localhost:${localPort} while this runs; Ctrl-C ends it.`);
  const exitCode = await deps.run('aws', args);
  if (exitCode !== 0) throw new OperationError(`The session command exited with status ${exitCode}`);
  return { instanceId, command, exitCode };
}

/** Running instances with the Name tag, newest first. */
async function runningInstances(ec2: EC2Client, name: string): Promise<Instance[]> {
  const instances: Instance[] = [];
  let NextToken: string | undefined;
  try {
    do {
      const page = await ec2.send(
        new DescribeInstancesCommand({
          Filters: [
            { Name: 'tag:Name', Values: [name] },
            { Name: 'instance-state-name', Values: ['running'] },
          ],
          NextToken,
        }),
      );
      for (const reservation of page.Reservations ?? []) instances.push(...(reservation.Instances ?? []));
      NextToken = page.NextToken;
    } while (NextToken);
  } catch (err) {
    throw toOpsError(err, `Cannot list the ${name} instances`);
  }
  return instances
    .filter((i) => i.InstanceId)
    .sort((a, b) => (b.LaunchTime?.getTime() ?? 0) - (a.LaunchTime?.getTime() ?? 0));
}
