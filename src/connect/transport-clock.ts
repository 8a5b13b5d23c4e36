/**
 * Time and randomness for the balancing transport, injected so tests drive
 * backoff and p2c deterministically. Structurally the same as the `Clock` of
 * `kratos-kube/kube` (declared again here: `kratos-kube/connect` imports
 * nothing else of ours), so one clock object serves both.
 *
 * @module
 */

/** A cancellable timer. */
export interface TransportTimer {
  /** Cancels the timer; calling it twice is harmless. */
  cancel(): void;
}

/** Monotonic time and timers that never keep the process alive. */
export interface TransportClock {
  /** Milliseconds since an arbitrary origin. */
  now(): number;
  /** Runs `fn` once after `ms` milliseconds. */
  setTimeout(fn: () => void, ms: number): TransportTimer;
}

/** `performance.now()` and unref'd timers. */
export const realClock: TransportClock = {
  now: () => performance.now(),
  setTimeout(fn, ms) {
    const t = setTimeout(fn, ms) as unknown as { unref?: () => void };
    if (typeof t === "object" && t !== null && typeof t.unref === "function") t.unref();
    return { cancel: () => clearTimeout(t as unknown as number) };
  },
};

/** Reconnect backoff of an endpoint that failed to connect. */
export interface BackoffPolicy {
  /** First delay in ms. */
  readonly initialMs: number;
  /** Growth factor per consecutive failure. */
  readonly multiplier: number;
  /** Relative jitter: the delay is scaled by a random factor in [1 − j, 1 + j]. */
  readonly jitter: number;
  /** Largest delay in ms (before jitter). */
  readonly maxMs: number;
}

/**
 * gRPC's connection backoff: 1 s, ×1.6, ±20 % jitter, at most 120 s
 * (grpc/doc/connection-backoff.md; grpc-js `backoff-timeout.ts`, grpc-go
 * `backoff.DefaultConfig`).
 */
export const DEFAULT_BACKOFF: BackoffPolicy = { initialMs: 1000, multiplier: 1.6, jitter: 0.2, maxMs: 120_000 };

/** The delay before retry number `failures` (1 = first retry). */
export function backoffDelay(p: BackoffPolicy, failures: number, random: () => number): number {
  const base = Math.min(p.maxMs, p.initialMs * p.multiplier ** Math.max(0, failures - 1));
  return base * (1 + p.jitter * (2 * random() - 1));
}
