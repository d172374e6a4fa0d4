import { App, Stack } from 'aws-cdk-lib';
import type { Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { loadEnvironment } from '../lib/config/load';
import { OrchaStage } from '../lib/stages/orcha-stage';

/** One App holding the named environments' stages, built the way `bin/` builds them. */
export function buildStages<N extends string>(...names: N[]): Record<N, OrchaStage> {
  const app = new App();
  const stages = {} as Record<N, OrchaStage>;
  for (const name of names) {
    stages[name] = new OrchaStage(app, name.charAt(0).toUpperCase() + name.slice(1), {
      config: loadEnvironment(name),
    });
  }
  return stages;
}

/** The CloudFormation logical id of a construct's L1 resource. */
export function logicalId(construct: IConstruct): string {
  const child = construct.node.defaultChild ?? construct;
  return Stack.of(construct).getLogicalId(child as never);
}

/** Every resource of a type, as [logicalId, properties]. */
export function resourcesOf(template: Template, type: string): [string, Record<string, unknown>][] {
  return Object.entries(template.findResources(type)).map(([id, r]) => [
    id,
    (r as { Properties?: Record<string, unknown> }).Properties ?? {},
  ]);
}
