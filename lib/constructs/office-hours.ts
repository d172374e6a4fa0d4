import { ArnFormat, Duration, RemovalPolicy, Stack, TimeZone } from 'aws-cdk-lib';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as targets from 'aws-cdk-lib/aws-scheduler-targets';
import { Construct } from 'constructs';
import { pipelineNames, type Naming } from '../config/naming';
import { projectPath } from '../config/project';
import { minutes, type EnvironmentConfig } from '../config/schema';
import { LAMBDA_NODEJS_RUNTIME } from '../config/toolchain';
import { acknowledge, acknowledgeInlinePolicy } from '../nag';
import { lambdaCode } from './esbuild-bundling';
import { managedLogGroup } from './log-group';
import { nagString } from './migration-test/arns';
import { awakeDays, DATABASE_LEAD_MINUTES, sleepAfterWakeSettings } from '../util/office-hours-clock';

/** The weekly schedule of an environment with office hours (`officeHours` in the configuration). */
export type OfficeHoursSchedule = Omit<EnvironmentConfig['officeHours'], 'enabled'>;

/**
 * Minutes a pipeline waits for a sleeping environment to wake (the database available, the
 * instances in service) before it fails: the infrastructure pipeline's `<Stage>-Wake` step and
 * the application pipeline's `Wake` action. A wake takes about 10–15 minutes.
 */
export const WAKE_WAIT_MINUTES = 40;

/** Hours a week the environment is awake on schedule (on-demand wakes come on top). */
export function awakeHoursPerWeek(schedule: OfficeHoursSchedule): number {
  return (awakeDays(schedule.days).length * (minutes(schedule.stop) - minutes(schedule.start))) / 60;
}

/** `HH:MM` minus `lead` minutes, as cron fields. */
function at(hhmm: string, lead = 0): { hour: string; minute: string } {
  const m = (minutes(hhmm) - lead + 24 * 60) % (24 * 60);
  return { hour: String(Math.floor(m / 60)), minute: String(m % 60) };
}

/**
 * The schedule's cron expressions (EventBridge Scheduler / Auto Scaling syntax, six fields for
 * the scheduler). Sleeping is every day, not only on the wake days: an environment woken on
 * demand at the weekend, or a database that RDS restarted after 7 days stopped, goes back to
 * sleep the same evening.
 */
export function officeHoursCron(schedule: OfficeHoursSchedule) {
  const wake = at(schedule.start);
  const dbWake = at(schedule.start, DATABASE_LEAD_MINUTES);
  const sleep = at(schedule.stop);
  return {
    /** Auto Scaling (five fields): the instances wake on the wake days. */
    instancesWake: { minute: wake.minute, hour: wake.hour, weekDay: schedule.days },
    /** Auto Scaling: the instances sleep every day. */
    instancesSleep: { minute: sleep.minute, hour: sleep.hour, weekDay: '*' },
    /** EventBridge Scheduler: the database starts before the instances on the wake days. */
    databaseStart: `cron(${dbWake.minute} ${dbWake.hour} ? * ${schedule.days} *)`,
    /** EventBridge Scheduler: the database stops every day, after the instances. */
    databaseStop: `cron(${sleep.minute} ${sleep.hour} * * ? *)`,
  };
}

export interface OfficeHoursInstancesProps {
  readonly schedule: OfficeHoursSchedule;
  readonly autoScalingGroup: autoscaling.AutoScalingGroup;
  /** The group's configured sizes, restored on waking. */
  readonly minCapacity: number;
  readonly maxCapacity: number;
}

/**
 * Office hours of the instances: scheduled actions of the Auto Scaling group (with the
 * schedule's time zone, daylight saving included) set the group to zero outside office hours and
 * back to its configured sizes when they start. CDK's scheduled actions also make stack updates
 * keep the sizes a scheduled action set (`IgnoreUnmodifiedGroupSizeProperties`).
 */
export class OfficeHoursInstances extends Construct {
  constructor(scope: Construct, id: string, props: OfficeHoursInstancesProps) {
    super(scope, id);
    const cron = officeHoursCron(props.schedule);
    const timeZone = props.schedule.timeZone;
    props.autoScalingGroup.scaleOnSchedule('OfficeHoursWake', {
      schedule: autoscaling.Schedule.cron(cron.instancesWake),
      timeZone,
      minCapacity: props.minCapacity,
      desiredCapacity: props.minCapacity,
      maxCapacity: props.maxCapacity,
    });
    props.autoScalingGroup.scaleOnSchedule('OfficeHoursSleep', {
      schedule: autoscaling.Schedule.cron(cron.instancesSleep),
      timeZone,
      minCapacity: 0,
      desiredCapacity: 0,
      maxCapacity: props.maxCapacity,
    });
  }
}

export interface OfficeHoursDatabaseProps {
  readonly schedule: OfficeHoursSchedule;
  /** Identifier of the RDS instance (`v1-orcha-staging-db`). */
  readonly dbInstanceIdentifier: string;
  /** Names of the two schedules (naming.ts). */
  readonly startScheduleName: string;
  readonly stopScheduleName: string;
  /**
   * Name of their role: fixed, because the wake passes it to the one-time schedule that puts an
   * environment woken outside office hours back to sleep (scripts/ops/wake-pass.ts).
   */
  readonly roleName: string;
}

/**
 * Office hours of the database: two EventBridge Scheduler schedules call RDS directly (universal
 * targets `aws-sdk:rds:startDBInstance` / `stopDBInstance`; no function to maintain), through one
 * role that may start and stop this one instance only. A call that finds the instance already in
 * the wanted state fails harmlessly (no retry needed: the next day's schedule runs again).
 */
export class OfficeHoursDatabase extends Construct {
  public readonly start: scheduler.Schedule;
  public readonly stop: scheduler.Schedule;
  public readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: OfficeHoursDatabaseProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const dbArn = databaseArn(stack, props.dbInstanceIdentifier, stack.region, stack.account);
    this.role = new iam.Role(this, 'Role', {
      roleName: props.roleName,
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
      }),
      description: `Starts and stops ${props.dbInstanceIdentifier} on its office-hours schedule`,
    });
    acknowledgeInlinePolicy(
      this.role,
      `The office-hours schedules' role (assumed by EventBridge Scheduler of this account only) may start and stop ${props.dbInstanceIdentifier} only`,
    );
    const cron = officeHoursCron(props.schedule);
    const timeZone = TimeZone.of(props.schedule.timeZone);
    const call = (action: 'startDBInstance' | 'stopDBInstance', iamAction: string) =>
      new targets.Universal({
        service: 'rds',
        action,
        input: scheduler.ScheduleTargetInput.fromObject({ DbInstanceIdentifier: props.dbInstanceIdentifier }),
        role: this.role,
        retryAttempts: 2,
        policyStatements: [new iam.PolicyStatement({ actions: [iamAction], resources: [dbArn] })],
      });
    this.start = new scheduler.Schedule(this, 'Start', {
      scheduleName: props.startScheduleName,
      description: `Office hours: start ${props.dbInstanceIdentifier} before the instances wake`,
      schedule: scheduler.ScheduleExpression.expression(cron.databaseStart, timeZone),
      target: call('startDBInstance', 'rds:StartDBInstance'),
    });
    this.stop = new scheduler.Schedule(this, 'Stop', {
      scheduleName: props.stopScheduleName,
      description: `Office hours: stop ${props.dbInstanceIdentifier} when the instances sleep`,
      schedule: scheduler.ScheduleExpression.expression(cron.databaseStop, timeZone),
      target: call('stopDBInstance', 'rds:StopDBInstance'),
    });
  }
}

/**
 * What waking an environment needs (scripts/ops/commands/wake.ts, scripts/ops/wake-pass.ts), and
 * nothing more: describe and start its one database; describe the Auto Scaling groups (a list
 * call IAM authorizes only on `*`) and resize its one group (whose ARN carries a generated id,
 * hence the `*` in it). Woken outside office hours, it goes back to sleep a few hours later: a
 * one-time scheduled action of the same group, and the one-time schedule that stops the database
 * as the office-hours schedules' role, which may be passed to EventBridge Scheduler only.
 */
export function wakeStatements(
  stack: Stack,
  naming: Naming,
  region: string,
  account: string,
): iam.PolicyStatement[] {
  return [
    new iam.PolicyStatement({
      sid: 'StartDatabase',
      actions: ['rds:DescribeDBInstances', 'rds:StartDBInstance'],
      resources: [databaseArn(stack, naming.dbInstance, region, account)],
    }),
    new iam.PolicyStatement({
      sid: 'DescribeGroups',
      actions: ['autoscaling:DescribeAutoScalingGroups', 'autoscaling:DescribeScheduledActions'],
      resources: ['*'],
    }),
    new iam.PolicyStatement({
      sid: 'ResizeGroup',
      actions: ['autoscaling:UpdateAutoScalingGroup', 'autoscaling:PutScheduledUpdateGroupAction'],
      resources: [groupArn(stack, naming, region, account)],
    }),
    new iam.PolicyStatement({
      sid: 'ScheduleDatabaseSleep',
      actions: ['scheduler:CreateSchedule', 'scheduler:UpdateSchedule'],
      resources: [
        stack.formatArn({
          service: 'scheduler',
          resource: 'schedule',
          resourceName: `default/${naming.dbSleepAfterWakeSchedule}`,
          region,
          account,
        }),
      ],
    }),
    new iam.PolicyStatement({
      sid: 'PassScheduleRole',
      actions: ['iam:PassRole'],
      resources: [
        stack.formatArn({
          service: 'iam',
          region: '',
          account,
          resource: 'role',
          resourceName: naming.dbScheduleRole,
        }),
      ],
      conditions: { StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } },
    }),
  ];
}

function databaseArn(stack: Stack, dbInstanceIdentifier: string, region: string, account: string): string {
  return stack.formatArn({
    service: 'rds',
    resource: 'db',
    resourceName: dbInstanceIdentifier,
    arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    region,
    account,
  });
}

function groupArn(stack: Stack, naming: Naming, region: string, account: string): string {
  return stack.formatArn({
    service: 'autoscaling',
    resource: 'autoScalingGroup',
    resourceName: `*:autoScalingGroupName/${naming.autoScalingGroup}`,
    arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    region,
    account,
  });
}

/**
 * The two findings of {@link wakeStatements} on the role that holds them. `alsoOnStar`: why the
 * role's other actions on `*` (if any) need it, added to the one reason of that finding.
 */
export function acknowledgeWakeFindings(
  role: iam.IRole,
  naming: Naming,
  region: string,
  account: string,
  alsoOnStar?: string,
): void {
  const stack = Stack.of(role);
  acknowledge(
    role,
    'AwsSolutions-IAM5[Resource::*]',
    'autoscaling:DescribeAutoScalingGroups and DescribeScheduledActions are read-only list calls that IAM authorizes only against "*"; the wake ' +
      `command filters them to ${naming.autoScalingGroup}.` +
      (alsoOnStar ? ` ${alsoOnStar}` : ' Every other action of the role names one resource.'),
  );
  acknowledge(
    role,
    `AwsSolutions-IAM5[Resource::${nagString(stack, groupArn(stack, naming, region, account))}]`,
    `An Auto Scaling group's ARN carries an id generated at creation; the wildcard stands for that id only, the ` +
      `group name ${naming.autoScalingGroup} is fixed, so exactly the environment's one group can be resized.`,
  );
}

export interface OfficeHoursWakeRoleProps {
  /** Account of the infrastructure pipeline, another account than the environment's. */
  readonly pipelineAccount: string;
  readonly naming: Naming;
}

/**
 * The role that lets the infrastructure pipeline, in another account, wake this environment
 * before it deploys it (lib/pipeline/wake-step.ts): the statements of {@link wakeStatements},
 * trusted by the pipeline step's fixed-name role only.
 */
export class OfficeHoursWakeRole extends Construct {
  public readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: OfficeHoursWakeRoleProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const { naming } = props;
    this.role = new iam.Role(this, 'Role', {
      roleName: naming.officeHoursWakeRole,
      description: `Lets the infrastructure pipeline (${props.pipelineAccount}) wake ${naming.envName} before deploying it`,
      assumedBy: new iam.ArnPrincipal(
        `arn:${stack.partition}:iam::${props.pipelineAccount}:role/${pipelineNames.wakeStepRole(naming.envName)}`,
      ),
    });
    for (const statement of wakeStatements(stack, naming, stack.region, stack.account))
      this.role.addToPrincipalPolicy(statement);
    acknowledgeWakeFindings(this.role, naming, stack.region, stack.account);
    acknowledgeInlinePolicy(
      this.role,
      `The office-hours wake role of ${naming.envName} (trusted by the pipeline's wake step role only) may start this environment's database and resize its Auto Scaling group`,
    );
  }
}

/** The handler of the application pipeline's Wake action. */
const WAKE_HANDLER_ENTRY = projectPath('lambda', 'environment-wake', 'index.ts');

export interface EnvironmentWakeFunctionProps {
  readonly naming: Naming;
  /** The environment's office hours: woken outside them, it sleeps again `holdMinutes` later. */
  readonly schedule: OfficeHoursSchedule;
  /**
   * Minutes an environment woken outside office hours stays awake (the deploy and its checks).
   * @default DEFAULT_HOLD_MINUTES (120)
   */
  readonly holdMinutes?: number;
  /** The group's configured sizes (`compute.minCapacity`/`maxCapacity`), restored on waking. */
  readonly minCapacity: number;
  readonly maxCapacity: number;
  readonly logRetentionDays: number;
  /** The environment's key for its log groups. */
  readonly logEncryptionKey: kms.IKey;
}

/**
 * The function behind the application pipeline's `Wake` action (lambda/environment-wake): one pass
 * of the ops command's wake per invocation (start the database, restore the group), invoked again
 * by CodePipeline through a continuation token until the environment is awake or
 * {@link WAKE_WAIT_MINUTES} have passed. Its role has the statements of {@link wakeStatements};
 * the pipeline's Lambda invoke action adds `codepipeline:PutJobSuccessResult`/`PutJobFailureResult`,
 * which IAM authorizes only on `*`. A Lambda function rather than a CodeBuild project: it bills
 * milliseconds per pass, not a build container's minutes while it waits.
 */
export class EnvironmentWakeFunction extends Construct {
  public readonly function: nodejs.NodejsFunction;
  public readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: EnvironmentWakeFunctionProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const { naming } = props;
    const functionName = naming.deployWakeFunction;
    const logGroup = managedLogGroup(this, 'FunctionLogs', {
      logGroupName: `/aws/lambda/${functionName}`,
      retentionDays: props.logRetentionDays,
      removalPolicy: RemovalPolicy.DESTROY,
      encryptionKey: props.logEncryptionKey,
    });
    this.role = new iam.Role(this, 'FunctionRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `${functionName}: wake ${naming.envName} (its database and group) before the application pipeline deploys it`,
    });
    logGroup.grantWrite(this.role);
    for (const statement of wakeStatements(stack, naming, stack.region, stack.account)) {
      this.role.addToPrincipalPolicy(statement);
    }
    this.function = new nodejs.NodejsFunction(this, 'Function', {
      role: this.role,
      functionName,
      description: `Wakes ${naming.envName} (office hours) before the application pipeline deploys it`,
      code: lambdaCode(WAKE_HANDLER_ENTRY),
      handler: 'index.handler',
      runtime: LAMBDA_NODEJS_RUNTIME,
      architecture: lambda.Architecture.ARM_64,
      memorySize: 256,
      // One pass: a few describe calls and at most one start and one resize.
      timeout: Duration.minutes(1),
      logGroup,
      environment: {
        DB_INSTANCE_IDENTIFIER: naming.dbInstance,
        AUTO_SCALING_GROUP_NAME: naming.autoScalingGroup,
        MIN_CAPACITY: String(props.minCapacity),
        MAX_CAPACITY: String(props.maxCapacity),
        WAIT_SECONDS: String(WAKE_WAIT_MINUTES * 60),
        // lib/util/office-hours-clock.ts SleepAfterWakeSettings, read by the handler.
        SLEEP_AFTER_WAKE: stack.toJsonString(
          sleepAfterWakeSettings(
            { officeHours: props.schedule, compute: { maxCapacity: props.maxCapacity } },
            naming,
            stack.formatArn({
              service: 'iam',
              region: '',
              resource: 'role',
              resourceName: naming.dbScheduleRole,
            }),
            props.holdMinutes,
          ),
        ),
        POWERTOOLS_SERVICE_NAME: 'environment-wake',
        NODE_OPTIONS: '--enable-source-maps',
      },
    });
    acknowledgeWakeFindings(
      this.role,
      naming,
      stack.region,
      stack.account,
      "codepipeline:PutJobSuccessResult and PutJobFailureResult (added by the pipeline's Lambda invoke action) have no resource-level permissions; they answer only jobs CodePipeline handed to this function.",
    );
    acknowledgeInlinePolicy(
      this.role,
      `The wake function role of ${naming.envName} may write its own log group, start this environment's database, resize its Auto Scaling group and answer CodePipeline jobs`,
    );
    acknowledge(
      this.function,
      'NIST.800.53.R5-LambdaConcurrency',
      "Only this environment's application pipeline invokes it, one job at a time (its Deploy stage runs one execution), and every pass is idempotent; reserved concurrency would bound nothing and, taken from the account's pool, would fail the deploy of an account whose concurrency quota is still the new-account 10.",
    );
    acknowledge(
      this.function,
      'NIST.800.53.R5-LambdaDLQ',
      'CodePipeline is the only caller and gets every outcome through PutJobSuccessResult/PutJobFailureResult; an invocation that dies unanswered times the action out and fails the pipeline, whose failure notification names it. A dead-letter queue would hold a job nobody replays.',
    );
    acknowledge(
      this.function,
      'NIST.800.53.R5-LambdaInsideVPC',
      'The wake function calls only the RDS, Auto Scaling and CodePipeline APIs, public AWS endpoints, and reads no data in the VPC; in the VPC it would need a NAT or interface endpoints to reach them.',
    );
  }
}
