import type { App } from 'aws-cdk-lib';
import { environmentNames, loadEnvironment, loadPipeline } from './config/load';
import { environments as defaultEnvironments, pipeline as defaultPipeline } from './config/environments';
import type { EnvironmentConfig, EnvironmentInput, PipelineInput } from './config/schema';
import { pipelineNames, stageId } from './config/naming';
import { PipelineStack } from './pipeline/pipeline-stack';
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

export { stageId };

/**
 * The one wiring point, used by `bin/` and by the tests. Every configuration is validated
 * before the first construct is created, so a bad value stops synth with nothing written.
 */
export interface BuiltApp {
  /** Every environment's stage, by environment name. */
  readonly stages: Record<string, OrchaStage>;
  /** The infrastructure pipeline; absent when one environment is synthesized on its own. */
  readonly pipeline?: PipelineStack;
}

export function buildApp(app: App, options: BuildAppOptions = {}): BuiltApp {
  const set = options.environments ?? defaultEnvironments;
  const pipelineInput = options.pipeline ?? defaultPipeline;

  const selected = options.envName !== undefined ? [options.envName] : environmentNames(set);
  const configs: EnvironmentConfig[] = selected.map((name) => loadEnvironment(name, set));
  const pipeline = options.envName === undefined ? loadPipeline(pipelineInput, set) : undefined;

  const stages: Record<string, OrchaStage> = {};
  for (const config of configs) {
    const deployedByPipeline = pipeline?.stages.includes(config.name) ?? false;
    stages[config.name] = new OrchaStage(app, stageId(config.name), {
      config,
      pipelineAccount:
        deployedByPipeline && pipeline?.account !== config.account ? pipeline?.account : undefined,
    });
  }
  if (!pipeline) return { stages };

  const pipelineStack = new PipelineStack(app, pipelineNames.stack, {
    stackName: pipelineNames.stack,
    description: 'Orcha: the self-mutating infrastructure pipeline (GitHub master -> staging -> prod)',
    env: { account: pipeline.account, region: pipeline.region },
    pipeline,
    stages: pipeline.stages.map((name) => stages[name]),
  });
  return { stages, pipeline: pipelineStack };
}
