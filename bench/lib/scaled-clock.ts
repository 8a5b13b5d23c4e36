/**
 * A {@link Clock} running `scale` times faster than real time: `now()` is
 * real elapsed time × scale, and `setTimeout(fn, ms)` fires after
 * `ms / scale` real milliseconds. Shared by the fake API server and the
 * client in the compressed-time API-server-load benchmark.
 *
 * @module
 */
import type { Clock, TimerHandle } from "../../src/kube/clock.ts";

/** A clock `scale`× faster than real time. */
export function scaledClock(scale: number): Clock {
  const t0 = performance.now();
  return {
    now: () => (performance.now() - t0) * scale,
    setTimeout(fn: () => void, ms: number): TimerHandle {
      const t = setTimeout(fn, Math.max(0, ms / scale)) as unknown as { unref?: () => void };
      if (typeof t === "object" && t !== null && typeof t.unref === "function") t.unref();
      return { cancel: () => clearTimeout(t as unknown as number) };
    },
  };
}
