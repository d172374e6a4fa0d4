import { App, Stack } from 'aws-cdk-lib';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Template } from 'aws-cdk-lib/assertions';
import { Naming } from '../../lib/config/naming';
import { ALARM_KEYS, OrchaAlarms } from '../../lib/constructs/alarms';
import { FakeComputeStack } from './support/platform';

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
