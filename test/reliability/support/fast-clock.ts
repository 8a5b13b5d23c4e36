/**
 * A {@link Clock} running `factor` times faster than real time: backoffs,
 * Retry-After waits, watch timeouts and bookmark intervals of a chaos run
 * take a fraction of their real length, in the same proportions. Timers are
 * unref'd like the system clock's.
 */
import type { Clock } from "../../../src/kube/clock.ts";

export function createFastClock(factor: number): Clock {
  const origin = performance.now();
  return {
    now: () => (performance.now() - origin) * factor,
    setTimeout(fn, ms) {
      const t = setTimeout(fn, Math.max(0, ms / factor)) as unknown as { unref?: () => void };
      if (typeof t === "object" && t !== null && typeof t.unref === "function") t.unref();
      return { cancel: () => clearTimeout(t as unknown as number) };
    },
  };
}

/** mulberry32, the same seeded PRNG the fake API server re-chunks watch output with. */
export { seededRandom } from "../../../src/testing/watch-stream.ts";
