/**
 * The wake function as Lambda runs it: the bundle `lambdaCode` stages (esbuild, the SDK left to
 * the runtime), loaded by plain Node.js and invoked twice as CodePipeline does, against a local
 * endpoint that answers the RDS, Auto Scaling and CodePipeline APIs (AWS_ENDPOINT_URL). It shows
 * what the unit tests cannot: the bundle loads with only `@aws-sdk/*` from the runtime, and its
 * calls go out in each service's wire format with the right parameters.
 */
import { STAGING_SLEEP_AFTER_WAKE } from '../helpers/ops';
import { App, Stack } from 'aws-cdk-lib';
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { lambdaCode } from '../../lib/constructs/esbuild-bundling';
import { projectPath } from '../../lib/config/project';

interface Call {
  /** `rds:StartDBInstance`, `codepipeline:PutJobSuccessResult`, … */
  readonly api: string;
  readonly params: Record<string, unknown>;
}

let work: string;
let bundle: string;
let server: Server;
let calls: Call[];
/** What the fake AWS reports. */
let world: { db: string; desired: number; inService: number };

/** `Action=StartDBInstance&Version=…&DBInstanceIdentifier=…` (the query protocol) as an object. */
function form(body: string): Record<string, string> {
  return Object.fromEntries(new URLSearchParams(body));
}

function answer(req: IncomingMessage, body: string): { type: string; text: string } {
  if (req.url?.startsWith('/schedules/')) {
    // EventBridge Scheduler: REST JSON, the name in the path.
    const name = decodeURIComponent(req.url.split('/')[2]!.split('?')[0]!);
    calls.push({
      api: `scheduler:${req.method === 'POST' ? 'CreateSchedule' : 'UpdateSchedule'}`,
      params: { Name: name, ...(JSON.parse(body) as Record<string, unknown>) },
    });
    return {
      type: 'application/json',
      text: JSON.stringify({
        ScheduleArn: `arn:aws:scheduler:eu-central-1:700558745280:schedule/default/${name}`,
      }),
    };
  }
  const target = req.headers['x-amz-target'];
  if (typeof target === 'string') {
    // CodePipeline: JSON 1.1.
    calls.push({
      api: `codepipeline:${target.split('.')[1]}`,
      params: JSON.parse(body) as Record<string, unknown>,
    });
    return { type: 'application/x-amz-json-1.1', text: '{}' };
  }
  const params = form(body);
  const action = params.Action!;
  const xml = (inner: string) =>
    `<?xml version="1.0"?><${action}Response><${action}Result>${inner}</${action}Result></${action}Response>`;
  if (params.Version === '2014-10-31') {
    calls.push({ api: `rds:${action}`, params });
    if (action === 'StartDBInstance') world.db = 'starting';
    return {
      type: 'text/xml',
      text: xml(
        action === 'DescribeDBInstances'
          ? `<DBInstances><DBInstance><DBInstanceStatus>${world.db}</DBInstanceStatus></DBInstance></DBInstances>`
          : `<DBInstance><DBInstanceStatus>${world.db}</DBInstanceStatus></DBInstance>`,
      ),
    };
  }
  calls.push({ api: `autoscaling:${action}`, params });
  if (action === 'DescribeScheduledActions') {
    return { type: 'text/xml', text: xml('<ScheduledUpdateGroupActions></ScheduledUpdateGroupActions>') };
  }
  if (action === 'UpdateAutoScalingGroup' || action === 'PutScheduledUpdateGroupAction') {
    world.desired = Number(params.DesiredCapacity);
    return { type: 'text/xml', text: `<${action}Response></${action}Response>` };
  }
  const instances = Array.from(
    { length: world.inService },
    (_, i) =>
      `<member><InstanceId>i-${i}</InstanceId><LifecycleState>InService</LifecycleState><HealthStatus>Healthy</HealthStatus></member>`,
  ).join('');
  return {
    type: 'text/xml',
    text: xml(
      `<AutoScalingGroups><member><AutoScalingGroupName>v1-orcha-staging-asg</AutoScalingGroupName>` +
        `<MinSize>${world.desired}</MinSize><MaxSize>2</MaxSize><DesiredCapacity>${world.desired}</DesiredCapacity>` +
        `<Instances>${instances}</Instances></member></AutoScalingGroups>`,
    ),
  };
}

/** The driver: loads the bundle with plain Node.js and invokes its handler with one job event. */
const DRIVER = `
// The function's clock (Date.now): a Monday night in Berlin, whenever the test runs.
if (process.env.FAKE_NOW) Date.now = () => Number(process.env.FAKE_NOW);
const { handler } = require(process.argv[2]);
const event = { 'CodePipeline.job': { id: 'job-7', accountId: '700558745280', data: {
  actionConfiguration: { configuration: { FunctionName: 'v1-orcha-staging-deploy-wake' } },
  inputArtifacts: [], outputArtifacts: [],
  artifactCredentials: { accessKeyId: 'A', secretAccessKey: 'S', sessionToken: 'T' },
  ...(process.argv[3] ? { continuationToken: process.argv[3] } : {}) } } };
handler(event).then((a) => process.stdout.write(JSON.stringify(a)), (e) => { console.error(e); process.exit(1); });
`;

async function invoke(continuationToken = ''): Promise<{ result: string; continuationToken?: string }> {
  const { port } = server.address() as AddressInfo;
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [path.join(work, 'driver.js'), bundle, continuationToken],
    {
      env: {
        PATH: process.env.PATH,
        // The Lambda runtime provides the SDK; here the project's copy stands in for it.
        NODE_PATH: projectPath('node_modules'),
        AWS_ENDPOINT_URL: `http://127.0.0.1:${port}`,
        AWS_REGION: 'eu-central-1',
        AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
        AWS_SECRET_ACCESS_KEY: 'secret',
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
        POWERTOOLS_LOG_LEVEL: 'SILENT',
        DB_INSTANCE_IDENTIFIER: 'v1-orcha-staging-db',
        AUTO_SCALING_GROUP_NAME: 'v1-orcha-staging-asg',
        MIN_CAPACITY: '1',
        MAX_CAPACITY: '2',
        WAIT_SECONDS: '2400',
        SLEEP_AFTER_WAKE: JSON.stringify(STAGING_SLEEP_AFTER_WAKE),
        // Monday 30 November 2026, 23:00 in Berlin.
        FAKE_NOW: String(Date.UTC(2026, 10, 30, 22, 0, 0)),
      },
    },
  );
  return JSON.parse(stdout) as { result: string; continuationToken?: string };
}

beforeAll(async () => {
  work = mkdtempSync(path.join(tmpdir(), 'orcha-wake-bundle-'));
  // Staged exactly as the Ops stack stages it (the bundle cache makes this cheap after a synth).
  const app = new App({ outdir: path.join(work, 'cdk.out') });
  const key = lambdaCode(projectPath('lambda', 'environment-wake', 'index.ts')).bind(new Stack(app, 'Wake'))
    .s3Location!.objectKey;
  bundle = path.join(work, 'cdk.out', `asset.${key.replace(/\.zip$/, '')}`, 'index.js');
  writeFileSync(path.join(work, 'driver.js'), DRIVER);
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      const { type, text } = answer(req, body);
      res.setHeader('content-type', type);
      res.end(text);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
}, 60_000);

afterAll(() => {
  server.close();
  rmSync(work, { recursive: true, force: true });
});

beforeEach(() => {
  calls = [];
});

test('the bundle requires only Node.js built-ins and the SDK clients the Lambda runtime provides', () => {
  const required = [...readFileSync(bundle, 'utf8').matchAll(/require\("([^"]+)"\)/g)].map((m) => m[1]!);
  expect([...new Set(required)].filter((m) => !m.startsWith('node:')).sort()).toEqual([
    '@aws-sdk/client-auto-scaling',
    '@aws-sdk/client-codepipeline',
    '@aws-sdk/client-rds',
    '@aws-sdk/client-scheduler',
  ]);
});

test('asleep: the first invocation starts the database and restores the group, and answers "in progress"', async () => {
  world = { db: 'stopped', desired: 0, inService: 0 };
  const first = await invoke();
  expect(first.result).toBe('waking');
  expect(calls.map((c) => c.api)).toEqual([
    'rds:DescribeDBInstances',
    'rds:StartDBInstance',
    'autoscaling:DescribeAutoScalingGroups',
    'autoscaling:UpdateAutoScalingGroup',
    // Woken at night: back to sleep 2 hours on (unless an earlier wake set a later time).
    'autoscaling:DescribeScheduledActions',
    'autoscaling:PutScheduledUpdateGroupAction',
    'scheduler:CreateSchedule',
    'codepipeline:PutJobSuccessResult',
  ]);
  expect(calls[5]!.params).toMatchObject({
    AutoScalingGroupName: 'v1-orcha-staging-asg',
    ScheduledActionName: 'sleep-after-wake',
    StartTime: '2026-12-01T00:00:00Z',
    MinSize: '0',
    DesiredCapacity: '0',
  });
  expect(calls[6]!.params).toMatchObject({
    Name: 'v1-orcha-staging-db-sleep-after-wake',
    ScheduleExpression: 'at(2026-12-01T00:00:00)',
    ActionAfterCompletion: 'DELETE',
    Target: {
      Arn: 'arn:aws:scheduler:::aws-sdk:rds:stopDBInstance',
      RoleArn: 'arn:aws:iam::700558745280:role/v1-orcha-staging-db-office-hours',
      Input: '{"DbInstanceIdentifier":"v1-orcha-staging-db"}',
    },
  });
  expect(calls[1]!.params).toMatchObject({ DBInstanceIdentifier: 'v1-orcha-staging-db' });
  expect(calls[3]!.params).toMatchObject({
    AutoScalingGroupName: 'v1-orcha-staging-asg',
    MinSize: '1',
    MaxSize: '2',
    DesiredCapacity: '1',
  });
  const success = calls[7]!.params as { jobId: string; continuationToken: string };
  expect(success.jobId).toBe('job-7');
  expect(success.continuationToken).toBe(first.continuationToken);

  // CodePipeline invokes it again with the token; meanwhile the environment woke.
  calls = [];
  world = { db: 'available', desired: 1, inService: 1 };
  expect((await invoke(first.continuationToken)).result).toBe('awake');
  expect(calls.map((c) => c.api)).toEqual([
    'rds:DescribeDBInstances',
    'autoscaling:DescribeAutoScalingGroups',
    'codepipeline:PutJobSuccessResult',
  ]);
  expect(calls[2]!.params).not.toHaveProperty('continuationToken');
}, 30_000);
