/**
 * Exit codes of `npm run ops`. They are part of the tools' interface: runbooks and scripts
 * rely on them, so they never change meaning.
 */
export const ExitCode = {
  /** The operation succeeded (or there was nothing to do). */
  Ok: 0,
  /** The operation failed, or failed part-way (the output says exactly what was done). */
  Failed: 1,
  /** Bad usage, bad input file, unknown environment or invalid configuration: nothing was changed. */
  Usage: 2,
  /** Missing, invalid or expired credentials, or credentials for the wrong AWS account. */
  Credentials: 3,
} as const;

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/** An expected failure: its message is written to stderr as is, and the CLI exits with its code. */
export class OpsError extends Error {
  constructor(
    message: string,
    public readonly exitCode: ExitCodeValue,
  ) {
    super(message);
    this.name = 'OpsError';
  }
}

/** Bad arguments or input: exit 2. */
export class UsageError extends OpsError {
  constructor(message: string) {
    super(message, ExitCode.Usage);
    this.name = 'UsageError';
  }
}

/** Missing/invalid credentials or wrong account: exit 3. */
export class CredentialsError extends OpsError {
  constructor(message: string) {
    super(message, ExitCode.Credentials);
    this.name = 'CredentialsError';
  }
}

/** The operation failed (fully or partly): exit 1. */
export class OperationError extends OpsError {
  constructor(message: string) {
    super(message, ExitCode.Failed);
    this.name = 'OperationError';
  }
}

export const EXIT_CODES_HELP = `Exit codes:
  0  success (or nothing to do)
  1  operation failed or partially failed (the output lists what was done and what was not)
  2  usage error, invalid input file, unknown environment or invalid configuration
  3  missing, invalid or expired credentials, or credentials for the wrong AWS account`;

/** Errors that mean "who you are" is the problem: no, invalid or expired credentials. */
const CREDENTIAL_ERROR_NAMES = new Set([
  'CredentialsProviderError',
  'ProviderError',
  'TokenProviderError',
  'ExpiredToken',
  'ExpiredTokenException',
  'InvalidClientTokenId',
  'UnrecognizedClientException',
  'SignatureDoesNotMatch',
  'InvalidSignatureException',
  'IncompleteSignature',
  'MissingAuthenticationToken',
]);

const ACCESS_DENIED_NAMES = new Set([
  'AccessDenied',
  'AccessDeniedException',
  'UnauthorizedOperation',
  'AuthorizationError',
]);

function errorName(err: unknown): string {
  if (err && typeof err === 'object' && 'name' in err && typeof err.name === 'string') return err.name;
  return 'Error';
}

function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

export function isCredentialsError(err: unknown): boolean {
  return CREDENTIAL_ERROR_NAMES.has(errorName(err));
}

export function isAccessDenied(err: unknown): boolean {
  return ACCESS_DENIED_NAMES.has(errorName(err));
}

/**
 * `Name: message` of an SDK error, passed through `scrub` (which must remove anything secret
 * the message may echo), plus a hint for credential and permission errors.
 */
export function describeAwsError(err: unknown, scrub: (text: string) => string = (t) => t): string {
  const name = errorName(err);
  const message = scrub(errorMessage(err)).split('\n')[0] ?? '';
  const text = message.startsWith(name) ? message : `${name}: ${message}`;
  if (isCredentialsError(err)) {
    return `${text} (credentials missing, invalid or expired: pass --profile <name>, set AWS_PROFILE, or run "aws sso login --profile <name>")`;
  }
  if (isAccessDenied(err)) return `${text} (the credentials lack this permission)`;
  return text;
}

/** Turns any error from an SDK call into an {@link OpsError}: credential errors exit 3, others 1. */
export function toOpsError(err: unknown, what: string, scrub?: (text: string) => string): OpsError {
  if (err instanceof OpsError) return err;
  const description = `${what}: ${describeAwsError(err, scrub)}`;
  return isCredentialsError(err) ? new CredentialsError(description) : new OperationError(description);
}
