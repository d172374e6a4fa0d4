import { parse } from 'dotenv';
import { UsageError } from './errors';

/** One `KEY=value` of a secrets file. */
export interface SecretEntry {
  key: string;
  value: string;
  /** 1-based line of the key. */
  line: number;
}

/** Keys become parameter names (`/v1-orcha/KEY`): upper-case, digits and underscores. */
export const KEY_PATTERN = /^[A-Z][A-Z0-9_]*$/;

/** The SSM standard tier's limit on a parameter value. */
export const MAX_VALUE_BYTES = 4096;

/**
 * The expression dotenv 16 itself uses to find assignments (`LINE` in dotenv/lib/main.js),
 * with the `d` flag for match positions. It serves only to find what dotenv would silently
 * ignore or misread (stray lines, duplicates, `#` in unquoted values); the values come from
 * dotenv's own `parse`.
 */
const ASSIGNMENT =
  /(?:^|^)\s*(?:export\s+)?([\w.-]+)(?:\s*=\s*?|:\s+?)(\s*'(?:\\'|[^'])*'|\s*"(?:\\"|[^"])*"|\s*`(?:\\`|[^`])*`|[^#\r\n]+)?\s*(?:#.*)?(?:$|$)/dgm;

function lineOf(source: string, index: number): number {
  let line = 1;
  for (let i = 0; i < index; i++) if (source.charCodeAt(i) === 10) line++;
  return line;
}

/**
 * Parses a secrets file (dotenv syntax: `KEY=value`, `export KEY=value`, quotes, comments)
 * and validates it. Values must be single-line: the instances' `orcha-prepare` skips
 * parameters whose value spans lines. Every problem is reported at once, by
 * line number and key, and never with a value.
 */
export function parseSecretsFile(text: string): SecretEntry[] {
  const source = text.replace(/\r\n?/g, '\n');
  const values = parse(source);
  const covered = new Uint8Array(source.length);
  const problems: string[] = [];
  const seen = new Map<string, number[]>();
  const found: { key: string; line: number }[] = [];

  for (const match of source.matchAll(ASSIGNMENT)) {
    const indices = match.indices;
    const key = match[1];
    if (!indices || key === undefined || match.index === undefined) continue;
    covered.fill(1, match.index, match.index + match[0].length);
    const keyStart = indices[1]?.[0] ?? match.index;
    const line = lineOf(source, keyStart);
    seen.set(key, [...(seen.get(key) ?? []), line]);
    found.push({ key, line });

    const raw = match[2];
    const rawEnd = indices[2]?.[1];
    if (raw !== undefined && rawEnd !== undefined) {
      const trimmed = raw.trim();
      const quote = trimmed[0];
      if (quote === '"' || quote === "'" || quote === '`') {
        if (trimmed.length < 2 || trimmed[trimmed.length - 1] !== quote) {
          problems.push(`line ${line}: ${key}: the value opens a ${quote} quote that is not closed`);
        }
      } else if (source[rawEnd] === '#' && !/\s$/.test(raw)) {
        problems.push(
          `line ${line}: ${key}: the unquoted value contains "#", which dotenv reads as the start of a comment; quote the value`,
        );
      }
    }
  }

  source.split('\n').reduce((offset, lineText, i) => {
    let rest = '';
    for (let c = 0; c < lineText.length; c++) if (!covered[offset + c]) rest += lineText[c];
    rest = rest.trim();
    if (rest.length > 0 && !rest.startsWith('#')) {
      problems.push(`line ${i + 1}: not a KEY=value line (content not shown)`);
    }
    return offset + lineText.length + 1;
  }, 0);

  for (const [key, lines] of seen) {
    if (lines.length > 1) problems.push(`${key} is defined more than once (lines ${lines.join(', ')})`);
  }

  const entries: SecretEntry[] = [];
  for (const { key, line } of found) {
    if ((seen.get(key) ?? [])[0] !== line) continue;
    if (!KEY_PATTERN.test(key)) {
      problems.push(`line ${line}: key "${key}" is not valid: keys must match ${KEY_PATTERN.source}`);
      continue;
    }
    const value = values[key] ?? '';
    if (value.trim().length === 0) {
      problems.push(`line ${line}: ${key} has an empty value; refusing to store an empty parameter`);
      continue;
    }
    if (/[\r\n]/.test(value)) {
      problems.push(
        `line ${line}: ${key}: the value spans several lines; the instances skip multi-line parameters ` +
          '(orcha-prepare), so store it on one line (for example base64-encoded)',
      );
      continue;
    }
    const bytes = Buffer.byteLength(value, 'utf8');
    if (bytes > MAX_VALUE_BYTES) {
      problems.push(
        `line ${line}: ${key}: the value is ${bytes} bytes, more than the ${MAX_VALUE_BYTES} bytes of an SSM standard parameter`,
      );
      continue;
    }
    entries.push({ key, value, line });
  }

  if (problems.length > 0) {
    throw new UsageError(
      `The secrets file is not valid (nothing was written):\n  ${problems.sort(byLine).join('\n  ')}`,
    );
  }
  if (entries.length === 0) throw new UsageError('The secrets file holds no KEY=value lines');
  return entries;
}

function byLine(a: string, b: string): number {
  const n = (s: string) => Number(/^line (\d+)/.exec(s)?.[1] ?? Number.MAX_SAFE_INTEGER);
  return n(a) - n(b);
}

/**
 * Settings the instances' `orcha-prepare` (assets/boot/orcha-prepare.sh) sets itself; they win
 * over parameters of the same name, so storing them has no effect.
 */
export const INSTANCE_MANAGED_KEYS: readonly string[] = [
  'ORCHA_ENVIRONMENT',
  'AWS_REGION',
  'AWS_DEFAULT_REGION',
  'DB_HOST',
  'DB_PORT',
  'DB_NAME',
  'DB_USER',
  'DB_PASSWORD',
  'INGEST_QUEUE_URL',
  'EMAIL_ACQUIRE_QUEUE_URL',
  'DOCUMENTS_BUCKET',
  'PORT',
];
