import * as fs from 'node:fs';
import * as path from 'node:path';
import { EVALUATION_DIR } from '../../lib/nag/evaluation';
import { TOP_LEVEL, type ComplianceInput, type StackInput } from './model';

/** Reads the synth output the compliance model needs. The only file-system part of the report. */

export const VALIDATION_REPORT_FILE = 'validation-report.json';

interface ManifestArtifact {
  type?: string;
  environment?: string;
  displayName?: string;
  properties?: { templateFile?: string; directoryName?: string; stackName?: string };
}

function readJson(file: string): unknown {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as unknown;
  } catch (error) {
    throw new Error(`Cannot read ${file}: ${(error as Error).message}`, { cause: error });
  }
}

/**
 * The stacks of a cloud assembly and of its nested assemblies (one per Stage, `assembly-<Stage>`),
 * found through the manifests so that each template gets its stack path and environment.
 */
export function readStacks(cdkOut: string): StackInput[] {
  const stacks: StackInput[] = [];
  const walk = (dir: string, environment: string): void => {
    const manifest = readJson(path.join(dir, 'manifest.json')) as {
      artifacts?: Record<string, ManifestArtifact>;
    };
    for (const [id, artifact] of Object.entries(manifest.artifacts ?? {})) {
      if (artifact.type === 'aws:cloudformation:stack' && artifact.properties?.templateFile) {
        const templatePath = path.join(dir, artifact.properties.templateFile);
        const awsEnvironment =
          artifact.environment && !artifact.environment.includes('unknown-')
            ? artifact.environment
            : undefined;
        stacks.push({
          environment,
          stackPath: artifact.displayName ?? id,
          stackName: artifact.properties.stackName ?? id,
          templateFile: path.relative(cdkOut, templatePath).split(path.sep).join('/'),
          ...(awsEnvironment ? { awsEnvironment } : {}),
          template: readJson(templatePath),
        });
      } else if (artifact.type === 'cdk:cloud-assembly' && artifact.properties?.directoryName) {
        const name = artifact.properties.directoryName;
        walk(path.join(dir, name), name.replace(/^assembly-/, ''));
      }
    }
  };
  walk(cdkOut, TOP_LEVEL);
  return stacks;
}

export function readEvaluations(cdkOut: string): unknown[] {
  const dir = path.join(cdkOut, EVALUATION_DIR);
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => readJson(path.join(dir, f)));
}

export function loadComplianceInput(cdkOut: string, generatedAt: string): ComplianceInput {
  const reportFile = path.join(cdkOut, VALIDATION_REPORT_FILE);
  if (!fs.existsSync(reportFile)) {
    throw new Error(
      `${reportFile} not found: run 'npx cdk synth --quiet "**"' first (or npm run compliance -- --synth)`,
    );
  }
  return {
    validationReport: readJson(reportFile),
    stacks: readStacks(cdkOut),
    evaluations: readEvaluations(cdkOut),
    generatedAt,
    source: cdkOut,
  };
}
