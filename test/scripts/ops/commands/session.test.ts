import { DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import { session, shellQuote, type SessionOptions } from '../../../../scripts/ops/commands/session';
import { ExitCode } from '../../../../scripts/ops/errors';
import { OTHER_ACCOUNT, REGION, awsError, captureOutput, factory, mockedSts } from '../../../helpers/ops';

function setup(opts: { account?: string; onPath?: string[]; exitCode?: number } = {}) {
  const sts = mockedSts(opts.account);
  const ec2 = new EC2Client({ region: REGION });
  const ec2Mock = mockClient(ec2);
  ec2Mock.on(DescribeInstancesCommand).resolves({
    Reservations: [{ Instances: [{ InstanceId: 'i-0abc', LaunchTime: new Date('2026-01-02T03:04:05Z') }] }],
  });
  const clients = factory({ sts: () => sts.client, ec2: () => ec2 });
  const out = captureOutput();
  const runs: { command: string; args: string[] }[] = [];
  const onPath = opts.onPath ?? [];
  const deps = {
    clients,
    out,
    which: (program: string) => (onPath.includes(program) ? `/usr/local/bin/${program}` : undefined),
    run: async (command: string, args: string[]) => {
      runs.push({ command, args });
      return opts.exitCode ?? 0;
    },
  };
  const run = (extra: Partial<SessionOptions> = {}) =>
    session({ env: 'prod', profile: 'orcha-prod', ...extra }, deps);
  return { sts, ec2Mock, out, runs, run };
}

const REPL_PARAMETERS = '{"localPortNumber":["9878"]}';

describe('session', () => {
  test('finds the running v1-orcha-app instance and prints the start-session command', async () => {
    const { ec2Mock, out, runs, run } = setup();
    const result = await run();
    expect(ec2Mock.commandCalls(DescribeInstancesCommand)[0]?.args[0].input).toEqual({
      Filters: [
        { Name: 'tag:Name', Values: ['v1-orcha-app'] },
        { Name: 'instance-state-name', Values: ['running'] },
      ],
      NextToken: undefined,
    });
    expect(result.instanceId).toBe('i-0abc');
    expect(out.stdout()).toBe(
      'aws ssm start-session --target i-0abc --region eu-central-1 --profile orcha-prod',
    );
    expect(runs).toHaveLength(0);
  });

  test('--repl prints port forwarding to the REPL port 9878', async () => {
    const { out, run } = setup();
    await run({ repl: true });
    expect(out.stdout()).toBe(
      'aws ssm start-session --target i-0abc --region eu-central-1 --profile orcha-prod ' +
        `--document-name v1-orcha-repl-port-forwarding --parameters '${REPL_PARAMETERS}'`,
    );
    expect(out.stderr()).toContain('localhost:9878');
  });

  test('--repl with --local-port and without a profile', async () => {
    const { out, run } = setup();
    const result = await run({ repl: true, localPort: 19878, profile: undefined });
    expect(result.command).toEqual([
      'aws',
      'ssm',
      'start-session',
      '--target',
      'i-0abc',
      '--region',
      'eu-central-1',
      '--document-name',
      'v1-orcha-repl-port-forwarding',
      '--parameters',
      '{"localPortNumber":["19878"]}',
    ]);
    expect(out.stderr()).toContain('localhost:19878');
  });

  test('staging looks for v1-orcha-staging-app', async () => {
    const { ec2Mock, run } = setup();
    await run({ env: 'staging' });
    expect(ec2Mock.commandCalls(DescribeInstancesCommand)[0]?.args[0].input.Filters?.[0]).toEqual({
      Name: 'tag:Name',
      Values: ['v1-orcha-staging-app'],
    });
  });

  test('several instances (over pages): the newest is used unless --instance-id says otherwise', async () => {
    const { ec2Mock, out, run } = setup();
    ec2Mock.on(DescribeInstancesCommand).callsFake((input: { NextToken?: string }) =>
      input.NextToken === 'page-2'
        ? {
            Reservations: [
              { Instances: [{ InstanceId: 'i-new', LaunchTime: new Date('2026-02-01T00:00:00Z') }] },
            ],
          }
        : {
            Reservations: [
              { Instances: [{ InstanceId: 'i-old', LaunchTime: new Date('2026-01-01T00:00:00Z') }] },
            ],
            NextToken: 'page-2',
          },
    );
    await expect(run()).resolves.toMatchObject({ instanceId: 'i-new' });
    expect(ec2Mock.commandCalls(DescribeInstancesCommand)[1]?.args[0].input.NextToken).toBe('page-2');
    expect(out.stderr()).toContain('2 running v1-orcha-app instances: i-new, i-old; using the newest, i-new');

    await expect(run({ instanceId: 'i-old' })).resolves.toMatchObject({ instanceId: 'i-old' });
    await expect(run({ instanceId: 'i-gone' })).rejects.toMatchObject({
      exitCode: ExitCode.Usage,
      message: expect.stringContaining('i-gone is not a running v1-orcha-app instance'),
    });
  });

  test('no running instance: exit 1 naming the tag and the Auto Scaling group', async () => {
    const { ec2Mock, run } = setup();
    ec2Mock.on(DescribeInstancesCommand).resolves({ Reservations: [] });
    await expect(run()).rejects.toMatchObject({
      exitCode: ExitCode.Failed,
      message: expect.stringMatching(/No running instance tagged Name=v1-orcha-app .*v1-orcha-asg/),
    });
  });

  test('--exec runs the command when session-manager-plugin and aws are on PATH', async () => {
    const { runs, run } = setup({ onPath: ['session-manager-plugin', 'aws'] });
    await expect(run({ exec: true, repl: true })).resolves.toMatchObject({ exitCode: 0 });
    expect(runs).toEqual([
      {
        command: 'aws',
        args: [
          'ssm',
          'start-session',
          '--target',
          'i-0abc',
          '--region',
          'eu-central-1',
          '--profile',
          'orcha-prod',
          '--document-name',
          'v1-orcha-repl-port-forwarding',
          '--parameters',
          REPL_PARAMETERS,
        ],
      },
    ]);
  });

  test('--exec without session-manager-plugin: exit 2, prints the command to run by hand, runs nothing', async () => {
    const { runs, run } = setup({ onPath: ['aws'] });
    await expect(run({ exec: true })).rejects.toMatchObject({
      exitCode: ExitCode.Usage,
      message: expect.stringMatching(
        /session-manager-plugin is not on PATH.*\n {2}aws ssm start-session --target i-0abc/s,
      ),
    });
    expect(runs).toHaveLength(0);
  });

  test('--exec: a session ending with a non-zero status exits 1', async () => {
    const { run } = setup({ onPath: ['session-manager-plugin', 'aws'], exitCode: 255 });
    await expect(run({ exec: true })).rejects.toMatchObject({
      exitCode: ExitCode.Failed,
      message: 'The session command exited with status 255',
    });
  });

  test('wrong account: exit 3 before looking for instances', async () => {
    const { ec2Mock, run } = setup({ account: OTHER_ACCOUNT });
    await expect(run()).rejects.toMatchObject({ exitCode: ExitCode.Credentials });
    expect(ec2Mock.calls()).toHaveLength(0);
  });

  test('no permission to describe instances: exit 1 with a hint', async () => {
    const { ec2Mock, run } = setup();
    ec2Mock
      .on(DescribeInstancesCommand)
      .rejects(awsError('UnauthorizedOperation', 'You are not authorized to perform this operation.'));
    await expect(run()).rejects.toMatchObject({
      exitCode: ExitCode.Failed,
      message: expect.stringContaining('(the credentials lack this permission)'),
    });
  });

  test('bad input: unknown environment and an invalid local port', async () => {
    const { sts, run } = setup();
    await expect(run({ env: 'unknown' })).rejects.toMatchObject({ exitCode: ExitCode.Usage });
    await expect(run({ repl: true, localPort: 70000 })).rejects.toMatchObject({ exitCode: ExitCode.Usage });
    expect(sts.mock.calls()).toHaveLength(0);
  });

  test('shellQuote quotes only what needs quoting', () => {
    expect(shellQuote('i-0abc')).toBe('i-0abc');
    expect(shellQuote('{"a":["1"]}')).toBe(`'{"a":["1"]}'`);
    expect(shellQuote("it's")).toBe(`'it'\\''s'`);
  });
});
