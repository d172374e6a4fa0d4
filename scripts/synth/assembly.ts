import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';

/** One CloudFormation stack of a cloud assembly. */
export interface AssemblyStack {
  /** Construct path, e.g. `Prod/Data` or `v1-orcha-infra-pipeline`. */
  readonly path: string;
  /** Absolute path of its template. */
  readonly templateFile: string;
  /** Number of resources in the template. */
  readonly resources: number;
}

interface Manifest {
  readonly artifacts?: Record<
    string,
    {
      readonly type: string;
      readonly displayName?: string;
      readonly properties?: { readonly templateFile?: string; readonly directoryName?: string };
    }
  >;
}

/**
 * Every stack of the cloud assembly in `dir`, nested stage assemblies included, read from the
 * manifests: exactly what this synth wrote, never a stale template left in the directory.
 */
export function assemblyStacks(dir: string): AssemblyStack[] {
  const file = path.join(dir, 'manifest.json');
  if (!existsSync(file)) throw new Error(`${file} not found: the synth wrote no cloud assembly`);
  const manifest = JSON.parse(readFileSync(file, 'utf8')) as Manifest;
  const stacks: AssemblyStack[] = [];
  for (const [id, artifact] of Object.entries(manifest.artifacts ?? {})) {
    if (artifact.type === 'aws:cloudformation:stack' && artifact.properties?.templateFile) {
      const templateFile = path.resolve(dir, artifact.properties.templateFile);
      const template = JSON.parse(readFileSync(templateFile, 'utf8')) as { Resources?: object };
      stacks.push({
        path: artifact.displayName ?? id,
        templateFile,
        resources: Object.keys(template.Resources ?? {}).length,
      });
    } else if (artifact.type === 'cdk:cloud-assembly' && artifact.properties?.directoryName) {
      stacks.push(...assemblyStacks(path.join(dir, artifact.properties.directoryName)));
    }
  }
  return stacks;
}
