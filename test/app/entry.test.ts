import { App } from 'aws-cdk-lib';
import { checkContextKeys, runApp } from '../../lib/entry';

/** What `bin/orcha.ts` runs, with its error lines captured. */
function run(context: Record<string, unknown>): { code: number; lines: string[] } {
  const lines: string[] = [];
  const code = runApp(new App({ context }), { error: (l) => lines.push(l) });
  return { code, lines };
}

describe('user mistakes on the command line: one line, no stack trace, nothing synthesized', () => {
  test('a misspelled context key is reported with the key it probably meant', () => {
    const { code, lines } = run({ enviroment: 'dev' });
    expect(code).toBe(1);
    expect(lines).toEqual([
      "Unknown context key: -c enviroment=dev (did you mean 'env'?); this app reads env, compliancePacks",
    ]);
  });

  test('a key within a small edit distance is suggested too', () => {
    expect(() => checkContextKeys({ compliancePack: 'nist' })).toThrow("did you mean 'compliancePacks'?");
  });

  test("the CDK's own keys (feature flags, lookups, CLI settings) and the app's keys are accepted", () => {
    expect(() =>
      checkContextKeys({
        '@aws-cdk/core:explicitStackTags': true,
        'availability-zones:account=1:region=eu-central-1': ['a'],
        'aws:cdk:enable-path-metadata': true,
        env: 'dev',
        compliancePacks: 'nist',
      }),
    ).not.toThrow();
  });

  test('an unknown compliance pack', () => {
    const { code, lines } = run({ env: 'dev', compliancePacks: 'nist,foo' });
    expect(code).toBe(1);
    expect(lines).toEqual([
      "Unknown compliance pack 'foo' in -c compliancePacks=nist,foo: use nist, hipaa, pci or all",
    ]);
  });

  test('an unknown environment', () => {
    const { code, lines } = run({ env: 'qa' });
    expect(code).toBe(1);
    expect(lines).toEqual([
      'Invalid configuration: env = "qa": unknown environment (known: dev, staging, prod)',
    ]);
  });
});
