/**
 * `npm run bench`: on this machine, in one run, the median wall time of
 *   - `cdk synth` of an app with one empty stack (the floor),
 *   - `cdk synth` of the whole app (pipeline, staging, prod, dev),
 *   - `npm test`,
 * and the ratios to the floor, then the infrastructure pipeline's critical path from a push to
 * the prod approval prompt (actions in order with expected minutes, derived from the synthesized
 * pipeline; see scripts/bench/critical-path.ts). `--runs N` (default 3), `--skip-tests`;
 * `--critical-path [--cdk-out DIR]` prints only the critical path (of DIR, e.g. an older synth
 * to compare; default: a fresh synth).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import * as path from 'node:path';
import { PROJECT_ROOT } from '../lib/config/project';
import { criticalPath, pipelineTemplate, renderCriticalPath } from './bench/critical-path';

const root = PROJECT_ROOT;
const args = process.argv.slice(2);
const runsArg = args.indexOf('--runs');
const runs = runsArg >= 0 ? Number(args[runsArg + 1]) : 3;
const skipTests = args.includes('--skip-tests');
const onlyCriticalPath = args.includes('--critical-path');
const cdkOutArg = args.indexOf('--cdk-out');
if (!Number.isInteger(runs) || runs < 1) throw new Error('--runs must be a positive integer');

const env = { ...process.env, CDK_DISABLE_CLI_TELEMETRY: '1', CI: 'true' };
const cdk = path.join(root, 'node_modules', '.bin', 'cdk');

function time(label: string, command: string, commandArgs: string[]): number {
  const started = process.hrtime.bigint();
  const result = spawnSync(command, commandArgs, { cwd: root, env, encoding: 'utf8' });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (result.status !== 0) {
    process.stderr.write(result.stdout + result.stderr);
    throw new Error(`${label} failed with exit ${result.status}`);
  }
  return seconds;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function measure(label: string, command: string, commandArgs: () => string[]): number {
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) samples.push(time(label, command, commandArgs()));
  const m = median(samples);
  console.log(
    `${label.padEnd(28)} median ${m.toFixed(2)} s  (runs: ${samples.map((s) => s.toFixed(2)).join(', ')})`,
  );
  return m;
}

function printCriticalPath(cdkOut: string): void {
  const template = pipelineTemplate(cdkOut);
  console.log(`\ncritical path, push → prod approval prompt (${path.relative(root, cdkOut) || cdkOut}):`);
  for (const line of renderCriticalPath(criticalPath(template))) console.log(line);
  // Outside office hours a sleeping environment's -Wake step starts it first.
  const asleep = criticalPath(template, undefined, { asleep: true });
  const awake = criticalPath(template);
  const extra = asleep.at(-1)!.cumulative - awake.at(-1)!.cumulative;
  if (asleep.some((s) => s.parallel.some((a) => a.endsWith('-Wake')))) {
    console.log(
      `  outside office hours (staging asleep, woken first): about ${asleep.at(-1)!.cumulative} minutes (+${extra})`,
    );
  }
}

const scratch = mkdtempSync(path.join(tmpdir(), 'orcha-bench-'));
const out = () => mkdtempSync(path.join(scratch, 'out-'));
try {
  if (onlyCriticalPath) {
    let dir = cdkOutArg >= 0 ? path.resolve(args[cdkOutArg + 1] ?? '') : '';
    if (!dir) {
      dir = out();
      time('cdk synth', cdk, ['synth', '--quiet', '--no-notices', '-o', dir]);
    }
    printCriticalPath(dir);
    process.exit(0);
  }
  console.log(`node ${process.version}, ${cpus().length} cores, ${runs} run(s) each\n`);
  // One warm-up of each, not counted (file-system caches).
  time('warm-up floor', cdk, [
    'synth',
    '--quiet',
    '--no-notices',
    '--app',
    'npx tsx scripts/bench/empty-app.ts',
    '-o',
    out(),
  ]);
  time('warm-up app', cdk, ['synth', '--quiet', '--no-notices', '-o', out()]);

  const floor = measure('cdk synth (one empty stack)', cdk, () => [
    'synth',
    '--quiet',
    '--no-notices',
    '--app',
    'npx tsx scripts/bench/empty-app.ts',
    '-o',
    out(),
  ]);
  let lastOut = '';
  const full = measure('cdk synth (whole app)', cdk, () => [
    'synth',
    '--quiet',
    '--no-notices',
    '-o',
    (lastOut = out()),
  ]);
  console.log(`\nfull synth / floor = ${(full / floor).toFixed(2)}x (target <= 1.6x)`);
  if (!skipTests) {
    const tests = measure('npm test', 'npm', () => ['test', '--silent', '--', '--ci']);
    console.log(
      `npm test = ${tests.toFixed(1)} s = ${(tests / floor).toFixed(1)}x the floor (target < 60 s)`,
    );
  }
  printCriticalPath(lastOut);
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
