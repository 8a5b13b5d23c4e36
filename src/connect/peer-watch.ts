/**
 * The watch of a client's own service, for subsets positioned among peers
 * (`subset: { algorithm: "aperture", self: { service, id } }`): the
 * transport follows `discovery:///<own service>` through its own discovery
 * and hands each list's instance ids over. Errors go to the transport's
 * `onError`, naming the service, and the watch restarts as the main one.
 *
 * @module
 */
import type { EndpointSource } from "./endpoint-source.ts";
import type { TransportClock } from "./transport-clock.ts";
import { runWatchLoop } from "./watch-loop.ts";

/** Options of {@link watchPeers}. */
export interface PeerWatchOptions {
  readonly source: EndpointSource;
  /** The client's own service. */
  readonly service: string;
  readonly signal: AbortSignal;
  readonly clock: TransportClock;
  /** The instance ids of each list. */
  onPeers(ids: readonly string[]): void;
  /** The transport's `onError`, if any. */
  readonly onError: ((error: Error) => void) | undefined;
}

/** Runs until `signal` aborts; never rejects. */
export function watchPeers(o: PeerWatchOptions): void {
  void runWatchLoop({
    source: o.source,
    service: o.service,
    signal: o.signal,
    clock: o.clock,
    onList: (list) => o.onPeers(list.map((i) => i.id)),
    onError: (e, during) => {
      const err = e instanceof Error ? e : new Error(String(e));
      try {
        o.onError?.(new Error(`discovery ${during} for service "${o.service}" (this client's own, for its subset position) failed: ${err.message}`, { cause: err }));
      } catch {
        // a throwing hook must not stop the watch
      }
    },
  });
}
