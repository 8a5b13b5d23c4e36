/**
 * The discovery side of the balancing transport: watch a service, hand each
 * instance list over, and keep going through errors. Errors are reported and
 * the watch is started again after {@link WATCH_RETRY_MS}; aborting `signal`
 * stops the current watcher and ends the loop.
 *
 * @module
 */
import type { EndpointInstance, EndpointSource, InstanceWatcher } from "./endpoint-source.ts";
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
  /** Every instance list the watcher returns. */
  onList(list: readonly EndpointInstance[]): void;
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
      for (;;) {
        let list: readonly EndpointInstance[];
        try {
          list = await watcher.next();
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
        o.onList(list);
      }
    }
  } finally {
    signal.removeEventListener("abort", onAbort);
  }
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
