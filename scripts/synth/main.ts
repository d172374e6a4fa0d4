import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { EVALUATION_DIR, type PackEvaluation } from '../../lib/nag/evaluation';
import { failedPlugins, type ValidationReport } from '../../lib/validation-report';
import { consoleIo, parseCommandLine, type CliIo } from '../shared/command-line';
import { assemblyStacks } from './assembly';
import {
  cfnLintProblem,
  configuredRegions,
  countFindings,
  findingLines,
  installedCfnLintVersion,
  runCfnLint,
} from './cfn-lint';

const USAGE = `Usage: npm run synth -- [-c key=value ...] [-o dir] [--cfn-lint auto|require|off]

Synthesizes the app offline (cdk-nag and the CDK's CloudFormation validation on), lints every
template with cfn-lint for every configured region, and prints one summary line. Failures print
one line each, with the reason.
  -c, --context   context for the app, as for cdk synth (e.g. -c env=dev)
  -o, --output    cloud assembly directory (default cdk.out)
  --cfn-lint      auto: lint if cfn-lint is installed (default); require: fail if it is not the
                  pinned version (CI); off: skip
Exit code: 0 all passed, 1 a check failed, 2 usage error.`;

export interface SynthOptions {
  readonly context: readonly string[];
  readonly output: string;
  readonly cfnLint: 'auto' | 'require' | 'off';
}

/** Where the synth prints (the console, or a test's recorder). */
export type SynthIo = CliIo;

/** What `cdk synth` prints that is progress, not information. */
const NOISE = [/^Bundling asset \S+\.\.\.$/, /: Subprocess exited with error \d+$/, /^\s*$/];

function runCdkSynth(options: SynthOptions): { status: number; stderr: string[] } {
  const args = ['cdk', 'synth', '--quiet', '--no-notices', '-o', options.output];
  for (const c of options.context) args.push('-c', c);
  const env: NodeJS.ProcessEnv = { ...process.env, CDK_DISABLE_CLI_TELEMETRY: '1' };
  delete env.CDK_VALIDATION; // validation is part of what this reports: never inherit it switched off
  const result = spawnSync('npx', args, { encoding: 'utf8', env, maxBuffer: 64 * 1024 * 1024 });
  const stderr = `${result.stderr ?? ''}\n${result.stdout ?? ''}`
    .split('\n')
    .filter((line) => !NOISE.some((n) => n.test(line)));
  return { status: result.status ?? 1, stderr };
}

/** `AwsSolutions: 0 open, 131 acknowledged` from the nag evaluation files and the report. */
function nagSummary(dir: string, report: ValidationReport): string {
  const evalDir = path.join(dir, EVALUATION_DIR);
  const packs = existsSync(evalDir)
    ? readdirSync(evalDir)
        .filter((f) => f.endsWith('.json'))
        .map((f) => JSON.parse(readFileSync(path.join(evalDir, f), 'utf8')) as PackEvaluation)
    : [];
  if (packs.length === 0) return 'cdk-nag: did not run';
  return packs
    .map((p) => {
      const open = report.pluginReports
        .filter((r) => r.pluginName === p.pack)
        .reduce((n, r) => n + r.violations.reduce((m, v) => m + v.violatingConstructs.length, 0), 0);
      const acknowledged = p.stacks.reduce((n, s) => n + s.acknowledged.length, 0);
      return `cdk-nag ${p.pack}${p.mode === 'report-only' ? ' (report only)' : ''}: ${open} open, ${acknowledged} acknowledged`;
    })
    .join(', ');
}

/** Runs the synth and the checks; returns the exit code. */
export function synth(options: SynthOptions, io: SynthIo = consoleIo): number {
  // Before spending a minute on the synth: a required cfn-lint must be there.
  if (options.cfnLint === 'require') {
    const problem = cfnLintProblem(installedCfnLintVersion());
    if (problem) {
      io.err(problem);
      return 1;
    }
  }
  const started = Date.now();
  const cdk = runCdkSynth(options);
  if (cdk.status !== 0) {
    for (const line of cdk.stderr) io.err(line);
    io.err(`Synth failed (cdk synth exited with ${cdk.status}).`);
    return 1;
  }
  const stacks = assemblyStacks(options.output);
  const report = JSON.parse(
    readFileSync(path.join(options.output, 'validation-report.json'), 'utf8'),
  ) as ValidationReport;
  const resources = stacks.reduce((n, s) => n + s.resources, 0);
  const parts = [
    `${stacks.length} stacks, ${resources} resources in ${options.output} (${((Date.now() - started) / 1000).toFixed(0)} s)`,
    nagSummary(options.output, report),
    failedPlugins(report).length === 0
      ? 'validation: passed'
      : `validation: FAILED (${failedPlugins(report).join(', ')})`,
  ];

  let status = 0;
  let details: string[] = [];
  const version = options.cfnLint === 'off' ? undefined : installedCfnLintVersion();
  if (options.cfnLint === 'off') {
    parts.push('cfn-lint: off');
  } else if (version === undefined) {
    parts.push(`cfn-lint: not installed, skipped (${cfnLintProblem(undefined)})`);
  } else {
    const regions = configuredRegions();
    const lint = runCfnLint(
      stacks.map((s) => s.templateFile),
      regions,
    );
    const blocking = lint.findings.filter((f) => f.level !== 'Informational');
    parts.push(`cfn-lint ${lint.version} (${regions.join(', ')}): ${countFindings(lint.findings)}`);
    if (blocking.length > 0) {
      status = 1;
      details = findingLines(blocking);
    }
  }
  for (const line of details) io.err(line);
  io.out(`${status === 0 ? 'Synth OK' : 'Synth FAILED'}: ${parts.join(' · ')}`);
  return status;
}

export function main(argv: readonly string[], io: SynthIo = consoleIo): number {
  const parsed = parseCommandLine(
    argv,
    {
      context: { type: 'string', short: 'c', multiple: true, default: [] },
      output: { type: 'string', short: 'o', default: 'cdk.out' },
      'cfn-lint': { type: 'string', default: 'auto' },
    },
    USAGE,
    io,
    'h',
  );
  if ('exitCode' in parsed) return parsed.exitCode;
  const { values } = parsed;
  const cfnLint = values['cfn-lint'];
  if (cfnLint !== 'auto' && cfnLint !== 'require' && cfnLint !== 'off') {
    io.err(`--cfn-lint must be auto, require or off, got '${cfnLint}'\n\n${USAGE}`);
    return 2;
  }
  const bad = values.context.find((c) => !/^[^=]+=/.test(c));
  if (bad !== undefined) {
    io.err(`-c must be key=value, got '${bad}'\n\n${USAGE}`);
    return 2;
  }
  try {
    return synth({ context: values.context, output: values.output, cfnLint }, io);
  } catch (error) {
    io.err((error as Error).message);
    return 1;
  }
}

if (require.main === module) {
  process.exitCode = main(process.argv.slice(2));
}
