import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { PATH_METADATA_ENABLE_CONTEXT } from 'aws-cdk-lib/cx-api';
import { buildApp } from '../../lib/app';
import { PROJECT_ROOT, cdkAppContext } from '../../lib/config/project';
import { readStacks } from '../compliance/load';
import { TOP_LEVEL } from '../compliance/model';
import { parseCommandLine } from '../shared/command-line';
import { buildEnvironmentGraph } from './graph';
import { pipelinesOf } from './pipeline';
import { renderArchitecture, type ArchitectureDocument } from './render';

const ROOT = PROJECT_ROOT;
export const ARCHITECTURE_FILE = path.join(ROOT, 'docs', 'architecture.md');

const USAGE = `Usage: npm run diagram -- [--cdk-out <dir>] [--check]

Writes docs/architecture.md: Mermaid diagrams of the infrastructure pipeline and of the environment
it deploys last (production), generated from a synthesized cloud assembly.
  --cdk-out  read this cloud assembly (default: synthesize the app into a temporary directory)
  --check    write nothing; exit 1 if docs/architecture.md is out of date
Exit code: 0 written (or up to date), 1 out of date (--check), 2 usage or input error.`;

/** Synthesizes the whole app (as `cdk synth` would, without validation) and returns the assembly directory. */
export function synthesize(outdir: string): string {
  const previous = process.env.CDK_VALIDATION;
  // Only the templates matter here; validation is the synth's job.
  process.env.CDK_VALIDATION = 'false';
  try {
    // Path metadata on, as `cdk synth` has it: labels use construct ids where there is no physical name.
    const app = new App({ outdir, context: { ...cdkAppContext(), [PATH_METADATA_ENABLE_CONTEXT]: true } });
    buildApp(app);
    return app.synth().directory;
  } finally {
    if (previous === undefined) delete process.env.CDK_VALIDATION;
    else process.env.CDK_VALIDATION = previous;
  }
}

/**
 * What the document shows, from a cloud assembly: the top-level stack's pipeline, and the
 * environment of its last stage that is a Stage of the assembly (production).
 */
export function architectureOf(cdkOut: string): ArchitectureDocument {
  const stacks = readStacks(cdkOut);
  const [pipeline] = pipelinesOf(stacks.filter((s) => s.environment === TOP_LEVEL));
  if (!pipeline)
    throw new Error(`${cdkOut}: no top-level stack has a CodePipeline (synthesize the whole app)`);
  const environments = new Set(stacks.map((s) => s.environment));
  const environment = [...pipeline.stages].reverse().find((s) => environments.has(s.name))?.name;
  if (!environment)
    throw new Error(`${cdkOut}: no stage of ${pipeline.name} is a Stage of the cloud assembly`);
  const environmentStacks = stacks.filter((s) => s.environment === environment);
  return {
    infrastructurePipeline: pipeline,
    environment: buildEnvironmentGraph({ environment, stacks: environmentStacks }),
    environmentPipelines: pipelinesOf(environmentStacks),
  };
}

/** docs/architecture.md for a cloud assembly. */
export function architectureMarkdown(cdkOut: string): string {
  return renderArchitecture(architectureOf(cdkOut));
}

export function main(argv: string[]): number {
  const parsed = parseCommandLine(
    argv,
    { 'cdk-out': { type: 'string' }, check: { type: 'boolean', default: false } },
    USAGE,
  );
  if ('exitCode' in parsed) return parsed.exitCode;
  const { values } = parsed;
  const temp = values['cdk-out'] ? undefined : mkdtempSync(path.join(tmpdir(), 'orcha-diagram-'));
  try {
    const cdkOut = values['cdk-out'] ?? synthesize(temp as string);
    const markdown = architectureMarkdown(cdkOut);
    const current = existsSync(ARCHITECTURE_FILE) ? readFileSync(ARCHITECTURE_FILE, 'utf8') : '';
    const relative = path.relative(process.cwd(), ARCHITECTURE_FILE);
    if (values.check) {
      if (current === markdown) return 0;
      console.error(`${relative} is out of date with the code: run npm run diagram and commit it`);
      return 1;
    }
    writeFileSync(ARCHITECTURE_FILE, markdown);
    console.log(`${current === markdown ? 'Up to date' : 'Wrote'}: ${relative}`);
    return 0;
  } catch (error) {
    console.error((error as Error).message);
    return 2;
  } finally {
    if (temp) rmSync(temp, { recursive: true, force: true });
  }
}

if (require.main === module) {
  process.exitCode = main(process.argv.slice(2));
}
