/**
 * The one redactor of the project: operator tools (scripts/ops) and code that runs in CodeBuild
 * (the migration-test runner) remove known secret values from what they print with it. It
 * depends on nothing, so every layer may import it.
 */

export const REDACTED = '[REDACTED]';

/**
 * Values shorter than this are redacted only where they stand as a whole token, never as a
 * part of a word: `WORKERS=2` or `DEBUG=false` must not turn "Cannot determine" into
 * "Cannot d[REDACTED]t[REDACTED]rmine". Longer values are redacted wherever they occur.
 */
export const SUBSTRING_MIN_LENGTH = 8;

/** Letters, digits and `_`: a short value next to one of these is part of a word, not the value. */
const WORD = String.raw`[\p{L}\p{N}_]`;

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, String.raw`\$&`);
}

export interface RedactorOptions {
  /**
   * Values shorter than this are not redacted at all; use 1 for text that may echo the values
   * (AWS error messages), a larger value for lines the tools compose themselves (so that a
   * value like `1` does not mangle every count). @default 1
   */
  readonly minLength?: number;
  /** What a value is replaced with. @default REDACTED */
  readonly marker?: string;
}

/**
 * Removes known secret values from text. Every registered value is removed in the forms an
 * error message may carry it: as is, JSON-escaped (quotes, backslashes, newlines), URL-encoded
 * (as in connection URLs), and line by line for multi-line values. Forms of at least
 * {@link SUBSTRING_MIN_LENGTH} characters are removed wherever they occur; shorter ones only as
 * whole tokens.
 */
export class Redactor {
  private readonly needles = new Set<string>();
  private long: string[] = [];
  private short: RegExp | undefined;
  private readonly minLength: number;
  private readonly marker: string;

  constructor(options: RedactorOptions = {}) {
    this.minLength = options.minLength ?? 1;
    this.marker = options.marker ?? REDACTED;
  }

  public add(value: string): void {
    if (value.length === 0) return;
    const forms = [value, JSON.stringify(value).slice(1, -1), encodeURIComponent(value)];
    for (const line of value.split(/\r?\n/)) forms.push(line);
    for (const form of forms) {
      if (form.trim().length >= this.minLength) this.needles.add(form);
    }
    const byLength = [...this.needles].sort((a, b) => b.length - a.length);
    this.long = byLength.filter((n) => n.length >= SUBSTRING_MIN_LENGTH);
    const short = byLength.filter((n) => n.length < SUBSTRING_MIN_LENGTH);
    this.short =
      short.length === 0
        ? undefined
        : new RegExp(`(?<!${WORD})(?:${short.map(escapeRegExp).join('|')})(?!${WORD})`, 'gu');
  }

  public addAll(values: Iterable<string>): void {
    for (const value of values) this.add(value);
  }

  public redact(text: string): string {
    let result = text;
    for (const needle of this.long) {
      if (result.includes(needle)) result = result.split(needle).join(this.marker);
    }
    return this.short ? result.replace(this.short, this.marker) : result;
  }

  /** An error as printable text (`Name: message`, the name left out for a plain Error), redacted. */
  public describe(error: unknown): string {
    if (error instanceof Error) {
      const name = error.name && error.name !== 'Error' ? `${error.name}: ` : '';
      return this.redact(`${name}${error.message}`);
    }
    return this.redact(String(error));
  }
}
