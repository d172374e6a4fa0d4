import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';

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

/** `{ Ref }` of a construct's L1 resource, as a template of its own stack refers to it. */
export const ref = (construct: IConstruct): { Ref: string } => ({ Ref: logicalId(construct) });

/** Stack-output names a cross-stack reference resolves to (whatever intrinsic carries it). */
export function outputNames(value: unknown): string[] {
  const json = JSON.stringify(value);
  return [...json.matchAll(/"(?:OutputName|Fn::ImportValue)":"([^"]+)"/g)].map((m) => m[1]);
}

/** The name of the producer stack's output whose value is this token's resolution. */
export function exportOf(stack: Stack, token: string): string {
  const resolved = JSON.stringify(stack.resolve(token));
  const template = Template.fromStack(stack).toJSON() as { Outputs?: Record<string, { Value: unknown }> };
  const entry = Object.entries(template.Outputs ?? {}).find(([, o]) => JSON.stringify(o.Value) === resolved);
  if (!entry) throw new Error(`no output of ${stack.stackName} carries ${resolved}`);
  return entry[0];
}

/** The subnets of a VPC's subnet group (`public`, `private`, `build`), as [logicalId, properties]. */
export function subnetsOf(template: Template, group: string): [string, Record<string, unknown>][] {
  return resourcesOf(template, 'AWS::EC2::Subnet').filter(([, p]) =>
    (p.Tags as { Key: string; Value: string }[]).some(
      (tag) => tag.Key === 'aws-cdk:subnet-name' && tag.Value === group,
    ),
  );
}
