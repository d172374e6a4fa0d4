import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { buildApp, type BuiltApp } from '../../lib/app';
import { environments as committedEnvironments } from '../../lib/config/environments';
import type { EnvironmentInput } from '../../lib/config/schema';
import type { OrchaStage } from '../../lib/stages/orcha-stage';
import { ref } from './template';

/*
 * One synthesized app per test file. Jest gives every test file its own module registry, so the
 * App below is shared by the tests of one file and never by two files; a stage synthesizes once
 * (`Template.fromStack` on any of its stacks synthesizes the whole stage, then reuses it).
 */

let stagesApp: App | undefined;
const stages: Record<string, OrchaStage> = {};

/**
 * The named environments' stages, each built by `buildApp` (lib/app.ts) exactly as
 * `cdk synth -c env=<name>` builds it, in one App per test file: a second call in the same file
 * returns the same stages.
 */
export function buildStages<N extends string>(...names: N[]): Record<N, OrchaStage> {
  stagesApp ??= new App();
  for (const name of names) stages[name] ??= buildApp(stagesApp, { envName: name }).stages[name]!;
  return Object.fromEntries(names.map((name) => [name, stages[name]])) as Record<N, OrchaStage>;
}

/**
 * The named environments' stages built by `buildApp` from a test's variant of the environments
 * (lib/config/environments.ts with some values changed), in an App of their own.
 */
export function buildStagesFrom<N extends string>(
  environments: Record<string, EnvironmentInput>,
  ...names: N[]
): Record<N, OrchaStage> {
  const app = new App();
  return Object.fromEntries(
    names.map((name) => [name, buildApp(app, { envName: name, environments }).stages[name]!]),
  ) as Record<N, OrchaStage>;
}

/** A change to an environment's input, e.g. turning an option on. */
export type Variant = (input: EnvironmentInput) => EnvironmentInput;

/**
 * One committed environment with a variant applied, next to the other committed environments
 * (the rules across environments still apply), built by {@link buildStagesFrom} in an App of its own.
 */
export function buildVariant(name: string, variant: Variant = (input) => input): OrchaStage {
  const base = committedEnvironments[name];
  if (!base) throw new Error(`no environment ${name}`);
  return buildStagesFrom({ ...committedEnvironments, [name]: variant(structuredClone(base)) }, name)[name];
}

let whole: (BuiltApp & { app: App }) | undefined;

/**
 * The whole app as `cdk synth` builds it: the infrastructure pipeline with the stages it deploys
 * and every other environment on its own. Built once per test file.
 */
export function buildWholeApp(): BuiltApp & { app: App } {
  if (!whole) {
    const app = new App();
    whole = { app, ...buildApp(app) };
  }
  return whole;
}

/**
 * prod's and staging's stages (one App, {@link buildStages}) with the templates of their Ops
 * stacks and `{ Ref }` of prod's alerts topic: what the tests of the Ops stack's constructs share.
 */
export function prodAndStagingOps() {
  const { prod, staging } = buildStages('prod', 'staging');
  return {
    prod,
    staging,
    prodTemplate: Template.fromStack(prod.ops),
    stagingTemplate: Template.fromStack(staging.ops),
    /** `{ Ref }` of the alerts topic, in its own stack. */
    topic: () => ref(prod.ops.alertsTopic),
  };
}
