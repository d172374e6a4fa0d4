import { Duration, Stack } from 'aws-cdk-lib';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import type * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import type * as rds from 'aws-cdk-lib/aws-rds';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { acknowledge } from '../nag';
import { Construct } from 'constructs';

/**
 * How urgent an alarm is. Critical: the application is down or losing work, act now.
 * Operational: capacity or hygiene, act within the working day.
 */
export type AlarmSeverity = 'critical' | 'operational';

/** Keys of the alarm set, each the suffix of the alarm's name (`v1-orcha-<key>`). */
export const ALARM_KEYS = [
  'alb-unhealthy',
  'ec2-status-check',
  'rds-no-connections',
  'ingest-dlq-not-empty',
  'email-acquire-dlq-not-empty',
  'ec2-high-cpu',
  'rds-high-cpu',
  'rds-low-storage',
  'rds-high-connections',
  'cert-expiring',
  'ingest-backlog',
] as const;

export type AlarmKey = (typeof ALARM_KEYS)[number];

/** Keys of the alarms that exist only with an option: `alb-degraded` with high availability. */
export type OptionalAlarmKey = 'alb-degraded';

/** Thresholds of the specification. */
export const ALARM_THRESHOLDS = {
  /** Percent CPU, EC2 and RDS. */
  highCpuPercent: 80,
  /** 5 GiB, in bytes (FreeStorageSpace is reported in bytes). */
  lowFreeStorageBytes: 5 * 1024 ** 3,
  /** Database connections. */
  highConnections: 100,
  /** Days before the certificate expires. */
  certificateExpiryDays: 14,
  /** Visible messages in the ingest queue. */
  ingestBacklogMessages: 500,
} as const;

export interface OrchaAlarmsProps {
  /** Gives every alarm its physical name from its key, e.g. `naming.alarm`. */
  readonly alarmName: (key: AlarmKey | OptionalAlarmKey) => string;
  /** Receives ALARM transitions of every alarm, and OK transitions of the critical ones. */
  readonly topic: sns.ITopic;
  /** The application's target group (HealthyHostCount, dimension TargetGroup). */
  readonly targetGroup: elbv2.ApplicationTargetGroup;
  /**
   * The load balancer in front of the target group (HealthyHostCount, dimension LoadBalancer).
   * Its `loadBalancerFullName` attribute is used whole: the target group's own metrics derive the
   * name by splitting the listener's ARN, which across stacks puts a `Fn::GetStackOutput` inside
   * `Fn::Split` (rejected by cfn-lint, E1022).
   */
  readonly loadBalancer: elbv2.ApplicationLoadBalancer;
  /**
   * The application's Auto Scaling group (GroupInServiceInstances and EC2 CPUUtilization by
   * AutoScalingGroupName). GroupInServiceInstances exists only when the group collects group
   * metrics; for a group defined in this app that is checked at synth.
   */
  readonly autoScalingGroup: autoscaling.IAutoScalingGroup;
  /** The RDS instance (DatabaseConnections, CPUUtilization, FreeStorageSpace). */
  readonly database: rds.IDatabaseInstance;
  /** The document ingest queue (backlog alarm). */
  readonly ingestQueue: sqs.IQueue;
  /** Dead-letter queue of the ingest queue. */
  readonly ingestDeadLetterQueue: sqs.IQueue;
  /** Dead-letter queue of the e-mail acquisition queue. */
  readonly emailAcquireDeadLetterQueue: sqs.IQueue;
  /** The ALB's ACM certificate (DaysToExpiry). */
  readonly certificate: acm.ICertificate;
  /**
   * Whether critical alarms page (notify the topic). When false they are created with their
   * actions disabled: their state shows in CloudWatch, nobody is notified. Operational alarms
   * always notify.
   * @default true
   */
  readonly pageOnCritical?: boolean;
  /**
   * Instances the group keeps in service (`compute.minCapacity`). From 2 on (high availability)
   * losing one instance is not an outage: `alb-unhealthy` stays critical for "no healthy host",
   * and the operational `alb-degraded` says that fewer than this many hosts are healthy.
   * @default 1
   */
  readonly minHealthyHosts?: number;
  /**
   * The environment sleeps outside office hours (the group is set to zero, the database stops).
   * The alarms that say "down" (no healthy host, no instance, no database connection, and with high
   * availability fewer healthy hosts than the minimum) then
   * count only while the group is meant to run (its desired capacity is above zero), and allow
   * the boot after a wake ({@link WAKE_GRACE_MINUTES}) before they alarm; asleep, they stay OK.
   * @default false
   */
  readonly sleepsOutsideOfficeHours?: boolean;
}

/** Minutes a waking environment has to boot (the instances' boot timeout plus margin). */
export const WAKE_GRACE_MINUTES = 20;

/** The "down" alarms that an environment with office hours gates on the group's desired capacity. */
export const GATED_WHILE_ASLEEP: readonly AlarmKey[] = [
  'alb-unhealthy',
  'ec2-status-check',
  'rds-no-connections',
];

/** An alarm of the alerts topic: what it watches and how urgent it is. */
export interface AlarmDefinition {
  readonly severity: AlarmSeverity;
  readonly summary: string;
  readonly metric: cloudwatch.IMetric;
  readonly threshold: number;
  readonly comparisonOperator: cloudwatch.ComparisonOperator;
  readonly evaluationPeriods: number;
  readonly treatMissingData: cloudwatch.TreatMissingData;
}

const { GREATER_THAN_THRESHOLD: ABOVE, LESS_THAN_THRESHOLD: BELOW } = cloudwatch.ComparisonOperator;
const { BREACHING, NOT_BREACHING } = cloudwatch.TreatMissingData;

/**
 * The eleven alarms of the specification, each notifying the alerts topic. Periods, statistics,
 * evaluation periods and the handling of missing data are chosen per alarm and explained below.
 * The severity leads every alarm description (`[critical] …`, `[operational] …`).
 */
export class OrchaAlarms extends Construct {
  /** Every alarm, by key (`alb-unhealthy`, …). */
  public readonly alarms: Record<AlarmKey, cloudwatch.Alarm>;
  /** Fewer healthy hosts than `minHealthyHosts` (high availability only). */
  public readonly degraded?: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: OrchaAlarmsProps) {
    super(scope, id);
    const minute = Duration.minutes(1);
    const fiveMinutes = Duration.minutes(5);
    const asgName = props.autoScalingGroup.autoScalingGroupName;
    const t = ALARM_THRESHOLDS;

    const definitions: Record<AlarmKey, AlarmDefinition> = {
      // Minimum per minute, 3 of 3: a single-instance deploy restarts the containers and may
      // miss one health check, an outage of 3 minutes is real. Missing data is breaching: the
      // ALB reports the metric every minute while the target group has targets, and no data
      // means no registered target at all.
      'alb-unhealthy': {
        severity: 'critical',
        summary: 'No healthy target behind the ALB for 3 minutes: the application is unreachable.',
        metric: new cloudwatch.Metric({
          namespace: 'AWS/ApplicationELB',
          metricName: 'HealthyHostCount',
          dimensionsMap: {
            TargetGroup: props.targetGroup.targetGroupFullName,
            LoadBalancer: props.loadBalancer.loadBalancerFullName,
          },
          statistic: 'Minimum',
          period: minute,
        }),
        threshold: 1,
        comparisonOperator: BELOW,
        evaluationPeriods: 3,
        treatMissingData: BREACHING,
      },
      // Minimum per minute, 3 of 3: an instance replacement passes through zero in-service
      // instances for a moment. Missing data is breaching: with group metrics collection on,
      // Auto Scaling reports every minute, even for an empty group.
      'ec2-status-check': {
        severity: 'critical',
        summary: 'No in-service instance in the Auto Scaling group for 3 minutes.',
        metric: new cloudwatch.Metric({
          namespace: 'AWS/AutoScaling',
          metricName: 'GroupInServiceInstances',
          dimensionsMap: { AutoScalingGroupName: asgName },
          statistic: 'Minimum',
          period: minute,
        }),
        threshold: 1,
        comparisonOperator: BELOW,
        evaluationPeriods: 3,
        treatMissingData: BREACHING,
      },
      // "DatabaseConnections = 0": the maximum of a minute below 1, 5 of 5. The application keeps
      // a connection pool open; a restart closes it for seconds, not for 5 minutes. Missing data
      // is breaching: RDS reports every minute while the instance is available.
      'rds-no-connections': {
        severity: 'critical',
        summary: 'No connection to the database for 5 minutes: the application cannot reach PostgreSQL.',
        metric: props.database.metricDatabaseConnections({ statistic: 'Maximum', period: minute }),
        threshold: 1,
        comparisonOperator: BELOW,
        evaluationPeriods: 5,
        treatMissingData: BREACHING,
      },
      // Any message in a dead-letter queue is a failed document: alarm on the first 5-minute
      // maximum above 0. Missing data is not breaching: SQS stops reporting queues that have been
      // empty and idle for hours.
      'ingest-dlq-not-empty': {
        severity: 'critical',
        summary: 'Documents failed processing and are in the ingest dead-letter queue.',
        metric: props.ingestDeadLetterQueue.metricApproximateNumberOfMessagesVisible({
          statistic: 'Maximum',
          period: fiveMinutes,
        }),
        threshold: 0,
        comparisonOperator: ABOVE,
        evaluationPeriods: 1,
        treatMissingData: NOT_BREACHING,
      },
      'email-acquire-dlq-not-empty': {
        severity: 'critical',
        summary: 'E-mails failed acquisition and are in the email-acquire dead-letter queue.',
        metric: props.emailAcquireDeadLetterQueue.metricApproximateNumberOfMessagesVisible({
          statistic: 'Maximum',
          period: fiveMinutes,
        }),
        threshold: 0,
        comparisonOperator: ABOVE,
        evaluationPeriods: 1,
        treatMissingData: NOT_BREACHING,
      },
      // Average of the group's instances (AWS/EC2 by AutoScalingGroupName; basic monitoring
      // reports every 5 minutes), 3 of 3: sustained load for 15 minutes, not a burst. Missing
      // data is not breaching: no instance is the status-check alarm's business.
      'ec2-high-cpu': {
        severity: 'operational',
        summary: `Application instance CPU above ${t.highCpuPercent}% for 15 minutes.`,
        metric: new cloudwatch.Metric({
          namespace: 'AWS/EC2',
          metricName: 'CPUUtilization',
          dimensionsMap: { AutoScalingGroupName: asgName },
          statistic: 'Average',
          period: fiveMinutes,
        }),
        threshold: t.highCpuPercent,
        comparisonOperator: ABOVE,
        evaluationPeriods: 3,
        treatMissingData: NOT_BREACHING,
      },
      // Average over 5 minutes, 3 of 3 (15 minutes sustained). Missing data: not breaching, the
      // no-connections alarm covers an unavailable database.
      'rds-high-cpu': {
        severity: 'operational',
        summary: `Database CPU above ${t.highCpuPercent}% for 15 minutes.`,
        metric: props.database.metricCPUUtilization({ statistic: 'Average', period: fiveMinutes }),
        threshold: t.highCpuPercent,
        comparisonOperator: ABOVE,
        evaluationPeriods: 3,
        treatMissingData: NOT_BREACHING,
      },
      // Minimum over 5 minutes, 1 period: free storage does not flap. Storage autoscaling grows
      // the volume when less than 10% is free, so this alarm says "growth is coming or the
      // maximum is near".
      'rds-low-storage': {
        severity: 'operational',
        summary: 'Database free storage below 5 GiB.',
        metric: props.database.metricFreeStorageSpace({ statistic: 'Minimum', period: fiveMinutes }),
        threshold: t.lowFreeStorageBytes,
        comparisonOperator: BELOW,
        evaluationPeriods: 1,
        treatMissingData: NOT_BREACHING,
      },
      // Maximum over 5 minutes, 3 of 3: during a deploy the old and the new pool overlap for
      // a moment; 15 minutes above 100 is a leak or a load change.
      'rds-high-connections': {
        severity: 'operational',
        summary: `More than ${t.highConnections} database connections for 15 minutes.`,
        metric: props.database.metricDatabaseConnections({ statistic: 'Maximum', period: fiveMinutes }),
        threshold: t.highConnections,
        comparisonOperator: ABOVE,
        evaluationPeriods: 3,
        treatMissingData: NOT_BREACHING,
      },
      // ACM publishes DaysToExpiry once a day: period 1 day, minimum, 1 period. Missing data is not
      // breaching (a late daily data point is not an expiry). DNS-validated certificates renew
      // themselves 60 days ahead, so this alarm means renewal is stuck.
      'cert-expiring': {
        severity: 'operational',
        summary: `The ALB certificate expires in less than ${t.certificateExpiryDays} days: automatic renewal is stuck.`,
        metric: props.certificate.metricDaysToExpiry({ statistic: 'Minimum', period: Duration.days(1) }),
        threshold: t.certificateExpiryDays,
        comparisonOperator: BELOW,
        evaluationPeriods: 1,
        treatMissingData: NOT_BREACHING,
      },
      // Maximum over 5 minutes, 3 of 3: a burst of uploads is normal, a backlog that stays above
      // 500 for 15 minutes means the worker is not keeping up. Idle queues stop reporting.
      'ingest-backlog': {
        severity: 'operational',
        summary: `More than ${t.ingestBacklogMessages} documents waiting in the ingest queue for 15 minutes: the worker is not keeping up.`,
        metric: props.ingestQueue.metricApproximateNumberOfMessagesVisible({
          statistic: 'Maximum',
          period: fiveMinutes,
        }),
        threshold: t.ingestBacklogMessages,
        comparisonOperator: ABOVE,
        evaluationPeriods: 3,
        treatMissingData: NOT_BREACHING,
      },
    };

    // The ALB's healthy hosts, before any gating (alb-degraded compares it with another threshold).
    const healthyHosts = definitions['alb-unhealthy'].metric;
    /**
     * Office hours: `metric` while the group is meant to run (desired capacity above zero; no
     * data then counts as `missing`), and `asleep` while it sleeps: a value on the OK side of the
     * alarm's threshold, so that it is OK, not ALARM and not INSUFFICIENT_DATA.
     */
    const whileAwake = (metric: cloudwatch.IMetric, missing: number, asleep: number, label: string) =>
      new cloudwatch.MathExpression({
        expression: `IF(desired > 0, FILL(m, ${missing}), ${asleep})`,
        usingMetrics: {
          m: metric,
          desired: new cloudwatch.Metric({
            namespace: 'AWS/AutoScaling',
            metricName: 'GroupDesiredCapacity',
            dimensionsMap: { AutoScalingGroupName: asgName },
            statistic: 'Maximum',
            period: minute,
          }),
        },
        period: minute,
        label,
      });
    if (props.sleepsOutsideOfficeHours) {
      // Awake, missing data stays breaching as before (0 is below the threshold of 1); asleep 1.
      for (const key of GATED_WHILE_ASLEEP) {
        const d = definitions[key];
        definitions[key] = {
          ...d,
          metric: whileAwake(d.metric, 0, 1, `${key} while the group is meant to run`),
          evaluationPeriods: Math.max(d.evaluationPeriods, WAKE_GRACE_MINUTES),
        };
      }
    }

    const alarms: Partial<Record<AlarmKey, cloudwatch.Alarm>> = {};
    for (const key of ALARM_KEYS) {
      alarms[key] = notifyingAlarm(this, pascalCase(key), {
        alarmName: props.alarmName(key),
        definition: definitions[key],
        topic: props.topic,
        pageOnCritical: props.pageOnCritical,
      });
    }
    this.alarms = alarms as Record<AlarmKey, cloudwatch.Alarm>;

    const minHealthy = props.minHealthyHosts ?? 1;
    if (minHealthy > 1) {
      // Minimum per minute, 5 of 5: a rolling replacement takes one host out for a moment; five
      // minutes below the group's minimum means an instance is failing. Missing data is not
      // breaching: no data at all is alb-unhealthy's business (critical).
      this.degraded = notifyingAlarm(this, 'AlbDegraded', {
        alarmName: props.alarmName('alb-degraded'),
        topic: props.topic,
        definition: {
          severity: 'operational',
          summary: `Fewer than ${minHealthy} healthy targets behind the ALB for 5 minutes: the application runs without its redundancy.`,
          // Office hours: asleep, and with no data, the threshold itself (not below it: OK).
          metric: props.sleepsOutsideOfficeHours
            ? whileAwake(healthyHosts, minHealthy, minHealthy, 'alb-degraded while the group is meant to run')
            : healthyHosts,
          threshold: minHealthy,
          comparisonOperator: BELOW,
          evaluationPeriods: props.sleepsOutsideOfficeHours ? WAKE_GRACE_MINUTES : 5,
          treatMissingData: NOT_BREACHING,
        },
      });
    }

    const asg = props.autoScalingGroup;
    if (asg instanceof autoscaling.AutoScalingGroup) {
      this.node.addValidation({ validate: () => groupMetricsErrors(asg) });
    }
  }
}

/**
 * An alarm notifying the topic: ALARM transitions, and OK transitions of critical alarms. The
 * severity leads the description. Critical alarms notify only when `pageOnCritical` (default true).
 */
export function notifyingAlarm(
  scope: Construct,
  id: string,
  props: {
    readonly alarmName: string;
    readonly definition: AlarmDefinition;
    readonly topic: sns.ITopic;
    readonly pageOnCritical?: boolean;
  },
): cloudwatch.Alarm {
  const d = props.definition;
  const action = new actions.SnsAction(props.topic);
  const alarm = new cloudwatch.Alarm(scope, id, {
    alarmName: props.alarmName,
    alarmDescription: `[${d.severity}] ${d.summary}`,
    metric: d.metric,
    threshold: d.threshold,
    comparisonOperator: d.comparisonOperator,
    evaluationPeriods: d.evaluationPeriods,
    datapointsToAlarm: d.evaluationPeriods,
    treatMissingData: d.treatMissingData,
    // The actions stay attached, so turning paging on is one configuration switch.
    actionsEnabled: d.severity !== 'critical' || (props.pageOnCritical ?? true),
  });
  alarm.addAlarmAction(action);
  if (d.severity === 'critical' && !(props.pageOnCritical ?? true)) {
    acknowledge(
      alarm,
      'NIST.800.53.R5-CloudWatchAlarmAction',
      `Critical alarm ${props.alarmName} has its topic action attached but disabled by configuration (monitoring.pageOnCriticalAlarms: false, outside prod): its state shows in CloudWatch for whoever works on this environment, and nobody is paged for an environment that is torn down and rebuilt freely. One switch turns paging on.`,
    );
  }
  // Critical alarms also say when they clear, so whoever was paged knows it is over.
  if (d.severity === 'critical') alarm.addOkAction(action);
  return alarm;
}

/**
 * GroupInServiceInstances is published only when the group collects group metrics; without it
 * the status-check alarm (missing data = breaching) would be in alarm for ever.
 */
function groupMetricsErrors(asg: autoscaling.AutoScalingGroup): string[] {
  const cfn = asg.node.defaultChild as autoscaling.CfnAutoScalingGroup;
  const collections: unknown = Stack.of(asg).resolve(cfn.metricsCollection);
  const collected =
    Array.isArray(collections) &&
    collections.some(
      (c: { metrics?: string[] }) => !c.metrics || c.metrics.includes('GroupInServiceInstances'),
    );
  return collected
    ? []
    : [
        `The alarm on GroupInServiceInstances needs group metrics collection on ${asg.node.path}: ` +
          'set groupMetrics: [autoscaling.GroupMetrics.all()] (or one with GroupMetric.IN_SERVICE_INSTANCES).',
      ];
}

function pascalCase(key: string): string {
  return key
    .split('-')
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('');
}
