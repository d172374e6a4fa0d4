import * as path from 'node:path';

/** The repository's root directory (where package.json is), for tests that read files of the tree. */
export const ROOT = path.resolve(__dirname, '..', '..');

/** A path below the repository's root: `fromRoot('docs', 'runbooks', 'alarms.md')`. */
export const fromRoot = (...segments: string[]): string => path.join(ROOT, ...segments);

/** The reference application repository (examples/app-repository). */
export const EXAMPLE_APP_REPOSITORY = fromRoot('examples', 'app-repository');
