import type { Command } from 'commander';
import type { CliDeps } from '../program';
import { defaultTakeoverClients } from '../takeover/clients';
import {
  takeoverCheckRetain,
  takeoverDetach,
  takeoverHold,
  takeoverImport,
  takeoverPlan,
  takeoverRelease,
  takeoverSnapshot,
  type TakeoverDeps,
  type TakeoverOptions,
} from './takeover';

interface RawOptions {
  env: string;
  profile?: string;
  region?: string;
  cdkOut?: string;
  dryRun?: boolean;
  timeout?: number;
  mappingsDir?: string;
  backupDir?: string;
  start?: boolean;
}

function options(o: RawOptions): TakeoverOptions {
  return {
    env: o.env,
    profile: o.profile,
    region: o.region,
    cdkOut: o.cdkOut,
    dryRun: Boolean(o.dryRun),
    timeoutSeconds: o.timeout,
    backupDir: o.backupDir,
  };
}

/** The program's shared option helpers (passed in: program.ts imports this module). */
export interface OptionHelpers {
  withAwsOptions(command: Command): Command;
  integer(min: number, max: number): (value: string) => number;
  envHelp(): string;
}

/** `npm run ops -- takeover <step>`: the cutover from the original app (docs/runbooks/takeover.md). */
export function registerTakeover(
  program: Command,
  deps: CliDeps,
  { withAwsOptions, integer, envHelp }: OptionHelpers,
): void {
  const takeoverDeps = (): TakeoverDeps => ({
    takeoverClients: deps.takeoverClients ?? defaultTakeoverClients,
    out: deps.out,
    sleep: deps.sleep,
    now: deps.now,
  });
  const takeover = program
    .command('takeover')
    .summary('take over the running original app (plan, snapshot, detach, import, release)')
    .description(
      'Cut over from the original Python CDK app running in the same account to this app, without losing data. ' +
        'Run the steps in this order: plan, hold, snapshot, check-retain, detach, import, release ' +
        '(docs/runbooks/takeover.md).',
    );

  const step = (name: string, summary: string, synth = true): Command => {
    const command = withAwsOptions(
      takeover.command(name).summary(summary).description(summary).requiredOption('--env <env>', envHelp()),
    );
    if (synth) {
      command.option('--cdk-out <dir>', 'the synthesized app ("npm run synth" writes cdk.out)', 'cdk.out');
    }
    return command;
  };
  const acting = (command: Command): Command =>
    command
      .option('--dry-run', 'print what would be done; change nothing')
      .option(
        '--timeout <seconds>',
        'stop waiting for AWS after this long (the operation continues there; rerun to follow it)',
        integer(60, 86400),
        3600,
      );

  step(
    'plan',
    'read-only: what happens to every named resource; writes the cdk import resource-mapping files',
  )
    .option('--mappings-dir <dir>', 'where the resource-mapping files go (default: <cdk-out>/takeover)')
    .action(async (o: RawOptions) => {
      await takeoverPlan({ ...options(o), mappingsDir: o.mappingsDir }, takeoverDeps());
    });

  step(
    'check-retain',
    'read-only: stop (exit 1) unless every stateful resource of the original stacks has DeletionPolicy Retain',
  ).action(async (o: RawOptions) => {
    await takeoverCheckRetain(options(o), takeoverDeps());
  });

  acting(step('hold', 'keep the infrastructure pipeline from deploying the environment', false)).action(
    async (o: RawOptions) => {
      await takeoverHold(options(o), takeoverDeps());
    },
  );

  acting(
    step('snapshot', 'take the manual snapshot <db>-takeover of the database and wait for it', false),
  ).action(async (o: RawOptions) => {
    await takeoverSnapshot(options(o), takeoverDeps());
  });

  acting(step('detach', 'delete the original stacks, newest first, keeping their stateful resources'))
    .option(
      '--backup-dir <dir>',
      "where the original stacks' templates are saved first",
      'takeover-originals',
    )
    .action(async (o: RawOptions) => {
      await takeoverDetach(options(o), takeoverDeps());
    });

  acting(
    step('import', 'import the retained stateful resources into the new stacks, in deploy order'),
  ).action(async (o: RawOptions) => {
    await takeoverImport(options(o), takeoverDeps());
  });

  acting(step('release', 'let the infrastructure pipeline deploy the environment again'))
    .option('--start', 'also start a pipeline execution')
    .action(async (o: RawOptions) => {
      await takeoverRelease({ ...options(o), start: Boolean(o.start) }, takeoverDeps());
    });
}
