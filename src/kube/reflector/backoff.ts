/**
 * The reflector's retry delay policy: exponential backoff with jitter that
 * resets after a healthy period, and honours a server's Retry-After.
 *
 * Constants are client-go's (`tools/cache/reflector.go` builds
 * `wait.NewExponentialBackoffManager(800ms, 30s, 2min, 2.0, 1.0)`), which
 * kube-rs copies (`watcher.rs` `DefaultBackoff`): their stated aim is about
 * 0.22 requests per second against an unhealthy API server.
 *
 * @module
 */
import type { Clock } from "../clock.ts";

/** First delay, 800 ms (client-go reflector.go `NewExponentialBackoffManager(800*time.Millisecond, …)`). */
export const BACKOFF_INITIAL_MS = 800;
/** Growth factor per failure, 2.0 (client-go reflector.go). */
export const BACKOFF_FACTOR = 2;
/** Cap of the un-jittered delay, 30 s (client-go reflector.go `maxBackoff`). */
export const BACKOFF_MAX_MS = 30_000;
/** Back to the initial delay after 2 min without a failure (client-go reflector.go `backoffReset`). */
export const BACKOFF_RESET_AFTER_MS = 120_000;
/** The longest Retry-After honoured, 10 min; a larger value is clamped so a bad header cannot park the loop. */
export const MAX_RETRY_AFTER_MS = 600_000;

/** Options of {@link createBackoff}; every field has client-go's default. */
export interface BackoffOptions {
  initialMs?: number;
  factor?: number;
  maxMs?: number;
  /** Jitter 1.0 (client-go): each delay is drawn from [d, d·(1+jitter)). */
  jitter?: number;
  resetAfterMs?: number;
  /** Source of time for the reset rule. */
  clock: Clock;
  /** Uniform in [0, 1); default `Math.random`. */
  random?: () => number;
}

/** A stateful delay policy, one per reflector. */
export interface Backoff {
  /**
   * The delay before the next attempt, in ms. When the server asked for a
   * Retry-After (seconds), the delay is at least that long.
   */
  next(retryAfterSeconds?: number): number;
  /** Forgets past failures: the next delay is the initial one again. */
  reset(): void;
}

/**
 * Creates the backoff policy. The un-jittered delay `d` starts at 800 ms and
 * doubles up to 30 s; each returned delay is uniform in [d, 2d); when more
 * than 2 min passed since the previous call, `d` starts over at 800 ms.
 */
export function createBackoff(options: BackoffOptions): Backoff {
  const initial = options.initialMs ?? BACKOFF_INITIAL_MS;
  const factor = options.factor ?? BACKOFF_FACTOR;
  const max = options.maxMs ?? BACKOFF_MAX_MS;
  const jitter = options.jitter ?? 1;
  const resetAfter = options.resetAfterMs ?? BACKOFF_RESET_AFTER_MS;
  const { clock } = options;
  const random = options.random ?? Math.random;
  let current = initial;
  let last: number | undefined;
  return {
    next(retryAfterSeconds) {
      const now = clock.now();
      if (last !== undefined && now - last > resetAfter) current = initial;
      last = now;
      const d = Math.min(current, max);
      current = Math.min(current * factor, max);
      let delay = d + random() * jitter * d;
      if (retryAfterSeconds !== undefined && Number.isFinite(retryAfterSeconds) && retryAfterSeconds > 0) {
        delay = Math.max(delay, Math.min(retryAfterSeconds * 1000, MAX_RETRY_AFTER_MS));
      }
      return Math.round(delay);
    },
    reset() {
      current = initial;
      last = undefined;
    },
  };
}
