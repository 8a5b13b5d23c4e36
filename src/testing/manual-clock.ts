/**
 * A manual {@link Clock} for deterministic tests: time moves only when the
 * test calls `advance()`, which runs the due timers in order.
 *
 * @module
 */
import type { Clock, TimerHandle } from "../kube/clock.ts";

/** A clock driven by the test. */
export interface ManualClock extends Clock {
  /**
   * Moves time forward by `ms`, running every timer that falls due (in due
   * order; timers set by a running timer run too if due). Awaits a microtask
   * turn after each timer so promise chains it resolves can settle.
   */
  advance(ms: number): Promise<void>;
  /** Number of timers waiting. */
  readonly pending: number;
}

interface Timer {
  at: number;
  seq: number;
  fn: () => void;
}

async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}

/** Creates a {@link ManualClock} starting at `start` ms (default 0). */
export function createManualClock(start = 0): ManualClock {
  let now = start;
  let seq = 0;
  const timers = new Set<Timer>();
  return {
    now: () => now,
    setTimeout(fn: () => void, ms: number): TimerHandle {
      const t: Timer = { at: now + Math.max(0, ms), seq: seq++, fn };
      timers.add(t);
      return { cancel: () => void timers.delete(t) };
    },
    get pending() {
      return timers.size;
    },
    async advance(ms: number): Promise<void> {
      const target = now + Math.max(0, ms);
      await settle();
      for (;;) {
        let next: Timer | undefined;
        for (const t of timers) {
          if (t.at <= target && (next === undefined || t.at < next.at || (t.at === next.at && t.seq < next.seq))) next = t;
        }
        if (next === undefined) break;
        timers.delete(next);
        now = Math.max(now, next.at);
        next.fn();
        await settle();
      }
      now = target;
    },
  };
}
