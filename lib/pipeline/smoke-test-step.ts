import { CodeBuildStep, type IFileSetProducer } from 'aws-cdk-lib/pipelines';
import type { EnvironmentConfig } from '../config/schema';
import { pinnedDevDependency } from '../config/toolchain';

/** `https://app.prod.getorcha.com/health` */
export function healthUrl(config: EnvironmentConfig): string {
  return `https://${config.dns.appRecordName}.${config.dns.zoneName}${config.dns.healthCheckPath}`;
}

/** Attempts of the smoke test and the pause between them. */
export const SMOKE_TEST_ATTEMPTS = 20;
export const SMOKE_TEST_INTERVAL_SECONDS = 15;

/**
 * `<Stage>-SmokeTest`, after a stage: its health URL must answer 2xx within 20 attempts, 15 s
 * apart (codebuild/smoke-test.ts).
 */
export class SmokeTestStep extends CodeBuildStep {
  constructor(stageName: string, config: EnvironmentConfig, input: IFileSetProducer) {
    super(`${stageName}-SmokeTest`, {
      input,
      env: { HEALTH_URL: healthUrl(config) },
      commands: [
        // No `npm ci` for one script: the pinned tsx of package.json runs it.
        `npx --yes tsx@${pinnedDevDependency('tsx')} codebuild/smoke-test.ts "$HEALTH_URL" --attempts ${SMOKE_TEST_ATTEMPTS} --interval-seconds ${SMOKE_TEST_INTERVAL_SECONDS} --timeout-seconds 10`,
      ],
    });
  }
}
