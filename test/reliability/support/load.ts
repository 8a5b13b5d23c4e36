/**
 * A paced RPC load for reliability tests: `rate` calls a second (missed ticks
 * are caught up, so the average rate holds even when the event loop stalls),
 * each call's outcome recorded with its Connect code. Tests wait on completed
 * call counts, not on time.
 */
import { Code, ConnectError } from "@connectrpc/connect";

export interface Failure {
  readonly code: Code;
  readonly message: string;
  /** Load-relative ms when it failed. */
  readonly at: number;
}

export interface RateLoad {
  readonly sent: number;
  readonly ok: number;
  readonly failures: readonly Failure[];
  readonly inflight: number;
  /** Calls not issued because `maxInflight` calls were already running (the machine could not keep up). */
  readonly shed: number;
  /** ms since start (until stop). */
  readonly elapsedMs: number;
  /** Resolves once `n` more calls completed (ok or failed) than now. */
  completed(n: number): Promise<void>;
  /** Stops issuing calls and waits for every call in flight. */
  stop(): Promise<void>;
}

/**
 * Starts the load. At most `maxInflight` (default 128) calls run at once: on a starved machine an open-loop
 * load would pile up calls without bound and turn a slow test into a collapse; the excess is counted as `shed`.
 */
export function startRateLoad(o: { call: () => Promise<unknown>; rate: number; maxInflight?: number; onFailure?: (f: Failure) => void }): RateLoad {
  const maxInflight = o.maxInflight ?? 128;
  let shed = 0;
  let sent = 0;
  let ok = 0;
  let inflight = 0;
  const failures: Failure[] = [];
  const pending = new Set<Promise<void>>();
  let waiters: { at: number; resolve: () => void }[] = [];
  const started = performance.now();
  let stoppedAt: number | undefined;
  const notify = (): void => {
    const done = ok + failures.length;
    waiters = waiters.filter((w) => (done >= w.at ? (w.resolve(), false) : true));
  };
  const fire = (): void => {
    sent++;
    inflight++;
    const p = o
      .call()
      .then(
        () => {
          ok++;
        },
        (e: unknown) => {
          const ce = ConnectError.from(e);
          const f = { code: ce.code, message: ce.message, at: performance.now() - started };
          failures.push(f);
          o.onFailure?.(f);
        },
      )
      .finally(() => {
        inflight--;
        pending.delete(p);
        notify();
      });
    pending.add(p);
  };
  const period = 1000 / o.rate;
  let issued = 0;
  const timer = setInterval(() => {
    const due = Math.floor((performance.now() - started) / period);
    while (issued < due) {
      issued++;
      if (inflight >= maxInflight) shed++;
      else fire();
    }
  }, Math.max(1, Math.min(period, 10)));
  return {
    get sent() {
      return sent;
    },
    get ok() {
      return ok;
    },
    failures,
    get inflight() {
      return inflight;
    },
    get shed() {
      return shed;
    },
    get elapsedMs() {
      return (stoppedAt ?? performance.now()) - started;
    },
    completed(n) {
      const at = ok + failures.length + n;
      return new Promise((resolve) => {
        waiters.push({ at, resolve });
        notify();
      });
    },
    async stop() {
      clearInterval(timer);
      stoppedAt ??= performance.now();
      while (pending.size > 0) await Promise.allSettled([...pending]);
    },
  };
}

/** Resolves predicates re-checked on every `notify()`. */
export function createWaiter(): { notify(): void; until(pred: () => boolean, what?: string): Promise<void>; readonly pending: number } {
  let list: { pred: () => boolean; resolve: () => void }[] = [];
  return {
    notify() {
      list = list.filter((w) => (w.pred() ? (w.resolve(), false) : true));
    },
    until(pred) {
      if (pred()) return Promise.resolve();
      return new Promise((resolve) => list.push({ pred, resolve }));
    },
    get pending() {
      return list.length;
    },
  };
}
