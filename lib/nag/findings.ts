import type { PolicyViolation } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';

// Job: the open findings under a scope, for tests (validateScope, not annotations).

/**
 * For tests: the open AwsSolutions findings under `scope`. `validateScope` already leaves out
 * acknowledged findings (cdk-nag 3 checks the acknowledgement metadata on the resource and its
 * ancestors), so an empty list means "compliant or acknowledged". Use this instead of
 * `Annotations.fromStack(...)`, which finds nothing under cdk-nag 3.
 */
export function nagViolations(scope: IConstruct): PolicyViolation[] {
  return new AwsSolutionsChecks(undefined, { verbose: true }).validateScope(scope).violations;
}

/** `nagViolations` flattened to `ruleName @ constructPath` strings, handy for `toEqual`. */
export function nagFindings(scope: IConstruct): string[] {
  return nagViolations(scope)
    .flatMap((v) =>
      v.violatingResources.map((r) => `${v.ruleName} @ ${r.constructPath ?? r.resourceLogicalId ?? '?'}`),
    )
    .sort();
}
