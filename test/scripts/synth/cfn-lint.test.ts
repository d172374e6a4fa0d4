import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { environments, pipeline } from '../../../lib/config/environments';
import { CFN_LINT_VERSION } from '../../../lib/config/toolchain';
import {
  CFN_LINT_CONFIG,
  cfnLintProblem,
  configuredRegions,
  countFindings,
  findingLines,
  installedCfnLintVersion,
  runCfnLint,
} from '../../../scripts/synth/cfn-lint';
import { PROJECT_ROOT as ROOT } from '../../../lib/config/project';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'orcha-synth-test-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('cfn-lint regions come from the configuration', () => {
  test('today: every environment and the pipeline are in eu-central-1', () => {
    expect(configuredRegions()).toEqual(['eu-central-1']);
  });

  test('an environment in another region adds it, once, sorted', () => {
    const set = { ...environments, dr: { ...environments.prod, region: 'eu-west-1' } };
    expect(configuredRegions(set, { ...pipeline, region: 'us-east-1' })).toEqual([
      'eu-central-1',
      'eu-west-1',
      'us-east-1',
    ]);
  });
});

describe('running cfn-lint (recording stub on the PATH)', () => {
  function stub(findings: unknown[], status: number): { command: string; log: string } {
    const log = path.join(dir, `args-${status}.txt`);
    const command = path.join(dir, `cfn-lint-${status}`);
    writeFileSync(
      command,
      `#!/bin/sh
if [ "$1" = "--version" ]; then echo "cfn-lint ${CFN_LINT_VERSION}"; exit 0; fi
printf '%s\\n' "$@" > '${log}'
cat <<'JSON'
${JSON.stringify(findings)}
JSON
exit ${status}
`,
    );
    chmodSync(command, 0o755);
    return { command, log };
  }
  const finding = {
    Level: 'Error',
    Rule: { Id: 'E1022' },
    Filename: '/x/cdk.out/assembly-Dev/DevOps.template.json',
    Location: { Start: { LineNumber: 262 }, Path: ['Resources', 'AlarmsAlbUnhealthy', 'Properties'] },
    Message: "{'Fn::GetStackOutput': {...}} is not of type\n 'string'",
  };

  test('passes the project config, every region and exactly the given templates', () => {
    const { command, log } = stub([], 0);
    const result = runCfnLint(
      ['/x/a.template.json', '/x/b.template.json'],
      ['eu-central-1', 'us-east-1'],
      command,
    );
    expect(readFileSync(log, 'utf8').trim().split('\n')).toEqual([
      '--config-file',
      CFN_LINT_CONFIG,
      '--format',
      'json',
      '--regions',
      'eu-central-1',
      'us-east-1',
      '--',
      '/x/a.template.json',
      '/x/b.template.json',
    ]);
    expect(result).toMatchObject({ version: CFN_LINT_VERSION, templates: 2, findings: [] });
    expect(countFindings(result.findings)).toBe('0 errors, 0 warnings');
  });

  test('findings are read from its JSON, one line each with file, line, rule and resource', () => {
    const { command } = stub([finding, { ...finding, Level: 'Warning', Rule: { Id: 'W1001' } }], 6);
    const result = runCfnLint(['/x/cdk.out/assembly-Dev/DevOps.template.json'], ['eu-central-1'], command);
    expect(countFindings(result.findings)).toBe('1 error, 1 warning');
    expect(findingLines(result.findings)[0]).toBe(
      `${path.relative(process.cwd(), '/x/cdk.out/assembly-Dev/DevOps.template.json')}:262 E1022 Resources/AlarmsAlbUnhealthy: {'Fn::GetStackOutput': {...}} is not of type 'string'`,
    );
  });

  test('cfn-lint failing to run (exit bit 1) is an error, not "0 findings"', () => {
    const { command } = stub([], 1);
    expect(() => runCfnLint(['/x/a.template.json'], ['eu-central-1'], command)).toThrow(
      /cfn-lint failed to run/,
    );
  });

  test('missing or another version: one line saying what to install', () => {
    expect(installedCfnLintVersion(path.join(dir, 'no-such-cfn-lint'))).toBeUndefined();
    expect(cfnLintProblem(undefined)).toBe(
      `cfn-lint is not on the PATH: pip install cfn-lint==${CFN_LINT_VERSION}`,
    );
    expect(cfnLintProblem('1.2.3')).toBe(
      `cfn-lint 1.2.3 is installed, the project pins ${CFN_LINT_VERSION}: pip install cfn-lint==${CFN_LINT_VERSION}`,
    );
    expect(cfnLintProblem(CFN_LINT_VERSION)).toBeUndefined();
  });
});

describe('.cfnlintrc', () => {
  const rc = readFileSync(path.join(ROOT, '.cfnlintrc'), 'utf8');

  test('ignores exactly W3005, with its reason right above it; never an error rule', () => {
    const lines = rc.split('\n');
    const ignored = lines.filter((l) => /^\s+-\s+\w/.test(l)).map((l) => l.trim().slice(2));
    expect(ignored).toEqual(['W3005']);
    const at = lines.findIndex((l) => l.trim() === '- W3005');
    expect(lines[at - 1]).toMatch(/^\s*#/);
    expect(rc).toMatch(/^ignore_checks:$/m);
    expect(ignored.filter((id) => id.startsWith('E'))).toEqual([]);
  });

  test('the listener Tags schema patch adds exactly that property, validated like the load balancer tags', () => {
    const patch = JSON.parse(readFileSync(path.join(ROOT, 'cfnlint', 'schema-patches.json'), 'utf8')) as {
      Patches: Record<string, { op: string; path: string }[]>;
    };
    expect(Object.keys(patch.Patches)).toEqual(['AWS::ElasticLoadBalancingV2::Listener']);
    expect(patch.Patches['AWS::ElasticLoadBalancingV2::Listener'].map((p) => `${p.op} ${p.path}`)).toEqual([
      'add /definitions/Tag',
      'add /properties/Tags',
    ]);
    expect(rc).toMatch(/^override_spec: cfnlint\/schema-patches\.json$/m);
  });

  // The real linter (on the PATH here and on CI; `npm run ci` requires it).
  const real = installedCfnLintVersion() === CFN_LINT_VERSION ? test : test.skip;
  real('with the real cfn-lint: a tagged listener passes, a misspelt tag field is still an error', () => {
    const listener = (tag: Record<string, string>) => ({
      Resources: {
        Listener: {
          Type: 'AWS::ElasticLoadBalancingV2::Listener',
          Properties: {
            LoadBalancerArn: 'arn:aws:elasticloadbalancing:eu-central-1:111111111111:loadbalancer/app/x/1',
            DefaultActions: [
              {
                Type: 'forward',
                TargetGroupArn: 'arn:aws:elasticloadbalancing:eu-central-1:111111111111:targetgroup/x/1',
              },
            ],
            Port: 80,
            Protocol: 'HTTP',
            Tags: [tag],
          },
        },
      },
    });
    const good = path.join(dir, 'good.template.json');
    const bad = path.join(dir, 'bad.template.json');
    writeFileSync(good, JSON.stringify(listener({ Key: 'Environment', Value: 'dev' })));
    writeFileSync(bad, JSON.stringify(listener({ Key: 'Environment', Valu: 'dev' })));
    // One run for both (each cfn-lint start costs seconds): findings name their file.
    const { findings } = runCfnLint([good, bad], ['eu-central-1']);
    expect(findings.filter((f) => path.resolve(f.file) === good)).toEqual([]);
    expect(
      findings
        .filter((f) => path.resolve(f.file) === bad)
        .map((f) => f.rule)
        .sort(),
    ).toEqual(['E3002', 'E3003']);
    expect(findings).toHaveLength(2);
  });
});
