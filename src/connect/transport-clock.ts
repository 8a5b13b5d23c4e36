/**
 * Time for the balancing transport, injected so tests drive backoff and p2c
 * deterministically. It is the library's one {@link Clock} (also exported by
 * `kratos-kube/kube`): the names below are kept as aliases.
 *
 * @module
 */
import { systemClock, type Clock, type TimerHandle } from "../runtime/clock.ts";

/**
 * A cancellable timer.
 * @deprecated Use `TimerHandle` (the same type).
 */
export type TransportTimer = TimerHandle;

/**
 * Monotonic time and timers that never keep the process alive.
 * @deprecated Use `Clock` (the same type).
 */
export type TransportClock = Clock;

/**
 * `performance.now()` and unref'd timers.
 * @deprecated Use `systemClock` (the same object).
 */
export const realClock: Clock = systemClock;

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
