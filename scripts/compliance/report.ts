import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { stageId } from '../../lib/app';
import { environments, pipeline } from '../../lib/config/environments';
import { BASELINE_FILE, parseBaseline, serializeBaseline } from './baseline';
import { installedVersion, ruleCatalog } from './catalog';
import { loadComplianceInput, VALIDATION_REPORT_FILE } from './load';
import { baselineFromModel, buildComplianceModel, type AuditInfo } from './model';
import { renderHtml, renderMarkdown } from './render';
import { parseCommandLine } from '../shared/command-line';

const USAGE = `Usage: npm run compliance -- [--cdk-out cdk.out] [--out reports] [--synth] [--packs nist,hipaa,pci]
                              [--baseline ${BASELINE_FILE}] [--update-baseline]

Writes <out>/compliance.md and <out>/compliance.html from <cdk-out>/validation-report.json,
the stack templates and <cdk-out>/nag-evaluation/*.json.
  --synth            synthesize first (npx cdk synth --quiet "**"); done anyway if the report is missing
  --packs            extra report-only packs for that synth (-c compliancePacks=...)
  --baseline         the previous report's findings, for "fixed since the previous report"
  --update-baseline  write this report's findings to the baseline file (commit it on purpose)
Exit code: 0 PASS, 1 FAIL (open finding in an enforced pack, or cdk-nag did not run), 2 usage/input error.`;

/**
 * Environments in the order the report shows them: those the pipeline deploys, the last one
 * (production) first, then the others in configuration order: Prod, Staging, Dev.
 */
export function environmentOrder(): string[] {
  const deployed = [...pipeline.stages].reverse();
  const others = Object.keys(environments).filter((name) => !deployed.includes(name));
  return [...deployed, ...others].map(stageId);
}

function git(args: string[]): string | undefined {
  const result = spawnSync('git', args, { encoding: 'utf8' });
  return result.status === 0 ? result.stdout.trim() : undefined;
}

/**
 * The commit audited: the checkout's HEAD, or CodeBuild's resolved source version where the
 * source has no .git (a CodePipeline source artifact).
 */
export function auditInfo(env: NodeJS.ProcessEnv = process.env, runGit = git): AuditInfo {
  const head = runGit(['rev-parse', 'HEAD']);
  const status = head === undefined ? undefined : runGit(['status', '--porcelain', '--untracked-files=no']);
  const commit =
    head ??
    (env.CODEBUILD_RESOLVED_SOURCE_VERSION
      ? env.CODEBUILD_RESOLVED_SOURCE_VERSION
      : 'unknown (no git checkout and no CODEBUILD_RESOLVED_SOURCE_VERSION)');
  return {
    commit,
    uncommittedChanges: status !== undefined && status !== '',
    tools: { 'cdk-nag': installedVersion('cdk-nag'), 'aws-cdk-lib': installedVersion('aws-cdk-lib') },
  };
}

/** Runs the synth; findings make `cdk synth` exit 1, which still leaves a usable report. */
function synth(cdkOut: string, packs: string | undefined): void {
  const args = ['cdk', 'synth', '--quiet', '--no-notices', '-o', cdkOut, '**'];
  if (packs) args.push('-c', `compliancePacks=${packs}`);
  console.error(`Running: npx ${args.map((a) => (a === '**' ? `'**'` : a)).join(' ')}`);
  const started = Date.now();
  const result = spawnSync('npx', args, { stdio: ['ignore', 'ignore', 'inherit'] });
  const report = path.join(cdkOut, VALIDATION_REPORT_FILE);
  const fresh = fs.existsSync(report) && fs.statSync(report).mtimeMs >= started - 1000;
  if (!fresh) {
    throw new Error(
      `cdk synth exited with ${result.status ?? result.signal} and wrote no ${VALIDATION_REPORT_FILE}`,
    );
  }
}

export function main(argv: string[]): number {
  const parsed = parseCommandLine(
    argv,
    {
      'cdk-out': { type: 'string', default: 'cdk.out' },
      out: { type: 'string', default: 'reports' },
      synth: { type: 'boolean', default: false },
      packs: { type: 'string' },
      baseline: { type: 'string', default: BASELINE_FILE },
      'update-baseline': { type: 'boolean', default: false },
    },
    USAGE,
  );
  if ('exitCode' in parsed) return parsed.exitCode;
  const { values } = parsed;
  const cdkOut = values['cdk-out'];
  try {
    if (values.synth || values.packs || !fs.existsSync(path.join(cdkOut, VALIDATION_REPORT_FILE))) {
      synth(cdkOut, values.packs);
    }
    const baselineFile = values.baseline;
    const model = buildComplianceModel({
      ...loadComplianceInput(cdkOut, new Date().toISOString()),
      audit: auditInfo(),
      environmentOrder: environmentOrder(),
      catalog: ruleCatalog(),
      baseline: fs.existsSync(baselineFile)
        ? parseBaseline(fs.readFileSync(baselineFile, 'utf8'), baselineFile)
        : undefined,
    });
    fs.mkdirSync(values.out, { recursive: true });
    const md = path.join(values.out, 'compliance.md');
    const html = path.join(values.out, 'compliance.html');
    fs.writeFileSync(md, renderMarkdown(model));
    fs.writeFileSync(html, renderHtml(model));
    const t = model.totals;
    console.log(
      `${model.status}: ${t.openEnforced} open (enforced), ${t.openAdvisory} open (report only), ${t.acknowledged} acknowledged, ` +
        `${t.stacks} stacks in ${t.environments} environments. Wrote ${md} and ${html}.`,
    );
    for (const p of model.problems) console.log(`Problem: ${p}`);
    if (values['update-baseline']) {
      fs.writeFileSync(baselineFile, serializeBaseline(baselineFromModel(model)));
      console.log(`Wrote ${baselineFile}: commit it to make this report the baseline.`);
    }
    return model.status === 'PASS' ? 0 : 1;
  } catch (error) {
    console.error((error as Error).message);
    return 2;
  }
}

if (require.main === module) {
  process.exitCode = main(process.argv.slice(2));
}
