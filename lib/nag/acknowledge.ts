import { Aspects, Stack, Stage, Validations } from 'aws-cdk-lib';
import { WriteNagSuppressionsToCloudFormationAspect } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { validateAcknowledgementId, validateAcknowledgementReason } from './acknowledgement-rules';

// Job: record acknowledgements on constructs and in the templates, and list them.

/** One acknowledgement made through {@link acknowledge}. */
export interface AcknowledgementRecord {
  /** The finding, e.g. `AwsSolutions-IAM5[Action::s3:*]`. */
  readonly id: string;
  readonly reason: string;
  /** Construct path of the scope the acknowledgement was made on; it covers that subtree. */
  readonly path: string;
  /** Construct path of the enclosing stack. */
  readonly stackPath: string;
}

const stagesWithAuditAspect = new WeakSet<Stage>();
const acknowledgements = new WeakMap<IConstruct, AcknowledgementRecord[]>();

/**
 * Writes acknowledgements into the template Metadata (`cdk_nag.rules_to_suppress`) of every
 * CfnResource they cover. An Aspect added on the App does not reach into Stages (the CDK
 * synthesizes nested stages, aspects included, before it runs the App's aspects), so the
 * aspect is added to each Stage on its own.
 */
export function ensureAuditAspect(stage: Stage): void {
  if (stagesWithAuditAspect.has(stage)) return;
  stagesWithAuditAspect.add(stage);
  Aspects.of(stage).add(new WriteNagSuppressionsToCloudFormationAspect());
}

/**
 * The one way the project acknowledges a cdk-nag finding. Validates the id (one rule;
 * IAM4/IAM5 with their finding in brackets) and the reason (at least `MIN_REASON_LENGTH`
 * characters, with substance: ./acknowledgement-rules.ts), then records it with `Validations.of(scope).acknowledge()`,
 * which cdk-nag honours for `scope` and everything below it.
 *
 * `scope` must be a construct inside a Stack: the resource, or the construct that owns the
 * few resources the finding is about. A Stack, a Stage or the App is refused, because an
 * acknowledgement there would cover every resource below it, present and future (one
 * finding, one resource).
 */
export function acknowledge(scope: IConstruct, id: string, reason: string): void {
  validateAcknowledgementId(id);
  validateAcknowledgementReason(id, reason);
  if (Stack.isStack(scope)) {
    throw new Error(
      `acknowledge(${id}) on the stack ${scope.node.path} would cover every resource in it: acknowledge on the resource (or the construct that owns it)`,
    );
  }
  if (Stage.isStage(scope) || !scope.node.scopes.some((s) => Stack.isStack(s))) {
    throw new Error(
      `acknowledge(${id}) must be called on a construct inside a Stack, not on ${scope.node.path || 'the App'}`,
    );
  }
  const root = scope.node.root;
  const list = acknowledgements.get(root) ?? [];
  if (list.some((a) => a.id === id && a.path === scope.node.path)) {
    throw new Error(`${id} is already acknowledged on ${scope.node.path}`);
  }
  const stack = Stack.of(scope);
  Validations.of(scope).acknowledge({ id, reason });
  list.push({ id, reason: reason.trim(), path: scope.node.path, stackPath: stack.node.path });
  acknowledgements.set(root, list);
  const stage = Stage.of(stack);
  if (stage) ensureAuditAspect(stage);
}

/** The acknowledgements made with {@link acknowledge} in the tree of `scope` (usually the App). */
export function listAcknowledgements(scope: IConstruct): AcknowledgementRecord[] {
  return [...(acknowledgements.get(scope.node.root) ?? [])];
}

/**
 * Acknowledges NIST 800-53 R5 IAMNoInlinePolicy on one role (or one policy) whose permissions are
 * the statements its construct and CDK grants write into its own default policy. One call per
 * role, with `who` saying whose role it is and what it may do, so that the reason names this
 * role, not roles in general.
 */
export function acknowledgeInlinePolicy(scope: IConstruct, who: string): void {
  acknowledge(
    scope,
    'NIST.800.53.R5-IAMNoInlinePolicy',
    `${who}. Its statements are written by its construct and by CDK grants into the role's own inline policy, which is created, changed and deleted with that role and cannot be attached to another principal (a customer managed policy would hold the same statements in a resource that could be); each statement is checked by the AwsSolutions IAM rules.`,
  );
}

/**
 * Acknowledges the three NIST 800-53 R5 Lambda findings (reserved concurrency, dead-letter queue,
 * VPC) on a custom-resource provider function: CloudFormation invokes it synchronously, a few
 * times a year, and it calls only public endpoints. `what` names the function and `apis` the
 * endpoints it calls, so that each reason is about this function.
 */
export function acknowledgeProviderFunction(fn: IConstruct, what: string, apis: string): void {
  acknowledge(
    fn,
    'NIST.800.53.R5-LambdaConcurrency',
    `${what} runs only when CloudFormation creates, updates or deletes its custom resource (a few times a year, one invocation at a time), so reserved concurrency would bound nothing and would take from the account's unreserved pool.`,
  );
  acknowledge(
    fn,
    'NIST.800.53.R5-LambdaDLQ',
    `${what} is invoked synchronously by CloudFormation as a custom-resource provider: a failure fails the stack deployment, which rolls back and shows the error, so a dead-letter queue would never receive an event.`,
  );
  acknowledge(
    fn,
    'NIST.800.53.R5-LambdaInsideVPC',
    `${what} calls only public endpoints (${apis}) and reads no data inside the VPC; in the VPC it would need a NAT or an interface endpoint per service (about $8/month per AZ each) to reach them.`,
  );
}
