/**
 * The answer of a custom-resource function to CloudFormation: one module for every function in
 * lambda/ (bundled into each by esbuild). A function must always answer: without one, the stack
 * waits for an hour and then fails.
 */
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';

/** What CloudFormation receives at the event's pre-signed ResponseURL. */
export interface CustomResourceResponse {
  readonly Status: 'SUCCESS' | 'FAILED';
  readonly Reason?: string;
  readonly PhysicalResourceId: string;
  readonly StackId: string;
  readonly RequestId: string;
  readonly LogicalResourceId: string;
  readonly Data?: Record<string, string>;
}

/** CloudFormation shows at most this much of a reason. */
export const MAX_REASON_LENGTH = 1000;

/** Sends a response body to a pre-signed URL. */
export type Put = (url: string, body: string) => Promise<void>;

/**
 * PUT to CloudFormation's pre-signed S3 URL with `fetchImpl` (default: the global fetch). No
 * content type: the URL is signed without one.
 */
export function putWith(fetchImpl: typeof fetch = (...args) => fetch(...args)): Put {
  return async (url, body) => {
    const response = await fetchImpl(url, {
      method: 'PUT',
      body,
      headers: { 'content-type': '', 'content-length': String(Buffer.byteLength(body)) },
    });
    if (!response.ok) throw new Error(`CloudFormation response upload failed: HTTP ${response.status}`);
  };
}

/** PUT with the global fetch. */
export const putResponse: Put = putWith();

/** The response to `event`; a reason is cut to what CloudFormation shows. */
export function responseTo(
  event: CloudFormationCustomResourceEvent,
  status: CustomResourceResponse['Status'],
  physicalResourceId: string,
  details: { readonly reason?: string; readonly data?: Record<string, string> } = {},
): CustomResourceResponse {
  return {
    Status: status,
    ...(details.reason !== undefined && { Reason: details.reason.slice(0, MAX_REASON_LENGTH) }),
    PhysicalResourceId: physicalResourceId,
    StackId: event.StackId,
    RequestId: event.RequestId,
    LogicalResourceId: event.LogicalResourceId,
    ...(details.data !== undefined && { Data: details.data }),
  };
}

/** Sends `response` to the event's ResponseURL. */
export async function sendResponse(
  event: CloudFormationCustomResourceEvent,
  response: CustomResourceResponse,
  put: Put = putResponse,
): Promise<void> {
  await put(event.ResponseURL, JSON.stringify(response));
}
