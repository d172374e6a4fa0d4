/**
 * Reading the CDK's `validation-report.json` (cdk-nag, the CDK's CloudFormation validation,
 * construct annotations) into lines a person can act on: the rule, where, and why.
 */

export interface ValidationViolation {
  readonly ruleName: string;
  readonly description?: string;
  readonly fix?: string;
  readonly severity?: string;
  readonly violatingConstructs: readonly { readonly constructPath: string }[];
}

export interface ValidationPluginReport {
  readonly pluginName: string;
  readonly conclusion: string;
  readonly violations: readonly ValidationViolation[];
}

export interface ValidationReport {
  readonly pluginReports: readonly ValidationPluginReport[];
}

/** Where the README explains how to record availability zones once, with credentials. */
export const CONTEXT_REFRESH_HINT =
  'an account/region without cached lookups: refresh cdk.context.json once with credentials (README, "A new account or region")';

const MAX_DESCRIPTION = 300;

/**
 * The explanation of a violation, shortened. CloudFormation's "'X' is not one of [...]" lists
 * every allowed value (hundreds for engine versions): keep the values that share the rejected
 * value's first component, which are the ones a person meant.
 */
export function explain(description: string | undefined): string {
  if (!description) return '';
  let text = description.replace(/\s+/g, ' ').trim();
  const oneOf = /^(.*?)'([^']*)' is not one of \[(.*)\]$/.exec(text);
  if (oneOf) {
    const [, prefix, value, list] = oneOf;
    const allowed = [...list.matchAll(/'([^']*)'/g)].map((m) => m[1]);
    const head = value.split(/[.\-_:/]/)[0];
    const near = allowed.filter((a) => head !== '' && a.startsWith(head)).slice(0, 12);
    text =
      `${prefix}'${value}' is not one of the ${allowed.length} allowed values` +
      (near.length > 0 ? ` (those starting with ${head}: ${near.join(', ')})` : '');
  }
  if (/credentials have been configured|Need to perform AWS calls/.test(text)) {
    text = `${text} (${CONTEXT_REFRESH_HINT})`;
  }
  return text.length > MAX_DESCRIPTION ? `${text.slice(0, MAX_DESCRIPTION - 1)}…` : text;
}

/** One line per failing violation and construct: `plugin: rule at path: why`. */
export function failureLines(report: ValidationReport): string[] {
  const lines: string[] = [];
  for (const plugin of report.pluginReports) {
    if (plugin.conclusion !== 'failure') continue;
    for (const violation of plugin.violations) {
      const why = explain(violation.description);
      for (const c of violation.violatingConstructs) {
        lines.push(
          `${plugin.pluginName}: ${violation.ruleName} at ${c.constructPath}${why ? `: ${why}` : ''}`,
        );
      }
    }
  }
  return lines;
}

/** Names of the plugins whose conclusion is `failure`. */
export function failedPlugins(report: ValidationReport): string[] {
  return report.pluginReports.filter((r) => r.conclusion === 'failure').map((r) => r.pluginName);
}
