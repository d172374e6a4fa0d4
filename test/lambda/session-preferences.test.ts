import {
  CreateDocumentCommand,
  GetDocumentCommand,
  ListDocumentVersionsCommand,
  SSMClient,
  UpdateDocumentCommand,
  UpdateDocumentDefaultVersionCommand,
} from '@aws-sdk/client-ssm';
import { Logger } from '@aws-lambda-powertools/logger';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { canonicalJson, handle, upsertDocument, type Put } from '../../lambda/session-preferences';

const ssm = mockClient(SSMClient);
const NAME = 'SSM-SessionManagerRunShell';
const WANTED = {
  schemaVersion: '1.0',
  sessionType: 'Standard_Stream',
  inputs: { cloudWatchLogGroupName: '/v1-orcha/ssm-sessions', cloudWatchStreamingEnabled: true },
};
const CONTENT = JSON.stringify(WANTED);
/** The console's own preferences: no logging. */
const CONSOLE_DEFAULT = JSON.stringify({
  schemaVersion: '1.0',
  sessionType: 'Standard_Stream',
  inputs: { cloudWatchLogGroupName: '', cloudWatchStreamingEnabled: false },
});

/** An SDK error as the SSM client throws it. */
function awsError(name: string, message = name): Error {
  return Object.assign(new Error(message), { name });
}

const calls = () =>
  ssm
    .calls()
    .map((c) => (c.args[0] as { constructor: { name: string } }).constructor.name.replace(/Command$/, ''));

const client = () => new SSMClient({ region: 'eu-central-1' });

beforeEach(() => ssm.reset());

describe('upsertDocument', () => {
  test('absent: creates the Session document', async () => {
    ssm.on(GetDocumentCommand).rejects(awsError('InvalidDocument', 'The specified document does not exist.'));
    ssm.on(CreateDocumentCommand).resolves({ DocumentDescription: { DocumentVersion: '1' } });

    expect(await upsertDocument(client(), NAME, CONTENT)).toEqual({ action: 'created', version: '1' });
    expect(ssm.commandCalls(CreateDocumentCommand)[0].args[0].input).toEqual({
      Name: NAME,
      Content: CONTENT,
      DocumentType: 'Session',
      DocumentFormat: 'JSON',
    });
    expect(calls()).toEqual(['GetDocument', 'CreateDocument']);
  });

  test('present with other content (the usual case): a new version becomes the default', async () => {
    ssm.on(GetDocumentCommand).resolves({ Content: CONSOLE_DEFAULT, DocumentVersion: '1' });
    ssm.on(UpdateDocumentCommand).resolves({ DocumentDescription: { DocumentVersion: '2' } });
    ssm.on(UpdateDocumentDefaultVersionCommand).resolves({});

    expect(await upsertDocument(client(), NAME, CONTENT)).toEqual({ action: 'updated', version: '2' });
    expect(ssm.commandCalls(UpdateDocumentCommand)[0].args[0].input).toEqual({
      Name: NAME,
      Content: CONTENT,
      DocumentVersion: '$LATEST',
      DocumentFormat: 'JSON',
    });
    expect(ssm.commandCalls(UpdateDocumentDefaultVersionCommand)[0].args[0].input).toEqual({
      Name: NAME,
      DocumentVersion: '2',
    });
    expect(calls()).not.toContain('CreateDocument');
  });

  test('present with the same content (keys in another order): nothing is changed', async () => {
    const reordered = JSON.stringify({
      inputs: WANTED.inputs,
      sessionType: 'Standard_Stream',
      schemaVersion: '1.0',
    });
    ssm.on(GetDocumentCommand).resolves({ Content: reordered, DocumentVersion: '3' });

    expect(await upsertDocument(client(), NAME, CONTENT)).toEqual({ action: 'unchanged', version: '3' });
    expect(calls()).toEqual(['GetDocument']);
  });

  test('DuplicateDocumentContent: the older version holding the content becomes the default', async () => {
    ssm.on(GetDocumentCommand, { Name: NAME, DocumentFormat: 'JSON' }).resolves({
      Content: CONSOLE_DEFAULT,
      DocumentVersion: '3',
    });
    ssm.on(UpdateDocumentCommand).rejects(awsError('DuplicateDocumentContent'));
    ssm.on(ListDocumentVersionsCommand).resolves({
      DocumentVersions: [{ DocumentVersion: '3' }, { DocumentVersion: '2' }, { DocumentVersion: '1' }],
    });
    ssm.on(GetDocumentCommand, { Name: NAME, DocumentVersion: '3', DocumentFormat: 'JSON' }).resolves({
      Content: CONSOLE_DEFAULT,
    });
    ssm.on(GetDocumentCommand, { Name: NAME, DocumentVersion: '2', DocumentFormat: 'JSON' }).resolves({
      Content: CONTENT,
    });
    ssm.on(UpdateDocumentDefaultVersionCommand).resolves({});

    expect(await upsertDocument(client(), NAME, CONTENT)).toEqual({
      action: 'default-version-changed',
      version: '2',
    });
    expect(ssm.commandCalls(UpdateDocumentDefaultVersionCommand)[0].args[0].input.DocumentVersion).toBe('2');
  });

  test('created by someone else meanwhile (DocumentAlreadyExists): updated instead', async () => {
    ssm.on(GetDocumentCommand).rejects(awsError('InvalidDocument'));
    ssm.on(CreateDocumentCommand).rejects(awsError('DocumentAlreadyExists'));
    ssm.on(UpdateDocumentCommand).resolves({ DocumentDescription: { DocumentVersion: '2' } });
    ssm.on(UpdateDocumentDefaultVersionCommand).resolves({});

    expect(await upsertDocument(client(), NAME, CONTENT)).toEqual({ action: 'updated', version: '2' });
    expect(calls()).toEqual([
      'GetDocument',
      'CreateDocument',
      'UpdateDocument',
      'UpdateDocumentDefaultVersion',
    ]);
  });

  test('any other error propagates (access denied on the update)', async () => {
    ssm.on(GetDocumentCommand).resolves({ Content: CONSOLE_DEFAULT, DocumentVersion: '1' });
    ssm
      .on(UpdateDocumentCommand)
      .rejects(awsError('AccessDeniedException', 'not authorized: ssm:UpdateDocument'));

    await expect(upsertDocument(client(), NAME, CONTENT)).rejects.toThrow(
      'not authorized: ssm:UpdateDocument',
    );
    expect(calls()).not.toContain('UpdateDocumentDefaultVersion');
  });

  test('canonicalJson ignores key order and whitespace only', () => {
    expect(canonicalJson('{"b": 1, "a": {"d": [1, {"y": 2, "x": 1}], "c": ""}}')).toBe(
      '{"a":{"c":"","d":[1,{"x":1,"y":2}]},"b":1}',
    );
    expect(canonicalJson('{"a":"1"}')).not.toBe(canonicalJson('{"a":1}'));
  });
});

describe('handle: the CloudFormation custom resource protocol', () => {
  const logger = new Logger({ serviceName: 'test' });
  function event(type: 'Create' | 'Update' | 'Delete', properties: Record<string, string> = {}) {
    return {
      RequestType: type,
      ServiceToken: 'arn:aws:lambda:eu-central-1:700558745280:function:v1-orcha-session-preferences',
      ResponseURL: 'https://cloudformation-custom-resource-response.s3.amazonaws.com/signed',
      StackId: 'arn:aws:cloudformation:eu-central-1:700558745280:stack/v1-orcha-compute/1',
      RequestId: 'req-1',
      LogicalResourceId: 'SessionManagerPreferences',
      ResourceType: 'Custom::SessionManagerPreferences',
      ResourceProperties: { ServiceToken: 'x', DocumentName: NAME, Content: CONTENT, ...properties },
      ...(type === 'Create' ? {} : { PhysicalResourceId: NAME, OldResourceProperties: {} }),
    } as unknown as CloudFormationCustomResourceEvent;
  }
  function recorder(): { put: Put; bodies: { url: string; body: Record<string, unknown> }[] } {
    const bodies: { url: string; body: Record<string, unknown> }[] = [];
    return {
      bodies,
      put: (url, body) => {
        bodies.push({ url, body: JSON.parse(body) as Record<string, unknown> });
        return Promise.resolve();
      },
    };
  }

  test('Create answers SUCCESS with the document name as physical id and the action', async () => {
    ssm.on(GetDocumentCommand).resolves({ Content: CONSOLE_DEFAULT, DocumentVersion: '1' });
    ssm.on(UpdateDocumentCommand).resolves({ DocumentDescription: { DocumentVersion: '2' } });
    ssm.on(UpdateDocumentDefaultVersionCommand).resolves({});
    const r = recorder();

    await handle(event('Create'), { ssm: client(), put: r.put, logger });
    expect(r.bodies).toEqual([
      {
        url: 'https://cloudformation-custom-resource-response.s3.amazonaws.com/signed',
        body: {
          Status: 'SUCCESS',
          PhysicalResourceId: NAME,
          StackId: 'arn:aws:cloudformation:eu-central-1:700558745280:stack/v1-orcha-compute/1',
          RequestId: 'req-1',
          LogicalResourceId: 'SessionManagerPreferences',
          Data: { Action: 'updated', DocumentVersion: '2' },
        },
      },
    ]);
  });

  test('Update upserts too', async () => {
    ssm.on(GetDocumentCommand).resolves({ Content: CONTENT, DocumentVersion: '4' });
    const r = recorder();
    await handle(event('Update'), { ssm: client(), put: r.put, logger });
    expect(r.bodies[0].body).toMatchObject({
      Status: 'SUCCESS',
      Data: { Action: 'unchanged', DocumentVersion: '4' },
    });
  });

  test('Delete leaves the account-wide document in place: no SSM call, SUCCESS', async () => {
    const r = recorder();
    await handle(event('Delete'), { ssm: client(), put: r.put, logger });
    expect(ssm.calls()).toHaveLength(0);
    expect(r.bodies[0].body).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: NAME });
  });

  test('an SSM failure answers FAILED with the reason (the stack update fails and rolls back)', async () => {
    ssm.on(GetDocumentCommand).rejects(awsError('AccessDeniedException', 'not authorized: ssm:GetDocument'));
    const r = recorder();
    await handle(event('Create'), { ssm: client(), put: r.put, logger });
    expect(r.bodies[0].body).toMatchObject({
      Status: 'FAILED',
      Reason: 'AccessDeniedException: not authorized: ssm:GetDocument',
      PhysicalResourceId: NAME,
    });
  });

  test('missing properties answer FAILED, naming them', async () => {
    const r = recorder();
    await handle(event('Create', { Content: '' }), { ssm: client(), put: r.put, logger });
    expect(r.bodies[0].body).toMatchObject({
      Status: 'FAILED',
      Reason: 'Error: DocumentName and Content are required properties',
    });
  });

  test('SSM hanging past the deadline answers FAILED instead of leaving the stack waiting an hour', async () => {
    ssm.on(GetDocumentCommand).callsFake(() => new Promise(() => undefined));
    const r = recorder();
    await handle(event('Update'), { ssm: client(), put: r.put, logger, deadlineMs: 50 });
    expect(r.bodies[0].body).toMatchObject({
      Status: 'FAILED',
      Reason: 'Error: no answer from SSM within 0 s',
    });
  });
});
