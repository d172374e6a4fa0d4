import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { loadComplianceInput, VALIDATION_REPORT_FILE } from './load';
import { buildComplianceModel } from './model';
import { renderHtml, renderMarkdown } from './render';

const USAGE = `Usage: npm run compliance -- [--cdk-out cdk.out] [--out reports] [--synth] [--packs nist,hipaa,pci]

Writes <out>/compliance.md and <out>/compliance.html from <cdk-out>/validation-report.json,
the stack templates and <cdk-out>/nag-evaluation/*.json.
  --synth    synthesize first (npx cdk synth --quiet "**"); done anyway if the report is missing
  --packs    extra report-only packs for that synth (-c compliancePacks=...)
Exit code: 0 PASS, 1 FAIL (open finding in an enforced pack, or cdk-nag did not run), 2 usage/input error.`;

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
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        'cdk-out': { type: 'string', default: 'cdk.out' },
        out: { type: 'string', default: 'reports' },
        synth: { type: 'boolean', default: false },
        packs: { type: 'string' },
        help: { type: 'boolean', default: false },
      },
    }));
  } catch (error) {
    console.error(`${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const cdkOut = values['cdk-out'];
  try {
    if (values.synth || values.packs || !fs.existsSync(path.join(cdkOut, VALIDATION_REPORT_FILE))) {
      synth(cdkOut, values.packs);
    }
    const model = buildComplianceModel(loadComplianceInput(cdkOut, new Date().toISOString()));
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
    return model.status === 'PASS' ? 0 : 1;
  } catch (error) {
    console.error((error as Error).message);
    return 2;
  }
}

if (require.main === module) {
  process.exitCode = main(process.argv.slice(2));
}
