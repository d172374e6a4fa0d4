import { AssetHashType, DockerImage, type BundlingOptions } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { buildSync, version as esbuildVersion, type BuildOptions } from 'esbuild';
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { ESBUILD_NODE_TARGET } from '../config/toolchain';
import { PROJECT_ROOT } from '../config/project';

export interface EsbuildBundleProps {
  /** The TypeScript entry point. */
  readonly entry: string;
  /** File name of the bundle in the asset. @default 'index.js' */
  readonly outfile?: string;
  /** esbuild target, e.g. `node24`: {@link ESBUILD_NODE_TARGET} for everything the cloud runs. */
  readonly target: string;
  /** Modules left out of the bundle (provided by the runtime, or optional natives). */
  readonly external?: string[];
}

const ROOT = PROJECT_ROOT;

/**
 * Where esbuild is told the bundle goes. It writes source-map `sources` relative to the outfile;
 * bundling for this fixed place (with `write: false`) makes the bytes depend on the inputs only,
 * not on where CDK stages the bundle, and equal to those of a default `cdk synth`, which stages
 * in `cdk.out/bundling-temp-<hash>-building`.
 */
const VIRTUAL_OUTDIR = path.join('cdk.out', 'bundling-temp');

/**
 * Asset bundling with the installed esbuild's API, in the synthesizing process: the same
 * esbuild and output as `NodejsFunction`'s local bundling, without its `npx esbuild` child
 * process (about 0.6 s per function on every synth). There is no Docker fallback here; the
 * image is required by the API and never used.
 *
 * Bundles are cached across synths, see {@link bundle}.
 */
export function esbuildBundling(props: EsbuildBundleProps): BundlingOptions {
  return {
    image: DockerImage.fromRegistry('public.ecr.aws/docker/library/node:24-slim'),
    local: {
      tryBundle(outputDir: string): boolean {
        bundle(props, outputDir);
        return true;
      },
    },
  };
}

/** SDK v3 ships with the Node.js Lambda runtimes: never bundled. */
const LAMBDA_EXTERNALS = ['@aws-sdk/*', '@smithy/*'];

/**
 * Code of a Node.js Lambda function (`lambda/<name>/index.ts` → `index.js` + source map) for
 * `NodejsFunction`'s `code`, hashed on the bundle so that a change of the handler or of a
 * bundled dependency changes the asset.
 */
export function lambdaCode(entry: string): lambda.Code {
  return lambda.Code.fromAsset(path.dirname(entry), {
    assetHashType: AssetHashType.OUTPUT,
    bundling: esbuildBundling({ entry, target: ESBUILD_NODE_TARGET, external: LAMBDA_EXTERNALS }),
  });
}

/** What the cache stores next to the bundle files: fingerprints, by path relative to the root. */
interface Manifest {
  /** Every file or directory the bundle depends on outside node_modules (null: absent). */
  readonly inputs: Record<string, string | null>;
  /** The bundle's files (by name in the output directory). */
  readonly outputs: Record<string, string>;
}

/**
 * Writes the bundle of `props` into `outputDir`, from the content-addressed cache in
 * `node_modules/.cache/orcha-esbuild/` when possible.
 *
 * - Key: sha256 of esbuild's version, the build options (paths relative to the project root)
 *   and package-lock.json, which pins everything under node_modules.
 * - Entry `<cache>/<key>/`: the bundle's files and `manifest.json`, the fingerprints of every
 *   input esbuild read outside node_modules (metafile), of the package.json, tsconfig.json and
 *   jsconfig.json it may have consulted in their directories and above (present or absent), and
 *   of the listing of each input directory (a new file there could change module resolution).
 * - Hit: the manifest's inputs and outputs all still match → the files are copied. Otherwise
 *   esbuild runs and the entry is replaced, atomically (temp directory + rename); a failure to
 *   store is ignored.
 *
 * `ORCHA_ESBUILD_CACHE=off` disables the cache; `ORCHA_ESBUILD_CACHE=<directory>` moves it.
 */
function bundle(props: EsbuildBundleProps, outputDir: string): void {
  const setting = process.env.ORCHA_ESBUILD_CACHE;
  const options = {
    entryPoints: [path.relative(ROOT, props.entry)],
    outfile: path.join(VIRTUAL_OUTDIR, props.outfile ?? 'index.js'),
    bundle: true,
    platform: 'node',
    target: props.target,
    format: 'cjs',
    sourcemap: true,
    minify: true,
    external: props.external ?? [],
    logLevel: 'error',
  } satisfies BuildOptions;
  const lockfile = readOrNull(path.join(ROOT, 'package-lock.json'));
  if (setting === 'off' || lockfile === null) {
    writeOutputs(outputDir, build(options).outputs);
    return;
  }
  const key = createHash('sha256')
    .update(JSON.stringify({ esbuild: esbuildVersion, options }))
    .update('\0')
    .update(lockfile)
    .digest('hex');
  const entry = path.join(setting || path.join(ROOT, 'node_modules', '.cache', 'orcha-esbuild'), key);

  const cached = restore(entry);
  if (cached) {
    writeOutputs(outputDir, cached);
    return;
  }
  const fresh = build(options);
  writeOutputs(outputDir, fresh.outputs);
  try {
    store(entry, fresh.outputs, fresh.inputs);
  } catch {
    // The fresh bundle is in place; the next synth tries again.
  }
}

type Files = Map<string, Uint8Array>;

function build(options: BuildOptions): { outputs: Files; inputs: string[] } {
  const result = buildSync({ ...options, absWorkingDir: ROOT, write: false, metafile: true });
  const outputs: Files = new Map(result.outputFiles.map((f) => [path.basename(f.path), f.contents]));
  const inputs = Object.keys(result.metafile.inputs).filter(
    (p) => !p.split(/[\\/]/).includes('node_modules'),
  );
  return { outputs, inputs };
}

/** The cached files if the entry is complete and all its inputs are unchanged, else undefined. */
function restore(entry: string): Files | undefined {
  try {
    const manifest = JSON.parse(readFileSync(path.join(entry, 'manifest.json'), 'utf8')) as Manifest;
    for (const [input, print] of Object.entries(manifest.inputs)) {
      if (fingerprint(path.resolve(ROOT, input)) !== print) return undefined;
    }
    const files: Files = new Map();
    for (const [name, print] of Object.entries(manifest.outputs)) {
      const contents = readFileSync(path.join(entry, name));
      if (sha256(contents) !== print) return undefined;
      files.set(name, contents);
    }
    return files.size > 0 ? files : undefined;
  } catch {
    return undefined; // absent, partial or unreadable: a miss
  }
}

function store(entry: string, outputs: Files, esbuildInputs: string[]): void {
  const inputs: Record<string, string | null> = {};
  const watch = (file: string): void => {
    inputs[path.relative(ROOT, file)] = fingerprint(file);
  };
  const dirs = new Set<string>();
  for (const input of esbuildInputs) {
    const file = path.resolve(ROOT, input);
    watch(file);
    watch(path.dirname(file));
    for (let dir = path.dirname(file); !dirs.has(dir); dir = path.dirname(dir)) {
      dirs.add(dir);
      for (const config of ['package.json', 'tsconfig.json', 'jsconfig.json']) {
        const text = readOrNull(path.join(dir, config));
        // An `extends` chain would be more inputs: such a build is not cached.
        if (config !== 'package.json' && text?.includes('"extends"')) return;
        watch(path.join(dir, config));
      }
      if (dir === path.dirname(dir)) break;
    }
  }
  const manifest: Manifest = {
    inputs,
    outputs: Object.fromEntries([...outputs].map(([name, contents]) => [name, sha256(contents)])),
  };
  const temp = `${entry}.${process.pid}-${Date.now()}.tmp`;
  try {
    writeOutputs(temp, outputs);
    writeFileSync(path.join(temp, 'manifest.json'), JSON.stringify(manifest, null, 2));
    rmSync(entry, { recursive: true, force: true });
    renameSync(temp, entry);
  } finally {
    rmSync(temp, { recursive: true, force: true });
  }
}

function writeOutputs(dir: string, files: Files): void {
  mkdirSync(dir, { recursive: true });
  for (const [name, contents] of files) writeFileSync(path.join(dir, name), contents);
}

/** sha256 of a file's content, or of a directory's sorted listing; null if absent. */
function fingerprint(file: string): string | null {
  try {
    return statSync(file).isDirectory()
      ? `dir:${sha256(readdirSync(file).sort().join('\n'))}`
      : sha256(readFileSync(file));
  } catch {
    return null;
  }
}

function readOrNull(file: string): string | null {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return null;
  }
}

function sha256(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}
