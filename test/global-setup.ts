import { chmodSync, mkdtempSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { NODE_MAJOR } from '../lib/config/toolchain';

/**
 * Runs once before the workers start. Every temporary file or directory of the run (CDK
 * outdirs, bundling, fixtures, embedded PostgreSQL) goes into one directory of its own, which
 * the workers inherit through TMPDIR; `global-teardown.ts` fails the run if anything is left in
 * it, then removes it. Other processes' temporary files do not count, and nothing stays behind.
 */
export default function globalSetup(): void {
  const systemTmp = os.tmpdir();
  const runTmp = mkdtempSync(path.join(systemTmp, 'orcha-jest-'));
  // The same permissions as the system temp dir: the tests' PostgreSQL, run as another user when
  // the tests run as root, must be able to traverse it.
  chmodSync(runTmp, 0o1777);
  process.env.ORCHA_JEST_TMPDIR = runTmp;
  process.env.TMPDIR = runTmp;
  process.env.TMP = runTmp;
  process.env.TEMP = runTmp;

  // The AWS SDK warns once per worker when Node.js is older than it will support; say it once.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  const major = Number(process.versions.node.split('.')[0]);
  if (major < 22) {
    console.warn(
      `\nNode.js ${process.versions.node} here; the version of record is ${NODE_MAJOR} (.nvmrc). ` +
        'AWS SDK releases from January 2027 on need Node.js 22 or newer.',
    );
  }
}
