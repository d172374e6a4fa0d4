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
