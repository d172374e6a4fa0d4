import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import { cfnLintProblem, installedCfnLintVersion } from './synth/cfn-lint';

/**
 * The one CI command (`npm run ci`), run by `.ci/run` and by the pipeline's Synth step: what
 * passes here passes there. Stops at the first failing step.
 *
 * Reports (jest JSON, compliance report) go to $CI_REPORTS_DIR (default `reports`); the pipeline
 * sets it to `cdk.out/compliance` so that they travel in the cloud assembly.
 */

export interface CiStep {
  readonly name: string;
  readonly command: readonly string[];
  /** Runs after the command, whatever its exit code (e.g. to print a summary). */
  readonly after?: () => void;
}

/** `N passed, N failed, N skipped` from jest's JSON output (CI reads this line). */
export function jestSummary(jsonFile: string): string {
  const r = JSON.parse(readFileSync(jsonFile, 'utf8')) as {
    numPassedTests: number;
    numFailedTests: number;
    numPendingTests: number;
  };
  return `${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests} skipped`;
}

export function ciSteps(reportsDir: string): CiStep[] {
  const jestJson = path.join(reportsDir, 'jest.json');
  return [
    { name: 'lint (ESLint, Prettier)', command: ['npm', 'run', 'lint'] },
    { name: 'type-check', command: ['npm', 'run', 'build'] },
    {
      name: 'tests',
      command: ['npx', 'jest', '--ci', '--json', `--outputFile=${jestJson}`],
      after: () => {
        try {
          console.log(jestSummary(jestJson));
        } catch {
          console.log('jest wrote no result file');
        }
      },
    },
    {
      name: 'synth: the pipeline and every environment, validation on, cfn-lint',
      command: ['npx', 'tsx', 'scripts/synth/main.ts', '--cfn-lint', 'require'],
    },
    {
      name: 'synth -c env=dev (the directly deployable stage), validation on, cfn-lint',
      command: [
        'npx',
        'tsx',
        'scripts/synth/main.ts',
        '-c',
        'env=dev',
        '-o',
        'cdk.out.dev',
        '--cfn-lint',
        'require',
      ],
    },
    {
      name: 'compliance report',
      command: ['npx', 'tsx', 'scripts/compliance/report.ts', '--cdk-out', 'cdk.out', '--out', reportsDir],
    },
  ];
}

export function main(): number {
  const started = Date.now();
  const elapsed = () => `${Math.round((Date.now() - started) / 1000)}s`;
  // Before anything slow: the tools that are not npm packages.
  const problem = cfnLintProblem(installedCfnLintVersion());
  if (problem) {
    console.error(problem);
    return 1;
  }
  const reportsDir = process.env.CI_REPORTS_DIR || 'reports';
  mkdirSync(reportsDir, { recursive: true });
  // A result file of an earlier run must not be read as this run's.
  rmSync(path.join(reportsDir, 'jest.json'), { force: true });
  rmSync('cdk.out.dev', { recursive: true, force: true });

  for (const step of ciSteps(reportsDir)) {
    console.log(`\n== ${step.name} (${elapsed()})`);
    const result = spawnSync(step.command[0], step.command.slice(1), { stdio: 'inherit' });
    step.after?.();
    if (result.status !== 0) {
      console.error(`\nCI failed at: ${step.name} (${step.command.join(' ')}), after ${elapsed()}`);
      return result.status ?? 1;
    }
  }
  console.log(`\nCI passed in ${elapsed()}`);
  return 0;
}

if (require.main === module) {
  process.exitCode = main();
}
