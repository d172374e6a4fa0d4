process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

import {
  DescribeAutoScalingGroupsCommand,
  UpdateAutoScalingGroupCommand,
  type AutoScalingClient,
} from '@aws-sdk/client-auto-scaling';
import { EC2Client } from '@aws-sdk/client-ec2';
import { DescribeDBInstancesCommand, StartDBInstanceCommand, type RDSClient } from '@aws-sdk/client-rds';
import { Route53Client } from '@aws-sdk/client-route-53';
import type { SchedulerClient } from '@aws-sdk/client-scheduler';
import { SQSClient } from '@aws-sdk/client-sqs';
import { SSMClient } from '@aws-sdk/client-ssm';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient, type AwsClientStub } from 'aws-sdk-client-mock';
import type { AwsTarget, ClientFactory } from '../../scripts/ops/aws';
import type { Output } from '../../scripts/ops/output';
import type { CliDeps } from '../../scripts/ops/program';

export const ACCOUNT = '700558745280';
export const OTHER_ACCOUNT = '111122223333';
export const REGION = 'eu-central-1';

/** An {@link Output} that records every line. */
export interface CapturedOutput extends Output {
  lines: { stream: 'out' | 'err'; text: string }[];
  stdout(): string;
  stderr(): string;
  all(): string;
}

export function captureOutput(): CapturedOutput {
  const lines: CapturedOutput['lines'] = [];
  return {
    lines,
    info: (text) => lines.push({ stream: 'out', text }),
    error: (text) => lines.push({ stream: 'err', text }),
    stdout: () =>
      lines
        .filter((l) => l.stream === 'out')
        .map((l) => l.text)
        .join('\n'),
    stderr: () =>
      lines
        .filter((l) => l.stream === 'err')
        .map((l) => l.text)
        .join('\n'),
    all: () => lines.map((l) => l.text).join('\n'),
  };
}

/** An SDK error as the SDK throws it (name, message, $metadata). */
export function awsError(name: string, message: string): Error {
  const err = new Error(message);
  err.name = name;
  Object.assign(err, { $fault: 'client', $metadata: { httpStatusCode: 400 } });
  return err;
}

export function mockedSts(account = ACCOUNT) {
  const client = new STSClient({ region: REGION });
  const mock = mockClient(client);
  mock
    .on(GetCallerIdentityCommand)
    .resolves({ Account: account, Arn: `arn:aws:sts::${account}:assumed-role/ops/me` });
  return { client, mock };
}

/**
 * A client factory that hands out the given clients and records every target it was asked
 * for. `pick` chooses a client by target (for commands that talk to two accounts).
 */
export function factory(clients: {
  sts?: (t: AwsTarget) => STSClient;
  route53?: (t: AwsTarget) => Route53Client;
  ssm?: (t: AwsTarget) => SSMClient;
  sqs?: (t: AwsTarget) => SQSClient;
  ec2?: (t: AwsTarget) => EC2Client;
  rds?: (t: AwsTarget) => RDSClient;
  autoscaling?: (t: AwsTarget) => AutoScalingClient;
  scheduler?: (t: AwsTarget) => SchedulerClient;
}): ClientFactory & { targets: { kind: string; target: AwsTarget }[] } {
  const targets: { kind: string; target: AwsTarget }[] = [];
  const get =
    <C>(kind: string, make: ((t: AwsTarget) => C) | undefined) =>
    (target: AwsTarget): C => {
      targets.push({ kind, target });
      if (!make) throw new Error(`test did not expect a ${kind} client`);
      return make(target);
    };
  return {
    targets,
    sts: get('sts', clients.sts),
    route53: get('route53', clients.route53),
    ssm: get('ssm', clients.ssm),
    sqs: get('sqs', clients.sqs),
    ec2: get('ec2', clients.ec2),
    rds: get('rds', clients.rds),
    autoscaling: get('autoscaling', clients.autoscaling),
    scheduler: get('scheduler', clients.scheduler),
  };
}

/** Deps for `main` with a fake clock that advances on sleep. */
export function cliDeps(
  clients: ClientFactory,
  out: Output = captureOutput(),
): CliDeps & { slept: number[] } {
  let clock = 1_700_000_000_000;
  const slept: number[] = [];
  return {
    clients,
    out,
    slept,
    sleep: async (ms) => {
      slept.push(ms);
      clock += ms;
    },
    now: () => clock,
    which: () => undefined,
    run: async () => {
      throw new Error('test did not expect a process to be run');
    },
  };
}

/**
 * An environment waking as RDS and Auto Scaling report it, on mocked clients: the database's
 * status moves through `dbStates` one describe at a time and stays at the last (`missing`: not
 * found); the group's sizes are what the last UpdateAutoScalingGroup set (from `desired`), and
 * `healthy(desired, describes)` says how many instances are InService and Healthy at the n-th
 * describe of the group.
 */
export function simulateEnvironment(
  rds: AwsClientStub<RDSClient>,
  autoscaling: AwsClientStub<AutoScalingClient>,
  opts: { dbStates: string[]; desired: number; healthy: (desired: number, describes: number) => number },
): void {
  const states = [...opts.dbStates];
  rds
    .on(DescribeDBInstancesCommand)
    .callsFake(() => {
      const state = states.length > 1 ? states.shift() : states[0];
      if (state === 'missing') throw awsError('DBInstanceNotFoundFault', 'DBInstance not found.');
      return { DBInstances: [{ DBInstanceStatus: state }] };
    })
    .on(StartDBInstanceCommand)
    .resolves({});
  let desired = opts.desired;
  let describes = 0;
  autoscaling
    .on(DescribeAutoScalingGroupsCommand)
    .callsFake(() => {
      describes += 1;
      const healthy = opts.healthy(desired, describes);
      return {
        AutoScalingGroups: [
          {
            DesiredCapacity: desired,
            MinSize: desired,
            Instances: Array.from({ length: healthy }, () => ({
              LifecycleState: 'InService',
              HealthStatus: 'Healthy',
            })),
          },
        ],
      };
    })
    .on(UpdateAutoScalingGroupCommand)
    .callsFake((input: { DesiredCapacity: number }) => {
      desired = input.DesiredCapacity;
      return {};
    });
}

/** Staging's sleep after a wake outside office hours, as its wake function gets it (SLEEP_AFTER_WAKE). */
export const STAGING_SLEEP_AFTER_WAKE = {
  schedule: { timeZone: 'Europe/Berlin', days: 'MON-FRI', start: '07:00', stop: '20:00' },
  holdMinutes: 120,
  leadMinutes: 20,
  dbInstance: 'v1-orcha-staging-db',
  autoScalingGroup: 'v1-orcha-staging-asg',
  maxCapacity: 2,
  groupActionName: 'sleep-after-wake',
  databaseScheduleName: 'v1-orcha-staging-db-sleep-after-wake',
  databaseScheduleRoleArn: 'arn:aws:iam::700558745280:role/v1-orcha-staging-db-office-hours',
} as const;
