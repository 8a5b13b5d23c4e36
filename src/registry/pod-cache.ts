/**
 * The Kratos pod cache: a list-and-watch mirror of the pods carrying a
 * `kratos-service-app` label, in one or several namespaces, indexed by that
 * label. One informer (`kube/informer.ts`) per namespace, or one for all.
 *
 * ## Contract
 * - Server-side filtering by default: namespaced (the client's namespace, or
 *   `"default"`), with `labelSelector=kratos-service-app` (the label exists).
 *   `"*"` watches all namespaces through `/api/v1/pods`.
 * - `ready()` resolves after the first full sync of every watched namespace.
 * - A relist replaces a namespace's pods atomically and emits the difference
 *   (`added`, `modified`, `deleted`) as one batch; each watch event is a batch
 *   of one. Listeners run synchronously after the batch is applied.
 * - A pod that cannot be projected (no name or namespace) is reported to
 *   `onError` with what is known of it and skipped; it never stops the loop.
 *
 * ## Recovery and errors
 * The reflectors retry forever; every failure reaches `onError` as a
 * `WatchError`. Only `close()` stops them.
 *
 * @module
 */
import type { Clock } from "../kube/clock.ts";
import type { Informer, InformerState, ObjectChange } from "../kube/informer.ts";
import { createInformer } from "../kube/informer.ts";
import type { PodRecord } from "../kube/pod-record.ts";
import type { ReflectorApi } from "../kube/reflector/reflector.ts";
import { kratosPodResource, SERVICE_INDEX } from "./kratos-pods.ts";

/** One change of the cache contents. */
export type PodChange =
  | { readonly type: "added"; readonly pod: PodRecord }
  | { readonly type: "modified"; readonly pod: PodRecord; readonly old: PodRecord }
  | { readonly type: "deleted"; readonly pod: PodRecord };

/** The read side of a {@link PodCache}. */
export interface PodCacheView {
  /** Every watched namespace completed its first full sync. */
  readonly synced: boolean;
  /** `failing` when any namespace's loop is failing, else `unsynced` until every one synced, else `synced`. */
  readonly state: InformerState;
  /** Resolves after the first full sync of every watched namespace; rejects on abort or close. */
  ready(signal?: AbortSignal): Promise<void>;
  /** Pods whose `kratos-service-app` label equals `app`; O(pods of that app). The array is frozen. */
  byApp(app: string): readonly PodRecord[];
  get(namespace: string, name: string): PodRecord | undefined;
  readonly size: number;
  values(): IterableIterator<PodRecord>;
  /** `listener` runs synchronously after each applied batch; returns the unsubscribe function. */
  subscribe(listener: (changes: readonly PodChange[]) => void): () => void;
}

/** A pod cache with its lifecycle. */
export interface PodCache extends PodCacheView, AsyncDisposable {
  /** Starts the reflectors; idempotent. */
  start(): void;
  /** Stops every reflector and timer; pending `ready()` calls reject. */
  close(): Promise<void>;
}

/** Options of {@link createPodCache}. */
export interface PodCacheOptions {
  /** A `KubeClient`, or any list-and-watch API. */
  api: ReflectorApi;
  /** Namespaces to watch, or `"*"` for all. Default: the client's namespace (`api.config.namespace`), else `"default"`. */
  namespaces?: readonly string[] | "*";
  /** Default `"kratos-service-app"` (pods with that label); `""` for every pod. */
  labelSelector?: string;
  clock?: Clock;
  random?: () => number;
  onError?: (e: Error) => void;
  /** Try streaming lists first (falls back to LIST when unsupported). Default false. */
  streamingList?: boolean;
  /** LIST page size, default 500. */
  pageSize?: number;
}

const EMPTY: readonly PodRecord[] = Object.freeze([]);

function toPodChanges(changes: readonly ObjectChange<PodRecord>[]): PodChange[] {
  return changes.map((c) => (c.type === "modified" ? { type: c.type, pod: c.object, old: c.old } : { type: c.type, pod: c.object }));
}

class PodCacheImpl implements PodCache {
  readonly #informers = new Map<string, Informer<PodRecord>>();
  #started = false;

  constructor(o: PodCacheOptions) {
    const namespaces = o.namespaces ?? [
      (o.api as { config?: { namespace?: unknown } }).config?.namespace,
    ].map((ns) => (typeof ns === "string" && ns !== "" ? ns : "default"));
    const list = namespaces === "*" ? ["*"] : [...new Set(namespaces)];
    if (list.length === 0) throw new TypeError("createPodCache: namespaces is empty");
    const resource = kratosPodResource(o.labelSelector !== undefined ? { labelSelector: o.labelSelector } : {});
    for (const ns of list) {
      if (typeof ns !== "string" || ns === "") throw new TypeError(`createPodCache: invalid namespace ${JSON.stringify(ns)}`);
      this.#informers.set(ns, createInformer({
        api: o.api,
        resource,
        namespace: ns === "*" ? undefined : ns,
        clock: o.clock,
        random: o.random,
        onError: o.onError,
        streamingList: o.streamingList,
        pageSize: o.pageSize,
      }));
    }
  }

  get synced(): boolean {
    for (const i of this.#informers.values()) if (!i.synced) return false;
    return true;
  }

  get state(): InformerState {
    let state: InformerState = "synced";
    for (const i of this.#informers.values()) {
      if (i.state === "failing") return "failing";
      if (i.state === "unsynced") state = "unsynced";
    }
    return state;
  }

  async ready(signal?: AbortSignal): Promise<void> {
    for (const i of this.#informers.values()) await i.ready(signal);
  }

  byApp(app: string): readonly PodRecord[] {
    if (this.#informers.size === 1) for (const i of this.#informers.values()) return i.byIndex(SERVICE_INDEX, app);
    let out: PodRecord[] | undefined;
    for (const i of this.#informers.values()) {
      const part = i.byIndex(SERVICE_INDEX, app);
      if (part.length > 0) (out ??= []).push(...part);
    }
    return out === undefined ? EMPTY : Object.freeze(out);
  }

  get(namespace: string, name: string): PodRecord | undefined {
    return (this.#informers.get(namespace) ?? this.#informers.get("*"))?.get(namespace, name);
  }

  get size(): number {
    let n = 0;
    for (const i of this.#informers.values()) n += i.size;
    return n;
  }

  *values(): IterableIterator<PodRecord> {
    for (const i of this.#informers.values()) yield* i.values();
  }

  subscribe(listener: (changes: readonly PodChange[]) => void): () => void {
    const offs = [...this.#informers.values()].map((i) => i.subscribe((c) => listener(toPodChanges(c))));
    return () => {
      for (const off of offs) off();
    };
  }

  start(): void {
    if (this.#started) return;
    this.#started = true;
    for (const i of this.#informers.values()) i.start();
  }

  async close(): Promise<void> {
    await Promise.all([...this.#informers.values()].map((i) => i.close()));
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/**
 * Creates a Kratos pod cache over `api` (usually a `KubeClient`). Call
 * `start()`, then `await ready()`.
 *
 * @example
 * ```ts
 * await using cache = createPodCache({ api: client, namespaces: ["shop"] });
 * cache.start();
 * await cache.ready();
 * cache.byApp("helloworld");
 * ```
 */
export function createPodCache(options: PodCacheOptions): PodCache {
  return new PodCacheImpl(options);
}


