import { InterruptedError } from './run-context';

/**
 * SIGTERM (CodeBuild stopping or timing out the build) and SIGINT (Ctrl-C) abort the run:
 * in-flight waits and calls stop, and the orchestrator deletes the temporary instance before
 * the process exits. Returns a function removing the handlers.
 */
export function installSignalHandlers(
  controller: AbortController,
  log: (line: string) => void = (line) => console.error(line),
): () => void {
  const handlers = (['SIGTERM', 'SIGINT'] as const).map((name) => {
    const handler = (): void => {
      if (controller.signal.aborted) {
        log(`${name} again: still cleaning up the temporary instance, please wait`);
        return;
      }
      log(`${name} received: stopping and deleting the temporary instance`);
      controller.abort(new InterruptedError(name));
    };
    process.on(name, handler);
    return [name, handler] as const;
  });
  return () => {
    for (const [name, handler] of handlers) process.off(name, handler);
  };
}
