/**
 * The library's one injectable clock. Every timer kratos-kube sets goes
 * through one (the reflector, the registry, the transport, the App), so tests
 * drive time explicitly instead of sleeping or mocking globals. Exported by
 * `kratos-kube/kube` and `kratos-kube/connect`.
 *
 * @module
 */

/** A handle returned by {@link Clock.setTimeout}. */
export interface TimerHandle {
  /** Cancels the timer; calling it twice is harmless. */
  cancel(): void;
}

/** Time and timers. */
export interface Clock {
  /** Milliseconds since an arbitrary origin, monotonic. */
  now(): number;
  /** Runs `fn` once after `ms` milliseconds. The timer never keeps the process alive. */
  setTimeout(fn: () => void, ms: number): TimerHandle;
}

/** The real clock: `performance.now()` and unref'd timers. */
export const systemClock: Clock = {
  now: () => performance.now(),
  setTimeout(fn, ms) {
    const t = setTimeout(fn, ms) as unknown as { unref?: () => void };
    if (typeof t === "object" && t !== null && typeof t.unref === "function") t.unref();
    return { cancel: () => clearTimeout(t as unknown as number) };
  },
};

/**
 * Sleeps on `clock` for `ms`, or until `signal` aborts (then rejects with the
 * signal's reason).
 */
export function sleep(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = (): void => {
      timer.cancel();
      reject(signal?.reason);
    };
    const timer = clock.setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
