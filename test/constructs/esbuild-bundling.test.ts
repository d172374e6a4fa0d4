import { App, AssetStaging, Stack } from 'aws-cdk-lib';
import * as esbuild from 'esbuild';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { esbuildBundling, lambdaCode, type EsbuildBundleProps } from '../../lib/constructs/esbuild-bundling';

// The real esbuild, with its calls counted: a cache hit must not run it.
jest.mock('esbuild', () => {
  const actual = jest.requireActual<typeof import('esbuild')>('esbuild');
  return { ...actual, buildSync: jest.fn(actual.buildSync) };
});
const buildSync = jest.mocked(esbuild.buildSync);

let work: string;
let src: string;
let cache: string;

const ENTRY = `import { greeting } from './greeting';
export class Greeter {
  text = greeting;
}
export const handler = (name?: string): string => name ?? new Greeter().text;
`;

beforeEach(() => {
  work = mkdtempSync(path.join(tmpdir(), 'orcha-esbuild-'));
  src = path.join(work, 'src');
  cache = path.join(work, 'cache');
  mkdirSync(src);
  writeFileSync(path.join(src, 'entry.ts'), ENTRY);
  writeFileSync(path.join(src, 'greeting.ts'), "export const greeting: string = 'hello';\n");
  process.env.ORCHA_ESBUILD_CACHE = cache;
  buildSync.mockClear();
});

afterEach(() => {
  delete process.env.ORCHA_ESBUILD_CACHE;
  rmSync(work, { recursive: true, force: true });
});

/** Bundles `src/entry.ts` into a new directory, as CDK does; returns the files by name. */
function bundleOnce(props: Partial<EsbuildBundleProps> = {}): Record<string, string> {
  const out = mkdtempSync(path.join(work, 'out-'));
  const bundling = esbuildBundling({ entry: path.join(src, 'entry.ts'), target: 'node20', ...props });
  expect(bundling.local?.tryBundle(out, bundling)).toBe(true);
  return Object.fromEntries(
    readdirSync(out).map((name) => [name, readFileSync(path.join(out, name), 'utf8')]),
  );
}

const cacheEntries = (): string[] =>
  existsSync(cache) ? readdirSync(cache).map((key) => path.join(cache, key)) : [];

describe('esbuild bundle cache', () => {
  test('a repeated bundle is copied from the cache, byte for byte, without esbuild', () => {
    const first = bundleOnce();
    expect(buildSync).toHaveBeenCalledTimes(1);
    expect(Object.keys(first).sort()).toEqual(['index.js', 'index.js.map']);
    expect(first['index.js']).toContain('hello');
    expect(cacheEntries()).toHaveLength(1);
    expect(readdirSync(cacheEntries()[0]).sort()).toEqual(['index.js', 'index.js.map', 'manifest.json']);

    expect(bundleOnce()).toEqual(first);
    expect(buildSync).toHaveBeenCalledTimes(1);

    // The same bytes as a fresh build without the cache.
    process.env.ORCHA_ESBUILD_CACHE = 'off';
    expect(bundleOnce()).toEqual(first);
    expect(buildSync).toHaveBeenCalledTimes(2);
  });

  test('editing an imported module, not the entry, is a miss', () => {
    const hello = bundleOnce();
    writeFileSync(path.join(src, 'greeting.ts'), "export const greeting: string = 'goodbye';\n");

    const goodbye = bundleOnce();
    expect(buildSync).toHaveBeenCalledTimes(2);
    expect(goodbye['index.js']).toContain('goodbye');
    expect(goodbye['index.js']).not.toContain('hello');
    expect(bundleOnce()).toEqual(goodbye);
    expect(buildSync).toHaveBeenCalledTimes(2);

    // Back to the first content: rebuilt (one entry per key), the same bytes as the first time.
    writeFileSync(path.join(src, 'greeting.ts'), "export const greeting: string = 'hello';\n");
    expect(bundleOnce()).toEqual(hello);
    expect(buildSync).toHaveBeenCalledTimes(3);
    expect(cacheEntries()).toHaveLength(1);
  });

  test('a tsconfig.json appearing in a parent directory (read by esbuild, not an input) is a miss', () => {
    const defineFields = bundleOnce();
    writeFileSync(
      path.join(work, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: { useDefineForClassFields: false } }),
    );

    const assignFields = bundleOnce();
    expect(buildSync).toHaveBeenCalledTimes(2);
    expect(assignFields['index.js']).toContain('constructor(){this.text=');
    expect(defineFields['index.js']).not.toContain('constructor(){this.text=');
  });

  test('a new file that an import now resolves to (greeting.tsx before greeting.ts) is a miss', () => {
    bundleOnce();
    writeFileSync(path.join(src, 'greeting.tsx'), "export const greeting: string = 'shadowed';\n");

    expect(bundleOnce()['index.js']).toContain('shadowed');
    expect(buildSync).toHaveBeenCalledTimes(2);
  });

  test('the build options are part of the key', () => {
    const node20 = bundleOnce({ target: 'node20' });
    const es2019 = bundleOnce({ target: 'es2019' });
    expect(buildSync).toHaveBeenCalledTimes(2);
    expect(cacheEntries()).toHaveLength(2);
    expect(node20['index.js']).toContain('??');
    expect(es2019['index.js']).not.toContain('??');

    const renamed = bundleOnce({ outfile: 'handler.js' });
    expect(Object.keys(renamed).sort()).toEqual(['handler.js', 'handler.js.map']);
    expect(cacheEntries()).toHaveLength(3);

    expect(bundleOnce({ target: 'node20' })).toEqual(node20);
    expect(bundleOnce({ target: 'es2019' })).toEqual(es2019);
    expect(buildSync).toHaveBeenCalledTimes(3);
  });

  test.each([
    ['a bundle file missing', (entry: string) => rmSync(path.join(entry, 'index.js.map'))],
    [
      'a bundle file truncated',
      (entry: string) => writeFileSync(path.join(entry, 'index.js'), '"use strict";'),
    ],
    ['the manifest missing', (entry: string) => rmSync(path.join(entry, 'manifest.json'))],
    [
      'the manifest cut short',
      (entry: string) => writeFileSync(path.join(entry, 'manifest.json'), '{"inputs":'),
    ],
  ])('a corrupted entry (%s) is a miss, and is repaired', (_case, corrupt) => {
    const fresh = bundleOnce();
    const [entry] = cacheEntries();
    const stored = Object.fromEntries(
      readdirSync(entry).map((name) => [name, readFileSync(path.join(entry, name))]),
    );
    corrupt(entry);

    expect(bundleOnce()).toEqual(fresh);
    expect(buildSync).toHaveBeenCalledTimes(2);
    expect(cacheEntries()).toEqual([entry]);
    for (const [name, contents] of Object.entries(stored)) {
      expect(readFileSync(path.join(entry, name)).equals(contents)).toBe(true);
    }

    expect(bundleOnce()).toEqual(fresh);
    expect(buildSync).toHaveBeenCalledTimes(2);
  });

  test('a cache that cannot be written to still yields the fresh bundle', () => {
    writeFileSync(cache, 'not a directory');
    const first = bundleOnce();
    expect(first['index.js']).toContain('hello');
    expect(bundleOnce()).toEqual(first);
    expect(buildSync).toHaveBeenCalledTimes(2);
  });

  test('a build under a tsconfig.json with `extends` (more inputs) is not cached', () => {
    writeFileSync(path.join(work, 'base.json'), '{}');
    writeFileSync(path.join(work, 'tsconfig.json'), JSON.stringify({ extends: './base.json' }));
    const first = bundleOnce();
    expect(bundleOnce()).toEqual(first);
    expect(buildSync).toHaveBeenCalledTimes(2);
    expect(cacheEntries()).toEqual([]);
  });

  test('ORCHA_ESBUILD_CACHE=off always runs esbuild and stores nothing', () => {
    process.env.ORCHA_ESBUILD_CACHE = 'off';
    const first = bundleOnce();
    expect(bundleOnce()).toEqual(first);
    expect(buildSync).toHaveBeenCalledTimes(2);
    expect(existsSync(cache)).toBe(false);
  });

  test('lambdaCode has the same asset hash from the cache as fresh, in another App', () => {
    const objectKey = (): string | undefined => {
      AssetStaging.clearAssetHashCache();
      const stack = new Stack(new App(), 'Test');
      return lambdaCode(path.join(src, 'entry.ts')).bind(stack).s3Location?.objectKey;
    };

    const fresh = objectKey();
    expect(fresh).toMatch(/^[0-9a-f]{64}\.zip$/);
    expect(buildSync).toHaveBeenCalledTimes(1);
    expect(objectKey()).toBe(fresh);
    expect(buildSync).toHaveBeenCalledTimes(1);

    process.env.ORCHA_ESBUILD_CACHE = 'off';
    expect(objectKey()).toBe(fresh);
    expect(buildSync).toHaveBeenCalledTimes(2);
  });
});
