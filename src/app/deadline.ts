/**
 * One call bounded on the injected clock: it gets an `AbortSignal` that
 * aborts at the deadline, and the wait ends at the deadline even if the call
 * ignores its signal.
 *
 * @module
 */
import type { Clock } from "../kube/clock.ts";

/**
 * Runs `fn`; rejects with `timeoutError()` when it has not settled after `ms`
 * on `clock` (its signal is aborted with the same error).
 */
export async function withDeadline<T>(clock: Clock, ms: number, fn: (signal: AbortSignal) => Promise<T>, timeoutError: () => Error): Promise<T> {
  const ac = new AbortController();
  let timer: { cancel(): void } | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = clock.setTimeout(() => {
      const e = timeoutError();
      ac.abort(e);
      reject(e);
    }, ms);
  });
  const call = Promise.resolve().then(() => fn(ac.signal));
  call.catch(() => {}); // it may settle after the deadline won
  try {
    return await Promise.race([call, timedOut]);
  } finally {
    timer?.cancel();
  }
}
