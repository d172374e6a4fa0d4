import { App } from 'aws-cdk-lib';
import { NagPackPlugin } from '../../lib/nag/plugin';
import { stageWithData } from '../helpers/nag';

describe('NagPackPlugin', () => {
  it('report-only returns the same findings as enforce, with success and severity info', () => {
    const app = new App();
    stageWithData(app);
    const context = { appConstruct: app, templatePaths: [], stackTemplates: [] };
    const enforced = new NagPackPlugin('pci', 'enforce').validate(context);
    const reportOnly = new NagPackPlugin('pci', 'report-only').validate(context);
    expect(enforced.success).toBe(false);
    expect(reportOnly.success).toBe(true);
    expect(reportOnly.violations.map((v) => v.ruleName)).toEqual(enforced.violations.map((v) => v.ruleName));
    expect(new Set(reportOnly.violations.map((v) => v.severity))).toEqual(new Set(['info']));
    expect(reportOnly.violations[0].ruleMetadata?.packSeverity).toBe(enforced.violations[0].severity);
  });
});
