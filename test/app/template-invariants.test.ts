import type { CloudFormationStackArtifact } from 'aws-cdk-lib/cx-api';
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import {
  CODEBUILD_NODEJS_RUNTIME,
  ESBUILD_NODE_TARGET,
  LAMBDA_NODEJS_RUNTIME,
  NODE_MAJOR,
} from '../../lib/config/toolchain';
import { buildWholeApp } from '../helpers';
import { buildSpecsOf, commandsOf, unpinnedToolsOf } from '../helpers/buildspecs';
import { PROJECT_ROOT } from '../../lib/config/project';

/**
 * Invariants over every template of the whole app (the pipeline stack and every stage's stacks),
 * synthesized once: faults that only CloudFormation or IAM would report at deploy time.
 */
const built = buildWholeApp();
const assembly = built.app.synth();
const stacks: CloudFormationStackArtifact[] = assembly.stacksRecursively;

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

// --- Tools the pipeline installs, and the Node.js they run on (issue 9, item 4) ---
const ROOT = PROJECT_ROOT;
const specs = buildSpecsOf(assembly.directory);

describe('every buildspec of the synthesized app', () => {
  test('the app has the buildspecs this checks (pipeline steps, asset publishing, app build, migration test)', () => {
    expect(specs.length).toBeGreaterThanOrEqual(10);
    expect(specs.some((s) => s.where.startsWith('buildspec-'))).toBe(true);
    expect(specs.some((s) => s.where.includes('Ops'))).toBe(true);
  });

  test('installs no tool without an exact version', () => {
    const problems = specs.flatMap((s) => unpinnedToolsOf(s.spec).map((p) => `${s.where}: ${p}`));
    expect(problems).toEqual([]);
  });

  test(`every runtime-versions.nodejs is the version of record (${CODEBUILD_NODEJS_RUNTIME})`, () => {
    const declared = specs.flatMap((s) =>
      Object.values(s.spec.phases ?? {})
        .map((p) => p['runtime-versions']?.nodejs)
        .filter((v) => v !== undefined)
        .map((v) => `${s.where}: ${String(v)}`),
    );
    expect(declared.length).toBeGreaterThan(0);
    expect(declared.filter((d) => !d.endsWith(`: ${CODEBUILD_NODEJS_RUNTIME}`))).toEqual([]);
  });

  test('every buildspec that runs Node.js declares the runtime (never the image default)', () => {
    const usesNode = (c: string) => /(^|[\s;&|(])(node|npm|npx|cdk|cdk-assets)\s/.test(c);
    const undeclared = specs
      .filter((s) => commandsOf(s.spec).some(usesNode))
      .filter(
        (s) => !Object.values(s.spec.phases ?? {}).some((p) => p['runtime-versions']?.nodejs !== undefined),
      )
      .map((s) => s.where);
    expect(undeclared).toEqual([]);
  });
});

describe('Node.js version of record', () => {
  test(`every Node.js Lambda function runs ${LAMBDA_NODEJS_RUNTIME.name}`, () => {
    const runtimes = stacks
      .map((st) => st.templateFullPath)
      .flatMap((file) => {
        const t = JSON.parse(readFileSync(file, 'utf8')) as {
          Resources?: Record<string, { Type: string; Properties?: { Runtime?: unknown } }>;
        };
        return Object.entries(t.Resources ?? {})
          .filter(([, r]) => r.Type === 'AWS::Lambda::Function')
          .map(([id, r]) => `${path.basename(file)}:${id}=${JSON.stringify(r.Properties?.Runtime)}`);
      });
    expect(runtimes.length).toBeGreaterThan(0);
    expect(runtimes.filter((r) => !r.endsWith(`="${LAMBDA_NODEJS_RUNTIME.name}"`))).toEqual([]);
  });

  test('toolchain.ts derives every value from one major', () => {
    expect(LAMBDA_NODEJS_RUNTIME.name).toBe(`nodejs${NODE_MAJOR}.x`);
    expect(CODEBUILD_NODEJS_RUNTIME).toBe(String(NODE_MAJOR));
    expect(ESBUILD_NODE_TARGET).toBe(`node${NODE_MAJOR}`);
  });

  test('.nvmrc names the version of record; package.json engines admits it', () => {
    expect(readFileSync(path.join(ROOT, '.nvmrc'), 'utf8').trim()).toBe(String(NODE_MAJOR));
    const engines = (
      JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { engines: { node: string } }
    ).engines.node;
    // A lower bound only (development machines may run an older LTS), at or below the version of record.
    const match = /^>=(\d+)(\.\d+){0,2}$/.exec(engines);
    expect(match).not.toBeNull();
    expect(Number(match![1])).toBeLessThanOrEqual(NODE_MAJOR);
  });

  test('no esbuild target or CodeBuild runtime elsewhere in lib/ names another Node.js', () => {
    const files = (d: string): string[] =>
      readdirSync(d, { withFileTypes: true }).flatMap((e) =>
        e.isDirectory() ? files(path.join(d, e.name)) : e.name.endsWith('.ts') ? [path.join(d, e.name)] : [],
      );
    const stray = files(path.join(ROOT, 'lib'))
      .filter((f) => !f.endsWith(path.join('config', 'toolchain.ts')))
      .flatMap((f) =>
        readFileSync(f, 'utf8')
          .split('\n')
          .map((line, i) => [line, i + 1] as const)
          .filter(([line]) => /NODEJS_\d+_X|target: '(node\d+)'|nodejs: ['"]?\d+/.test(line))
          .map(([line, n]) => `${path.relative(ROOT, f)}:${n}: ${line.trim()}`),
      );
    expect(stray).toEqual([]);
  });
});

describe('Session Manager: one account-wide setting every environment can use', () => {
  const placeOf = (stack: CloudFormationStackArtifact) =>
    `${stack.environment.account}/${stack.environment.region}`;
  const places = [...new Set(stacks.filter((s) => s.stackName !== built.pipeline!.stackName).map(placeOf))];
  const preferences = stacks.flatMap((stack) =>
    resourcesOf(stack)
      .filter(([, r]) => r.Type === 'Custom::SessionManagerPreferences')
      .map(([, r]) => ({
        stack,
        content: JSON.parse(r.Properties!.Content as string) as { inputs: Record<string, unknown> },
      })),
  );

  test('exactly one stack per account and region holds the preferences; none uses AWS::SSM::Document for them', () => {
    expect(preferences.map((p) => placeOf(p.stack)).sort()).toEqual([...places].sort());
    const documents = stacks.flatMap((stack) =>
      resourcesOf(stack).filter(
        ([, r]) => r.Type === 'AWS::SSM::Document' && r.Properties?.Name === 'SSM-SessionManagerRunShell',
      ),
    );
    expect(documents).toEqual([]);
  });

  test("every environment's instances may stream sessions to the log group the preferences name, which exists", () => {
    for (const { stack, content } of preferences) {
      const group = content.inputs.cloudWatchLogGroupName as string;
      expect(content.inputs.cloudWatchStreamingEnabled).toBe(true);
      const sameAccount = stacks.filter((s) => placeOf(s) === placeOf(stack));
      const groups = sameAccount.flatMap((s) =>
        resourcesOf(s)
          .filter(([, r]) => r.Type === 'AWS::Logs::LogGroup')
          .map(([, r]) => r.Properties?.LogGroupName),
      );
      expect(groups).toContain(group);

      const [account, region] = placeOf(stack).split('/');
      const streams = `arn:aws:logs:${region}:${account}:log-group:${group}:*`;
      for (const stage of Object.values(built.stages).filter(
        (s) => `${s.config.account}/${s.config.region}` === placeOf(stack),
      )) {
        const compute = stacks.find((s) => s.stackName === stage.compute.stackName)!;
        const writes = resourcesOf(compute)
          .filter(([, r]) => r.Type === 'AWS::IAM::Policy')
          .filter(([, r]) => JSON.stringify(r.Properties?.Roles).includes('ServiceRole'))
          .flatMap(
            ([, r]) =>
              (r.Properties!.PolicyDocument as { Statement: { Action: unknown; Resource: unknown }[] })
                .Statement,
          )
          .filter((st) => JSON.stringify(st.Action).includes('logs:PutLogEvents'));
        expect({
          env: stage.config.name,
          allowed: JSON.stringify(writes.map((w) => w.Resource)).includes(JSON.stringify(streams)),
        }).toEqual({
          env: stage.config.name,
          allowed: true,
        });
      }
    }
  });
});
