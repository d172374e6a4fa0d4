import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import {
  environments as defaultEnvironments,
  pipeline as defaultPipeline,
} from '../../lib/config/environments';
import type { EnvironmentInput, PipelineInput } from '../../lib/config/schema';
import { CFN_LINT_VERSION } from '../../lib/config/toolchain';
import { PROJECT_ROOT } from '../../lib/config/project';

/**
 * cfn-lint reads no stdin. Node's pipes are socket pairs, and bash (the pyenv shim that often
 * stands for cfn-lint) takes a socket on stdin for an ssh session and reads ~/.bashrc first.
 */
const NO_STDIN: ['ignore', 'pipe', 'pipe'] = ['ignore', 'pipe', 'pipe'];

/**
 * AWS's CloudFormation linter over the synthesized templates: an independent check of what the
 * CDK wrote, with the project's `.cfnlintrc` (its ignores and schema patch, each with a reason).
 */

const ROOT = PROJECT_ROOT;
export const CFN_LINT_CONFIG = path.join(ROOT, '.cfnlintrc');

/** Every region the configuration deploys to (environments and the pipeline), sorted, once each. */
export function configuredRegions(
  environments: Record<string, EnvironmentInput> = defaultEnvironments,
  pipeline: PipelineInput = defaultPipeline,
): string[] {
  return [...new Set([...Object.values(environments).map((e) => e.region), pipeline.region])].sort();
}

export type CfnLintLevel = 'Error' | 'Warning' | 'Informational';

export interface CfnLintFinding {
  readonly level: CfnLintLevel;
  readonly rule: string;
  /** Template file, relative to the working directory. */
  readonly file: string;
  readonly line: number;
  /** Resources/<logical id>/... where cfn-lint reports one. */
  readonly where: string;
  readonly message: string;
}

export interface CfnLintResult {
  readonly version: string;
  readonly regions: readonly string[];
  readonly templates: number;
  readonly findings: readonly CfnLintFinding[];
}

/** The installed cfn-lint's version, or undefined when there is no `cfn-lint` on the PATH. */
export function installedCfnLintVersion(command = 'cfn-lint'): string | undefined {
  const result = spawnSync(command, ['--version'], { encoding: 'utf8', stdio: NO_STDIN });
  if (result.error || result.status !== 0) return undefined;
  return /(\d+\.\d+\.\d+)/.exec(`${result.stdout}${result.stderr}`)?.[1];
}

/** The line a person gets when cfn-lint is missing or not the pinned version. */
export function cfnLintProblem(version: string | undefined): string | undefined {
  if (version === undefined) {
    return `cfn-lint is not on the PATH: pip install cfn-lint==${CFN_LINT_VERSION}`;
  }
  if (version !== CFN_LINT_VERSION) {
    return `cfn-lint ${version} is installed, the project pins ${CFN_LINT_VERSION}: pip install cfn-lint==${CFN_LINT_VERSION}`;
  }
  return undefined;
}

interface JsonMatch {
  readonly Level: CfnLintLevel;
  readonly Rule: { readonly Id: string };
  readonly Filename: string;
  readonly Location: { readonly Start: { readonly LineNumber: number }; readonly Path?: (string | number)[] };
  readonly Message: string;
}

/** Parses `cfn-lint --format json` output. */
export function parseCfnLintJson(stdout: string, cwd: string = process.cwd()): CfnLintFinding[] {
  const text = stdout.trim();
  if (text === '') return [];
  return (JSON.parse(text) as JsonMatch[]).map((m) => ({
    level: m.Level,
    rule: m.Rule.Id,
    file: path.relative(cwd, path.resolve(ROOT, m.Filename)),
    line: m.Location.Start.LineNumber,
    where: (m.Location.Path ?? []).slice(0, 2).join('/'),
    message: m.Message.replace(/\s+/g, ' '),
  }));
}

/** Lints the templates for the regions; throws if cfn-lint itself fails (not on findings). */
export function runCfnLint(
  templates: readonly string[],
  regions: readonly string[],
  command = 'cfn-lint',
): CfnLintResult {
  const version = installedCfnLintVersion(command);
  if (version === undefined) throw new Error(cfnLintProblem(undefined));
  const result = spawnSync(
    command,
    ['--config-file', CFN_LINT_CONFIG, '--format', 'json', '--regions', ...regions, '--', ...templates],
    { cwd: ROOT, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, stdio: NO_STDIN },
  );
  // Exit code: a bit mask of 2 (errors), 4 (warnings), 8 (informational); 1 is cfn-lint failing.
  if (result.error || result.status === null || (result.status & 1) === 1) {
    throw new Error(`cfn-lint failed to run: ${result.error?.message ?? result.stderr.trim()}`);
  }
  return { version, regions, templates: templates.length, findings: parseCfnLintJson(result.stdout) };
}

/** `0 errors, 0 warnings` (and informational findings when there are any). */
export function countFindings(findings: readonly CfnLintFinding[]): string {
  const count = (level: CfnLintLevel) => findings.filter((f) => f.level === level).length;
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  const info = count('Informational');
  return `${plural(count('Error'), 'error')}, ${plural(count('Warning'), 'warning')}${info > 0 ? `, ${info} informational` : ''}`;
}

/** One line per finding: `file:line RULE Resources/Id: message`. */
export function findingLines(findings: readonly CfnLintFinding[]): string[] {
  return findings.map((f) => `${f.file}:${f.line} ${f.rule} ${f.where ? `${f.where}: ` : ''}${f.message}`);
}
