import { parseArgs, type ParseArgsConfig } from 'node:util';

/** Where a tool prints: the console, or a test's recorder. */
export interface CliIo {
  out(text: string): void;
  err(text: string): void;
}

export const consoleIo: CliIo = {
  out: (text) => console.log(text),
  err: (text) => console.error(text),
};

type Options = NonNullable<ParseArgsConfig['options']>;
type WithHelp<T extends Options> = T & { help: { type: 'boolean'; short?: string; default: false } };
/** The values `parseArgs` gives for these options (strict, no positionals). */
export type CommandLineValues<T extends Options> = ReturnType<
  typeof parseArgs<{ args: string[]; options: WithHelp<T>; strict: true; allowPositionals: false }>
>['values'];

/**
 * The flags of one of our tools (`npm run synth`, `compliance`, `diagram`): every tool has `--help`
 * (prints `usage`, exit 0); an unknown or malformed flag prints node's one-line reason and the
 * usage on stderr (exit 2, the tools' usage-error status). Otherwise the parsed values.
 */
export function parseCommandLine<T extends Options>(
  argv: readonly string[],
  options: T,
  usage: string,
  io: CliIo = consoleIo,
  helpShort?: string,
): { values: CommandLineValues<T> } | { exitCode: 0 | 2 } {
  const help = { type: 'boolean', default: false, ...(helpShort ? { short: helpShort } : {}) } as const;
  let values: CommandLineValues<T>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: { ...options, help } as WithHelp<T>,
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    io.err(`${(error as Error).message}\n\n${usage}`);
    return { exitCode: 2 };
  }
  if ((values as { help?: boolean }).help) {
    io.out(usage);
    return { exitCode: 0 };
  }
  return { values };
}
