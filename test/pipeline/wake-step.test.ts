/**
 * `Staging-Wake` (lib/pipeline/wake-step.ts): staging sleeps outside office hours, so the pipeline
 * wakes it before its stacks deploy and its smoke test (the gate before prod) runs; in parallel
 * with the start of prod's migration test, so that a push during office hours waits no longer.
 * The command the step runs is run here through the ops CLI; its role may do what waking needs,
 * on staging's database and group only.
 */
import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import {
  AutoScalingClient,
  PutScheduledUpdateGroupActionCommand,
  UpdateAutoScalingGroupCommand,
} from '@aws-sdk/client-auto-scaling';
import { CreateScheduleCommand, SchedulerClient } from '@aws-sdk/client-scheduler';
import { RDSClient, StartDBInstanceCommand } from '@aws-sdk/client-rds';
import { mockClient } from 'aws-sdk-client-mock';
import { buildApp } from '../../lib/app';
import { environments } from '../../lib/config/environments';
import { WAKE_ASLEEP_MINUTES, criticalPath } from '../../scripts/bench/critical-path';
import { ExitCode } from '../../scripts/ops/errors';
import { main } from '../../scripts/ops/program';
import { REGION, captureOutput, cliDeps, factory, mockedSts, simulateEnvironment } from '../helpers/ops';
import { resourcesOf } from '../helpers';

const built = buildApp(new App());
const template = Template.fromStack(built.pipeline!);

interface Action {
  Name: string;
  RunOrder: number;
  ActionTypeId: { Category: string };
  Configuration?: { ProjectName?: unknown };
}
const stages = resourcesOf(template, 'AWS::CodePipeline::Pipeline')[0]![1].Stages as {
  Name: string;
  Actions: Action[];
}[];
const staging = stages.find((s) => s.Name === 'Staging')!;
const wake = staging.Actions.find((a) => a.Name === 'Staging-Wake')!;

/** The shell commands of the action's CodeBuild project. */
function commandsOf(t: Template, action: Action): string[] {
  const ref = JSON.stringify(action.Configuration?.ProjectName);
  const [, project] = resourcesOf(t, 'AWS::CodeBuild::Project').find(([id]) => ref.includes(`"${id}"`))!;
  const spec = JSON.parse((project.Source as { BuildSpec: string }).BuildSpec) as {
    phases: { build: { commands: string[] } };
  };
  return spec.phases.build.commands;
}

/** The ops CLI's argv of `npx tsx codebuild/wake.ts …` in the step's commands (the script runs `ops wake …`). */
function opsArgv(commands: string[]): string[] {
  const line = commands.find((c) => c.includes('codebuild/wake.ts'))!;
  return ['wake', ...line.split('codebuild/wake.ts ')[1]!.trim().split(/\s+/)];
}

test('first thing in Staging, next to the start of the migration test, before every staging deploy', () => {
  const start = staging.Actions.find((a) => a.Name === 'Prod-MigrationTestStart')!;
  expect(wake.RunOrder).toBe(start.RunOrder);
  const deploys = staging.Actions.filter((a) => a.ActionTypeId.Category === 'Deploy');
  expect(deploys.length).toBeGreaterThan(0);
  for (const d of deploys) expect(d.RunOrder).toBeGreaterThan(wake.RunOrder);
  // prod never sleeps: no step wakes it.
  expect(stages.flatMap((s) => s.Actions.map((a) => a.Name))).not.toContain('Prod-Wake');
});

test('the command it runs wakes staging (run here through the ops CLI with mocked AWS)', async () => {
  const argv = opsArgv(commandsOf(template, wake));
  expect(argv).toEqual(expect.arrayContaining(['wake', '--env', 'staging', '--allow-missing']));
  expect(argv).not.toContain('--role-arn'); // same account: its own role
  const sts = mockedSts();
  const rds = new RDSClient({ region: REGION });
  const rdsMock = mockClient(rds);
  const asg = new AutoScalingClient({ region: REGION });
  const asgMock = mockClient(asg);
  // Asleep: the database stopped, the group at zero; the instance is in service once restored.
  simulateEnvironment(rdsMock, asgMock, {
    dbStates: ['stopped', 'available'],
    desired: 0,
    healthy: (desired) => desired,
  });
  asgMock.on(PutScheduledUpdateGroupActionCommand).resolves({});
  const scheduler = new SchedulerClient({ region: REGION });
  const schedulerMock = mockClient(scheduler);
  schedulerMock.on(CreateScheduleCommand).resolves({ ScheduleArn: 'arn' });
  const out = captureOutput();
  // The CLI's clock: a Tuesday night (asleep by schedule).
  const code = await main(
    ['node', 'ops', ...argv],
    cliDeps(
      factory({ sts: () => sts.client, rds: () => rds, autoscaling: () => asg, scheduler: () => scheduler }),
      out,
    ),
  );
  expect([code, out.stderr()]).toEqual([ExitCode.Ok, '']);
  expect(rdsMock.commandCalls(StartDBInstanceCommand)[0]!.args[0].input).toEqual({
    DBInstanceIdentifier: 'v1-orcha-staging-db',
  });
  expect(asgMock.commandCalls(UpdateAutoScalingGroupCommand)).toHaveLength(1);
  // Woken at night, staging sleeps again 2 hours later rather than at tomorrow evening's stop.
  expect(asgMock.commandCalls(PutScheduledUpdateGroupActionCommand)).toHaveLength(1);
  expect(schedulerMock.commandCalls(CreateScheduleCommand)[0]!.args[0].input.Name).toBe(
    'v1-orcha-staging-db-sleep-after-wake',
  );
});

test('its role may start staging’s database, resize staging’s group and schedule their sleep after the wake, nothing else', () => {
  template.hasResourceProperties('AWS::IAM::Role', {
    RoleName: 'v1-orcha-infra-wake-staging',
    AssumeRolePolicyDocument: {
      Statement: [Match.objectLike({ Principal: { Service: 'codebuild.amazonaws.com' } })],
    },
  });
  const [roleId] = resourcesOf(template, 'AWS::IAM::Role').find(
    ([, p]) => p.RoleName === 'v1-orcha-infra-wake-staging',
  )!;
  const [, policy] = resourcesOf(template, 'AWS::IAM::Policy').find(([, p]) =>
    JSON.stringify(p.Roles).includes(`"${roleId}"`),
  )!;
  const statements = (policy.PolicyDocument as { Statement: { Sid?: string }[] }).Statement;
  const own = statements.filter((s) =>
    ['StartDatabase', 'DescribeGroups', 'ResizeGroup', 'ScheduleDatabaseSleep', 'PassScheduleRole'].includes(
      s.Sid ?? '',
    ),
  );
  expect(own).toEqual([
    {
      Sid: 'StartDatabase',
      Effect: 'Allow',
      Action: ['rds:DescribeDBInstances', 'rds:StartDBInstance'],
      Resource: 'arn:aws:rds:eu-central-1:700558745280:db:v1-orcha-staging-db',
    },
    {
      Sid: 'DescribeGroups',
      Effect: 'Allow',
      Action: ['autoscaling:DescribeAutoScalingGroups', 'autoscaling:DescribeScheduledActions'],
      Resource: '*',
    },
    {
      Sid: 'ResizeGroup',
      Effect: 'Allow',
      Action: ['autoscaling:PutScheduledUpdateGroupAction', 'autoscaling:UpdateAutoScalingGroup'],
      Resource:
        'arn:aws:autoscaling:eu-central-1:700558745280:autoScalingGroup:*:autoScalingGroupName/v1-orcha-staging-asg',
    },
    // Woken outside office hours: back to sleep a few hours later, the database through a
    // one-time schedule that runs as the office-hours schedules' role.
    {
      Sid: 'ScheduleDatabaseSleep',
      Effect: 'Allow',
      Action: ['scheduler:CreateSchedule', 'scheduler:UpdateSchedule'],
      Resource:
        'arn:aws:scheduler:eu-central-1:700558745280:schedule/default/v1-orcha-staging-db-sleep-after-wake',
    },
    {
      Sid: 'PassScheduleRole',
      Effect: 'Allow',
      Action: 'iam:PassRole',
      Resource: 'arn:aws:iam::700558745280:role/v1-orcha-staging-db-office-hours',
      Condition: { StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } },
    },
  ]);
  // Nothing that stops, deletes or assumes anything.
  expect(JSON.stringify(policy.PolicyDocument)).not.toMatch(
    /StopDB|Delete|sts:AssumeRole|rds:\*|autoscaling:\*/,
  );
});

test('lead time: awake, the wake step costs nothing; asleep, at most its own minutes (the migration test runs meanwhile)', () => {
  const json = template.toJSON() as Record<string, unknown>;
  const awake = criticalPath(json);
  const asleep = criticalPath(json, undefined, { asleep: true });
  const first = awake.find((s) => s.parallel.includes('Staging-Wake'))!;
  expect(first.parallel).toEqual(expect.arrayContaining(['Staging-Wake', 'Prod-MigrationTestStart']));
  const extra = asleep.at(-1)!.cumulative - awake.at(-1)!.cumulative;
  expect(extra).toBeGreaterThan(0);
  expect(extra).toBeLessThan(WAKE_ASLEEP_MINUTES);
});

describe('staging in another account than the pipeline', () => {
  const other = buildApp(new App(), {
    environments: {
      ...environments,
      // Alone in its account, staging owns the account's Session Manager preferences.
      staging: {
        ...environments.staging,
        account: '111122223333',
        compute: { ...environments.staging.compute, sessionManagerPreferences: true },
      },
    },
  });
  const pipeline = Template.fromStack(other.pipeline!);
  const stagingOps = Template.fromStack(other.stages.staging.ops);

  test('the step may only assume staging’s wake role, and passes it to the command', () => {
    const roleArn = 'arn:aws:iam::111122223333:role/v1-orcha-staging-wake';
    pipeline.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([{ Effect: 'Allow', Action: 'sts:AssumeRole', Resource: roleArn }]),
      },
    });
    const step = (
      resourcesOf(pipeline, 'AWS::CodePipeline::Pipeline')[0]![1].Stages as { Actions: Action[] }[]
    )
      .flatMap((s) => s.Actions)
      .find((a) => a.Name === 'Staging-Wake')!;
    expect(opsArgv(commandsOf(pipeline, step))).toEqual(expect.arrayContaining(['--role-arn', roleArn]));
    expect(JSON.stringify(pipeline.toJSON())).not.toContain('rds:StartDBInstance');
  });

  test('staging creates the wake role, trusted by the step role only, with the same narrow statements', () => {
    stagingOps.hasResourceProperties('AWS::IAM::Role', {
      RoleName: 'v1-orcha-staging-wake',
      AssumeRolePolicyDocument: {
        Statement: [
          Match.objectLike({
            Action: 'sts:AssumeRole',
            Principal: { AWS: 'arn:aws:iam::700558745280:role/v1-orcha-infra-wake-staging' },
          }),
        ],
      },
    });
    stagingOps.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Sid: 'StartDatabase',
            Action: ['rds:DescribeDBInstances', 'rds:StartDBInstance'],
          }),
        ]),
      },
    });
  });
});
