import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { EC2Client, DescribeInstancesCommand } from '@aws-sdk/client-ec2';
import {
  ChangeResourceRecordSetsCommand,
  GetHostedZoneCommand,
  ListHostedZonesByNameCommand,
  ListHostedZonesCommand,
  ListResourceRecordSetsCommand,
  Route53Client,
} from '@aws-sdk/client-route-53';
import {
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ListMessageMoveTasksCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { ExitCode } from '../../../scripts/ops/errors';
import type { Command } from 'commander';
import { buildProgram, main, rewriteLegacyDelegateArgs, whichOnPath } from '../../../scripts/ops/program';
import { REGION, awsError, captureOutput, cliDeps, factory, mockedSts } from '../../helpers/ops';
import { PROJECT_ROOT } from '../../../lib/config/project';

const ROOT = PROJECT_ROOT;

/** `delegate-subdomain` for prod's zone Z1 with prod's profile. */
const DELEGATE_PROD = [
  'delegate-subdomain',
  '--env',
  'prod',
  '--hosted-zone-id',
  'Z1',
  '--profile',
  'orcha-prod',
];

/** Clients whose zone Z1 is dev's (a mismatch for prod: the command stops before any change). */
function clientsWithDevZone() {
  const sts = mockedSts();
  const route53 = new Route53Client({ region: REGION });
  mockClient(route53)
    .on(GetHostedZoneCommand)
    .resolves({ HostedZone: { Id: 'Z1', Name: 'dev.getorcha.com.', CallerReference: 'x' } });
  return factory({ sts: () => sts.client, route53: () => route53 });
}

async function cli(args: string[], clients = factory({})) {
  const out = captureOutput();
  const deps = cliDeps(clients, out);
  const code = await main(['node', 'ops', ...args], deps);
  return { code, out, deps };
}

describe('ops CLI', () => {
  test('--help lists every command and the exit codes, offline', async () => {
    const { code, out } = await cli(['--help']);
    expect(code).toBe(ExitCode.Ok);
    for (const command of ['delegate-subdomain', 'update-secrets', 'redrive-dlq', 'session', 'wake']) {
      expect(out.stdout()).toContain(command);
    }
    expect(out.stdout()).toContain('Usage: npm run ops -- [options] [command]');
    expect(out.stdout()).toMatch(/Exit codes:\n\s+0 .*\n\s+1 .*\n\s+2 .*\n\s+3 /);
  });

  test.each([
    [
      'delegate-subdomain',
      [
        '--env <env>',
        '--hosted-zone-id <id>',
        '--management-profile',
        '--management-role-arn',
        '--parent-zone-id',
        '--dry-run',
      ],
    ],
    ['update-secrets', ['--env <env>', '--from-file <file>', '--dry-run', '--profile']],
    ['redrive-dlq', ['--queue <queue>', 'which DLQ: ingest, email-acquire or tenant:<name>', '--dry-run']],
    ['session', ['--repl', '--exec', '--local-port', '--region']],
    ['wake', ['--env <env>', '--role-arn <arn>', '--wait <seconds>', '--hold <hours>', '--allow-missing']],
  ])('%s --help works offline', async (command, options) => {
    const { code, out } = await cli([command, '--help']);
    expect(code).toBe(ExitCode.Ok);
    expect(out.stdout()).toContain(`Usage: npm run ops -- ${command}`);
    for (const option of options) expect(out.stdout()).toContain(option);
    expect(out.stdout()).toContain('Exit codes:');
  });

  test('`help <command>` works too', async () => {
    const { code, out } = await cli(['help', 'session']);
    expect(code).toBe(ExitCode.Ok);
    expect(out.stdout()).toContain('Usage: npm run ops -- session');
  });

  test.each([
    ['no command', [], 'Usage: npm run ops -- [options] [command]'],
    ['an unknown command', ['bogus'], "unknown command 'bogus'"],
    [
      'a missing required option',
      ['update-secrets', '--env', 'prod'],
      "required option '--from-file <file>'",
    ],
    [
      'a missing hosted zone',
      ['delegate-subdomain', '--env', 'prod'],
      "required option '--hosted-zone-id <id>'",
    ],
    [
      'a missing hosted zone (old positional form)',
      ['delegate-subdomain', 'prod'],
      "required option '--hosted-zone-id <id>'",
    ],
    ['a third positional word', ['delegate-subdomain', 'prod', 'Z1', 'extra'], 'too many arguments'],
    [
      'an invalid queue',
      ['redrive-dlq', '--env', 'prod', '--queue', 'x'],
      'must be ingest, email-acquire or tenant:<name>.',
    ],
    [
      'a non-numeric TTL',
      ['delegate-subdomain', '--env', 'prod', '--hosted-zone-id', 'Z1', '--ttl', 'soon'],
      'must be a whole number from 60',
    ],
    ['an unknown option', ['session', '--env', 'prod', '--ssh'], "unknown option '--ssh'"],
    ['a hold beyond a day', ['wake', '--env', 'staging', '--hold', '25'], 'must be a whole number from 0'],
  ])('usage errors exit 2: %s', async (_what, args, message) => {
    const { code, out } = await cli(args);
    expect(code).toBe(ExitCode.Usage);
    expect(out.stderr()).toContain(message);
  });

  test('an unknown environment exits 2 with the configuration message', async () => {
    const { code, out } = await cli(['session', '--env', 'nope']);
    expect(code).toBe(ExitCode.Usage);
    expect(out.stderr()).toBe(
      'Error: Invalid configuration: env = "nope": unknown environment (known: dev, staging, prod)',
    );
  });

  test('missing credentials exit 3 with a hint', async () => {
    const sts = mockedSts();
    sts.mock
      .on(GetCallerIdentityCommand)
      .rejects(awsError('CredentialsProviderError', 'Could not load credentials from any providers'));
    const { code, out } = await cli(['session', '--env', 'prod'], factory({ sts: () => sts.client }));
    expect(code).toBe(ExitCode.Credentials);
    expect(out.stderr()).toContain('Could not load credentials from any providers');
    expect(out.stderr()).toContain('--profile');
  });

  test('an unexpected error exits 1 and is shown', async () => {
    const clients = factory({
      sts: () => {
        throw new RangeError('boom');
      },
    });
    const { code, out } = await cli(['session', '--env', 'prod'], clients);
    expect(code).toBe(ExitCode.Failed);
    expect(out.stderr()).toBe('Unexpected error: RangeError: boom');
  });

  describe('options reach the commands', () => {
    test('session --repl --local-port --profile --region', async () => {
      const sts = mockedSts();
      const ec2 = new EC2Client({ region: REGION });
      mockClient(ec2)
        .on(DescribeInstancesCommand)
        .resolves({ Reservations: [{ Instances: [{ InstanceId: 'i-1' }] }] });
      const clients = factory({ sts: () => sts.client, ec2: () => ec2 });
      const { code, out } = await cli(
        [
          'session',
          '--env',
          'prod',
          '--repl',
          '--local-port',
          '19878',
          '--profile',
          'p1',
          '--region',
          'eu-west-1',
        ],
        clients,
      );
      expect(code).toBe(ExitCode.Ok);
      expect(out.stdout()).toContain('--region eu-west-1 --profile p1');
      expect(out.stdout()).toContain('"localPortNumber":["19878"]');
      expect(clients.targets[0]?.target).toEqual({ region: 'eu-west-1', profile: 'p1' });
    });

    test("wake as the pipeline's Staging-Wake runs it: the role assumed, nothing deployed yet is success", async () => {
      const sts = mockedSts();
      sts.mock
        .on(GetCallerIdentityCommand)
        .rejects(
          awsError('AccessDenied', 'User: x is not authorized to perform: sts:AssumeRole on resource: y'),
        );
      const roleArn = 'arn:aws:iam::111122223333:role/v1-orcha-staging-wake';
      const clients = factory({ sts: () => sts.client });
      const { code, out } = await cli(
        [
          'wake',
          '--env',
          'staging',
          '--wait',
          '2400',
          '--poll',
          '20',
          '--allow-missing',
          '--role-arn',
          roleArn,
        ],
        clients,
      );
      expect(code).toBe(ExitCode.Ok);
      expect(clients.targets[0]?.target).toEqual({ region: 'eu-central-1', roleArn });
      expect(out.stdout()).toContain('staging is not deployed yet');
    });

    test('redrive-dlq --dry-run --queue email-acquire', async () => {
      const sts = mockedSts();
      const sqs = new SQSClient({ region: REGION });
      const sqsMock = mockClient(sqs);
      sqsMock.on(GetQueueUrlCommand).resolves({ QueueUrl: 'https://q' });
      sqsMock.on(GetQueueAttributesCommand).resolves({
        Attributes: {
          QueueArn: 'arn:aws:sqs:eu-central-1:700558745280:q',
          ApproximateNumberOfMessages: '3',
        },
      });
      sqsMock.on(ListMessageMoveTasksCommand).resolves({ Results: [] });
      const { code, out } = await cli(
        ['redrive-dlq', '--env', 'prod', '--queue', 'email-acquire', '--dry-run'],
        factory({ sts: () => sts.client, sqs: () => sqs }),
      );
      expect(code).toBe(ExitCode.Ok);
      expect(sqsMock.commandCalls(GetQueueUrlCommand)[0]?.args[0].input.QueueName).toBe(
        'v1-orcha-global-email-acquire-dlq',
      );
      expect(out.stdout()).toContain('would move ~3 messages');
    });

    test('delegate-subdomain checks the zone with the environment profile', async () => {
      const clients = clientsWithDevZone();
      const { code, out } = await cli([...DELEGATE_PROD, '--ttl', '300', '--dry-run'], clients);
      expect(code).toBe(ExitCode.Usage);
      expect(out.stderr()).toContain(
        'Hosted zone Z1 is dev.getorcha.com., but environment "prod" uses prod.getorcha.com.',
      );
      expect(clients.targets[0]?.target).toEqual({ region: REGION, profile: 'orcha-prod' });
      expect(out.stderr()).not.toContain('Deprecated');
    });
  });

  test('delegate-subdomain --force replaces an NS record with other name servers; without it, exit 2', async () => {
    const sts = mockedSts();
    const route53 = new Route53Client({ region: REGION });
    const r53 = mockClient(route53);
    r53.on(GetHostedZoneCommand).resolves({
      HostedZone: { Id: 'Z1', Name: 'prod.getorcha.com.', CallerReference: 'x' },
      DelegationSet: { NameServers: ['ns-1.awsdns-01.com'] },
    });
    r53.on(ListHostedZonesByNameCommand).resolves({
      HostedZones: [{ Id: '/hostedzone/ZPARENT', Name: 'getorcha.com.', CallerReference: 'p' }],
    });
    r53.on(ListResourceRecordSetsCommand).resolves({
      ResourceRecordSets: [
        {
          Name: 'prod.getorcha.com.',
          Type: 'NS',
          TTL: 60,
          ResourceRecords: [{ Value: 'ns-9.awsdns-09.com.' }],
        },
      ],
    });
    r53.on(ListHostedZonesCommand).resolves({ HostedZones: [] });
    r53.on(ChangeResourceRecordSetsCommand).resolves({
      ChangeInfo: { Id: '/change/C1', Status: 'INSYNC', SubmittedAt: new Date() },
    });
    const clients = factory({ sts: () => sts.client, route53: () => route53 });
    const args = [...DELEGATE_PROD, '--wait', '0'];

    const refused = await cli(args, clients);
    expect(refused.code).toBe(ExitCode.Usage);
    expect(refused.out.stderr()).toContain('Refusing to replace the NS record of prod.getorcha.com.');
    expect(r53.commandCalls(ChangeResourceRecordSetsCommand)).toHaveLength(0);

    const forced = await cli([...args, '--force'], clients);
    expect(forced.code).toBe(ExitCode.Ok);
    expect(r53.commandCalls(ChangeResourceRecordSetsCommand)).toHaveLength(1);
  });

  describe('delegate-subdomain, old positional form', () => {
    const DEPRECATION =
      'Deprecated: "delegate-subdomain <env> <hostedZoneId>"; use "delegate-subdomain --env <env> --hosted-zone-id <id>" (the positional form still works for now).';

    test('still works, with one deprecation line on stderr and the same outcome as --env', async () => {
      const run = async (args: string[]) => {
        const clients = clientsWithDevZone();
        const result = await cli(args, clients);
        return { ...result, target: clients.targets[0]?.target };
      };
      const legacy = await run(['delegate-subdomain', '--profile', 'orcha-prod', 'prod', '--dry-run', 'Z1']);
      const named = await run([...DELEGATE_PROD, '--dry-run']);
      const lines = legacy.out.stderr().split('\n');
      expect(lines.filter((l) => l.startsWith('Deprecated'))).toEqual([DEPRECATION]);
      expect(lines.filter((l) => !l.startsWith('Deprecated')).join('\n')).toBe(named.out.stderr());
      expect(legacy.code).toBe(named.code);
      expect(legacy.target).toEqual({ region: REGION, profile: 'orcha-prod' });
    });

    test.each([
      [
        ['delegate-subdomain', 'prod', 'Z1'],
        ['--env', 'prod', '--hosted-zone-id', 'Z1'],
      ],
      [
        ['delegate-subdomain', '--ttl', '300', 'prod', '--wait=0', 'Z1', '--force'],
        ['--env', 'prod', '--hosted-zone-id', 'Z1', '--ttl', '300', '--wait=0', '--force'],
      ],
      [['delegate-subdomain', '--env', 'prod', '--hosted-zone-id', 'Z1'], undefined],
      [['session', 'prod'], undefined],
    ])('rewrites %j', (args, expected) => {
      const out = captureOutput();
      const program = buildProgram(cliDeps(factory({}), out));
      const argv = ['node', 'ops', ...args];
      const rewritten = rewriteLegacyDelegateArgs(argv, program, out);
      if (expected === undefined) {
        expect(rewritten).toBe(argv);
        expect(out.stderr()).toBe('');
      } else {
        expect(rewritten).toEqual(['node', 'ops', 'delegate-subdomain', ...expected]);
        expect(out.stderr()).toBe(DEPRECATION);
      }
    });
  });

  describe('--help marks required options', () => {
    const leaves = (command: Command, path: string[] = []): [string[], Command][] =>
      command.commands.length === 0
        ? [[path, command]]
        : command.commands.flatMap((c) => leaves(c, [...path, c.name()]));
    const commands = leaves(buildProgram(cliDeps(factory({}), captureOutput())));

    test('every command that acts on an environment requires --env', () => {
      expect(commands.length).toBeGreaterThan(8);
      for (const [path, command] of commands) {
        const env = command.options.find((o) => o.long === '--env');
        expect([path.join(' '), env?.mandatory]).toEqual([path.join(' '), true]);
      }
    });

    test.each(commands.map(([path, command]) => [path.join(' '), path, command] as const))(
      '%s',
      async (_name, path, command) => {
        const { code, out } = await cli([...path, '--help']);
        expect(code).toBe(ExitCode.Ok);
        const lines = out.stdout().split('\n');
        /** The option's entry in the help: its line and the wrapped lines below it. */
        const entry = (flags: string): string => {
          const start = lines.findIndex((l) => l.trimStart().startsWith(`${flags} `));
          expect([flags, start >= 0]).toEqual([flags, true]);
          const rest = lines.slice(start + 1);
          const end = rest.findIndex((l) => l.trim() === '' || /^\s*-/.test(l));
          return [lines[start], ...rest.slice(0, end < 0 ? rest.length : end)].join(' ');
        };
        for (const option of command.options) {
          const marked = entry(option.flags).includes('(required)');
          expect([option.flags, marked]).toEqual([option.flags, Boolean(option.mandatory)]);
        }
      },
    );
  });

  test('whichOnPath finds executables only', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ops-path-'));
    writeFileSync(join(dir, 'session-manager-plugin'), '#!/bin/sh\n');
    chmodSync(join(dir, 'session-manager-plugin'), 0o755);
    writeFileSync(join(dir, 'not-executable'), '');
    chmodSync(join(dir, 'not-executable'), 0o644);
    const path = ['/nonexistent', dir].join(delimiter);
    expect(whichOnPath('session-manager-plugin', path)).toBe(join(dir, 'session-manager-plugin'));
    expect(whichOnPath('not-executable', path)).toBeUndefined();
    expect(whichOnPath('missing', path)).toBeUndefined();
    rmSync(dir, { recursive: true, force: true });
  });

  test('the real entry point: --help exits 0 and an unknown environment exits 2, offline', () => {
    const tsx = join(ROOT, 'node_modules', '.bin', 'tsx');
    const env = { ...process.env, AWS_PROFILE: '', AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '' };
    const help = spawnSync(tsx, ['scripts/ops/cli.ts', '--help'], { cwd: ROOT, encoding: 'utf8', env });
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('update-secrets');
    expect(help.stderr).toBe('');

    const bad = spawnSync(
      tsx,
      ['scripts/ops/cli.ts', 'update-secrets', '--env', 'nope', '--from-file', 'x'],
      {
        cwd: ROOT,
        encoding: 'utf8',
        env,
      },
    );
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('unknown environment');
  });
});
