import { App, Stack } from 'aws-cdk-lib';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Template } from 'aws-cdk-lib/assertions';
import { readFileSync } from 'node:fs';
import { environmentNames, loadEnvironment } from '../../lib/config/load';
import { Naming } from '../../lib/config/naming';
import { ALARM_KEYS, OrchaAlarms } from '../../lib/constructs/alarms';
import { exportOf, logicalId, outputNames, prodAndStagingOps, resourcesOf } from '../helpers';
import { FakeComputeStack } from '../helpers/fake-compute-stack';
import { projectPath } from '../../lib/config/project';

const env = { account: '700558745280', region: 'eu-central-1' };

/** Synthesizes the alarm set over an ASG that collects the given group metrics. */
function synthWith(groupMetrics: autoscaling.GroupMetrics[]): App {
  const app = new App();
  const network = new Stack(app, 'Network', { env });
  const vpc = new ec2.Vpc(network, 'Vpc', { natGateways: 0, maxAzs: 2 });
  const compute = new FakeComputeStack(app, 'Compute', {
    env,
    vpc,
    naming: new Naming('dev'),
    zoneName: 'dev.getorcha.com',
    groupMetrics,
  });
  const stack = new Stack(app, 'Ops', { env });
  new OrchaAlarms(stack, 'Alarms', {
    alarmName: (key) => `test-${key}`,
    topic: new sns.Topic(stack, 'Topic'),
    targetGroup: compute.targetGroup,
    loadBalancer: compute.loadBalancer,
    autoScalingGroup: compute.autoScalingGroup,
    database: rds.DatabaseInstance.fromDatabaseInstanceAttributes(stack, 'Db', {
      instanceIdentifier: 'test-db',
      instanceEndpointAddress: 'test-db.example.com',
      port: 5432,
      securityGroups: [],
    }),
    ingestQueue: sqs.Queue.fromQueueArn(stack, 'Ingest', 'arn:aws:sqs:eu-central-1:700558745280:ingest'),
    ingestDeadLetterQueue: sqs.Queue.fromQueueArn(
      stack,
      'IngestDlq',
      'arn:aws:sqs:eu-central-1:700558745280:ingest-dlq',
    ),
    emailAcquireDeadLetterQueue: sqs.Queue.fromQueueArn(
      stack,
      'EmailDlq',
      'arn:aws:sqs:eu-central-1:700558745280:email-dlq',
    ),
    certificate: compute.certificate,
  });
  app.synth();
  return app;
}

describe('OrchaAlarms: the status-check alarm needs group metrics', () => {
  test('synth fails, naming the group and the fix, when the ASG collects no group metrics', () => {
    expect(() => synthWith([])).toThrow(
      /GroupInServiceInstances needs group metrics collection on Compute\/Asg: set groupMetrics/,
    );
  });

  test('synth fails when the collected metrics leave out GroupInServiceInstances', () => {
    expect(() => synthWith([new autoscaling.GroupMetrics(autoscaling.GroupMetric.DESIRED_CAPACITY)])).toThrow(
      /needs group metrics collection/,
    );
  });

  test('synth succeeds with GroupInServiceInstances collected, or all group metrics', () => {
    for (const metrics of [
      [new autoscaling.GroupMetrics(autoscaling.GroupMetric.IN_SERVICE_INSTANCES)],
      [autoscaling.GroupMetrics.all()],
    ]) {
      const app = synthWith(metrics);
      const template = Template.fromStack(app.node.findChild('Ops') as Stack);
      template.resourceCountIs('AWS::CloudWatch::Alarm', ALARM_KEYS.length);
    }
  });
});

// The alarm set as the Ops stack builds it in prod and staging.
// prod and staging built by buildApp as `cdk synth` builds them (one App), each synthesized once.
const { prod, staging, prodTemplate, stagingTemplate, topic } = prodAndStagingOps();

function alarm(template: Template, name: string): Record<string, unknown> {
  const found = resourcesOf(template, 'AWS::CloudWatch::Alarm').filter(([, p]) => p.AlarmName === name);
  expect(found).toHaveLength(1);
  return found[0][1];
}

function dimensionNames(props: Record<string, unknown>): string[] {
  return (props.Dimensions as { Name: string }[]).map((d) => d.Name).sort();
}

describe('OpsStack (prod): alarms', () => {
  const GIB = 1024 ** 3;
  const cases: {
    name: string;
    namespace: string;
    metric: string;
    dims: string[];
    statistic: string;
    period: number;
    operator: string;
    threshold: number;
    evaluationPeriods: number;
    missing: string;
    severity: 'critical' | 'operational';
  }[] = [
    {
      name: 'v1-orcha-alb-unhealthy',
      namespace: 'AWS/ApplicationELB',
      metric: 'HealthyHostCount',
      dims: ['LoadBalancer', 'TargetGroup'],
      statistic: 'Minimum',
      period: 60,
      operator: 'LessThanThreshold',
      threshold: 1,
      evaluationPeriods: 3,
      missing: 'breaching',
      severity: 'critical',
    },
    {
      name: 'v1-orcha-ec2-status-check',
      namespace: 'AWS/AutoScaling',
      metric: 'GroupInServiceInstances',
      dims: ['AutoScalingGroupName'],
      statistic: 'Minimum',
      period: 60,
      operator: 'LessThanThreshold',
      threshold: 1,
      evaluationPeriods: 3,
      missing: 'breaching',
      severity: 'critical',
    },
    {
      name: 'v1-orcha-rds-no-connections',
      namespace: 'AWS/RDS',
      metric: 'DatabaseConnections',
      dims: ['DBInstanceIdentifier'],
      statistic: 'Maximum',
      period: 60,
      operator: 'LessThanThreshold',
      threshold: 1,
      evaluationPeriods: 5,
      missing: 'breaching',
      severity: 'critical',
    },
    {
      name: 'v1-orcha-ingest-dlq-not-empty',
      namespace: 'AWS/SQS',
      metric: 'ApproximateNumberOfMessagesVisible',
      dims: ['QueueName'],
      statistic: 'Maximum',
      period: 300,
      operator: 'GreaterThanThreshold',
      threshold: 0,
      evaluationPeriods: 1,
      missing: 'notBreaching',
      severity: 'critical',
    },
    {
      name: 'v1-orcha-email-acquire-dlq-not-empty',
      namespace: 'AWS/SQS',
      metric: 'ApproximateNumberOfMessagesVisible',
      dims: ['QueueName'],
      statistic: 'Maximum',
      period: 300,
      operator: 'GreaterThanThreshold',
      threshold: 0,
      evaluationPeriods: 1,
      missing: 'notBreaching',
      severity: 'critical',
    },
    {
      name: 'v1-orcha-ec2-high-cpu',
      namespace: 'AWS/EC2',
      metric: 'CPUUtilization',
      dims: ['AutoScalingGroupName'],
      statistic: 'Average',
      period: 300,
      operator: 'GreaterThanThreshold',
      threshold: 80,
      evaluationPeriods: 3,
      missing: 'notBreaching',
      severity: 'operational',
    },
    {
      name: 'v1-orcha-rds-high-cpu',
      namespace: 'AWS/RDS',
      metric: 'CPUUtilization',
      dims: ['DBInstanceIdentifier'],
      statistic: 'Average',
      period: 300,
      operator: 'GreaterThanThreshold',
      threshold: 80,
      evaluationPeriods: 3,
      missing: 'notBreaching',
      severity: 'operational',
    },
    {
      name: 'v1-orcha-rds-low-storage',
      namespace: 'AWS/RDS',
      metric: 'FreeStorageSpace',
      dims: ['DBInstanceIdentifier'],
      statistic: 'Minimum',
      period: 300,
      operator: 'LessThanThreshold',
      threshold: 5 * GIB,
      evaluationPeriods: 1,
      missing: 'notBreaching',
      severity: 'operational',
    },
    {
      name: 'v1-orcha-rds-high-connections',
      namespace: 'AWS/RDS',
      metric: 'DatabaseConnections',
      dims: ['DBInstanceIdentifier'],
      statistic: 'Maximum',
      period: 300,
      operator: 'GreaterThanThreshold',
      threshold: 100,
      evaluationPeriods: 3,
      missing: 'notBreaching',
      severity: 'operational',
    },
    {
      name: 'v1-orcha-cert-expiring',
      namespace: 'AWS/CertificateManager',
      metric: 'DaysToExpiry',
      dims: ['CertificateArn'],
      statistic: 'Minimum',
      period: 86400,
      operator: 'LessThanThreshold',
      threshold: 14,
      evaluationPeriods: 1,
      missing: 'notBreaching',
      severity: 'operational',
    },
    {
      name: 'v1-orcha-ingest-backlog',
      namespace: 'AWS/SQS',
      metric: 'ApproximateNumberOfMessagesVisible',
      dims: ['QueueName'],
      statistic: 'Maximum',
      period: 300,
      operator: 'GreaterThanThreshold',
      threshold: 500,
      evaluationPeriods: 3,
      missing: 'notBreaching',
      severity: 'operational',
    },
  ];

  test('exactly the eleven alarms of the specification, plus the two of the credential rotation', () => {
    const names = resourcesOf(prodTemplate, 'AWS::CloudWatch::Alarm').map(([, p]) => p.AlarmName);
    expect(names.sort()).toEqual(
      [...cases.map((c) => c.name), 'v1-orcha-db-rotation-errors', 'v1-orcha-app-restart-errors'].sort(),
    );
    expect(Object.keys(prod.ops.alarms.alarms).sort()).toEqual([...ALARM_KEYS].sort());
  });

  test.each(cases)('$name: $metric $operator $threshold', (c) => {
    const p = alarm(prodTemplate, c.name);
    expect(p).toMatchObject({
      Namespace: c.namespace,
      MetricName: c.metric,
      Statistic: c.statistic,
      Period: c.period,
      ComparisonOperator: c.operator,
      Threshold: c.threshold,
      EvaluationPeriods: c.evaluationPeriods,
      DatapointsToAlarm: c.evaluationPeriods,
      TreatMissingData: c.missing,
      AlarmActions: [topic()],
    });
    expect(dimensionNames(p)).toEqual(c.dims);
    expect(p.AlarmDescription).toMatch(new RegExp(`^\\[${c.severity}\\] `));
    if (c.severity === 'critical') {
      expect(p.OKActions).toEqual([topic()]);
    } else {
      expect(p.OKActions).toBeUndefined();
    }
  });

  test('dimensions point at the right resources', () => {
    const f = prod.foundation;
    const d = prod.data;
    const c = prod.compute;
    const dim = (name: string, key: string) =>
      (alarm(prodTemplate, name).Dimensions as { Name: string; Value: unknown }[]).find((x) => x.Name === key)
        ?.Value;
    expect(outputNames(dim('v1-orcha-ingest-dlq-not-empty', 'QueueName'))).toEqual([
      exportOf(f, f.ingest.deadLetterQueue.queueName),
    ]);
    expect(outputNames(dim('v1-orcha-email-acquire-dlq-not-empty', 'QueueName'))).toEqual([
      exportOf(f, f.emailAcquire.deadLetterQueue.queueName),
    ]);
    expect(outputNames(dim('v1-orcha-ingest-backlog', 'QueueName'))).toEqual([
      exportOf(f, f.ingest.queue.queueName),
    ]);
    for (const name of ['v1-orcha-rds-no-connections', 'v1-orcha-rds-high-cpu', 'v1-orcha-rds-low-storage']) {
      expect(outputNames(dim(name, 'DBInstanceIdentifier'))).toEqual([
        exportOf(d, d.database.instanceIdentifier),
      ]);
    }
    const asgOutput = exportOf(c, c.autoScalingGroup.autoScalingGroupName);
    expect(outputNames(dim('v1-orcha-ec2-status-check', 'AutoScalingGroupName'))).toEqual([asgOutput]);
    expect(outputNames(dim('v1-orcha-ec2-high-cpu', 'AutoScalingGroupName'))).toEqual([asgOutput]);
    expect(outputNames(dim('v1-orcha-cert-expiring', 'CertificateArn'))).toEqual([
      exportOf(c, c.certificate.certificateArn),
    ]);
    expect(outputNames(dim('v1-orcha-alb-unhealthy', 'TargetGroup'))).toEqual([
      exportOf(c, c.targetGroup.targetGroupFullName),
    ]);
    // The load balancer's LoadBalancerFullName attribute, whole (not parsed from an ARN).
    expect(dim('v1-orcha-alb-unhealthy', 'LoadBalancer')).toEqual({
      'Fn::GetStackOutput': expect.objectContaining({
        OutputName: exportOf(c, c.loadBalancer.loadBalancerFullName),
      }) as unknown,
    });
  });
});

describe('OpsStack: who is notified, per environment (docs/runbooks/alarms.md)', () => {
  type Behaviour = 'pages' | 'mails' | 'silent';
  /** What an alarm of a synthesized template does: notify on ALARM and OK, ALARM only, or nobody. */
  const behaviours = (template: Template, env: string): Record<string, [string, Behaviour]> => {
    const topicRef = JSON.stringify({ Ref: logicalId((env === 'prod' ? prod : staging).ops.alertsTopic) });
    const prefix = env === 'prod' ? 'v1-orcha-' : `v1-orcha-${env}-`;
    return Object.fromEntries(
      resourcesOf(template, 'AWS::CloudWatch::Alarm').map(([, p]) => {
        const severity = /^\[(\w+)\]/.exec(p.AlarmDescription as string)![1];
        const onAlarm = JSON.stringify(p.AlarmActions) === `[${topicRef}]`;
        const onOk = JSON.stringify(p.OKActions ?? []) === `[${topicRef}]`;
        expect(onAlarm).toBe(true); // the action stays attached: paging is one switch
        const behaviour: Behaviour = p.ActionsEnabled === false ? 'silent' : onOk ? 'pages' : 'mails';
        return [(p.AlarmName as string).slice(prefix.length), [severity, behaviour]];
      }),
    );
  };
  /** The table of the runbook: alarm → severity and one cell per environment column. */
  const table = () => {
    const doc = readFileSync(projectPath('docs', 'runbooks', 'alarms.md'), 'utf8');
    const section = doc.split('## Who is notified, per environment')[1].split('\n## ')[0];
    const rows = section
      .split('\n')
      .filter((l) => l.startsWith('|'))
      .map((l) =>
        l
          .split('|')
          .slice(1, -1)
          .map((c) => c.trim().replace(/`/g, '')),
      );
    const [header, , ...body] = rows;
    return { columns: header.slice(2), rows: body };
  };

  test('the table lists every alarm with its severity, and every environment', () => {
    const { columns, rows } = table();
    expect([...columns].sort()).toEqual([...environmentNames()].sort());
    expect(rows.map((r) => r[0]).sort()).toEqual([...ALARM_KEYS].sort());
    const synthesized = behaviours(prodTemplate, 'prod');
    for (const [key, severity] of rows) expect(synthesized[key][0]).toBe(severity);
  });

  test('prod and staging alarms do what the table says', () => {
    const { columns, rows } = table();
    for (const [env, template] of [
      ['prod', prodTemplate],
      ['staging', stagingTemplate],
    ] as const) {
      const synthesized = behaviours(template, env);
      const column = columns.indexOf(env) + 2;
      for (const row of rows) expect([row[0], synthesized[row[0]][1]]).toEqual([row[0], row[column]]);
    }
  });

  test('every column follows its configuration: critical alarms page only where pageOnCriticalAlarms', () => {
    const { columns, rows } = table();
    for (const env of columns) {
      const pages = loadEnvironment(env).monitoring.pageOnCriticalAlarms;
      const column = columns.indexOf(env) + 2;
      for (const [key, severity, ...cells] of rows) {
        const expected = severity === 'critical' ? (pages ? 'pages' : 'silent') : 'mails';
        expect([env, key, cells[column - 2]]).toEqual([env, key, expected]);
      }
    }
    expect(loadEnvironment('prod').monitoring.pageOnCriticalAlarms).toBe(true);
    expect(loadEnvironment('staging').monitoring.pageOnCriticalAlarms).toBe(false);
  });
});
