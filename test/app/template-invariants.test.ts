import { App } from 'aws-cdk-lib';
import type { CloudFormationStackArtifact } from 'aws-cdk-lib/cx-api';
import { buildApp } from '../../lib/app';

/**
 * Invariants over every template of the whole app (the pipeline stack and every stage's stacks),
 * synthesized once: faults that only CloudFormation or IAM would report at deploy time.
 */
const app = new App();
const built = buildApp(app);
const stacks: CloudFormationStackArtifact[] = app.synth().stacksRecursively;

type Json = unknown;
interface Resource {
  Type: string;
  Properties?: Record<string, Json>;
}
const resourcesOf = (stack: CloudFormationStackArtifact): [string, Resource][] =>
  Object.entries((stack.template as { Resources?: Record<string, Resource> }).Resources ?? {});

/** Every value under `node` (itself included), with the path of keys that leads to it. */
function* walk(node: Json, path: string[] = []): Generator<[Json, string[]]> {
  yield [node, path];
  if (Array.isArray(node)) {
    for (const [i, child] of node.entries()) yield* walk(child, [...path, String(i)]);
  } else if (node !== null && typeof node === 'object') {
    for (const [key, child] of Object.entries(node)) yield* walk(child, [...path, key]);
  }
}

const isIntrinsic = (node: Json, name: string): node is Record<string, Json> =>
  node !== null && typeof node === 'object' && !Array.isArray(node) && name in node;

describe('whole app', () => {
  test('covers the pipeline stack and the four stacks of every environment', () => {
    const stageStacks = Object.values(built.stages).flatMap((s) => [s.foundation, s.data, s.compute, s.ops]);
    expect(stacks.map((s) => s.stackName).sort()).toEqual(
      [built.pipeline!.stackName, ...stageStacks.map((s) => s.stackName)].sort(),
    );
  });
});

describe('cross-stack references CloudFormation accepts', () => {
  // cfn-lint (E1021/E1022) accepts Fn::GetStackOutput inside Fn::Join, Fn::Sub, Fn::If,
  // Fn::Select and Fn::Base64 only: CDK emits Fn::Split over another stack's ARN when a consumer
  // reads a derived attribute (repository.repositoryUri, a target group's load balancer name).
  test('no Fn::GetStackOutput anywhere under Fn::Split', () => {
    const offenders: string[] = [];
    let references = 0;
    for (const stack of stacks) {
      for (const [node, path] of walk(stack.template)) {
        if (isIntrinsic(node, 'Fn::GetStackOutput')) references++;
        if (!isIntrinsic(node, 'Fn::Split')) continue;
        for (const [inner] of walk(node['Fn::Split'])) {
          if (isIntrinsic(inner, 'Fn::GetStackOutput')) {
            offenders.push(`${stack.stackName}: ${path.join('.')} splits ${JSON.stringify(inner)}`);
          }
        }
      }
    }
    // The app does use weak cross-stack references (otherwise this test would prove nothing).
    expect(references).toBeGreaterThan(0);
    expect(offenders).toEqual([]);
  });
});

describe('GitHub connections', () => {
  interface Statement {
    Effect: string;
    Action: string | string[];
    Resource: Json;
  }
  /** Every policy document of a template: managed and inline policies, and roles' inline policies. */
  function policyDocuments(stack: CloudFormationStackArtifact): [string, Statement[]][] {
    const documents: [string, Statement[]][] = [];
    const statements = (doc: Json) => ((doc as { Statement?: Statement[] }).Statement ?? []) as Statement[];
    for (const [id, r] of resourcesOf(stack)) {
      if (r.Type === 'AWS::IAM::Policy' || r.Type === 'AWS::IAM::ManagedPolicy') {
        documents.push([`${stack.stackName}/${id}`, statements(r.Properties?.PolicyDocument)]);
      }
      if (r.Type === 'AWS::IAM::Role') {
        for (const p of (r.Properties?.Policies ?? []) as { PolicyName: string; PolicyDocument: Json }[]) {
          documents.push([`${stack.stackName}/${id}/${p.PolicyName}`, statements(p.PolicyDocument)]);
        }
      }
    }
    return documents;
  }
  const actionsOf = (st: Statement) => (Array.isArray(st.Action) ? st.Action : [st.Action]);
  const resourcesOfStatement = (st: Statement) =>
    (Array.isArray(st.Resource) ? st.Resource : [st.Resource]).map((r) => JSON.stringify(r));
  const grants = (doc: Statement[], action: string): string[] =>
    doc.filter((st) => st.Effect === 'Allow' && actionsOf(st).includes(action)).flatMap(resourcesOfStatement);

  const legacy = 'codestar-connections:UseConnection';
  const current = 'codeconnections:UseConnection';
  const documents = stacks.flatMap((stack) =>
    policyDocuments(stack).map(([where, doc]) => ({ stack, where, doc })),
  );
  const legacyGrants = documents.filter(({ doc }) => grants(doc, legacy).length > 0);

  test('both pipelines grant UseConnection: the infrastructure pipeline and every application pipeline', () => {
    const holders = new Set(legacyGrants.map(({ stack }) => stack.stackName));
    expect(holders).toContain(built.pipeline!.stackName);
    for (const stage of Object.values(built.stages)) expect(holders).toContain(stage.ops.stackName);
  });

  // IAM requires the action's service prefix to match the resource's; AWS::CodeConnections::Connection
  // ARNs are arn:aws:codeconnections:…, and CDK's source action grants only codestar-connections:….
  test('every policy that grants codestar-connections:UseConnection also grants codeconnections:UseConnection on the same connection', () => {
    const missing = legacyGrants
      .filter(({ doc }) => grants(doc, legacy).some((resource) => !grants(doc, current).includes(resource)))
      .map(({ where }) => where);
    expect(missing).toEqual([]);
  });
});
