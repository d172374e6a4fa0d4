import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import globalTeardown from './global-teardown';

describe('a test run leaves nothing in the system temp dir', () => {
  test("every worker's temp dir is the run's own directory (what global-teardown checks)", () => {
    const runTmp = process.env.ORCHA_JEST_TMPDIR;
    expect(runTmp).toBeDefined();
    expect(os.tmpdir()).toBe(runTmp);
  });

  test('the teardown names what a test left behind, fails, and removes it anyway', () => {
    const saved = process.env.ORCHA_JEST_TMPDIR;
    const fake = mkdtempSync(path.join(os.tmpdir(), 'fake-run-'));
    mkdirSync(path.join(fake, 'cdk.outAbC123'));
    writeFileSync(path.join(fake, 'leftover.json'), '{}');
    mkdirSync(path.join(fake, 'tsx-0')); // tsx's compile cache: not a leftover
    process.env.ORCHA_JEST_TMPDIR = fake;
    try {
      expect(() => globalTeardown()).toThrow(
        'Tests left 2 temporary entries behind (removed now): cdk.outAbC123, leftover.json',
      );
    } finally {
      process.env.ORCHA_JEST_TMPDIR = saved;
    }
    expect(existsSync(fake)).toBe(false);
  });

  test('an empty run directory passes and is removed', () => {
    const saved = process.env.ORCHA_JEST_TMPDIR;
    const fake = mkdtempSync(path.join(os.tmpdir(), 'fake-run-'));
    process.env.ORCHA_JEST_TMPDIR = fake;
    try {
      expect(() => globalTeardown()).not.toThrow();
    } finally {
      process.env.ORCHA_JEST_TMPDIR = saved;
    }
    expect(existsSync(fake)).toBe(false);
  });

  test("the AWS SDK's Node.js-version warning is said once by the run, not by every worker", () => {
    expect(process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED).toBe('true');
  });
});
