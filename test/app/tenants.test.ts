import * as zlib from 'node:zlib';
import { Template } from 'aws-cdk-lib/assertions';
import { parse } from 'yaml';
import { environments } from '../../lib/config/environments';
import { ConfigError, loadEnvironment } from '../../lib/config/load';
import type { EnvironmentInput } from '../../lib/config/schema';
import { buildStagesFrom, resourcesOf } from '../helpers';

// Per-tenant queues and workers (queues.tenants), through the whole stage: two tenants in a test
// configuration of prod produce exactly their queues, alarms, IAM and compose services; none
// produces none.
const TENANTS = [
  { name: 'acme', workers: 2 },
  { name: 'big-co', workers: 1, visibilityTimeoutSeconds: 900, backlogAlarmThreshold: 100 },
];
function withTenants(env: string, tenants: unknown): Record<string, EnvironmentInput> {
  const base = environments[env]!;
  return { ...environments, [env]: { ...base, queues: { ...base.queues, tenants } } as EnvironmentInput };
}

// Staging loads from the same set unchanged (its tenants are none).
const { prod: two, staging: none } = buildStagesFrom(withTenants('prod', TENANTS), 'prod', 'staging');
const t = {
  foundation: Template.fromStack(two.foundation),
  compute: Template.fromStack(two.compute),
  ops: Template.fromStack(two.ops),
};
const n = {
  foundation: Template.fromStack(none.foundation),
  compute: Template.fromStack(none.compute),
  ops: Template.fromStack(none.ops),
};

const queueNames = (tpl: Template) => resourcesOf(tpl, 'AWS::SQS::Queue').map(([, p]) => String(p.QueueName));
const tenantQueue = (tpl: Template, name: string) =>
  resourcesOf(tpl, 'AWS::SQS::Queue').find(([, p]) => p.QueueName === name)!;

/** The compose file the boot script writes (gzipped and base64-encoded in the user data). */
function composeOf(compute: Template): Record<string, unknown> {
  const [, lt] = resourcesOf(compute, 'AWS::EC2::LaunchTemplate')[0]!;
  const userData = JSON.stringify((lt.LaunchTemplateData as { UserData: unknown }).UserData);
  const marker = 'base64 -d <<\'ORCHA_EOF\' | gunzip > \\"$ROOT/opt/orcha/docker-compose.yml\\"\\n';
  const start = userData.indexOf(marker);
  expect(start).toBeGreaterThan(0);
  const body = userData.slice(start + marker.length);
  const packed = body.slice(0, body.indexOf('\\nORCHA_EOF')).replace(/\\n/g, '');
  return parse(zlib.gunzipSync(Buffer.from(packed, 'base64')).toString('utf8')) as Record<string, unknown>;
}

describe('two tenants', () => {
  test('exactly their queues and DLQs, named through the naming module, besides the shared ones', () => {
    expect(queueNames(t.foundation).sort()).toEqual(
      [
        'v1-orcha-global-ingest',
        'v1-orcha-global-ingest-dlq',
        'v1-orcha-global-email-acquire',
        'v1-orcha-global-email-acquire-dlq',
        'v1-orcha-tenant-acme-ingest',
        'v1-orcha-tenant-acme-ingest-dlq',
        'v1-orcha-tenant-big-co-ingest',
        'v1-orcha-tenant-big-co-ingest-dlq',
      ].sort(),
    );
  });

  test('encrypted, TLS-only, retained, with their DLQ and visibility timeout (the shared one by default)', () => {
    for (const [name, timeout] of [
      ['v1-orcha-tenant-acme-ingest', 600],
      ['v1-orcha-tenant-big-co-ingest', 900],
    ] as const) {
      const [id, queue] = tenantQueue(t.foundation, name);
      const [dlqId] = tenantQueue(t.foundation, `${name}-dlq`);
      expect(queue).toMatchObject({
        SqsManagedSseEnabled: true,
        VisibilityTimeout: timeout,
        RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [dlqId, 'Arn'] }, maxReceiveCount: 3 },
      });
      const resources = t.foundation.toJSON().Resources as Record<string, { DeletionPolicy?: string }>;
      expect(resources[id]!.DeletionPolicy).toBe('Retain');
      expect(resources[dlqId]!.DeletionPolicy).toBe('Retain');
      for (const q of [id, dlqId]) {
        const policy = resourcesOf(t.foundation, 'AWS::SQS::QueuePolicy').find(([, p]) =>
          JSON.stringify(p.Queues).includes(q),
        )![1];
        expect(JSON.stringify(policy.PolicyDocument)).toContain('"aws:SecureTransport":"false"');
      }
    }
  });

  test('a DLQ alarm (critical) and a backlog alarm (its threshold, 500 by default) each, to the alerts topic', () => {
    const topic = resourcesOf(t.ops, 'AWS::SNS::Topic')[0]![0];
    const alarms = Object.fromEntries(
      resourcesOf(t.ops, 'AWS::CloudWatch::Alarm')
        .filter(([, p]) => String(p.AlarmName).includes('-tenant-'))
        .map(([, p]) => [String(p.AlarmName), p]),
    ) as Record<string, Record<string, unknown>>;
    expect(Object.keys(alarms).sort()).toEqual(
      [
        'v1-orcha-tenant-acme-backlog',
        'v1-orcha-tenant-acme-dlq-not-empty',
        'v1-orcha-tenant-big-co-backlog',
        'v1-orcha-tenant-big-co-dlq-not-empty',
      ].sort(),
    );
    expect(alarms['v1-orcha-tenant-acme-backlog']).toMatchObject({ Threshold: 500, EvaluationPeriods: 3 });
    expect(alarms['v1-orcha-tenant-big-co-backlog']).toMatchObject({ Threshold: 100 });
    expect(alarms['v1-orcha-tenant-acme-dlq-not-empty']).toMatchObject({
      Threshold: 0,
      AlarmDescription: expect.stringMatching(/^\[critical\]/),
      OKActions: [{ Ref: topic }],
    });
    for (const alarm of Object.values(alarms)) expect(alarm.AlarmActions).toEqual([{ Ref: topic }]);
    // Each on its own queue.
    expect(JSON.stringify(alarms['v1-orcha-tenant-big-co-dlq-not-empty']!.Dimensions)).toContain(
      'TenantBigCoDlq',
    );
  });

  test('the instance role consumes exactly the shared and the tenant queues', () => {
    const policies = resourcesOf(t.compute, 'AWS::IAM::Policy').map(([, p]) =>
      JSON.stringify(p.PolicyDocument),
    );
    const receive = policies.join('\n');
    for (const id of ['TenantAcmeQueue', 'TenantBigCoQueue', 'IngestQueue', 'EmailAcquireQueue']) {
      expect(receive).toMatch(new RegExp(`sqs:ReceiveMessage[^\\]]*\\][^]*${id}`));
    }
    // Not the DLQs: only redrive-dlq (an operator) moves their messages.
    expect(receive).not.toMatch(/TenantAcmeDlq|TenantBigCoDlq/);
  });

  test('one compose worker service per tenant, polling only its queue', () => {
    const services = composeOf(t.compute).services as Record<string, Record<string, unknown>>;
    expect(Object.keys(services).sort()).toEqual([
      'app',
      'worker',
      'worker-tenant-acme',
      'worker-tenant-big-co',
    ]);
    const acme = services['worker-tenant-acme']!;
    expect(acme).toMatchObject({
      command: ['worker'],
      deploy: { replicas: 2 },
      environment: {
        ORCHA_TENANT: 'acme',
        INGEST_QUEUE_URL: 'https://sqs.eu-central-1.amazonaws.com/700558745280/v1-orcha-tenant-acme-ingest',
        EMAIL_ACQUIRE_QUEUE_URL: '',
      },
      labels: { 'com.getorcha.service': 'worker-tenant-acme' },
    });
    // The same image, settings and logging as the shared worker (the YAML merge of x-service).
    expect(acme.image).toBe(services.worker!.image);
    expect(acme.env_file).toEqual(services.worker!.env_file);
    expect(acme.ports).toBeUndefined();
    expect(services['worker-tenant-big-co']).toMatchObject({
      deploy: { replicas: 1 },
      environment: {
        INGEST_QUEUE_URL: 'https://sqs.eu-central-1.amazonaws.com/700558745280/v1-orcha-tenant-big-co-ingest',
      },
    });
  });
});

describe('no tenants', () => {
  test('no tenant queue, alarm, permission or compose service', () => {
    expect(queueNames(n.foundation).filter((q) => q.includes('tenant'))).toEqual([]);
    expect(
      resourcesOf(n.ops, 'AWS::CloudWatch::Alarm').filter(([, p]) => String(p.AlarmName).includes('tenant')),
    ).toEqual([]);
    expect(JSON.stringify(n.compute.toJSON())).not.toContain('Tenant');
    expect(Object.keys(composeOf(n.compute).services as object).sort()).toEqual(['app', 'worker']);
  });
});

describe('validation', () => {
  const load = (tenants: unknown) => () => loadEnvironment('prod', withTenants('prod', tenants));

  test.each([
    ['Acme', 'upper case'],
    ['a', 'too short'],
    ['acme_co', 'underscore'],
    ['-acme', 'leading hyphen'],
    ['acme-', 'trailing hyphen'],
    ['x'.repeat(25), 'too long'],
    ['1acme', 'leading digit'],
  ])('%s (%s) is rejected with one message naming the field and the value', (name) => {
    expect(load([{ name, workers: 1 }])).toThrow(ConfigError);
    expect(load([{ name, workers: 1 }])).toThrow(
      `Invalid configuration for environment "prod": queues.tenants.0.name = ${JSON.stringify(name)}: must be 2-24 lower-case letters, digits or hyphens, start with a letter and end with a letter or digit (it is part of queue, alarm and compose service names)`,
    );
  });

  test('a duplicate name (hyphens aside) is rejected naming both entries', () => {
    expect(
      load([
        { name: 'acme', workers: 1 },
        { name: 'big-co', workers: 1 },
        { name: 'bigco', workers: 1 },
      ]),
    ).toThrow(
      'Invalid configuration for environment "prod": queues.tenants.2.name = "bigco": must be unique (hyphens aside): queues.tenants.1.name is "big-co"',
    );
  });

  test('worker count and visibility timeout are bounded; unknown fields are refused', () => {
    expect(load([{ name: 'acme', workers: 0 }])).toThrow(/queues\.tenants\.0\.workers = 0/);
    expect(load([{ name: 'acme', workers: 1, visibilityTimeoutSeconds: 50000 }])).toThrow(
      /queues\.tenants\.0\.visibilityTimeoutSeconds = 50000/,
    );
    expect(load([{ name: 'acme', workers: 1, queue: 'x' }])).toThrow(/unknown field\(s\) queue/);
  });
});
