import type { PolicyViolation } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import { listAcknowledgements } from './acknowledge';
import { EvaluationRecorder, PACKS } from './plugin';
import { ENFORCED_PACKS } from './registration';

// Job: the open findings and the unused acknowledgements under a scope, for tests (validateScope,
// not annotations).

/**
 * For tests: the open findings of the enforced packs (AwsSolutions, NIST 800-53 R5) under
 * `scope`. `validateScope` already leaves out acknowledged findings (cdk-nag 3 checks the
 * acknowledgement metadata on the resource and its ancestors), so an empty list means "compliant
 * or acknowledged". Use this instead of `Annotations.fromStack(...)`, which finds nothing under
 * cdk-nag 3.
 */
export function nagViolations(scope: IConstruct): PolicyViolation[] {
  return ENFORCED_PACKS.flatMap(
    (key) => new PACKS[key](new EvaluationRecorder()).validateScope(scope).violations,
  );
}

/** `nagViolations` flattened to `ruleName @ constructPath` strings, handy for `toEqual`. */
export function nagFindings(scope: IConstruct): string[] {
  return nagViolations(scope)
    .flatMap((v) =>
      v.violatingResources.map((r) => `${v.ruleName} @ ${r.constructPath ?? r.resourceLogicalId ?? '?'}`),
    )
    .sort();
}

/**
 * For tests: the acknowledgements made under `scope` (`id @ path`) that no finding of the enforced
 * packs used, i.e. that cover nothing and would hide a future finding. Both packs run over
 * `scope`; an acknowledgement is used when one of them reported a finding with its id on a
 * resource at or below the construct it was made on.
 */
export function unusedAcknowledgements(scope: IConstruct): string[] {
  const used = new Set<string>();
  for (const key of ENFORCED_PACKS) {
    const recorder = new EvaluationRecorder();
    const pack = new PACKS[key](recorder);
    pack.validateScope(scope);
    for (const stack of recorder.toEvaluation(pack.readPackName, 'enforce').stacks) {
      for (const a of stack.acknowledged) used.add(`${a.ruleId} @ ${a.acknowledgedAt}`);
    }
  }
  const prefix = scope.node.path === '' ? '' : `${scope.node.path}/`;
  return listAcknowledgements(scope)
    .filter((a) => prefix === '' || a.path.startsWith(prefix))
    .map((a) => `${a.id} @ ${a.path}`)
    .filter((key) => !used.has(key));
}
