/**
 * `npm run diff|deploy:dev|destroy:dev|deploy:pipeline`: the CDK commands a person runs, composed
 * once so that every one names the right stacks and context.
 *
 * - `diff --env <env>`: `cdk diff -c env=<env> '<Stage>/*'`: what a deployment of that
 *   environment would change (any environment; staging and prod are deployed by the pipeline,
 *   this only compares).
 * - `deploy --env dev` / `destroy --env <env>`: `cdk deploy|destroy -c env=<env> '<Stage>/*'`,
 *   the directly deployable stage of `-c env=` (dev; README "Teardown" for the others).
 * - `deploy-pipeline`: `cdk deploy <pipeline stack>`, the one-time deployment of the pipeline
 *   (after it, the pipeline deploys itself and every environment).
 *
 * It prints the command, then runs `cdk` from PATH (npm puts node_modules/.bin first), which
 * needs AWS credentials from here on (`--profile`, else AWS_PROFILE / the default chain).
 */
import { spawnSync } from 'node:child_process';
import { Command, CommanderError } from 'commander';
import { ConfigError, environmentNames, loadEnvironment } from '../../lib/config/load';
import { pipelineNames, stageId } from '../../lib/config/naming';

/** Environments whose stage `-c env=` may deploy directly from a laptop. */
export const DIRECTLY_DEPLOYABLE = ['dev'] as const;

export interface CdkCommandOptions {
  readonly profile?: string;
  /** Extra arguments passed to cdk as they are (after `--`). */
  readonly extra?: readonly string[];
}

function common(options: CdkCommandOptions): string[] {
  return [
    ...(options.profile ? ['--profile', options.profile] : []),
    '--no-notices',
    ...(options.extra ?? []),
  ];
}

/** Checks the environment's name against the configuration (one line naming the value). */
function environmentStage(env: string): string {
  loadEnvironment(env);
  return `${stageId(env)}/*`;
}

/** `cdk diff` of every stack of one environment. */
export function diffCommand(env: string, options: CdkCommandOptions = {}): string[] {
  return ['diff', '-c', `env=${env}`, environmentStage(env), ...common(options)];
}

/** `cdk deploy` of the directly deployable stage of `env` (dev). */
export function deployCommand(env: string, options: CdkCommandOptions = {}): string[] {
  if (!(DIRECTLY_DEPLOYABLE as readonly string[]).includes(env)) {
    throw new ConfigError(
      `deploy --env ${env}: only ${DIRECTLY_DEPLOYABLE.join(', ')} is deployed from here; the pipeline deploys ${env} (README "First deploy")`,
    );
  }
  return ['deploy', '-c', `env=${env}`, environmentStage(env), ...common(options)];
}

/** `cdk destroy` of every stack of `env` (README "Teardown": prod's termination protection first). */
export function destroyCommand(env: string, options: CdkCommandOptions = {}): string[] {
  return ['destroy', '-c', `env=${env}`, environmentStage(env), ...common(options)];
}

/** `cdk deploy` of the pipeline stack: the one deployment made by hand. */
export function deployPipelineCommand(options: CdkCommandOptions = {}): string[] {
  return ['deploy', pipelineNames.stack, ...common(options)];
}

export interface EnvCliIo {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
  /** Runs `cdk` with the arguments and returns its exit code. */
  readonly runCdk: (args: readonly string[]) => number;
}

const quote = (arg: string): string =>
  /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;

const processIo: EnvCliIo = {
  out: (line) => console.log(line),
  err: (line) => console.error(line),
  runCdk: (args) => {
    const result = spawnSync('cdk', args, {
      stdio: 'inherit',
      env: { ...process.env, CDK_DISABLE_CLI_TELEMETRY: '1' },
    });
    if (result.error) throw new Error(`cdk could not be run: ${result.error.message} (run npm ci)`);
    return result.status ?? 1;
  },
};

/** Runs the program on `argv` (as in process.argv) and returns the exit code. */
export function main(argv: readonly string[], io: EnvCliIo = processIo): number {
  let code = 0;
  const run = (args: string[]): void => {
    io.out(`cdk ${args.map(quote).join(' ')}`);
    code = io.runCdk(args);
  };
  const envOption = `environment (${environmentNames().join(', ')})`;
  const program = new Command('npm run')
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.out(text.replace(/\n$/, '')),
      writeErr: (text) => io.err(text.replace(/\n$/, '')),
    })
    .description('The CDK commands of the README, composed for one environment or the pipeline.');
  const commands: {
    name: string;
    description: string;
    compose: (env: string, options: CdkCommandOptions) => string[];
    withEnv: boolean;
  }[] = [
    {
      name: 'diff',
      description: "cdk diff of one environment's stacks against what is deployed",
      compose: diffCommand,
      withEnv: true,
    },
    {
      name: 'deploy',
      description: `cdk deploy of a directly deployable environment (${DIRECTLY_DEPLOYABLE.join(', ')})`,
      compose: deployCommand,
      withEnv: true,
    },
    {
      name: 'destroy',
      description: 'cdk destroy of one environment\'s stacks (README "Teardown" first)',
      compose: destroyCommand,
      withEnv: true,
    },
    {
      name: 'deploy-pipeline',
      description: `cdk deploy ${pipelineNames.stack}: the one-time deployment of the pipeline`,
      compose: (_env, options) => deployPipelineCommand(options),
      withEnv: false,
    },
  ];
  for (const c of commands) {
    const command = program.command(c.name).description(c.description);
    if (c.withEnv) command.requiredOption('--env <env>', envOption);
    command
      .option('--profile <name>', 'AWS profile (default: AWS_PROFILE / the default chain)')
      .argument('[cdk-args...]', 'passed to cdk as they are (after --)')
      .action((extra: string[], o: { env?: string; profile?: string }) =>
        run(c.compose(o.env ?? '', { profile: o.profile, extra })),
      );
  }
  try {
    program.parse([...argv]);
    return code;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2;
    if (error instanceof ConfigError) {
      io.err(`Error: ${error.message}`);
      return 2;
    }
    throw error;
  }
}

if (require.main === module) process.exitCode = main(process.argv);
