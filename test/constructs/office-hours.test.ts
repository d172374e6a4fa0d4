/**
 * Office hours (staging as committed: MON-FRI 07:00-20:00 Europe/Berlin): the instances scale to
 * zero and the database stops outside them, the "down" alarms stay quiet while asleep, prod may
 * not sleep. Wake on demand: test/scripts/ops/commands/wake.test.ts; the pipeline's wake step:
 * test/pipeline/wake-step.test.ts; the application pipeline's wake function: below and
 * test/lambda/environment-wake.test.ts; the cost of the hours: test/scripts/cost/report.test.ts.
 */
import { Template } from 'aws-cdk-lib/assertions';
import { environments } from '../../lib/config/environments';
import { ConfigError, loadEnvironment } from '../../lib/config/load';
import { awakeHoursPerWeek, officeHoursCron, WAKE_WAIT_MINUTES } from '../../lib/constructs/office-hours';
import { settingsFromEnv } from '../../lambda/environment-wake';
import { buildStages, buildVariant, resourcesOf } from '../helpers';
import { STAGING_SLEEP_AFTER_WAKE } from '../helpers/ops';

const { staging: stage, prod: prodStage } = buildStages('staging', 'prod');
const compute = Template.fromStack(stage.compute);
const data = Template.fromStack(stage.data);
const ops = Template.fromStack(stage.ops);

test('the group wakes on the wake days at the start and sleeps every day at the stop, in Berlin time', () => {
  const actions = resourcesOf(compute, 'AWS::AutoScaling::ScheduledAction').map(([, p]) => p);
  expect(actions).toEqual(
    expect.arrayContaining([
      expect.objectContaining({
        Recurrence: '0 7 * * MON-FRI',
        TimeZone: 'Europe/Berlin',
        MinSize: 1,
        DesiredCapacity: 1,
        MaxSize: 2,
      }),
      expect.objectContaining({
        Recurrence: '0 20 * * *',
        TimeZone: 'Europe/Berlin',
        MinSize: 0,
        DesiredCapacity: 0,
        MaxSize: 2,
      }),
    ]),
  );
  expect(actions).toHaveLength(2);
});

test('a stack update keeps the sizes a scheduled action set (a deploy does not wake or resize it)', () => {
  const [group] = Object.values(compute.findResources('AWS::AutoScaling::AutoScalingGroup'));
  expect(group!.UpdatePolicy).toMatchObject({
    AutoScalingScheduledAction: { IgnoreUnmodifiedGroupSizeProperties: true },
  });
});

test('the database starts 20 minutes before the instances and stops with them, through EventBridge Scheduler', () => {
  const schedules = resourcesOf(data, 'AWS::Scheduler::Schedule').map(([, p]) => p);
  const byName = (name: string) => schedules.find((s) => s.Name === name)!;
  const start = byName('v1-orcha-staging-db-office-hours-start');
  const stop = byName('v1-orcha-staging-db-office-hours-stop');
  expect(start).toMatchObject({
    ScheduleExpression: 'cron(40 6 ? * MON-FRI *)',
    ScheduleExpressionTimezone: 'Europe/Berlin',
  });
  expect(JSON.stringify(start.Target)).toContain(':scheduler:::aws-sdk:rds:startDBInstance"');
  expect(stop).toMatchObject({
    ScheduleExpression: 'cron(0 20 * * ? *)',
    ScheduleExpressionTimezone: 'Europe/Berlin',
  });
  expect(JSON.stringify(stop.Target)).toContain(':scheduler:::aws-sdk:rds:stopDBInstance"');
  for (const s of [start, stop]) {
    expect(JSON.parse((s.Target as { Input: string }).Input)).toEqual({
      DbInstanceIdentifier: 'v1-orcha-staging-db',
    });
  }
  expect(schedules).toHaveLength(2);
});

test("the schedules' role starts and stops this one database, nothing else", () => {
  const statements = resourcesOf(data, 'AWS::IAM::Policy').flatMap(
    ([, p]) => (p.PolicyDocument as { Statement: { Action: unknown; Resource: unknown }[] }).Statement,
  );
  const rds = statements.filter((s) => JSON.stringify(s.Action).includes('rds:'));
  expect(rds.flatMap((s) => s.Action as string | string[]).sort()).toEqual([
    'rds:StartDBInstance',
    'rds:StopDBInstance',
  ]);
  for (const s of rds) {
    expect(s.Resource).toBe('arn:aws:rds:eu-central-1:700558745280:db:v1-orcha-staging-db');
  }
});

test('asleep, the "down" alarms evaluate to OK: gated on the desired capacity, with the boot after a wake allowed for', () => {
  for (const key of ['alb-unhealthy', 'ec2-status-check', 'rds-no-connections']) {
    const [, alarm] = resourcesOf(ops, 'AWS::CloudWatch::Alarm').find(
      ([, p]) => p.AlarmName === `v1-orcha-staging-${key}`,
    )!;
    const metrics = alarm.Metrics as {
      Id: string;
      Expression?: string;
      MetricStat?: { Metric: { MetricName: string } };
    }[];
    expect(metrics.find((m) => m.Expression)?.Expression).toBe('IF(desired > 0, FILL(m, 0), 1)');
    expect(metrics.find((m) => m.Id === 'desired')?.MetricStat?.Metric.MetricName).toBe(
      'GroupDesiredCapacity',
    );
    expect(alarm).toMatchObject({
      Threshold: 1,
      ComparisonOperator: 'LessThanThreshold',
      EvaluationPeriods: 20,
    });
  }
});

test('prod never sleeps: no schedule, plain alarms, and turning office hours on there is refused', () => {
  Template.fromStack(prodStage.data).resourceCountIs('AWS::Scheduler::Schedule', 0);
  Template.fromStack(prodStage.compute).resourceCountIs('AWS::AutoScaling::ScheduledAction', 0);
  Template.fromStack(prodStage.ops).hasResourceProperties('AWS::CloudWatch::Alarm', {
    AlarmName: 'v1-orcha-alb-unhealthy',
    MetricName: 'HealthyHostCount',
    EvaluationPeriods: 3,
  });
  const set = {
    ...environments,
    prod: { ...environments.prod!, officeHours: { ...loadEnvironment('staging').officeHours } },
  };
  expect(() => loadEnvironment('prod', set)).toThrow(ConfigError);
  expect(() => loadEnvironment('prod', set)).toThrow(
    /officeHours\.enabled = true: prod serves customers around the clock/,
  );
});

test('schedules: days, hours a week, cron fields', () => {
  const schedule = { timeZone: 'Europe/Berlin', days: 'MON-FRI', start: '07:00', stop: '20:00' };
  expect(awakeHoursPerWeek(schedule)).toBe(65);
  expect(officeHoursCron({ ...schedule, start: '07:10' }).databaseStart).toBe('cron(50 6 ? * MON-FRI *)');
});

test.each([
  [
    'officeHours.timeZone',
    { timeZone: 'Berlin/Nowhere' },
    /officeHours\.timeZone = "Berlin\/Nowhere": must be an IANA time zone/,
  ],
  ['officeHours.days', { days: 'weekdays' }, /officeHours\.days = "weekdays": must be days such as MON-FRI/],
  [
    'officeHours.start',
    { start: '00:10' },
    /officeHours\.start = "00:10": must be 00:20 or later \(the database starts 20 minutes earlier, on the same day\)/,
  ],
  [
    'officeHours.stop',
    { stop: '07:30' },
    /officeHours\.stop = "07:30": must be at least an hour after officeHours\.start \(07:00\)/,
  ],
])('bad %s: one message naming the field and the value', (_field, change, message) => {
  const set = {
    ...environments,
    staging: {
      ...environments.staging!,
      officeHours: { ...loadEnvironment('staging').officeHours, ...change },
    },
  };
  expect(() => loadEnvironment('staging', set)).toThrow(message);
});

test('with high availability, alb-degraded is gated too: asleep, and with no data, it sits on its threshold (OK)', () => {
  const ha = buildVariant('staging', (i) => ({
    ...i,
    compute: { ...i.compute, minCapacity: 2, maxCapacity: 3 },
  }));
  const [, alarm] = resourcesOf(Template.fromStack(ha.ops), 'AWS::CloudWatch::Alarm').find(
    ([, p]) => p.AlarmName === 'v1-orcha-staging-alb-degraded',
  )!;
  const metrics = alarm.Metrics as { Expression?: string }[];
  expect(metrics.find((m) => m.Expression)?.Expression).toBe('IF(desired > 0, FILL(m, 2), 2)');
  expect(alarm).toMatchObject({
    Threshold: 2,
    ComparisonOperator: 'LessThanThreshold',
    EvaluationPeriods: 20,
  });
});

test('turning office hours on or off changes no property of the database, its subnet group or its secret', () => {
  const off = buildVariant('staging', (i) => ({
    ...i,
    officeHours: { ...loadEnvironment('staging').officeHours, enabled: false },
  }));
  const offData = Template.fromStack(off.data);
  for (const type of ['AWS::RDS::DBInstance', 'AWS::RDS::DBSubnetGroup', 'AWS::SecretsManager::Secret']) {
    expect([type, offData.findResources(type)]).toEqual([type, data.findResources(type)]);
  }
  offData.resourceCountIs('AWS::Scheduler::Schedule', 0);
  Template.fromStack(off.compute).resourceCountIs('AWS::AutoScaling::ScheduledAction', 0);
});

describe("the application pipeline's wake function (EnvironmentWakeFunction)", () => {
  const [fnId, fn] = resourcesOf(ops, 'AWS::Lambda::Function').find(
    ([, p]) => p.FunctionName === 'v1-orcha-staging-deploy-wake',
  )!;
  const roleRef = JSON.stringify(fn.Role);
  const [roleId] = resourcesOf(ops, 'AWS::IAM::Role').find(([id]) => roleRef.includes(`"${id}"`))!;
  const statements = resourcesOf(ops, 'AWS::IAM::Policy')
    .filter(([, p]) => JSON.stringify(p.Roles).includes(`"${roleId}"`))
    .flatMap(([, p]) => (p.PolicyDocument as { Statement: Record<string, unknown>[] }).Statement);

  test('one pass per invocation, within a minute; waits at most WAKE_WAIT_MINUTES in all; no reserved concurrency', () => {
    expect(fn).toMatchObject({
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      Timeout: 60,
      Environment: {
        Variables: expect.objectContaining({
          DB_INSTANCE_IDENTIFIER: 'v1-orcha-staging-db',
          AUTO_SCALING_GROUP_NAME: 'v1-orcha-staging-asg',
          MIN_CAPACITY: '1',
          MAX_CAPACITY: '2',
          WAIT_SECONDS: String(WAKE_WAIT_MINUTES * 60),
        }),
      },
    });
    // Reserved concurrency fails the deploy in an account with the new-account quota of 10.
    expect(fn.ReservedConcurrentExecutions).toBeUndefined();
    // Its settings are what the handler reads; woken outside office hours, staging sleeps 2 hours
    // on, its database's schedule running as the office-hours schedules' role (in the Data stack).
    const settings = settingsFromEnv((fn.Environment as { Variables: NodeJS.ProcessEnv }).Variables);
    expect(settings.sleepAfterWake).toEqual(STAGING_SLEEP_AFTER_WAKE);
    data.hasResourceProperties('AWS::IAM::Role', { RoleName: 'v1-orcha-staging-db-office-hours' });
    expect(fnId).toMatch(/^DeployWakeFunction/);
  });

  test('its role: the wake statements, its own log group and the answers to CodePipeline, nothing else', () => {
    const actions = statements.flatMap((s) => [s.Action].flat() as string[]).sort();
    expect(actions).toEqual(
      [
        'autoscaling:DescribeAutoScalingGroups',
        'autoscaling:DescribeScheduledActions',
        'autoscaling:PutScheduledUpdateGroupAction',
        'autoscaling:UpdateAutoScalingGroup',
        'codepipeline:PutJobFailureResult',
        'codepipeline:PutJobSuccessResult',
        'iam:PassRole',
        'logs:CreateLogStream',
        'logs:PutLogEvents',
        'rds:DescribeDBInstances',
        'rds:StartDBInstance',
        'scheduler:CreateSchedule',
        'scheduler:UpdateSchedule',
      ].sort(),
    );
    const on = (action: string) => statements.find((s) => [s.Action].flat().includes(action))!.Resource;
    expect(on('rds:StartDBInstance')).toBe('arn:aws:rds:eu-central-1:700558745280:db:v1-orcha-staging-db');
    expect(on('autoscaling:UpdateAutoScalingGroup')).toBe(
      'arn:aws:autoscaling:eu-central-1:700558745280:autoScalingGroup:*:autoScalingGroupName/v1-orcha-staging-asg',
    );
    // PutJob*Result and DescribeAutoScalingGroups have no resource-level permissions.
    expect(on('codepipeline:PutJobSuccessResult')).toBe('*');
    expect(JSON.stringify(statements)).not.toMatch(/StopDB|Delete|sts:AssumeRole|rds:\*|autoscaling:\*/);
  });

  test('prod never sleeps: no wake function', () => {
    expect(
      resourcesOf(Template.fromStack(prodStage.ops), 'AWS::Lambda::Function').map(([, p]) => p.FunctionName),
    ).not.toContain('v1-orcha-deploy-wake');
    expect(JSON.stringify(Template.fromStack(prodStage.ops).toJSON())).not.toContain('deploy-wake');
  });
});
