/**
 * Where the tools write. Commands never touch `process.stdout`/`console` directly: they get
 * an {@link Output}, so tests can capture everything a command says.
 */
export interface Output {
  /** A line of normal output (stdout). */
  info(line: string): void;
  /** A line of warnings or errors (stderr). */
  error(line: string): void;
}

/** Writes to the process's stdout and stderr. */
export const processOutput: Output = {
  info: (line) => {
    process.stdout.write(`${line}\n`);
  },
  error: (line) => {
    process.stderr.write(`${line}\n`);
  },
};

/** An output that filters every line through `filter` before passing it on. */
export function filteredOutput(target: Output, filter: (line: string) => string): Output {
  return {
    info: (line) => target.info(filter(line)),
    error: (line) => target.error(filter(line)),
  };
}
