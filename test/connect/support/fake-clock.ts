/** A manual clock: timers fire only when the test advances time. */
export interface FakeClock {
  now(): number;
  setTimeout(fn: () => void, ms: number): { cancel(): void };
  /** Moves time forward, firing due timers in order. */
  advance(ms: number): void;
  /** Timers not fired or cancelled. */
  readonly pending: number;
  /** Resolves once at least `n` timers are pending. */
  whenPending(n: number): Promise<void>;
}

export function createFakeClock(start = 1_000_000): FakeClock {
  let t = start;
  let seq = 0;
  const timers = new Map<number, { at: number; fn: () => void }>();
  let waiters: { n: number; resolve: () => void }[] = [];
  const check = (): void => {
    waiters = waiters.filter((w) => {
      if (timers.size >= w.n) {
        w.resolve();
        return false;
      }
      return true;
    });
  };
  return {
    now: () => t,
    setTimeout(fn, ms) {
      const id = ++seq;
      timers.set(id, { at: t + Math.max(0, ms), fn });
      check();
      return { cancel: () => void timers.delete(id) };
    },
    advance(ms) {
      const end = t + ms;
      for (;;) {
        let next: [number, { at: number; fn: () => void }] | undefined;
        for (const e of timers) if (e[1].at <= end && (next === undefined || e[1].at < next[1].at)) next = e;
        if (next === undefined) break;
        timers.delete(next[0]);
        t = next[1].at;
        next[1].fn();
      }
      t = end;
    },
    get pending() {
      return timers.size;
    },
    whenPending(n) {
      if (timers.size >= n) return Promise.resolve();
      return new Promise((resolve) => waiters.push({ n, resolve }));
    },
  };
}
