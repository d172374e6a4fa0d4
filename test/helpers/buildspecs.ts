import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';

/** A CodeBuild buildspec found in a synthesized app, with where it came from. */
export interface FoundBuildSpec {
  /** `<template file>:<logical id>` or the buildspec file's name. */
  readonly where: string;
  readonly spec: BuildSpecObject;
}

export interface BuildSpecObject {
  readonly phases?: Record<
    string,
    {
      readonly 'runtime-versions'?: Record<string, unknown>;
      readonly commands?: string[];
      readonly finally?: string[];
    }
  >;
}

/** Renders an `Fn::Join` of a buildspec string, tokens replaced by `<token>`. */
function flatten(value: unknown): string {
  if (typeof value === 'string') return value;
  const join = (value as { 'Fn::Join'?: [string, unknown[]] })['Fn::Join'];
  if (join) return join[1].map((part) => (typeof part === 'string' ? part : '<token>')).join(join[0]);
  throw new Error(`unexpected buildspec value ${JSON.stringify(value).slice(0, 200)}`);
}

function templatesIn(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return templatesIn(full);
    return e.name.endsWith('.template.json') ? [full] : [];
  });
}

/**
 * Every buildspec of a cloud assembly: the `Source.BuildSpec` of each CodeBuild project in every
 * template (nested assemblies included), and the `buildspec-*.yaml` files CDK Pipelines writes
 * next to the templates (JSON, despite the name).
 */
export function buildSpecsOf(assemblyDir: string): FoundBuildSpec[] {
  const found: FoundBuildSpec[] = [];
  for (const file of templatesIn(assemblyDir)) {
    const template = JSON.parse(readFileSync(file, 'utf8')) as {
      Resources?: Record<string, { Type: string; Properties?: { Source?: { BuildSpec?: unknown } } }>;
    };
    for (const [id, resource] of Object.entries(template.Resources ?? {})) {
      const raw =
        resource.Type === 'AWS::CodeBuild::Project' ? resource.Properties?.Source?.BuildSpec : undefined;
      // A project whose buildspec CDK Pipelines wrote to a file names that file: read below.
      if (raw === undefined || (typeof raw === 'string' && !raw.trimStart().startsWith('{'))) continue;
      found.push({
        where: `${path.relative(assemblyDir, file)}:${id}`,
        spec: JSON.parse(flatten(raw)) as BuildSpecObject,
      });
    }
  }
  for (const name of readdirSync(assemblyDir).filter((n) => /^buildspec-.*\.ya?ml$/.test(n))) {
    found.push({
      where: name,
      spec: JSON.parse(readFileSync(path.join(assemblyDir, name), 'utf8')) as BuildSpecObject,
    });
  }
  return found;
}

/** Every command of every phase, in order. */
export function commandsOf(spec: BuildSpecObject): string[] {
  return Object.values(spec.phases ?? {}).flatMap((p) => [...(p.commands ?? []), ...(p.finally ?? [])]);
}

const NPM_PINNED = /^(@[a-z0-9][\w.-]*\/)?[a-z0-9][\w.-]*@\d+\.\d+\.\d+$/i;
const PIP_PINNED = /^[A-Za-z0-9][\w.-]*(\[[\w,-]+\])?==\d+(\.\d+)*$/;

/** Splits a shell command line into simple commands, each into words (quotes stripped). */
function simpleCommands(line: string): string[][] {
  return line
    .split(/&&|\|\||[;|\n]|\bthen\b|\belse\b|\bif\b|\bfi\b/)
    .map((c) =>
      c
        .trim()
        .split(/\s+/)
        .map((w) => w.replace(/^["']|["']$/g, ''))
        .filter((w) => w !== ''),
    )
    .filter((words) => words.length > 0);
}

/**
 * The tools a command line installs or fetches without an exact version: `npm install -g x`,
 * `x@latest`, `pip install x` (no `==`), `npm install` of a project without its lockfile, and
 * `npx x` unless `x` comes from a lockfile install (`npm ci`) earlier in the same buildspec.
 */
export function unpinnedTools(line: string, afterLockfileInstall: boolean): string[] {
  const problems: string[] = [];
  for (const words of simpleCommands(line)) {
    const [tool, ...rest] = words;
    const args = rest.filter((w) => !w.startsWith('-'));
    if (tool === 'npm' && ['install', 'i', 'add'].includes(args[0] ?? '')) {
      const packages = args.slice(1);
      if (packages.length === 0)
        problems.push(`${words.join(' ')} (use npm ci: the lockfile pins everything)`);
      for (const p of packages) if (!NPM_PINNED.test(p)) problems.push(p);
    } else if (
      /^pip3?$/.test(tool ?? '') ||
      (tool?.startsWith('python') && rest[0] === '-m' && rest[1] === 'pip')
    ) {
      const pipArgs = tool?.startsWith('python') ? args.slice(1) : args;
      if (pipArgs[0] === 'install')
        for (const p of pipArgs.slice(1)) if (!PIP_PINNED.test(p)) problems.push(p);
    } else if (tool === 'npx') {
      const target = args[0];
      if (target !== undefined && !NPM_PINNED.test(target) && !afterLockfileInstall)
        problems.push(`npx ${target}`);
    }
  }
  return problems;
}

/** {@link unpinnedTools} over a whole buildspec, in command order. */
export function unpinnedToolsOf(spec: BuildSpecObject): string[] {
  let lockfileInstalled = false;
  const problems: string[] = [];
  for (const command of commandsOf(spec)) {
    problems.push(...unpinnedTools(command, lockfileInstalled));
    if (/(^|[;&|]\s*)npm ci\b/.test(command)) lockfileInstalled = true;
  }
  return problems;
}
