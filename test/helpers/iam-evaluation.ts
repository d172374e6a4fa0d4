import { readFileSync } from 'node:fs';
import { projectPath } from '../../lib/config/project';

/**
 * A small evaluator of identity-based IAM policies, for tests that must prove what a role can
 * and cannot do (not only which statements a template contains). It follows AWS's evaluation
 * logic for one principal's identity policies: an explicit Deny that applies wins; otherwise an
 * Allow that applies allows; otherwise the request is implicitly denied. `Action`/`NotAction`
 * match case-insensitively, `Resource`/`NotResource` case-sensitively, with `*` and `?`
 * wildcards. Statements with a `Condition` that would apply make it throw: it does not guess.
 */

export type Decision = 'allow' | 'explicit-deny' | 'implicit-deny';

export interface Statement {
  readonly Sid?: string;
  readonly Effect: 'Allow' | 'Deny';
  readonly Action?: string | string[];
  readonly NotAction?: string | string[];
  readonly Resource?: string | string[];
  readonly NotResource?: string | string[];
  readonly Condition?: unknown;
}

/** Values of the pseudo parameters and the placeholder of any other reference. */
export interface Pseudo {
  readonly partition: string;
  readonly region: string;
  readonly account: string;
}

const list = (value: string | string[] | undefined): string[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value];

function glob(pattern: string, caseInsensitive: boolean): RegExp {
  const body = pattern
    .split('')
    .map((ch) => (ch === '*' ? '.*' : ch === '?' ? '.' : ch.replace(/[.+^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${body}$`, caseInsensitive ? 'i' : '');
}

const matchesAny = (patterns: string[], value: string, caseInsensitive: boolean) =>
  patterns.some((p) => glob(p, caseInsensitive).test(value));

/** Whether the statement applies to the action on the resource (conditions aside). */
export function applies(statement: Statement, action: string, resource: string): boolean {
  const actionOk =
    statement.NotAction !== undefined
      ? !matchesAny(list(statement.NotAction), action, true)
      : matchesAny(list(statement.Action), action, true);
  const resourceOk =
    statement.NotResource !== undefined
      ? !matchesAny(list(statement.NotResource), resource, false)
      : matchesAny(list(statement.Resource), resource, false);
  return actionOk && resourceOk;
}

export function evaluate(statements: readonly Statement[], action: string, resource: string): Decision {
  const applying = statements.filter((s) => applies(s, action, resource));
  const conditional = applying.filter((s) => s.Condition !== undefined);
  if (conditional.length > 0) {
    throw new Error(
      `cannot evaluate ${action} on ${resource}: conditional statement(s) ${JSON.stringify(conditional)}`,
    );
  }
  if (applying.some((s) => s.Effect === 'Deny')) return 'explicit-deny';
  if (applying.some((s) => s.Effect === 'Allow')) return 'allow';
  return 'implicit-deny';
}

/** Resolves the intrinsic functions CDK writes into policies; other references become `<ref:…>`. */
export function resolve(value: unknown, pseudo: Pseudo): string {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object') {
    const [[fn, arg]] = Object.entries(value as Record<string, unknown>);
    if (fn === 'Ref') {
      const ref = arg as string;
      if (ref === 'AWS::Partition') return pseudo.partition;
      if (ref === 'AWS::Region') return pseudo.region;
      if (ref === 'AWS::AccountId') return pseudo.account;
      if (ref === 'AWS::URLSuffix') return 'amazonaws.com';
      return `<ref:${ref}>`;
    }
    if (fn === 'Fn::Join') {
      const [sep, parts] = arg as [string, unknown[]];
      return parts.map((p) => resolve(p, pseudo)).join(sep);
    }
    return `<${fn}:${JSON.stringify(arg)}>`;
  }
  throw new Error(`cannot resolve ${JSON.stringify(value)}`);
}

/** AWS managed policies the tests know, by name (documents from the AWS managed policy reference). */
function awsManagedPolicy(name: string): Statement[] {
  const file = projectPath('test', 'fixtures', 'iam', `${name}.json`);
  try {
    return (JSON.parse(readFileSync(file, 'utf8')) as { Statement: Statement[] }).Statement;
  } catch {
    throw new Error(`no copy of the AWS managed policy ${name} in test/fixtures/iam`);
  }
}

interface Resource {
  Type: string;
  Properties?: Record<string, unknown>;
}

/**
 * Every identity-policy statement of a role in a synthesized template: its inline policies,
 * the AWS::IAM::Policy and customer managed policies attached to it, and the AWS managed
 * policies it names (from test/fixtures/iam; an unknown one throws).
 */
export function roleStatements(
  template: { Resources?: Record<string, Resource> },
  roleLogicalId: string,
  pseudo: Pseudo,
): Statement[] {
  const resources = template.Resources ?? {};
  const role = resources[roleLogicalId];
  if (role?.Type !== 'AWS::IAM::Role') throw new Error(`${roleLogicalId} is not a role`);
  const resolveStatement = (s: Record<string, unknown>): Statement => {
    const out: Record<string, unknown> = { ...s };
    for (const key of ['Resource', 'NotResource'] as const) {
      const v = s[key];
      if (v !== undefined) out[key] = (Array.isArray(v) ? v : [v]).map((x) => resolve(x, pseudo));
    }
    return out as unknown as Statement;
  };
  const fromDocument = (doc: unknown) =>
    list((doc as { Statement: Record<string, unknown>[] }).Statement as never).map((s) =>
      resolveStatement(s as unknown as Record<string, unknown>),
    );

  const statements: Statement[] = [];
  for (const inline of (role.Properties?.Policies ?? []) as { PolicyDocument: unknown }[]) {
    statements.push(...fromDocument(inline.PolicyDocument));
  }
  const attachedToRole = (r: Resource) =>
    ((r.Properties?.Roles ?? []) as unknown[]).some(
      (x) => JSON.stringify(x) === JSON.stringify({ Ref: roleLogicalId }),
    );
  for (const r of Object.values(resources)) {
    if ((r.Type === 'AWS::IAM::Policy' || r.Type === 'AWS::IAM::ManagedPolicy') && attachedToRole(r)) {
      statements.push(...fromDocument(r.Properties?.PolicyDocument));
    }
  }
  for (const arn of (role.Properties?.ManagedPolicyArns ?? []) as unknown[]) {
    const resolved = resolve(arn, pseudo);
    const aws = new RegExp(`^arn:${pseudo.partition}:iam::aws:policy/(.+)$`).exec(resolved);
    if (!aws) throw new Error(`cannot evaluate the managed policy ${resolved}`);
    statements.push(...awsManagedPolicy(aws[1].replace(/^.*\//, '')));
  }
  return statements;
}
