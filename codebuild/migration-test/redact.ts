/**
 * Removes secrets from anything the runner prints or writes: every line of output, error
 * messages and stack traces go through {@link Redactor.redact}.
 */
export class Redactor {
  private readonly secrets = new Set<string>();

  /** Registers a secret (and its URL-encoded form, as it appears in connection URLs). */
  public add(secret: string): void {
    if (secret.length < 4) return;
    this.secrets.add(secret);
    this.secrets.add(encodeURIComponent(secret));
  }

  public redact(text: string): string {
    let out = text;
    for (const secret of this.secrets) out = out.split(secret).join('***');
    return out;
  }

  /** An error as printable text (message and stack), redacted. */
  public describe(error: unknown): string {
    if (error instanceof Error) {
      const name = error.name && error.name !== 'Error' ? `${error.name}: ` : '';
      return this.redact(`${name}${error.message}`);
    }
    return this.redact(String(error));
  }
}
