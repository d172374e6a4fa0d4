import { readFileSync } from 'node:fs';
import * as path from 'node:path';

/**
 * The project's root directory (where package.json and cdk.json are). The one place that
 * derives it from a file's location: everything else names files relative to it with
 * {@link projectPath}, so moving a file does not silently change what a `'..', '..'` points at.
 */
export const PROJECT_ROOT = path.resolve(__dirname, '..', '..');

/** An absolute path inside the project, e.g. `projectPath('assets', 'boot')`. */
export function projectPath(...segments: string[]): string {
  return path.join(PROJECT_ROOT, ...segments);
}

/** A JSON file of the project, parsed (no schema: callers narrow what they read). */
export function readProjectJson<T>(...segments: string[]): T {
  return JSON.parse(readFileSync(projectPath(...segments), 'utf8')) as T;
}

/**
 * cdk.json's context and cdk.context.json merged, exactly as `cdk synth` passes them to the app
 * (cached lookups win). For apps built in-process (tests, the cost report).
 */
export function cdkAppContext(): Record<string, unknown> {
  const cdkJson = readProjectJson<{ context?: Record<string, unknown> }>('cdk.json');
  const cached = readProjectJson<Record<string, unknown>>('cdk.context.json');
  return { ...cdkJson.context, ...cached };
}
