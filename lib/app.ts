import type { App } from 'aws-cdk-lib';
import { environmentNames, loadEnvironment, loadPipeline } from './config/load';
import { environments as defaultEnvironments, pipeline as defaultPipeline } from './config/environments';
import type { EnvironmentConfig, EnvironmentInput, PipelineInput } from './config/schema';
import { OrchaStage } from './stages/orcha-stage';

export interface BuildAppOptions {
  /**
   * Synthesize only this environment's stage, deployable directly (`-c env=dev`).
   * @default - the pipeline (with its stages) and every environment it does not deploy
   */
  readonly envName?: string;
  /** @default - lib/config/environments.ts */
  readonly environments?: Record<string, EnvironmentInput>;
  /** @default - lib/config/environments.ts */
  readonly pipeline?: PipelineInput;
}

/** Stage construct id of an environment: `Dev`, `Staging`, `Prod`. */
export function stageId(envName: string): string {
  return envName.charAt(0).toUpperCase() + envName.slice(1);
}

/**
 * The one wiring point, used by `bin/` and by the tests. Every configuration is validated
 * before the first construct is created, so a bad value stops synth with nothing written.
 */
export function buildApp(app: App, options: BuildAppOptions = {}): { stages: Record<string, OrchaStage> } {
  const set = options.environments ?? defaultEnvironments;
  const pipelineInput = options.pipeline ?? defaultPipeline;

  const selected = options.envName !== undefined ? [options.envName] : environmentNames(set);
  const configs: EnvironmentConfig[] = selected.map((name) => loadEnvironment(name, set));
  const pipeline = options.envName === undefined ? loadPipeline(pipelineInput, set) : undefined;

  const stages: Record<string, OrchaStage> = {};
  for (const config of configs) {
    if (pipeline?.stages.includes(config.name)) continue;
    stages[config.name] = new OrchaStage(app, stageId(config.name), { config });
  }
  return { stages };
}
