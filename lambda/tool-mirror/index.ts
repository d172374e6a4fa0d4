/**
 * Custom resource `Custom::ToolMirror`: copies a pinned release binary (URL + SHA-256) into an S3
 * bucket once per version, at deploy time. Instances then install it from S3 when they boot (no
 * download from GitHub at launch). The object is written only if its SHA-256 matches the pin
 * (S3 checks the same checksum on upload); a mismatch or an unreachable URL fails the stack
 * deployment with the reason. Deleting the resource keeps the object: an instance of a
 * rolled-back stack may still need it.
 */
import { createHash } from 'node:crypto';
import { HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { putWith, responseTo, sendResponse } from '../shared/cfn-response';

export interface MirrorProperties {
  readonly Url: string;
  readonly Sha256: string;
  readonly Bucket: string;
  readonly Key: string;
}

export interface MirrorDependencies {
  readonly s3: Pick<S3Client, 'send'>;
  readonly fetchImpl?: typeof fetch;
  readonly log?: (line: string) => void;
}

function check(props: Partial<MirrorProperties>): MirrorProperties {
  for (const name of ['Url', 'Sha256', 'Bucket', 'Key'] as const) {
    if (typeof props[name] !== 'string' || props[name] === '') throw new Error(`property ${name} is missing`);
  }
  if (!/^https:\/\//.test(props.Url!)) throw new Error(`Url must be https, got ${props.Url}`);
  if (!/^[0-9a-f]{64}$/.test(props.Sha256!))
    throw new Error(`Sha256 must be 64 hex digits, got ${props.Sha256}`);
  return props as MirrorProperties;
}

/** Copies the file unless the object already carries the same checksum. Returns `s3://bucket/key`. */
export async function mirror(raw: Partial<MirrorProperties>, deps: MirrorDependencies): Promise<string> {
  const p = check(raw);
  const log = deps.log ?? ((line: string) => console.log(line));
  const target = `s3://${p.Bucket}/${p.Key}`;
  const checksum = Buffer.from(p.Sha256, 'hex').toString('base64');
  try {
    const head = await deps.s3.send(
      new HeadObjectCommand({ Bucket: p.Bucket, Key: p.Key, ChecksumMode: 'ENABLED' }),
    );
    if (head.ChecksumSHA256 === checksum) {
      log(`${target} already holds sha256 ${p.Sha256}`);
      return target;
    }
  } catch (error) {
    const name = (error as Error).name;
    if (name !== 'NotFound' && name !== 'NoSuchKey') throw error;
  }
  log(`downloading ${p.Url}`);
  const response = await (deps.fetchImpl ?? fetch)(p.Url, {
    redirect: 'follow',
    signal: AbortSignal.timeout(120_000),
  });
  if (!response.ok) throw new Error(`GET ${p.Url} answered ${response.status}`);
  const body = Buffer.from(await response.arrayBuffer());
  const actual = createHash('sha256').update(body).digest('hex');
  if (actual !== p.Sha256) {
    throw new Error(`${p.Url} has sha256 ${actual}, the pin is ${p.Sha256}: not copied`);
  }
  await deps.s3.send(
    new PutObjectCommand({
      Bucket: p.Bucket,
      Key: p.Key,
      Body: body,
      ChecksumSHA256: checksum,
      ContentType: 'application/octet-stream',
    }),
  );
  log(`copied ${body.length} bytes to ${target}`);
  return target;
}

async function respond(
  event: CloudFormationCustomResourceEvent,
  status: 'SUCCESS' | 'FAILED',
  physicalId: string,
  reason: string,
  fetchImpl: typeof fetch,
): Promise<void> {
  await sendResponse(event, responseTo(event, status, physicalId, { reason }), putWith(fetchImpl));
}

/** Handles one custom-resource event and always answers CloudFormation. */
export async function handleEvent(
  event: CloudFormationCustomResourceEvent,
  deps: MirrorDependencies,
): Promise<void> {
  const fetchImpl = deps.fetchImpl ?? fetch;
  const previous = event.RequestType === 'Create' ? undefined : event.PhysicalResourceId;
  try {
    if (event.RequestType === 'Delete') {
      await respond(event, 'SUCCESS', previous ?? 'none', 'kept', fetchImpl);
      return;
    }
    const target = await mirror(event.ResourceProperties as Partial<MirrorProperties>, deps);
    await respond(event, 'SUCCESS', target, `mirrored to ${target}`, fetchImpl);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    (deps.log ?? console.error)(`failed: ${reason}`);
    await respond(event, 'FAILED', previous ?? `failed-${event.RequestId}`, reason, fetchImpl);
  }
}

const s3 = new S3Client({});

export const handler = (event: CloudFormationCustomResourceEvent): Promise<void> =>
  handleEvent(event, { s3 });
