/**
 * The discovery side of the balancing transport: watch a service, hand each
 * instance list over, and keep going through errors. Errors are reported and
 * the watch is started again after {@link WATCH_RETRY_MS}; aborting `signal`
 * stops the current watcher and ends the loop.
 *
 * Each list goes with the watcher's `state` when it reports one. A state
 * change alone does not wake `next()`, so while the last list came from a
 * watch that was not synced, the state is looked at again every
 * {@link WATCH_RETRY_MS} and the same list handed over once it is `synced`
 * (an empty list kept as stale then counts).
 *
 * @module
 */
import type { EndpointInstance, EndpointSource, InstanceWatcher, InstanceWatcherState } from "./endpoint-source.ts";
import type { TransportClock } from "./transport-clock.ts";

/** Pause after a discovery error (go-kratos resolver: `time.Sleep(time.Second)` after a failed `Next()`). */
export const WATCH_RETRY_MS = 1000;

/** Options of {@link runWatchLoop}. */
export interface WatchLoopOptions {
  readonly source: EndpointSource;
  readonly service: string;
  /** The transport's whole target, handed to the source with the service name. */
  readonly target?: string | undefined;
  /** Ends the loop and stops the current watcher. */
  readonly signal: AbortSignal;
  readonly clock: TransportClock;
  /** Every instance list the watcher returns, with its state when it reports one. */
  onList(list: readonly EndpointInstance[], state: InstanceWatcherState | undefined): void;
  /** A failed `watch()` or `next()`; the loop continues. */
  onError(error: unknown, during: "watch" | "next"): void;
}

/** Runs until `signal` aborts; never rejects. */
export async function runWatchLoop(o: WatchLoopOptions): Promise<void> {
  const { signal } = o;
  let current: InstanceWatcher | undefined;
  const stop = async (w: InstanceWatcher | undefined): Promise<void> => {
    try {
      await w?.stop();
    } catch {
      // stopping is best effort
    }
  };
  const onAbort = (): void => void stop(current);
  signal.addEventListener("abort", onAbort, { once: true });
  try {
    while (!signal.aborted) {
      let watcher: InstanceWatcher;
      try {
        watcher = await o.source.watch(o.service, o.target === undefined ? { signal } : { signal, target: o.target });
      } catch (e) {
        if (signal.aborted) return;
        o.onError(e, "watch");
        await pause(o.clock, WATCH_RETRY_MS, signal);
        continue;
      }
      if (signal.aborted) {
        await stop(watcher);
        return;
      }
      current = watcher;
      let stale = false;
      let last: readonly EndpointInstance[] = [];
      for (;;) {
        let list: readonly EndpointInstance[];
        try {
          const pending = watcher.next();
          while (stale) {
            // Look at the state again until it is synced or the next list comes.
            const got = await settledWithin(pending, o.clock, WATCH_RETRY_MS);
            if (got || signal.aborted) break;
            if (watcher.state === "synced") {
              stale = false;
              o.onList(last, "synced");
            }
          }
          list = await pending;
        } catch (e) {
          if (signal.aborted) return;
          // A watcher that failed may be dead (stopped, closed registry):
          // start a fresh watch after the pause; the endpoints stay meanwhile.
          o.onError(e, "next");
          current = undefined;
          await stop(watcher);
          await pause(o.clock, WATCH_RETRY_MS, signal);
          break;
        }
        if (signal.aborted) return;
        const state = watcher.state;
        stale = state !== undefined && state !== "synced";
        last = list;
        o.onList(list, state);
      }
    }
  } finally {
    signal.removeEventListener("abort", onAbort);
  }
}

/** True once `p` settles, false after `ms` on `clock` (the timer is cancelled either way). */
function settledWithin(p: Promise<unknown>, clock: TransportClock, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const t = clock.setTimeout(() => resolve(false), ms);
    const done = (): void => {
      t.cancel();
      resolve(true);
    };
    p.then(done, done);
  });
}

/** Waits `ms` on `clock`, or less if `signal` aborts. */
function pause(clock: TransportClock, ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const onAbort = (): void => {
      t.cancel();
      resolve();
    };
    const t = clock.setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}
