/**
 * Custom resource `Custom::SessionManagerPreferences`: upserts the account's Session Manager
 * preferences document (`SSM-SessionManagerRunShell`, one per account and region).
 *
 * The document usually exists already (AWS creates it the first time anyone opens Session
 * Manager's preferences), so `AWS::SSM::Document` would fail with `DocumentAlreadyExists`.
 * Create and Update therefore make the document's default version carry the wanted content:
 *
 * - absent → `CreateDocument` (a creation race falls through to the update path);
 * - default version already equal (as JSON) → nothing is changed;
 * - otherwise → `UpdateDocument` to a new version and `UpdateDocumentDefaultVersion` to it; if
 *   SSM answers `DuplicateDocumentContent` (an older version holds exactly this content), that
 *   version becomes the default instead.
 *
 * Delete leaves the document in place: it is account-wide, may have existed before the stack,
 * and another stack may take it over (ownership moves by configuration); deleting it would
 * drop the preferences of every environment in the account.
 */
import {
  CreateDocumentCommand,
  GetDocumentCommand,
  ListDocumentVersionsCommand,
  SSMClient,
  UpdateDocumentCommand,
  UpdateDocumentDefaultVersionCommand,
} from '@aws-sdk/client-ssm';
import { Logger } from '@aws-lambda-powertools/logger';
import type { CloudFormationCustomResourceEvent, Context } from 'aws-lambda';
import {
  putResponse,
  responseTo,
  sendResponse,
  type CustomResourceResponse,
  type Put,
} from '../shared/cfn-response';

export type UpsertAction = 'created' | 'updated' | 'default-version-changed' | 'unchanged';

export interface UpsertResult {
  readonly action: UpsertAction;
  /** The document's default version afterwards. */
  readonly version: string;
}

/** JSON with object keys sorted, so that equal documents compare equal whatever their key order. */
export function canonicalJson(text: string): string {
  const sort = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(sort);
    if (value !== null && typeof value === 'object') {
      return Object.fromEntries(
        Object.entries(value as Record<string, unknown>)
          .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
          .map(([k, v]) => [k, sort(v)]),
      );
    }
    return value;
  };
  return JSON.stringify(sort(JSON.parse(text)));
}

const errorName = (error: unknown): string => (error instanceof Error ? error.name : '');

async function defaultContent(
  ssm: SSMClient,
  name: string,
): Promise<{ content: string; version: string } | undefined> {
  try {
    const doc = await ssm.send(new GetDocumentCommand({ Name: name, DocumentFormat: 'JSON' }));
    return { content: doc.Content ?? '{}', version: doc.DocumentVersion ?? '' };
  } catch (error) {
    // SSM answers InvalidDocument for a document that does not exist.
    if (errorName(error) === 'InvalidDocument') return undefined;
    throw error;
  }
}

/** The version of the document whose content equals `wanted`, newest first. */
async function versionWithContent(ssm: SSMClient, name: string, wanted: string): Promise<string> {
  let token: string | undefined;
  do {
    const page = await ssm.send(new ListDocumentVersionsCommand({ Name: name, NextToken: token }));
    for (const v of page.DocumentVersions ?? []) {
      if (!v.DocumentVersion) continue;
      const doc = await ssm.send(
        new GetDocumentCommand({ Name: name, DocumentVersion: v.DocumentVersion, DocumentFormat: 'JSON' }),
      );
      if (doc.Content && canonicalJson(doc.Content) === wanted) return v.DocumentVersion;
    }
    token = page.NextToken;
  } while (token);
  throw new Error(`${name}: SSM reported DuplicateDocumentContent, but no version holds the wanted content`);
}

/** Makes the default version of the Session document `name` carry `content` (JSON text). */
export async function upsertDocument(ssm: SSMClient, name: string, content: string): Promise<UpsertResult> {
  const wanted = canonicalJson(content);
  const current = await defaultContent(ssm, name);
  if (!current) {
    try {
      const created = await ssm.send(
        new CreateDocumentCommand({
          Name: name,
          Content: content,
          DocumentType: 'Session',
          DocumentFormat: 'JSON',
        }),
      );
      return { action: 'created', version: created.DocumentDescription?.DocumentVersion ?? '1' };
    } catch (error) {
      // Created by someone else since GetDocument: update it like any existing document.
      if (errorName(error) !== 'DocumentAlreadyExists') throw error;
    }
  } else if (canonicalJson(current.content) === wanted) {
    return { action: 'unchanged', version: current.version };
  }

  let version: string;
  let action: UpsertAction = 'updated';
  try {
    const updated = await ssm.send(
      new UpdateDocumentCommand({
        Name: name,
        Content: content,
        DocumentVersion: '$LATEST',
        DocumentFormat: 'JSON',
      }),
    );
    const newVersion = updated.DocumentDescription?.DocumentVersion;
    if (!newVersion) throw new Error(`${name}: UpdateDocument returned no version`);
    version = newVersion;
  } catch (error) {
    if (errorName(error) !== 'DuplicateDocumentContent') throw error;
    version = await versionWithContent(ssm, name, wanted);
    action = 'default-version-changed';
  }
  await ssm.send(new UpdateDocumentDefaultVersionCommand({ Name: name, DocumentVersion: version }));
  return { action, version };
}

export type { CustomResourceResponse, Put };
export { putResponse };

export interface Dependencies {
  readonly ssm: SSMClient;
  readonly put: Put;
  readonly logger: Logger;
  /** Milliseconds before the handler must have answered (the Lambda's remaining time, less a margin). */
  readonly deadlineMs?: number;
}

function withDeadline<T>(work: Promise<T>, ms: number | undefined): Promise<T> {
  if (ms === undefined) return work;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer from SSM within ${Math.round(ms / 1000)} s`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

/** Handles one CloudFormation event and always answers it (a missing answer hangs the stack for an hour). */
export async function handle(
  event: CloudFormationCustomResourceEvent,
  deps: Dependencies,
): Promise<CustomResourceResponse> {
  const props = event.ResourceProperties as unknown as { DocumentName?: string; Content?: string };
  const name = props.DocumentName ?? '';
  const physicalId = event.RequestType === 'Create' ? name : event.PhysicalResourceId;
  const previous = physicalId || event.LogicalResourceId;
  let response: CustomResourceResponse;
  try {
    if (event.RequestType === 'Delete') {
      deps.logger.info('Leaving the account-wide document in place', { name: physicalId });
      response = responseTo(event, 'SUCCESS', previous, { data: { Action: 'retained' } });
    } else {
      if (!name || !props.Content) throw new Error('DocumentName and Content are required properties');
      const result = await withDeadline(upsertDocument(deps.ssm, name, props.Content), deps.deadlineMs);
      deps.logger.info('Session Manager preferences upserted', { name, ...result });
      response = responseTo(event, 'SUCCESS', name, {
        data: { Action: result.action, DocumentVersion: result.version },
      });
    }
  } catch (error) {
    const reason = `${errorName(error) || 'Error'}: ${(error as Error).message}`;
    deps.logger.error('Session Manager preferences failed', { name, reason });
    response = responseTo(event, 'FAILED', previous, { reason });
  }
  await sendResponse(event, response, deps.put);
  return response;
}

const logger = new Logger({ serviceName: 'session-preferences' });
const ssm = new SSMClient({});

export const handler = async (event: CloudFormationCustomResourceEvent, context: Context): Promise<void> => {
  await handle(event, {
    ssm,
    put: putResponse,
    logger,
    deadlineMs: Math.max(context.getRemainingTimeInMillis() - 10_000, 1_000),
  });
};
