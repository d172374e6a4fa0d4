import { createHash } from 'node:crypto';

/** RDS instance identifiers: 1-63 letters, digits and hyphens, a letter first, no `--`, no trailing `-`. */
export const MAX_INSTANCE_ID_LENGTH = 63;
const VALID_ID = /^[a-z](?!.*--)[a-z0-9-]*[a-z0-9]$/;

export function isValidInstanceId(id: string): boolean {
  return id.length <= MAX_INSTANCE_ID_LENGTH && VALID_ID.test(id);
}

/**
 * `<prefix><build id>` as a valid RDS identifier of at most 63 characters.
 *
 * A CodeBuild build id is `<project>:<uuid>`; the project part is dropped (the prefix
 * already says what this is). The rest is lower-cased, every run of other characters
 * becomes one hyphen, and when it is too long it is cut and suffixed with a short hash of
 * the whole build id, so two builds never get the same instance.
 */
export function temporaryInstanceId(prefix: string, buildId: string): string {
  const tail = buildId.includes(':') ? buildId.slice(buildId.lastIndexOf(':') + 1) : buildId;
  let suffix = tail
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
  const room = MAX_INSTANCE_ID_LENGTH - prefix.length;
  if (room < 9) throw new Error(`instance prefix ${JSON.stringify(prefix)} leaves no room for a build id`);
  const hash = createHash('sha256').update(buildId).digest('hex').slice(0, 8);
  if (!suffix) suffix = hash;
  if (suffix.length > room) suffix = `${suffix.slice(0, room - 9).replace(/-+$/, '')}-${hash}`;
  let id = `${prefix}${suffix}`.replace(/-{2,}/g, '-');
  id = id.replace(/-+$/, '');
  if (!isValidInstanceId(id)) {
    throw new Error(`cannot make a valid RDS identifier from prefix ${JSON.stringify(prefix)} and build id`);
  }
  return id;
}
