import { App } from 'aws-cdk-lib';
import { checkContextKeys, runApp } from '../../lib/entry';
import { explain, failureLines, type ValidationReport } from '../../lib/validation-report';

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

describe('failed validation: the reason, not only the rule id', () => {
  // The shapes of cdk.out/validation-report.json seen for these two faults.
  const engineVersions = ['9.6.1', '17.9', '18', '18.1', '18.2', '18.3', '18.4', '18.6'];
  const report: ValidationReport = {
    pluginReports: [
      {
        pluginName: 'CloudFormation Validate',
        conclusion: 'failure',
        violations: [
          {
            ruleName: 'E9006',
            description: `EngineVersion: '18.9' is not one of [${engineVersions.map((v) => `'${v}'`).join(', ')}]`,
            violatingConstructs: [{ constructPath: 'Dev/Data/Database/Resource' }],
          },
        ],
      },
      {
        pluginName: 'Construct Annotations',
        conclusion: 'failure',
        violations: [
          {
            ruleName: 'Annotation::error-annotation',
            description:
              'Need to perform AWS calls for account 111111111111, but no credentials have been configured',
            violatingConstructs: [{ constructPath: 'Qa/Foundation' }],
          },
        ],
      },
      { pluginName: 'AwsSolutions', conclusion: 'success', violations: [] },
    ],
  };

  test('an engine version that does not exist names the value and the near allowed ones', () => {
    expect(failureLines(report)[0]).toBe(
      "CloudFormation Validate: E9006 at Dev/Data/Database/Resource: EngineVersion: '18.9' is not one of the 8 allowed values (those starting with 18: 18, 18.1, 18.2, 18.3, 18.4, 18.6)",
    );
  });

  test('an account without cached availability zones says how to record them', () => {
    expect(failureLines(report)[1]).toMatch(
      /^Construct Annotations: Annotation::error-annotation at Qa\/Foundation: Need to perform AWS calls for account 111111111111, but no credentials have been configured \(.*refresh cdk\.context\.json once with credentials/,
    );
  });

  test('only failing plugins are listed; long explanations are cut', () => {
    expect(failureLines(report)).toHaveLength(2);
    expect(explain('x'.repeat(1000))).toHaveLength(300);
  });
});
