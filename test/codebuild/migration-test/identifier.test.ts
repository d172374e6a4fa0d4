import { isValidInstanceId, temporaryInstanceId } from '../../../codebuild/migration-test/identifier';

const BUILD_ID = 'v1-orcha-migration-test:0b6f7c1e-2f1d-4c1e-9a53-6f0e1d2c3b4a';

describe('temporary instance identifier', () => {
  test('a CodeBuild id keeps its uuid after the prefix', () => {
    expect(temporaryInstanceId('v1-orcha-migtest-', BUILD_ID)).toBe(
      'v1-orcha-migtest-0b6f7c1e-2f1d-4c1e-9a53-6f0e1d2c3b4a',
    );
  });

  test('odd characters, case and length are sanitised to a valid id of ≤ 63 characters', () => {
    const id = temporaryInstanceId('v1-orcha-staging-migtest-', 'Local__Run--#42 by Ünal '.repeat(5));
    expect(id.length).toBeLessThanOrEqual(63);
    expect(isValidInstanceId(id)).toBe(true);
    expect(id.startsWith('v1-orcha-staging-migtest-local-run-42-by-')).toBe(true);
    // Two long ids differing only at the end stay distinct (hash suffix).
    expect(temporaryInstanceId('v1-orcha-migtest-', `${'x'.repeat(80)}a`)).not.toBe(
      temporaryInstanceId('v1-orcha-migtest-', `${'x'.repeat(80)}b`),
    );
  });
});
