import { readdirSync, rmSync } from 'node:fs';

/** Fails the run if a test left a temporary file or directory behind (see `global-setup.ts`). */
export default function globalTeardown(): void {
  const runTmp = process.env.ORCHA_JEST_TMPDIR;
  if (!runTmp) throw new Error('ORCHA_JEST_TMPDIR is not set: test/global-setup.ts did not run');
  // tsx keeps its compile cache in <tmp>/tsx-<uid>: a tool's cache, not a test's leftover (it goes
  // with the run's directory).
  const left = readdirSync(runTmp).filter((name) => !/^tsx-\d+$/.test(name));
  rmSync(runTmp, { recursive: true, force: true });
  if (left.length > 0) {
    throw new Error(
      `Tests left ${left.length} temporary entr${left.length === 1 ? 'y' : 'ies'} behind (removed now): ${left.sort().join(', ')}`,
    );
  }
}
