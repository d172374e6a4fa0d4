import {
  CloudFormationClient,
  DescribeStacksCommand,
  UpdateTerminationProtectionCommand,
} from '@aws-sdk/client-cloudformation';
import { mockClient } from 'aws-sdk-client-mock';
import {
  clientFor,
  enforceTerminationProtection,
  main,
  parseArgs,
  type Arguments,
} from '../../codebuild/termination-protection';

const cfn = mockClient(CloudFormationClient);
const client = () => new CloudFormationClient({ region: 'eu-central-1' });
const STACKS = ['v1-orcha-foundation', 'v1-orcha-data', 'v1-orcha-compute', 'v1-orcha-ops'];

/** A fake account: stack name → termination protection; UpdateTerminationProtection flips it. */
function account(state: Record<string, boolean>, failUpdateOf: string[] = []) {
  cfn.on(DescribeStacksCommand).callsFake((input: { StackName: string }) => {
    if (!(input.StackName in state)) {
      throw Object.assign(new Error(`Stack with id ${input.StackName} does not exist`), {
        name: 'ValidationError',
      });
    }
    return {
      Stacks: [
        {
          StackName: input.StackName,
          StackStatus: 'UPDATE_COMPLETE',
          CreationTime: new Date(),
          EnableTerminationProtection: state[input.StackName],
        },
      ],
    };
  });
  cfn
    .on(UpdateTerminationProtectionCommand)
    .callsFake((input: { StackName: string; EnableTerminationProtection: boolean }) => {
      if (failUpdateOf.includes(input.StackName)) {
        throw Object.assign(
          new Error('not authorized to perform: cloudformation:UpdateTerminationProtection'),
          {
            name: 'AccessDenied',
          },
        );
      }
      state[input.StackName] = input.EnableTerminationProtection;
      return { StackId: `arn:aws:cloudformation:eu-central-1:700558745280:stack/${input.StackName}/1` };
    });
  return state;
}

beforeEach(() => cfn.reset());

describe('enforceTerminationProtection', () => {
  test('turns it on where it is off, leaves the protected stacks alone, reads it back', async () => {
    const state = account({
      'v1-orcha-foundation': true,
      'v1-orcha-data': false,
      'v1-orcha-compute': false,
      'v1-orcha-ops': true,
    });
    const outcomes = await enforceTerminationProtection(client(), STACKS);
    expect(outcomes).toEqual([
      { stackName: 'v1-orcha-foundation', outcome: 'already-enabled' },
      { stackName: 'v1-orcha-data', outcome: 'enabled' },
      { stackName: 'v1-orcha-compute', outcome: 'enabled' },
      { stackName: 'v1-orcha-ops', outcome: 'already-enabled' },
    ]);
    expect(Object.values(state).every(Boolean)).toBe(true);
    expect(cfn.commandCalls(UpdateTerminationProtectionCommand).map((c) => c.args[0].input)).toEqual([
      { StackName: 'v1-orcha-data', EnableTerminationProtection: true },
      { StackName: 'v1-orcha-compute', EnableTerminationProtection: true },
    ]);
  });

  test('a second run changes nothing', async () => {
    account(Object.fromEntries(STACKS.map((s) => [s, true])));
    const outcomes = await enforceTerminationProtection(client(), STACKS);
    expect(outcomes.every((o) => o.outcome === 'already-enabled')).toBe(true);
    expect(cfn.commandCalls(UpdateTerminationProtectionCommand)).toHaveLength(0);
  });

  test('a failure on one stack is reported exactly and the others are still handled', async () => {
    account({ 'v1-orcha-foundation': false, 'v1-orcha-data': false, 'v1-orcha-compute': false }, [
      'v1-orcha-data',
    ]);
    const outcomes = await enforceTerminationProtection(client(), [...STACKS]);
    expect(outcomes).toEqual([
      { stackName: 'v1-orcha-foundation', outcome: 'enabled' },
      {
        stackName: 'v1-orcha-data',
        outcome: 'failed',
        error: 'AccessDenied: not authorized to perform: cloudformation:UpdateTerminationProtection',
      },
      { stackName: 'v1-orcha-compute', outcome: 'enabled' },
      {
        stackName: 'v1-orcha-ops',
        outcome: 'failed',
        error: 'ValidationError: Stack with id v1-orcha-ops does not exist',
      },
    ]);
  });

  test('an update that does not stick is a failure', async () => {
    cfn.on(DescribeStacksCommand).resolves({
      Stacks: [
        {
          StackName: 'x',
          StackStatus: 'UPDATE_COMPLETE',
          CreationTime: new Date(),
          EnableTerminationProtection: false,
        },
      ],
    });
    cfn.on(UpdateTerminationProtectionCommand).resolves({});
    expect(await enforceTerminationProtection(client(), ['x'])).toEqual([
      {
        stackName: 'x',
        outcome: 'failed',
        error: 'Error: UpdateTerminationProtection succeeded but the stack still reports it off',
      },
    ]);
  });
});

describe('command line', () => {
  test('arguments: region, optional role, stack names', () => {
    expect(
      parseArgs([
        '--region',
        'eu-central-1',
        '--role-arn',
        'arn:aws:iam::700558745280:role/cdk-hnb659fds-deploy-role-700558745280-eu-central-1',
        'a',
        'b',
      ]),
    ).toEqual({
      region: 'eu-central-1',
      roleArn: 'arn:aws:iam::700558745280:role/cdk-hnb659fds-deploy-role-700558745280-eu-central-1',
      stackNames: ['a', 'b'],
    });
    expect(() => parseArgs(['a'])).toThrow('--region is required');
    expect(() => parseArgs(['--region', 'eu-central-1'])).toThrow('name at least one stack');
    expect(() => parseArgs(['--region', 'europe', 'a'])).toThrow(
      '--region must be an AWS region, got "europe"',
    );
    expect(() => parseArgs(['--region', 'eu-central-1', '--role-arn', 'role', 'a'])).toThrow(
      '--role-arn must be an IAM role ARN, got "role"',
    );
    expect(() => parseArgs(['--region', 'eu-central-1', '--force', 'a'])).toThrow('unknown option --force');
  });

  test('exit 0 when every stack is protected, 1 naming the ones that are not, 2 on bad usage', async () => {
    const lines: string[] = [];
    const log = (line: string) => lines.push(line);
    account({ 'v1-orcha-data': false });
    expect(await main(['--region', 'eu-central-1', 'v1-orcha-data'], client, log)).toBe(0);
    expect(lines).toEqual(['v1-orcha-data: enabled', 'termination protection is on for 1 stack(s)']);

    lines.length = 0;
    cfn.reset();
    account({ 'v1-orcha-data': false }, ['v1-orcha-data']);
    expect(await main(['--region', 'eu-central-1', 'v1-orcha-data'], client, log)).toBe(1);
    expect(lines.at(-1)).toBe('termination protection is NOT on for v1-orcha-data');

    expect(await main(['v1-orcha-data'], client, log)).toBe(2);
  });

  test('the client is built for the region and the role to assume', async () => {
    account({ a: true });
    const seen: Arguments[] = [];
    const makeClient = (args: Arguments) => (seen.push(args), client());
    const role = 'arn:aws:iam::111122223333:role/cdk-hnb659fds-deploy-role-111122223333-eu-central-1';
    expect(
      await main(['--region', 'eu-central-1', '--role-arn', role, 'a'], makeClient, () => undefined),
    ).toBe(0);
    expect(seen).toEqual([{ region: 'eu-central-1', roleArn: role, stackNames: ['a'] }]);
    // The real client assumes that role: its credentials are a provider, not the step's own.
    expect(typeof clientFor(seen[0]).config.credentials).toBe('function');
  });
});
