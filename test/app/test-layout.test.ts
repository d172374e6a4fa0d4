import { existsSync, readdirSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { PROJECT_ROOT as ROOT } from '../../lib/config/project';

/**
 * The test tree mirrors the code (README, "Layout"), so that the test of a file is found without
 * searching and a file without tests stands out:
 * - `lib/<path>.ts` → `test/<path>.test.ts`; several files for one source:
 *   `test/<path>.<aspect>.test.ts`;
 * - `scripts/`, `codebuild/`, `assets/`, `examples/` → `test/scripts/…`, `test/codebuild/…`,
 *   `test/assets/…`, `test/examples/…`; `lambda/<name>/` → `test/lambda/<name>.test.ts` or
 *   `test/lambda/<name>/…`;
 * - tests of the whole app (invariants over every template, the entry point) → `test/app/`;
 * - shared helpers once in `test/helpers/` (a helper's own test next to it), fixtures in
 *   `test/fixtures/`; jest's setup files at the top of `test/`.
 */

/** Top-level directories of the code whose tests live under `test/<dir>/` with the same path. */
const MIRRORED_ROOTS = ['scripts', 'lambda', 'codebuild', 'assets', 'examples'];
/** Of those, where a test may stand for a whole directory (a Lambda function, the example repository). */
const DIRECTORY_SOURCES = ['lambda', 'examples'];
/** Where source files other than TypeScript are tested (boot scripts, the placeholder, …). */
const ANY_EXTENSION = ['assets', 'codebuild', 'examples'];
/** jest's own setup files (jest.config.js), at the top of test/. */
const JEST_SETUP = ['test/global-setup.ts', 'test/global-teardown.ts', 'test/setup-env.ts'];

type Exists = (repoPath: string) => 'file' | 'dir' | undefined;

const onDisk: Exists = (repoPath) => {
  const full = path.join(ROOT, repoPath);
  if (!existsSync(full)) return undefined;
  return statSync(full).isDirectory() ? 'dir' : 'file';
};

/** Files of a directory of the repository that `exists` knows, by name. */
function siblings(dir: string): string[] {
  const full = path.join(ROOT, dir);
  return existsSync(full) && statSync(full).isDirectory() ? readdirSync(full) : [];
}

/**
 * The source file (or directory) a test file stands for, or undefined when it stands for none.
 * `test/app/…` is the whole app.
 */
export function sourceOf(
  testFile: string,
  exists: Exists = onDisk,
  list: (dir: string) => string[] = siblings,
): string | undefined {
  if (!testFile.startsWith('test/') || !testFile.endsWith('.test.ts')) return undefined;
  const stem = testFile.slice('test/'.length, -'.test.ts'.length);
  if (stem.startsWith('app/')) return 'the whole app';
  const dir = path.posix.dirname(stem);
  const parts = path.posix.basename(stem).split('.');
  // `alarms`, then for `ops-stack.budget` also `ops-stack`: an aspect is a suffix of the name.
  for (let n = parts.length; n >= 1; n--) {
    const candidate = path.posix.join(dir, parts.slice(0, n).join('.'));
    const top = candidate.split('/')[0];
    const mirrored = MIRRORED_ROOTS.includes(top);
    const bases = mirrored
      ? [candidate]
      : top === 'helpers'
        ? [`test/${candidate}`]
        : [`lib/${candidate}`, `test/${candidate}`];
    for (const base of bases) {
      if (exists(`${base}.ts`) === 'file') return `${base}.ts`;
      if (mirrored && DIRECTORY_SOURCES.includes(top) && exists(base) === 'dir') return `${base}/`;
      if (mirrored && ANY_EXTENSION.includes(top)) {
        const name = path.posix.basename(base);
        const match = list(path.posix.dirname(base)).find((f) => f.startsWith(`${name}.`));
        if (match) return path.posix.join(path.posix.dirname(base), match);
      }
    }
  }
  return undefined;
}

/** Whether a non-test file may stand where it is: a helper, a fixture or jest's setup. */
export function isSupportFile(file: string): boolean {
  return file.startsWith('test/helpers/') || file.startsWith('test/fixtures/') || JEST_SETUP.includes(file);
}

function filesUnder(dir: string): string[] {
  return readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap((entry) => {
    const rel = `${dir}/${entry.name}`;
    return entry.isDirectory() ? filesUnder(rel) : [rel];
  });
}

const testTree = filesUnder('test');

describe('the test tree mirrors lib/, lambda/, scripts/, codebuild/ and assets/', () => {
  test('every test file stands for a source file, or tests the whole app in test/app/', () => {
    const orphans = testTree.filter((f) => f.endsWith('.test.ts') && sourceOf(f) === undefined);
    expect(orphans).toEqual([]);
  });

  test('every other file is a helper (test/helpers/), a fixture (test/fixtures/) or jest setup', () => {
    const misplaced = testTree.filter((f) => !f.endsWith('.test.ts') && !isSupportFile(f));
    expect(misplaced).toEqual([]);
  });

  test('jest runs exactly the *.test.ts files (a test under another name would never run)', () => {
    const ts = testTree.filter((f) => /\.(spec|test)\.[cm]?[jt]sx?$/.test(f) && !f.endsWith('.test.ts'));
    expect(ts).toEqual([]);
  });
});

describe('the mapping itself', () => {
  const tree = new Set([
    'lib/stacks/ops-stack.ts',
    'lib/constructs/alarms.ts',
    'lib/entry.ts',
    'scripts/ops/commands/session.ts',
    'lambda/tool-mirror/index.ts',
    'assets/boot/boot.sh',
    'test/helpers/buildspecs.ts',
    'test/global-teardown.ts',
  ]);
  const exists: Exists = (p) =>
    tree.has(p) ? 'file' : [...tree].some((f) => f.startsWith(`${p}/`)) ? 'dir' : undefined;
  const list = (dir: string) =>
    [...tree].filter((f) => path.posix.dirname(f) === dir).map((f) => path.posix.basename(f));
  const of = (f: string) => sourceOf(f, exists, list);

  test.each([
    ['test/constructs/alarms.test.ts', 'lib/constructs/alarms.ts'],
    ['test/stacks/ops-stack.test.ts', 'lib/stacks/ops-stack.ts'],
    ['test/stacks/ops-stack.budget.test.ts', 'lib/stacks/ops-stack.ts'],
    ['test/entry.test.ts', 'lib/entry.ts'],
    ['test/scripts/ops/commands/session.test.ts', 'scripts/ops/commands/session.ts'],
    ['test/lambda/tool-mirror.test.ts', 'lambda/tool-mirror/'],
    ['test/lambda/tool-mirror/index.test.ts', 'lambda/tool-mirror/index.ts'],
    ['test/assets/boot/boot.test.ts', 'assets/boot/boot.sh'],
    ['test/assets/boot/boot.deploy-path.test.ts', 'assets/boot/boot.sh'],
    ['test/helpers/buildspecs.test.ts', 'test/helpers/buildspecs.ts'],
    ['test/global-teardown.test.ts', 'test/global-teardown.ts'],
    ['test/app/anything.test.ts', 'the whole app'],
  ])('%s → %s', (file, source) => {
    expect(of(file)).toBe(source);
  });

  test.each([
    // a misspelt or removed source
    'test/constructs/alarm.test.ts',
    // in the wrong tree: scripts/ops/commands/session.ts is tested under test/scripts/
    'test/ops/commands/session.test.ts',
    'test/scripts/constructs/alarms.test.ts',
    // several sources in one file, named after none of them
    'test/stacks/stacks.test.ts',
    'test/stacks.test.ts',
    // a directory of lib/ is not a source
    'test/constructs.test.ts',
    // helpers are tested next to themselves, not as lib/
    'test/helpers/alarms.test.ts',
    // not a jest test
    'test/constructs/alarms.spec.ts',
  ])('%s stands for no source', (file) => {
    expect(of(file)).toBeUndefined();
  });

  test('support files: helpers, fixtures and jest setup only', () => {
    expect(isSupportFile('test/helpers/ops.ts')).toBe(true);
    expect(isSupportFile('test/fixtures/iam/AmazonSSMManagedInstanceCore.json')).toBe(true);
    expect(isSupportFile('test/setup-env.ts')).toBe(true);
    expect(isSupportFile('test/ops/helpers.ts')).toBe(false);
    expect(isSupportFile('test/constructs/support/platform.ts')).toBe(false);
  });
});
