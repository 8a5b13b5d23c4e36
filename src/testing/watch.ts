/**
 * Pod WATCH semantics of the kube-apiserver watch cache (apiserver
 * `storage/cacher/cacher.go`, `cache_watcher.go`, `watch_cache.go`):
 * initial events, history replay from a resourceVersion, in-stream 410, selector
 * transitions, bookmarks in both real shapes, the initial-events-end marker and
 * `timeoutSeconds`.
 *
 * @module
 */
import type { Clock, TimerHandle } from "../kube/clock.ts";
import type { KubeObject, Pod, Status } from "../kube/wire.ts";
import { INITIAL_EVENTS_END_ANNOTATION } from "../kube/wire.ts";
import type { ListQuery } from "./list-options.ts";
import type { PodStore, StoreEvent } from "./store.ts";
import { tooLargeResourceVersion, watchTooOld } from "./status.ts";
import { JSON_WATCH_ENCODING, WatchOutput, type WatchEncoding } from "./watch-stream.ts";

/** What the watch handler needs from the server (`store` holds pods unless `T` says otherwise). */
export interface WatchContext<T extends KubeObject = Pod> {
  readonly store: PodStore<T>;
  readonly clock: Clock;
  readonly bookmarkIntervalMs: number;
  /** A PRNG for re-chunking this stream, or undefined for one chunk per batch. */
  chunkRandom(): (() => number) | undefined;
  /** Random number for the default timeout. */
  random(): number;
  /** Registers an open watch; returns the unregister function. */
  register(w: WatchSession<KubeObject>): () => void;
  /** The shape of the next periodic bookmark (see {@link BookmarkShape}). */
  nextBookmarkShape(): BookmarkShape;
}

/**
 * The cacher's wait for a fresh enough cache before a consistent or
 * NotOlderThan read (apiserver `watch_cache.go` `blockTimeout` = 3 s).
 */
export const BLOCK_TIMEOUT_MS = 3_000;

/**
 * Default watch timeout when the request gives none: a random value in
 * [minRequestTimeout, 2×minRequestTimeout) with minRequestTimeout 1800 s
 * (apiserver `handlers/get.go`, `server/config.go`).
 */
export const MIN_REQUEST_TIMEOUT_S = 1800;

/** Bookmarks go out this long before the watch deadline (apiserver `cache_watcher.go` `nextBookmarkTime`). */
export const BOOKMARK_BEFORE_DEADLINE_MS = 2_000;

/** Adds `kind`/`apiVersion` in front, as objects in watch events and GETs carry them. */
export function withKind(pod: Pod): Pod {
  const { kind: _k, apiVersion: _a, ...rest } = pod;
  return { kind: "Pod", apiVersion: "v1", ...rest };
}

/**
 * How a bookmark's object looks: `current` is an empty Pod as a v1.34
 * apiserver serialises it (`spec.containers: null`, `status: {}`);
 * `legacy-empty-pod` the same with `creationTimestamp: null`, as releases
 * before v1.33 wrote it (Arnavion/k8s-openapi#70); `metadata-only` the
 * shape of watches of custom resources and of metadata-only clients.
 */
export type BookmarkShape = "current" | "legacy-empty-pod" | "metadata-only";

function bookmark(rv: number, shape: BookmarkShape, end: boolean): unknown {
  const metadata: Record<string, unknown> = { resourceVersion: String(rv) };
  if (end) metadata["annotations"] = { [INITIAL_EVENTS_END_ANNOTATION]: "true" };
  if (shape === "metadata-only") return { kind: "Pod", apiVersion: "v1", metadata };
  if (shape === "legacy-empty-pod") metadata["creationTimestamp"] = null;
  return { kind: "Pod", apiVersion: "v1", metadata, spec: { containers: null }, status: {} };
}

/** One open watch. */
export class WatchSession<T extends KubeObject = Pod> {
  readonly output: WatchOutput;
  #timers: TimerHandle[] = [];
  #unsubscribe: (() => void) | undefined;
  #unregister: () => void = () => {};
  readonly #ctx: WatchContext<T>;

  constructor(ctx: WatchContext<T>, encoding: WatchEncoding = JSON_WATCH_ENCODING) {
    this.#ctx = ctx;
    this.output = new WatchOutput(ctx.chunkRandom(), () => this.#cleanup(), encoding);
    this.#unregister = ctx.register(this as unknown as WatchSession<KubeObject>);
  }

  #cleanup(): void {
    for (const t of this.#timers) t.cancel();
    this.#timers = [];
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
    this.#unregister();
  }

  /** Adds a timer cancelled when the watch ends. */
  timer(fn: () => void, ms: number): void {
    if (this.output.state === "ended" || this.output.state === "failed") return;
    this.#timers.push(this.#ctx.clock.setTimeout(fn, ms));
  }

  /** Subscribes to store changes. */
  follow(fn: (e: StoreEvent<T>) => void): void {
    this.#unsubscribe = this.#ctx.store.subscribe(fn);
  }

  /** Sends one ERROR event and ends the stream (apiserver `cacher.go` `newErrWatcher`). */
  error(s: Status): void {
    this.output.send({ type: "ERROR", object: s });
    this.output.end();
  }
}

/**
 * How a resource's objects look on a watch: `kind`/`apiVersion` put in front,
 * and the object of a bookmark. Pods by default ({@link POD_WATCH_SHAPE}).
 */
export interface WatchShape<T extends KubeObject> {
  withKind(object: T): T;
  bookmark(rv: number, shape: BookmarkShape, end: boolean): unknown;
}

/** Converts a store event to what a watcher with `matches` sees (apiserver `cache_watcher.go` `convertToWatchEvent`). */
export function toWatchEvent<T extends KubeObject = Pod>(
  e: StoreEvent<T>,
  matches: (p: T) => boolean,
  kinded: (o: T) => T = withKind as unknown as (o: T) => T,
): { type: string; object: T } | undefined {
  const now = e.type !== "DELETED" && matches(e.object);
  const before = e.prev !== undefined && matches(e.prev);
  if (e.type === "ADDED") return now ? { type: "ADDED", object: kinded(e.object) } : undefined;
  if (e.type === "DELETED") return before ? { type: "DELETED", object: kinded(e.object) } : undefined;
  if (now && before) return { type: "MODIFIED", object: kinded(e.object) };
  if (now) return { type: "ADDED", object: kinded(e.object) };
  if (before) {
    const old = kinded(e.prev!);
    old.metadata = { ...old.metadata, resourceVersion: String(e.rv) };
    return { type: "DELETED", object: old };
  }
  return undefined;
}

/** Rewrites an event's object (e.g. into a Table row); `first` is true for the stream's first object event. */
export type ObjectTransform = (pod: Pod, first: boolean) => unknown;

/** The pods' {@link WatchShape}. */
export const POD_WATCH_SHAPE: WatchShape<Pod> = { withKind, bookmark };

/**
 * Opens a watch over `namespace` (undefined = all) of the store's resource
 * (pods by default) and returns the 200 response, written in `encoding`.
 */
export function openWatch<T extends KubeObject = Pod>(
  ctx: WatchContext<T>,
  namespace: string | undefined,
  q: ListQuery,
  transform?: ObjectTransform,
  shape: WatchShape<T> = POD_WATCH_SHAPE as unknown as WatchShape<T>,
  encoding: WatchEncoding = JSON_WATCH_ENCODING,
): Response {
  const session = new WatchSession<T>(ctx, encoding);
  const raw = session.output;
  // Object events go through `transform` (a Table watch); bookmarks and errors do not.
  let first = true;
  const out = {
    get state() {
      return raw.state;
    },
    send(ev: { type: string; object: unknown }): void {
      if (transform !== undefined && ev.type !== "BOOKMARK" && ev.type !== "ERROR") {
        raw.send({ type: ev.type, object: transform(ev.object as unknown as Pod, first) });
        first = false;
      } else raw.send(ev);
    },
    end: (): void => raw.end(),
  };
  const store = ctx.store;
  const matches = (p: T): boolean =>
    (namespace === undefined || p.metadata.namespace === namespace) && q.matches(p as unknown as Pod);
  const legacyInitial = (q.rv === undefined || q.rv === 0) && q.sendInitialEvents === undefined;
  // With the WatchList gate (default since 1.34), a legacy RV ""/"0" watch is
  // rewritten to sendInitialEvents=true (apimachinery `internalversion/defaults.go`).
  const initial = q.sendInitialEvents === true || legacyInitial;
  const endBookmark = initial && q.allowWatchBookmarks;

  const timeoutMs =
    q.timeoutSeconds !== undefined && q.timeoutSeconds > 0
      ? q.timeoutSeconds * 1000
      : Math.floor((MIN_REQUEST_TIMEOUT_S + ctx.random() * MIN_REQUEST_TIMEOUT_S) * 1000);
  // A hung watch simulates a half-open connection: no byte reaches the client,
  // not even the end of the stream at the deadline, so it stays open until
  // dropWatches()/close() or the client gives up (its idle watchdog).
  session.timer(() => {
    if (out.state !== "hung") out.end();
  }, timeoutMs);

  let lastRv = store.rv;
  /** Live phase: forwards changes newer than this RV; undefined = not live yet. */
  let liveFrom: number | undefined;
  // A bookmark goes out only once the store moved past where the watch started
  // (apiserver `cache_watcher.go` `process`: events, bookmarks too, must be newer).
  const sendBookmark = (): void => {
    const rv = Math.max(lastRv, store.rv);
    if (out.state === "open" && liveFrom !== undefined && rv > liveFrom) {
      out.send({ type: "BOOKMARK", object: shape.bookmark(rv, ctx.nextBookmarkShape(), false) });
    }
  };
  const goLive = (from: number): void => {
    liveFrom = from;
    lastRv = Math.max(from, store.rv);
  };
  let onFresh: (() => void) | undefined;
  session.follow((e) => {
    if (liveFrom === undefined) {
      onFresh?.();
      return;
    }
    if (e.rv <= liveFrom) return;
    lastRv = e.rv;
    const ev = toWatchEvent(e, matches, shape.withKind);
    if (ev !== undefined) out.send(ev);
  });
  if (q.allowWatchBookmarks) {
    const every = (): void => {
      sendBookmark();
      session.timer(every, ctx.bookmarkIntervalMs);
    };
    session.timer(every, ctx.bookmarkIntervalMs);
    if (timeoutMs > BOOKMARK_BEFORE_DEADLINE_MS) session.timer(sendBookmark, timeoutMs - BOOKMARK_BEFORE_DEADLINE_MS);
  }
  const sendInitial = (): void => {
    for (const [, pod] of store.sorted()) if (matches(pod)) out.send({ type: "ADDED", object: shape.withKind(pod) });
    const at = Math.max(store.rv, q.rv ?? 0);
    if (endBookmark) out.send({ type: "BOOKMARK", object: shape.bookmark(at, ctx.nextBookmarkShape() === "current" ? "current" : "metadata-only", true) });
    goLive(store.rv);
  };

  if (initial) {
    const wanted = q.rv ?? 0;
    if (wanted > store.rv) {
      // sendInitialEvents with a future RV: wait up to 3 s, then ERROR 504
      // (apiserver `cacher.go` `waitUntilWatchCacheFreshAndForceAllEvents`).
      onFresh = () => {
        if (store.rv < wanted) return;
        onFresh = undefined;
        sendInitial();
      };
      session.timer(() => {
        if (liveFrom !== undefined) return;
        onFresh = undefined;
        session.error(tooLargeResourceVersion(wanted, store.rv));
      }, BLOCK_TIMEOUT_MS);
    } else sendInitial();
  } else {
    // RV ""/"0" with sendInitialEvents=false: "start watching from any
    // resourceVersion", i.e. from now (apiserver `watch_cache.go` `getAllEventsSinceLocked`).
    const from = q.rv === undefined || q.rv === 0 ? store.rv : q.rv;
    const events = store.since(Math.min(from, store.rv));
    if (events === undefined) {
      session.error(watchTooOld(from, store.historyStart));
    } else {
      for (const e of events) {
        if (e.rv <= from) continue;
        const ev = toWatchEvent(e, matches, shape.withKind);
        if (ev !== undefined) out.send(ev);
      }
      // A future RV simply waits: only events newer than it are sent.
      goLive(from);
    }
  }
  return new Response(raw.stream, {
    status: 200,
    headers: { "content-type": encoding.contentType, "cache-control": "no-cache, private" },
  });
}
