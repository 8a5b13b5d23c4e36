/**
 * Advanced: a generic hook on an informer's list-and-watch loop, for
 * metrics and logs (kratos-kube's registry turns it into OpenTelemetry
 * instruments and log records): relists, watches (re)started, events applied
 * with the time the apiserver last wrote the object, the cache's size, and
 * the informer's end. Exceptions thrown by the hook are ignored.
 *
 * @module
 */
import type { KubeObject } from "./wire.ts";
import type { ReflectorSink } from "./reflector/reflector.ts";

/** What an informer reports to its observer (every method optional). */
export interface InformerObserver {
  /** A LIST (or streaming list) replaced the cache, which now holds `size` objects. */
  relisted?(size: number): void;
  /** A watch was accepted; `resumed` is false for the first watch after a list, true for a reconnect from the last resourceVersion. */
  watchStarted?(resumed: boolean): void;
  /**
   * A watch event was applied; the cache holds `size` objects. `writtenAt`:
   * the newest `metadata.managedFields[].time` of the object (epoch ms,
   * whole seconds, as the apiserver records it), when it has one.
   */
  event?(type: "ADDED" | "MODIFIED" | "DELETED", writtenAt: number | undefined, size: number): void;
  /** The informer was closed. */
  closed?(): void;
}

/** Calls `fn` on `observer`, ignoring its exceptions. */
function safely(fn: () => void): void {
  try {
    fn();
  } catch {
    // A throwing observer must not break the loop.
  }
}

/** The newest managedFields time of `object` in epoch ms, if any (`time` as RFC 3339 text, or as epoch ms from the protobuf reader). */
export function lastWrite(object: KubeObject): number | undefined {
  const fields = (object.metadata as { managedFields?: readonly { time?: unknown }[] } | undefined)?.managedFields;
  if (!Array.isArray(fields)) return undefined;
  let newest: number | undefined;
  for (const f of fields) {
    // RFC 3339 text from JSON; epoch milliseconds from the protobuf reader.
    const t = typeof f?.time === "string" ? Date.parse(f.time) : typeof f?.time === "number" ? f.time : Number.NaN;
    if (Number.isFinite(t) && (newest === undefined || t > newest)) newest = t;
  }
  return newest;
}

/** Advanced: `sink` with every step also reported to `observer`; `size()` reads the cache's size. */
export function observeSink(sink: ReflectorSink, observer: InformerObserver, size: () => number): ReflectorSink {
  let listed = false;
  return {
    relistBegin: () => sink.relistBegin(),
    relistItems: (items) => sink.relistItems(items),
    relistDelete: (object) => sink.relistDelete(object),
    relistAbort: () => sink.relistAbort(),
    relistDone(resourceVersion) {
      sink.relistDone(resourceVersion);
      listed = true;
      if (observer.relisted !== undefined) safely(() => observer.relisted!(size()));
    },
    apply(type, object) {
      sink.apply(type, object);
      if (observer.event !== undefined) safely(() => observer.event!(type, lastWrite(object), size()));
    },
    watchStarted() {
      sink.watchStarted?.();
      const resumed = !listed;
      listed = false;
      if (observer.watchStarted !== undefined) safely(() => observer.watchStarted!(resumed));
    },
  };
}

/** Advanced: reports the informer's end to `observer`. */
export function observeClose(observer: InformerObserver | undefined): void {
  if (observer?.closed !== undefined) safely(() => observer.closed!());
}
