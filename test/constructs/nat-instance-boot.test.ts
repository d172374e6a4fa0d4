import * as fs from 'node:fs';
import * as path from 'node:path';
import { Template } from 'aws-cdk-lib/assertions';
import { inlineShellLibraries } from '../../lib/constructs/app-instance-boot';
import { NAT_BOOT_SCRIPT, renderNatBootScript } from '../../lib/constructs/nat-instance-boot';
import { buildStages } from '../helpers';
import { RecordingStubs } from '../helpers/stubs';

/**
 * The NAT instance of the migration test's build subnets: the template (pinned image, its own
 * boot code, creation policy, Session Manager) and the real boot script run against recording
 * stubs of dnf, sysctl, ip, iptables, systemctl and curl.
 */

interface NatInstance {
  Properties: {
    ImageId: unknown;
    UserData: { 'Fn::Base64': unknown };
    IamInstanceProfile: { Ref: string };
  };
  CreationPolicy?: unknown;
}

let template: Template;
let nat: [string, NatInstance];

beforeAll(() => {
  const { prod } = buildStages('prod');
  template = Template.fromStack(prod.foundation);
  const instances = Object.entries(template.findResources('AWS::EC2::Instance')) as [string, NatInstance][];
  expect(instances).toHaveLength(1);
  nat = instances[0]!;
});

function userData(): string {
  const body = nat[1].Properties.UserData['Fn::Base64'];
  if (typeof body === 'string') return body;
  const parts = (body as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1];
  return parts.map((p) => (typeof p === 'string' ? p : JSON.stringify(p))).join('');
}

describe('NAT instance: template', () => {
  it('runs the pinned image of the environment (no `latest` parameter)', () => {
    expect(nat[1].Properties.ImageId).toEqual({
      'Fn::GetAtt': [expect.stringMatching(/^AmiLookup/), 'Images.0.ImageId'],
    });
    const params = (template.toJSON().Parameters ?? {}) as Record<string, { Type: string }>;
    expect(Object.values(params).filter((p) => p.Type.includes('AWS::EC2::Image::Id'))).toEqual([]);
  });

  it('boots with its own script (not CDK default), signalling its own logical id, and CloudFormation waits for it', () => {
    const ud = userData();
    expect(ud).toContain('retry 5 dnf install -y');
    expect(ud).not.toContain('yum install iptables-services -y');
    expect(ud).not.toMatch(/\broute \|/);
    expect(ud).toContain(`--resource '${nat[0]}'`);
    expect(nat[1].CreationPolicy).toEqual({ ResourceSignal: { Count: 1, Timeout: 'PT15M' } });
  });

  it('is reachable with Session Manager (AmazonSSMManagedInstanceCore on its own role only)', () => {
    const profile = template.findResources('AWS::IAM::InstanceProfile')[
      nat[1].Properties.IamInstanceProfile.Ref
    ] as {
      Properties: { Roles: { Ref: string }[] };
    };
    const role = template.findResources('AWS::IAM::Role')[profile.Properties.Roles[0]!.Ref] as {
      Properties: { ManagedPolicyArns: unknown[] };
    };
    expect(JSON.stringify(role.Properties.ManagedPolicyArns)).toContain(
      ':iam::aws:policy/AmazonSSMManagedInstanceCore',
    );
  });
});

describe('NAT instance: the boot script, run', () => {
  let stubs: RecordingStubs;
  let script: string;

  function run(env: Record<string, string> = {}) {
    stubs.resetState();
    const r = stubs.run(script, [], { env: { ORCHA_ROOT: stubs.root, ...env } });
    return { ...r, calls: stubs.calls() };
  }

  beforeAll(() => {
    stubs = new RecordingStubs('orcha-nat-');
    script = path.join(stubs.root, 'user-data.sh');
    fs.writeFileSync(
      script,
      renderNatBootScript({
        region: 'eu-central-1',
        stackName: 'v1-orcha-foundation',
        signalResource: 'NatInstance1',
      }),
      { mode: 0o755 },
    );
    stubs.add(
      'dnf',
      `n=$(( $(cat "$STUB_STATE/dnf" 2>/dev/null || echo 0) + 1 )); echo $n > "$STUB_STATE/dnf"; (( n > \${DNF_FAILURES:-0} ))`,
    );
    stubs.add('sleep', 'exit 0');
    stubs.add('systemctl', 'exit 0');
    // sysctl -p applies the file it is given; -n reports what was applied.
    stubs.add(
      'sysctl',
      `if [[ "$1" == -p ]]; then sed -n 's/^net.ipv4.ip_forward = //p' "$2" > "$STUB_STATE/forward"; fi
if [[ "$1" == -n ]]; then cat "$STUB_STATE/forward" 2>/dev/null || echo 0; fi`,
    );
    stubs.add('ip', 'echo "default via 10.0.0.1 dev ens5 proto dhcp src 10.0.0.12 metric 512"');
    // iptables keeps its nat rules in a file; -C succeeds once the rule was added (unless NAT_RULE_LOST).
    stubs.add(
      'iptables',
      `rules="$STUB_STATE/nat-rules"
if [[ "$*" == "-t nat -A "* ]]; then echo "\${*:3}" >> "$rules"; fi
if [[ "$*" == "-t nat -C "* ]]; then [[ -z "\${NAT_RULE_LOST:-}" ]] && grep -qxF -- "-A \${*:4}" "$rules" 2>/dev/null; exit; fi`,
    );
    stubs.add(
      'iptables-save',
      `echo '*nat'; sed 's/^/-A /;s/^-A -A/-A/' "$STUB_STATE/nat-rules" 2>/dev/null; echo COMMIT`,
    );
    stubs.add('curl', 'echo "${HTTP_CODE:-404}"');
    stubs.addAt(path.join(stubs.root, 'opt/aws/bin/cfn-signal'), 'exit 0');
  });
  afterAll(() => stubs.dispose());

  it('the template embeds exactly this script', () => {
    expect(userData()).toContain(
      inlineShellLibraries(fs.readFileSync(NAT_BOOT_SCRIPT, 'utf8'), 'nat-boot.sh')
        .split('\n')
        .slice(30, 60)
        .join('\n'),
    );
  });

  it('enables forwarding and masquerading, persists both, checks itself and signals success', () => {
    const r = run({ DNF_FAILURES: '1' });
    expect(r.output).toContain('NAT ready');
    expect(r.status).toBe(0);
    expect(r.calls.filter((c) => c.startsWith('dnf '))).toHaveLength(2);
    expect(fs.readFileSync(path.join(stubs.root, 'etc/sysctl.d/90-orcha-nat.conf'), 'utf8')).toBe(
      'net.ipv4.ip_forward = 1\n',
    );
    expect(r.calls).toEqual(
      expect.arrayContaining([
        'systemctl enable --now iptables',
        'iptables -F FORWARD',
        'iptables -P FORWARD ACCEPT',
        'iptables -t nat -A POSTROUTING -o ens5 -j MASQUERADE',
      ]),
    );
    expect(fs.readFileSync(path.join(stubs.root, 'etc/sysconfig/iptables'), 'utf8')).toContain(
      '-A POSTROUTING -o ens5 -j MASQUERADE',
    );
    expect(r.calls).toContain(
      'cfn-signal --exit-code 0 --stack v1-orcha-foundation --resource NatInstance1 --region eu-central-1',
    );
  });

  it.each([
    ['dnf keeps failing (5 attempts)', { DNF_FAILURES: '99' }, /giving up after 5 attempts: dnf/],
    ['the masquerading rule does not hold', { NAT_RULE_LOST: '1' }, /the MASQUERADE rule is not loaded/],
    ['no way out', { HTTP_CODE: '000' }, /is not reachable/],
  ])('fails loudly when %s: exit status and cfn-signal failure', (_what, env, message) => {
    const r = run(env);
    expect(r.status).not.toBe(0);
    expect(r.output).toMatch(message);
    expect(r.output).toContain('NAT boot FAILED');
    expect(r.calls.find((c) => c.startsWith('cfn-signal'))).toMatch(/^cfn-signal --exit-code [1-9]/);
  });
});
