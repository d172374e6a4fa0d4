import { createHash } from 'node:crypto';
import { HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { handleEvent, mirror } from '../../lambda/tool-mirror';

const s3Mock = mockClient(S3Client);
const s3 = new S3Client({ region: 'eu-central-1' });
const BODY = Buffer.from('compose plugin bytes');
const SHA = createHash('sha256').update(BODY).digest('hex');
const PROPS = {
  Url: 'https://github.com/docker/compose/releases/download/v2.40.3/docker-compose-linux-aarch64',
  Sha256: SHA,
  Bucket: 'v1-orcha-pipeline-artifacts-700558745280',
  Key: 'tools/docker-compose/v2.40.3/docker-compose-linux-aarch64',
};
const notFound = Object.assign(new Error('NotFound'), { name: 'NotFound' });

/** A fetch that serves the release and records the CloudFormation response. */
function fakeFetch(body = BODY, status = 200) {
  const responses: Record<string, unknown>[] = [];
  const downloads: string[] = [];
  const impl = (async (url: string | URL, init?: RequestInit) => {
    if (String(url).startsWith('https://cloudformation-response')) {
      responses.push(JSON.parse(String(init?.body)) as Record<string, unknown>);
      return new Response(null, { status: 200 });
    }
    downloads.push(String(url));
    return new Response(body, { status });
  }) as typeof fetch;
  return { impl, responses, downloads };
}

function event(type: 'Create' | 'Update' | 'Delete', props = PROPS): CloudFormationCustomResourceEvent {
  return {
    RequestType: type,
    ServiceToken: 'arn:aws:lambda:eu-central-1:700558745280:function:mirror',
    ResponseURL: 'https://cloudformation-response.example/abc',
    StackId: 'arn:aws:cloudformation:eu-central-1:700558745280:stack/v1-orcha-compute/1',
    RequestId: 'req-1',
    LogicalResourceId: 'ComposePluginCopy',
    ResourceType: 'Custom::ToolMirror',
    ResourceProperties: { ServiceToken: 'x', ...props },
    ...(type === 'Create'
      ? {}
      : { PhysicalResourceId: `s3://${PROPS.Bucket}/${PROPS.Key}`, OldResourceProperties: {} }),
  } as CloudFormationCustomResourceEvent;
}

beforeEach(() => s3Mock.reset());

test('copies the release when its SHA-256 matches the pin, with the checksum S3 verifies', async () => {
  s3Mock.on(HeadObjectCommand).rejects(notFound);
  s3Mock.on(PutObjectCommand).resolves({});
  const f = fakeFetch();
  await handleEvent(event('Create'), { s3, fetchImpl: f.impl, log: () => undefined });
  const put = s3Mock.commandCalls(PutObjectCommand)[0]!.args[0].input;
  expect(put).toMatchObject({
    Bucket: PROPS.Bucket,
    Key: PROPS.Key,
    ChecksumSHA256: Buffer.from(SHA, 'hex').toString('base64'),
  });
  expect(f.responses).toEqual([
    expect.objectContaining({ Status: 'SUCCESS', PhysicalResourceId: `s3://${PROPS.Bucket}/${PROPS.Key}` }),
  ]);
});

test('refuses a file whose SHA-256 differs from the pin: nothing written, the deployment fails with the reason', async () => {
  s3Mock.on(HeadObjectCommand).rejects(notFound);
  const f = fakeFetch(Buffer.from('tampered'));
  await handleEvent(event('Create'), { s3, fetchImpl: f.impl, log: () => undefined });
  expect(s3Mock.commandCalls(PutObjectCommand)).toHaveLength(0);
  expect(f.responses[0]).toMatchObject({ Status: 'FAILED', Reason: expect.stringMatching(/the pin is/) });
});

test('an unreachable release fails the deployment', async () => {
  s3Mock.on(HeadObjectCommand).rejects(notFound);
  const f = fakeFetch(BODY, 404);
  await handleEvent(event('Update'), { s3, fetchImpl: f.impl, log: () => undefined });
  expect(f.responses[0]).toMatchObject({ Status: 'FAILED', Reason: expect.stringMatching(/answered 404/) });
});

test('an object already holding the pinned checksum is not downloaded again', async () => {
  s3Mock.on(HeadObjectCommand).resolves({ ChecksumSHA256: Buffer.from(SHA, 'hex').toString('base64') });
  const f = fakeFetch();
  expect(await mirror(PROPS, { s3, fetchImpl: f.impl, log: () => undefined })).toBe(
    `s3://${PROPS.Bucket}/${PROPS.Key}`,
  );
  expect(f.downloads).toEqual([]);
});

test('delete keeps the object (an instance of a rolled-back stack may need it)', async () => {
  const f = fakeFetch();
  await handleEvent(event('Delete'), { s3, fetchImpl: f.impl, log: () => undefined });
  expect(s3Mock.calls()).toHaveLength(0);
  expect(f.responses[0]).toMatchObject({ Status: 'SUCCESS' });
});

test('bad properties fail with the field named', async () => {
  const f = fakeFetch();
  await handleEvent(event('Create', { ...PROPS, Sha256: 'nope' }), {
    s3,
    fetchImpl: f.impl,
    log: () => undefined,
  });
  expect(f.responses[0]).toMatchObject({
    Status: 'FAILED',
    Reason: 'Sha256 must be 64 hex digits, got nope',
  });
});
