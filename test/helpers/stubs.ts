import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** What a script run printed (stdout then stderr) and how it exited. */
export interface RunResult {
  readonly status: number | null;
  readonly output: string;
}

/**
 * A temporary directory of recording stubs, for running real scripts against fakes of the
 * commands they call. Every stub is a bash script that appends `<name> <args…>` to
 * `$STUB_STATE/calls.log`, then runs its body; `$STUB_STATE` is where stubs keep state between
 * calls (counters, files they "apply"). The stubs directory comes first on PATH; everything
 * else (bash, jq, sed, …) is the real thing.
 */
export class RecordingStubs {
  /** The temporary directory; removed by {@link dispose}. */
  public readonly root: string;
  /** The stubs, first on PATH. */
  public readonly bin: string;
  /** `$STUB_STATE`: the call log and the stubs' own state. */
  public readonly state: string;
  public readonly callLog: string;

  constructor(prefix: string) {
    this.root = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
    this.bin = path.join(this.root, '.stubs');
    this.state = path.join(this.root, '.stub-state');
    this.callLog = path.join(this.state, 'calls.log');
    fs.mkdirSync(this.bin);
    this.resetState();
  }

  /** A stub on PATH: `name`, recording its calls, then running `body`. */
  public add(name: string, body = 'exit 0'): void {
    this.addAt(path.join(this.bin, name), body);
  }

  /** A recording stub at an absolute path (a tool a script calls by its full path). */
  public addAt(file: string, body = 'exit 0'): void {
    const name = path.basename(file);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, `#!/bin/bash\nprintf '%s\\n' "${name} $*" >> "$STUB_STATE/calls.log"\n${body}\n`, {
      mode: 0o755,
    });
  }

  /**
   * The environment of a run: the stubs first on PATH, `$STUB_STATE`, HOME in the temporary
   * directory, and `extra`. HOME matters for speed and isolation: bash run by Node.js sees its stdin
   * is a socket (libuv's pipes are socket pairs), takes itself for an ssh session and reads
   * `~/.bashrc` (which on this machine image starts pyenv, ~1.5 s per script run).
   */
  public env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
    return {
      PATH: `${this.bin}:${process.env.PATH ?? '/usr/bin:/bin'}`,
      HOME: this.root,
      STUB_STATE: this.state,
      ...extra,
    };
  }

  /** Runs a file (executable, or a script with a shebang) with the stubs on PATH. */
  public run(
    file: string,
    args: readonly string[] = [],
    options: { cwd?: string; env?: Record<string, string> } = {},
  ): RunResult {
    const result = spawnSync(file, [...args], {
      cwd: options.cwd ?? this.root,
      env: this.env(options.env),
      encoding: 'utf8',
      timeout: 30_000,
    });
    if (result.error) throw result.error;
    return { status: result.status, output: `${result.stdout}${result.stderr}` };
  }

  /** The recorded calls, one `name args…` per line, since the last {@link clearCalls}. */
  public calls(): string[] {
    return fs.readFileSync(this.callLog, 'utf8').split('\n').filter(Boolean);
  }

  /** Forgets the recorded calls (the stubs' other state stays). */
  public clearCalls(): void {
    fs.writeFileSync(this.callLog, '');
  }

  /** Forgets the recorded calls and everything the stubs kept. */
  public resetState(): void {
    fs.rmSync(this.state, { recursive: true, force: true });
    fs.mkdirSync(this.state);
    this.clearCalls();
  }

  public dispose(): void {
    fs.rmSync(this.root, { recursive: true, force: true });
  }
}
