import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import type { TenantQueues } from '../stacks/foundation-stack';
import { pascalCase } from '../stacks/foundation-stack';
import { ALARM_THRESHOLDS, notifyingAlarm } from './alarms';

export interface TenantAlarmsProps {
  /** The tenants' queues (FoundationStack.tenantQueues). */
  readonly tenants: readonly TenantQueues[];
  /** Gives an alarm its physical name from its key (`tenant-<name>-backlog`), e.g. `naming.alarm`. */
  readonly alarmName: (key: string) => string;
  readonly topic: sns.ITopic;
  /**
   * Whether the critical DLQ alarms notify the topic (as the shared queues' DLQ alarms).
   * @default true
   */
  readonly pageOnCritical?: boolean;
}

/**
 * Per tenant, the two alarms the shared ingest queue has: documents in its dead-letter queue
 * (critical) and a backlog above the tenant's threshold for 15 minutes (operational).
 */
export class TenantAlarms extends Construct {
  /** By tenant name: its DLQ and backlog alarms. */
  public readonly alarms: Record<string, { dlq: cloudwatch.Alarm; backlog: cloudwatch.Alarm }> = {};

  constructor(scope: Construct, id: string, props: TenantAlarmsProps) {
    super(scope, id);
    const fiveMinutes = Duration.minutes(5);
    for (const { tenant, queue, deadLetterQueue } of props.tenants) {
      const threshold = tenant.backlogAlarmThreshold ?? ALARM_THRESHOLDS.ingestBacklogMessages;
      const common = { topic: props.topic, pageOnCritical: props.pageOnCritical };
      const key = pascalCase(tenant.name);
      this.alarms[tenant.name] = {
        // As ingest-dlq-not-empty: any message is a failed document; idle queues stop reporting.
        dlq: notifyingAlarm(this, `${key}DlqNotEmpty`, {
          ...common,
          alarmName: props.alarmName(`tenant-${tenant.name}-dlq-not-empty`),
          definition: {
            severity: 'critical',
            summary: `Documents of tenant ${tenant.name} failed processing and are in its dead-letter queue.`,
            metric: deadLetterQueue.metricApproximateNumberOfMessagesVisible({
              statistic: 'Maximum',
              period: fiveMinutes,
            }),
            threshold: 0,
            comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            evaluationPeriods: 1,
            treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
          },
        }),
        // As ingest-backlog: the maximum of 5 minutes above the threshold, 3 of 3.
        backlog: notifyingAlarm(this, `${key}Backlog`, {
          ...common,
          alarmName: props.alarmName(`tenant-${tenant.name}-backlog`),
          definition: {
            severity: 'operational',
            summary: `More than ${threshold} documents of tenant ${tenant.name} waiting for 15 minutes: its ${tenant.workers} worker(s) per instance are not keeping up.`,
            metric: queue.metricApproximateNumberOfMessagesVisible({
              statistic: 'Maximum',
              period: fiveMinutes,
            }),
            threshold,
            comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
            evaluationPeriods: 3,
            treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
          },
        }),
      };
    }
  }
}
