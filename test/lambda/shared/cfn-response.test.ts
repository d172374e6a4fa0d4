import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { MAX_REASON_LENGTH, putWith, responseTo, sendResponse } from '../../../lambda/shared/cfn-response';

const event = {
  RequestType: 'Update',
  ResponseURL: 'https://cloudformation-custom-resource-response.s3.amazonaws.com/signed?x=1',
  StackId: 'arn:aws:cloudformation:eu-central-1:111111111111:stack/s/1',
  RequestId: 'req-1',
  LogicalResourceId: 'Res',
  PhysicalResourceId: 'old',
  ResourceType: 'Custom::X',
  ServiceToken: 'arn:aws:lambda:eu-central-1:111111111111:function:f',
  ResourceProperties: { ServiceToken: 'x' },
  OldResourceProperties: {},
} as CloudFormationCustomResourceEvent;

describe('responseTo()', () => {
  test('names the event, and carries reason and data only when given', () => {
    expect(responseTo(event, 'SUCCESS', 'new')).toEqual({
      Status: 'SUCCESS',
      PhysicalResourceId: 'new',
      StackId: event.StackId,
      RequestId: 'req-1',
      LogicalResourceId: 'Res',
    });
    expect(responseTo(event, 'SUCCESS', 'new', { data: { A: 'b' } }).Data).toEqual({ A: 'b' });
  });

  test(`cuts a reason to the ${MAX_REASON_LENGTH} characters CloudFormation shows`, () => {
    const response = responseTo(event, 'FAILED', 'old', { reason: 'x'.repeat(5000) });
    expect(response.Reason).toHaveLength(MAX_REASON_LENGTH);
  });
});

describe('sendResponse() with putWith()', () => {
  test('PUTs the JSON to the pre-signed URL without a content type', async () => {
    const calls: [string, RequestInit][] = [];
    const fetchImpl = (async (url: string, init: RequestInit) => {
      calls.push([url, init]);
      return new Response(null, { status: 200 });
    }) as unknown as typeof fetch;
    await sendResponse(event, responseTo(event, 'SUCCESS', 'new'), putWith(fetchImpl));
    expect(calls).toHaveLength(1);
    const [url, init] = calls[0]!;
    expect(url).toBe(event.ResponseURL);
    expect(init.method).toBe('PUT');
    expect(init.headers).toEqual({
      'content-type': '',
      'content-length': String(Buffer.byteLength(init.body as string)),
    });
    expect(JSON.parse(init.body as string)).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: 'new' });
  });

  test('a refused upload is an error (the handler cannot pretend it answered)', async () => {
    const fetchImpl = (async () => new Response(null, { status: 403 })) as unknown as typeof fetch;
    await expect(sendResponse(event, responseTo(event, 'SUCCESS', 'x'), putWith(fetchImpl))).rejects.toThrow(
      'CloudFormation response upload failed: HTTP 403',
    );
  });
});
