import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { Command, CommanderError, Help, InvalidArgumentError, Option } from 'commander';
import { environmentNames } from '../../lib/config/load';
import { defaultClientFactory, type ClientFactory } from './aws';
import { delegateSubdomain, DEFAULT_NS_TTL } from './commands/delegate-subdomain';
import { QUEUE_CHOICES, QUEUE_KINDS, redriveDlq } from './commands/redrive-dlq';
import { session, type RunInteractive } from './commands/session';
import { registerTakeover } from './commands/takeover-cli';
import { updateSecrets } from './commands/update-secrets';
import { wake } from './commands/wake';
import { DEFAULT_HOLD_MINUTES } from '../../lib/util/office-hours-clock';
import { EXIT_CODES_HELP, ExitCode, OpsError } from './errors';
import { processOutput, type Output } from './output';
import type { TakeoverClientFactory } from './takeover/clients';

/** Everything the commands reach outside the process; tests replace it. */
export interface CliDeps {
  clients: ClientFactory;
  out: Output;
  sleep(ms: number): Promise<void>;
  now(): number;
  which(program: string): string | undefined;
  run: RunInteractive;
  /** Clients of the takeover commands (default: the real ones). */
  takeoverClients?: TakeoverClientFactory;
}

/** Finds an executable on PATH. */
export function whichOnPath(program: string, path = process.env.PATH ?? ''): string | undefined {
  const extensions = process.platform === 'win32' ? ['.exe', '.cmd', ''] : [''];
  for (const dir of path.split(delimiter).filter(Boolean)) {
    for (const ext of extensions) {
      const candidate = join(dir, program + ext);
      try {
        accessSync(candidate, constants.X_OK);
        return candidate;
      } catch {
        // not here
      }
    }
  }
  return undefined;
}

const runInteractive: RunInteractive = (command, args) =>
  new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: 'inherit' });
    child.on('error', reject);
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });

export const defaultDeps: CliDeps = {
  clients: defaultClientFactory,
  out: processOutput,
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  now: () => Date.now(),
  which: (program) => whichOnPath(program),
  run: runInteractive,
};

function integer(min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\d+$/.test(value) || n < min || n > max) {
      throw new InvalidArgumentError(`must be a whole number from ${min} to ${max}`);
    }
    return n;
  };
}

const envHelp = () => `environment (${environmentNames().join(', ')})`;

function withAwsOptions(command: Command, what = 'the environment'): Command {
  return command
    .addHelpText('after', `\n${EXIT_CODES_HELP}`)
    .option(
      '--profile <name>',
      `AWS profile for ${what} (e.g. orcha-prod); default: AWS_PROFILE / default chain`,
    )
    .option('--region <region>', "AWS region (default: the environment's configured region)");
}

/** Help that says which options are required (commander lists them like any other). */
function describeRequired(this: Help, option: Option): string {
  const text = Help.prototype.optionDescription.call(this, option);
  return option.mandatory ? `${text} (required)` : text;
}

/** The `npm run ops` program. */
export function buildProgram(deps: CliDeps): Command {
  const program = new Command('npm run ops --');
  // Set before the commands are added: subcommands copy the help configuration.
  program.configureHelp({ optionDescription: describeRequired });
  program
    .description(
      "Orcha operations tools. Every command checks that the credentials belong to the environment's account.",
    )
    .exitOverride()
    .configureOutput({
      writeOut: (text) => deps.out.info(text.replace(/\n$/, '')),
      writeErr: (text) => deps.out.error(text.replace(/\n$/, '')),
    })
    .showHelpAfterError('(add --help for usage)')
    .addHelpText(
      'after',
      `\n${EXIT_CODES_HELP}\n\nRunbooks: docs/runbooks/README.md\n\nExamples:\n` +
        `  npm run ops -- delegate-subdomain --env prod --hosted-zone-id Z0123456789ABCDEFGHIJ --profile orcha-prod --management-profile orcha-management --dry-run\n` +
        `  npm run ops -- update-secrets --env prod --from-file secrets --profile orcha-prod --dry-run\n` +
        `  npm run ops -- redrive-dlq --env prod --queue ingest --profile orcha-prod\n` +
        `  npm run ops -- wake --env staging --profile orcha-prod\n` +
        `  npm run ops -- session --env prod --repl --profile orcha-prod --exec\n` +
        `  npm run ops -- takeover plan --env prod --profile orcha-prod`,
    );

  withAwsOptions(
    program
      .command('delegate-subdomain')
      .summary("delegate the environment's DNS zone from the management account (NS record)")
      .description(
        "Delegate the environment's hosted zone (dns.zoneName, e.g. prod.getorcha.com) from the parent zone " +
          '(getorcha.com) in the management account: UPSERT the NS record there. Idempotent.',
      )
      .requiredOption('--env <env>', envHelp())
      .requiredOption(
        '--hosted-zone-id <id>',
        "id of the environment's hosted zone (Z…), from the Foundation stack",
      )
      .addHelpText('after', `\n${DELEGATE_POSITIONAL_DEPRECATION}`),
    "the environment's account",
  )
    .option('--management-profile <name>', 'AWS profile for the management account (parent zone)')
    .option(
      '--management-role-arn <arn>',
      'role to assume in the management account (with --management-profile or the default credentials)',
    )
    .option('--parent-zone-id <id>', 'id of the parent zone (default: found by name)')
    .option('--ttl <seconds>', 'TTL of the NS record', integer(60, 172800), DEFAULT_NS_TTL)
    .option(
      '--wait <seconds>',
      'seconds to wait for the change to be INSYNC (0: do not wait)',
      integer(0, 900),
      120,
    )
    .option('--dry-run', 'print the change without making it')
    .option(
      '--force',
      'replace an existing NS record that lists other name servers (refused without it: it may point at a live zone)',
    )
    .action(async (o: Record<string, string | number | boolean | undefined>) => {
      await delegateSubdomain(
        {
          env: o.env as string,
          hostedZoneId: o.hostedZoneId as string,
          profile: o.profile as string | undefined,
          region: o.region as string | undefined,
          managementProfile: o.managementProfile as string | undefined,
          managementRoleArn: o.managementRoleArn as string | undefined,
          parentZoneId: o.parentZoneId as string | undefined,
          ttl: o.ttl as number,
          waitSeconds: o.wait as number,
          dryRun: Boolean(o.dryRun),
          force: Boolean(o.force),
        },
        deps,
      );
    });

  withAwsOptions(
    program
      .command('update-secrets')
      .summary('write application settings from a dotenv file to SSM SecureString parameters')
      .description(
        "Write the KEY=value lines of a dotenv file as SecureString parameters under the environment's path " +
          '(/v1-orcha/KEY for prod). Unchanged keys are skipped; values are never printed.',
      )
      .requiredOption('--env <env>', envHelp())
      .requiredOption('--from-file <file>', 'dotenv file: KEY=value lines, comments, quotes, export prefix'),
  )
    .option('--dry-run', 'list which keys would be created, changed or left alone; write nothing')
    .action(
      async (o: { env: string; fromFile: string; profile?: string; region?: string; dryRun?: boolean }) => {
        await updateSecrets(
          {
            env: o.env,
            fromFile: o.fromFile,
            profile: o.profile,
            region: o.region,
            dryRun: Boolean(o.dryRun),
          },
          deps,
        );
      },
    );

  withAwsOptions(
    program
      .command('wake')
      .summary('wake an environment that sleeps outside office hours')
      .description(
        'Start the database and restore the Auto Scaling group of an environment with office hours, then wait ' +
          'until the database is available and the instances are in service. It sleeps again at officeHours.stop, ' +
          'or, woken outside office hours, --hold hours later.',
      )
      .requiredOption('--env <env>', envHelp()),
  )
    .option('--role-arn <arn>', 'role to assume in the environment account (the pipeline uses its wake role)')
    .option('--wait <seconds>', 'seconds to wait until awake (0: start and return)', integer(0, 7200), 1800)
    .option('--poll <seconds>', 'seconds between checks', integer(1, 300), 30)
    .option(
      '--hold <hours>',
      'outside office hours: hours until it sleeps again (0: until the next daily stop)',
      integer(0, 24),
      DEFAULT_HOLD_MINUTES / 60,
    )
    .option(
      '--allow-missing',
      'nothing deployed yet (no database, or the --role-arn role cannot be assumed) is success: the first deploy',
    )
    .action(
      async (o: {
        env: string;
        profile?: string;
        region?: string;
        roleArn?: string;
        wait: number;
        poll: number;
        hold: number;
        allowMissing?: boolean;
      }) => {
        await wake(
          {
            env: o.env,
            profile: o.profile,
            region: o.region,
            roleArn: o.roleArn,
            waitSeconds: o.wait,
            pollSeconds: o.poll,
            holdHours: o.hold,
            allowMissing: o.allowMissing === true,
          },
          deps,
        );
      },
    );

  withAwsOptions(
    program
      .command('redrive-dlq')
      .summary("move a dead-letter queue's messages back to its source queue")
      .description('Move the messages of a dead-letter queue back to its source queue and follow the move.')
      .requiredOption('--env <env>', envHelp())
      .addOption(
        new Option('--queue <queue>', `which DLQ: ${QUEUE_CHOICES}`)
          .argParser((value: string) => {
            if (
              (QUEUE_KINDS as readonly string[]).includes(value) ||
              /^tenant:[a-z][a-z0-9-]*$/.test(value)
            ) {
              return value;
            }
            throw new InvalidArgumentError(`must be ${QUEUE_CHOICES}.`);
          })
          .makeOptionMandatory(),
      ),
  )
    .option('--dry-run', 'show the approximate number of messages in the DLQ; move nothing')
    .option('--max-per-second <n>', 'limit the move rate (messages per second)', integer(1, 500))
    .option('--poll <seconds>', 'seconds between progress checks', integer(1, 300), 5)
    .option(
      '--timeout <seconds>',
      'stop following the move after this long (it continues in AWS)',
      integer(1, 86400),
      900,
    )
    .action(
      async (o: {
        env: string;
        queue: string;
        profile?: string;
        region?: string;
        dryRun?: boolean;
        maxPerSecond?: number;
        poll: number;
        timeout: number;
      }) => {
        await redriveDlq(
          {
            env: o.env,
            queue: o.queue,
            profile: o.profile,
            region: o.region,
            dryRun: Boolean(o.dryRun),
            maxPerSecond: o.maxPerSecond,
            pollSeconds: o.poll,
            timeoutSeconds: o.timeout,
          },
          deps,
        );
      },
    );

  withAwsOptions(
    program
      .command('session')
      .summary('SSM shell or REPL port forwarding to the application instance')
      .description(
        'Find the running application instance and print the SSM Session Manager command ' +
          '(a shell, or with --repl port forwarding to the REPL); --exec runs it.',
      )
      .requiredOption('--env <env>', envHelp()),
  )
    .option(
      '--repl',
      "forward the application's REPL port (compute.replPort, 9878) instead of opening a shell",
    )
    .option('--local-port <port>', 'local port for --repl (default: the REPL port)', integer(1, 65535))
    .option('--instance-id <id>', 'use this instance when several are running')
    .option('--exec', 'run the command (needs the AWS CLI and session-manager-plugin on PATH)')
    .action(
      async (o: {
        env: string;
        profile?: string;
        region?: string;
        repl?: boolean;
        localPort?: number;
        instanceId?: string;
        exec?: boolean;
      }) => {
        await session(
          {
            env: o.env,
            profile: o.profile,
            region: o.region,
            repl: Boolean(o.repl),
            localPort: o.localPort,
            instanceId: o.instanceId,
            exec: Boolean(o.exec),
          },
          deps,
        );
      },
    );

  registerTakeover(program, deps, { withAwsOptions, integer, envHelp });

  return program;
}

const DELEGATE_POSITIONAL_DEPRECATION =
  'Deprecated: "delegate-subdomain <env> <hostedZoneId>"; use "delegate-subdomain --env <env> --hosted-zone-id <id>" (the positional form still works for now).';

/**
 * `delegate-subdomain <env> <hostedZoneId>`, the form before it took `--env` like every other
 * command: rewritten to `--env <env> --hosted-zone-id <hostedZoneId>`, with one deprecation line
 * on stderr. Options may stand before, between or after the two words; which options take a
 * value is read from the command itself. Any other argv is returned as it is.
 */
export function rewriteLegacyDelegateArgs(argv: string[], program: Command, out: Output): string[] {
  const [node, script, name, ...rest] = argv;
  const command = program.commands.find((c) => c.name() === 'delegate-subdomain');
  if (name !== 'delegate-subdomain' || !command) return argv;
  const kept: string[] = [];
  const positional: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    const token = rest[i];
    if (token === '--') {
      positional.push(...rest.slice(i + 1));
      break;
    }
    if (token.startsWith('-') && token.length > 1) {
      kept.push(token);
      const flag = token.split('=')[0];
      const option = command.options.find((o) => o.long === flag || o.short === flag);
      const takesValue = option !== undefined && (option.required || option.optional);
      if (takesValue && !token.includes('=') && i + 1 < rest.length) kept.push(rest[++i]);
      continue;
    }
    positional.push(token);
  }
  if (positional.length === 0) return argv;
  out.error(DELEGATE_POSITIONAL_DEPRECATION);
  const [env, hostedZoneId, ...extra] = positional;
  const named = ['--env', env];
  if (hostedZoneId !== undefined) named.push('--hosted-zone-id', hostedZoneId);
  return [node, script, name, ...named, ...kept, ...extra];
}

/** Runs the CLI on `argv` (as in process.argv) and resolves with the exit code. */
export async function main(argv: string[], deps: CliDeps = defaultDeps): Promise<number> {
  const program = buildProgram(deps);
  try {
    await program.parseAsync(rewriteLegacyDelegateArgs(argv, program, deps.out));
    return ExitCode.Ok;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Commander has already printed the message (or the help): --help exits 0, help shown
      // because of a missing command or any parse error is a usage error.
      return err.exitCode === 0 ? ExitCode.Ok : ExitCode.Usage;
    }
    if (err instanceof OpsError) {
      deps.out.error(`Error: ${err.message}`);
      return err.exitCode;
    }
    deps.out.error(`Unexpected error: ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`);
    return ExitCode.Failed;
  }
}
