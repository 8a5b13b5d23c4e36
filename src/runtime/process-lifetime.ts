/**
 * The process-level parts of an App's life: shutdown signals and keeping
 * the process alive while `run()` is pending. Node, Bun and Deno all provide
 * `process.on` for signals.
 *
 * @module
 */

/** Signals an App can stop on. */
export type ShutdownSignal = "SIGTERM" | "SIGINT" | "SIGQUIT" | "SIGHUP";

interface SignalProcess {
  on(event: string, fn: (signal: string) => void): unknown;
  off(event: string, fn: (signal: string) => void): unknown;
  readonly platform?: string;
}

const proc = (): SignalProcess | undefined => (globalThis as { process?: SignalProcess }).process;

/**
 * Calls `fn` with the signal's name whenever one of `signals` arrives, instead
 * of the default action (exit). Returns the function that removes the
 * listeners. Signals the platform cannot listen to (SIGQUIT on Windows) are
 * left out.
 */
export function onSignals(signals: readonly ShutdownSignal[], fn: (signal: ShutdownSignal) => void): () => void {
  const p = proc();
  if (p === undefined) return () => {};
  const added: [ShutdownSignal, () => void][] = [];
  for (const s of signals) {
    const listener = (): void => fn(s);
    try {
      p.on(s, listener);
      added.push([s, listener]);
    } catch {
      // not supported on this platform (Deno and Windows refuse some signals)
    }
  }
  return () => {
    for (const [s, listener] of added) p.off(s, listener);
  };
}

/**
 * Keeps the process alive (a referenced interval that does nothing) until
 * the returned function is called: a pending promise alone does not, and
 * the App's timers are unreferenced.
 */
export function keepAlive(): () => void {
  const timer = setInterval(() => {}, 2 ** 30);
  return () => clearInterval(timer);
}
