import { explain, failureLines, type ValidationReport } from '../lib/validation-report';

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
