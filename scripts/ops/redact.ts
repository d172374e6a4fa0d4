export const REDACTED = '[REDACTED]';

/**
 * Removes known secret values from text. Every registered value is removed in the forms an
 * error message may carry it: as is, JSON-escaped (quotes, backslashes, newlines), URL-encoded,
 * and line by line for multi-line values.
 */
export class Redactor {
  private readonly needles = new Set<string>();
  private sorted: string[] = [];

  /**
   * @param minLength values shorter than this are not redacted by {@link redact}; use 1
   * for text that may echo the values (AWS error messages), a larger value for lines the
   * tools compose themselves (so that a value like `1` does not mangle every count).
   */
  constructor(private readonly minLength = 1) {}

  public add(value: string): void {
    if (value.length === 0) return;
    const forms = [value, JSON.stringify(value).slice(1, -1), encodeURIComponent(value)];
    for (const line of value.split(/\r?\n/)) forms.push(line);
    for (const form of forms) {
      if (form.trim().length >= this.minLength) this.needles.add(form);
    }
    this.sorted = [...this.needles].sort((a, b) => b.length - a.length);
  }

  public addAll(values: Iterable<string>): void {
    for (const value of values) this.add(value);
  }

  public redact(text: string): string {
    let result = text;
    for (const needle of this.sorted) {
      if (result.includes(needle)) result = result.split(needle).join(REDACTED);
    }
    return result;
  }
}
