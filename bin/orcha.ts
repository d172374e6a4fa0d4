#!/usr/bin/env node
import { App } from 'aws-cdk-lib';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { buildApp } from '../lib/app';
import { ConfigError } from '../lib/config/load';
import { extraPacksFromContext, registerNag } from '../lib/nag';

const app = new App();
const envName: unknown = app.node.tryGetContext('env');

try {
  buildApp(app, { envName: typeof envName === 'string' ? envName : undefined });
  registerNag(app, { extraPacks: extraPacksFromContext(app) });
} catch (error) {
  if (error instanceof ConfigError) {
    // One message naming the field and the value; nothing is synthesized.
    console.error(error.message);
    process.exit(1);
  }
  throw error;
}

// The CLI judges validation only for the stacks it selects (by default the top-level
// ones), so a finding inside a stage would not fail a plain `cdk synth`. Judge the whole
// assembly here: any failing validation report fails the synth.
const assembly = app.synth();
const report = JSON.parse(readFileSync(path.join(assembly.directory, 'validation-report.json'), 'utf8')) as {
  pluginReports: {
    pluginName: string;
    conclusion: string;
    violations: { ruleName: string; violatingConstructs: { constructPath: string }[] }[];
  }[];
};
const failed = report.pluginReports.filter((r) => r.conclusion === 'failure');
if (failed.length > 0) {
  for (const r of failed) {
    for (const v of r.violations) {
      for (const c of v.violatingConstructs)
        console.error(`${r.pluginName}: ${v.ruleName} at ${c.constructPath}`);
    }
  }
  console.error(
    `Validation failed: ${failed.map((r) => r.pluginName).join(', ')} (see cdk.out/validation-report.json)`,
  );
  process.exit(1);
}
