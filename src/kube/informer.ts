/**
 * An informer: one list-and-watch loop over one resource in one namespace
 * (or all), mirrored into a cache of small immutable records with the
 * descriptor's indexes (client-go's shared informer and indexer, without
 * handlers that can block it).
 *
 * ## Contract
 * - `ready()` resolves after the first full sync.
 * - A relist replaces the contents atomically and emits the difference
 *   (`added`, `modified`, `deleted`) as one batch; each watch event is a
 *   batch of one. Listeners run synchronously after the batch is applied.
 * - `state` says whether the contents come from a synced, working watch
 *   (`synced`), from before the first sync (`unsynced`), or from a loop that
 *   failed since its last successful relist or watch (`failing`).
 * - An object that cannot be projected is reported to `onError` with what is
 *   known of it and skipped; it never stops the loop.
 *
 * ## Recovery and errors
 * The reflector retries forever; every failure reaches `onError` as a
 * `WatchError`. Only `close()` stops it.
 *
 * @module
 */
import type { Clock } from "./clock.ts";
import { WatchError } from "./errors.ts";
import type { ObjectRecord, ResourceDescriptor } from "./resource.ts";
import { describeObject } from "./resource.ts";
import type { Reflector, ReflectorApi } from "./reflector/reflector.ts";
import { createReflector } from "./reflector/reflector.ts";
import type { ObjectChange } from "./reflector/store.ts";
import { IndexSet, ObjectStore } from "./reflector/store.ts";
import type { KubeObject } from "./wire.ts";
import { observeClose, observeSink, type InformerObserver } from "./informer-observer.ts";

export type { ObjectChange } from "./reflector/store.ts";

/** Where an informer's contents come from; see the module docs. */
export type InformerState = "unsynced" | "synced" | "failing";

/** The read side of an {@link Informer}. */
export interface InformerView<R extends ObjectRecord> {
  /** The first full sync completed. */
  readonly synced: boolean;
  /** See {@link InformerState}. */
  readonly state: InformerState;
  /** Resolves after the first full sync; rejects on abort or close. */
  ready(signal?: AbortSignal): Promise<void>;
  get(namespace: string, name: string): R | undefined;
  readonly size: number;
  /** The cached records, in key order (the name in the informer's namespace, else `namespace/name`). */
  values(): IterableIterator<R>;
  /** Records filed under `value` in index `index` (a descriptor index); frozen. */
  byIndex(index: string, value: string): readonly R[];
  /** `listener` runs synchronously after each applied batch; returns the unsubscribe function. */
  subscribe(listener: (changes: readonly ObjectChange<R>[]) => void): () => void;
}

/** An informer with its lifecycle. */
export interface Informer<R extends ObjectRecord> extends InformerView<R>, AsyncDisposable {
  readonly resource: ResourceDescriptor<R>;
  /** The watched namespace; undefined for all namespaces. */
  readonly namespace: string | undefined;
  /** Starts the reflector; idempotent. */
  start(): void;
  /** Stops the reflector and every timer; pending `ready()` calls reject. */
  close(): Promise<void>;
}

/** Options of {@link createInformer}. */
export interface InformerOptions<R extends ObjectRecord> {
  api: ReflectorApi;
  /** The resource, its projection and indexes (`project` is a method, so any wire type fits). */
  resource: ResourceDescriptor<R>;
  /** Namespace; undefined for all namespaces. */
  namespace?: string | undefined;
  /** Overrides the descriptor's label selector. */
  labelSelector?: string | undefined;
  fieldSelector?: string | undefined;
  clock?: Clock | undefined;
  random?: (() => number) | undefined;
  /** Every loop failure (retried afterwards) and every skipped object. */
  onError?: ((e: Error) => void) | undefined;
  /** Try streaming lists first (falls back to LIST when unsupported). Default false. */
  streamingList?: boolean | undefined;
  /** LIST page size, default 500. */
  pageSize?: number | undefined;
  /** Advanced: relists, watches, events and cache size, for metrics and logs. */
  observer?: InformerObserver | undefined;
}

class InformerImpl<R extends ObjectRecord> implements Informer<R> {
  readonly resource: ResourceDescriptor<R>;
  readonly namespace: string | undefined;
  readonly #o: InformerOptions<R>;
  readonly #index: IndexSet<R>;
  readonly #store: ObjectStore<R>;
  readonly #listeners = new Set<(changes: readonly ObjectChange<R>[]) => void>();
  readonly #waiters = new Set<{ resolve: () => void; reject: (e: unknown) => void }>();
  #reflector: Reflector | undefined;
  #state: InformerState = "unsynced";
  #closed = false;

  constructor(o: InformerOptions<R>) {
    if (o.namespace !== undefined && (typeof o.namespace !== "string" || o.namespace === "")) {
      throw new TypeError(`createInformer: invalid namespace ${JSON.stringify(o.namespace)}`);
    }
    this.#o = o;
    this.resource = o.resource;
    this.namespace = o.namespace;
    this.#index = new IndexSet(o.resource.indexes ?? {}, (key) => this.#store.objects.get(key));
    const kind = o.resource.kind;
    this.#store = new ObjectStore<R>({
      index: this.#index,
      project: (object: KubeObject, previous: R | undefined) => o.resource.project(object, previous),
      onInvalid: (object, reason, phase) =>
        this.#error(new WatchError(phase, `${kind} ${describeObject(object)} skipped: ${reason}`, { cause: object })),
      onChanges: (changes) => this.#emit(changes),
      onSynced: () => this.#synced(),
      onWatchStarted: () => {
        if (this.#store.synced) this.#state = "synced";
      },
      namespace: o.namespace,
    });
  }

  #error(e: Error): void {
    try {
      this.#o.onError?.(e);
    } catch {
      // A throwing hook must not stop the loop.
    }
  }

  #emit(changes: readonly ObjectChange<R>[]): void {
    for (const l of [...this.#listeners]) {
      try {
        l(changes);
      } catch (e) {
        this.#error(e instanceof Error ? e : new Error(String(e)));
      }
    }
  }

  #synced(): void {
    this.#state = "synced";
    for (const w of [...this.#waiters]) w.resolve();
  }

  get synced(): boolean {
    return this.#store.synced;
  }

  get state(): InformerState {
    return this.#state;
  }

  ready(signal?: AbortSignal): Promise<void> {
    if (this.synced) return Promise.resolve();
    if (this.#closed) return Promise.reject(new WatchError("stream", `the ${this.resource.resource} informer is closed`));
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => done(() => reject(signal?.reason));
      const w = {
        resolve: () => done(resolve),
        reject: (e: unknown) => done(() => reject(e)),
      };
      const done = (f: () => void): void => {
        this.#waiters.delete(w);
        signal?.removeEventListener("abort", onAbort);
        f();
      };
      this.#waiters.add(w);
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  get(namespace: string, name: string): R | undefined {
    return this.#store.get(namespace, name);
  }

  get size(): number {
    return this.#store.objects.size;
  }

  values(): IterableIterator<R> {
    return this.#store.objects.values();
  }

  byIndex(index: string, value: string): readonly R[] {
    return this.#index.byIndex(index, value);
  }

  subscribe(listener: (changes: readonly ObjectChange<R>[]) => void): () => void {
    const wrapped = (c: readonly ObjectChange<R>[]): void => listener(c);
    this.#listeners.add(wrapped);
    return () => void this.#listeners.delete(wrapped);
  }

  start(): void {
    if (this.#reflector !== undefined || this.#closed) return;
    const o = this.#o;
    const selector = o.labelSelector ?? o.resource.labelSelector;
    this.#reflector = createReflector({
      api: o.api,
      resource: o.resource,
      sink: o.observer === undefined ? this.#store : observeSink(this.#store, o.observer, () => this.#store.objects.size),
      namespace: o.namespace,
      labelSelector: selector === "" ? undefined : selector,
      fieldSelector: o.fieldSelector,
      clock: o.clock,
      random: o.random,
      onError: (e) => {
        this.#state = "failing";
        this.#error(e);
      },
      pageSize: o.pageSize,
      streamingList: o.streamingList,
    });
    this.#reflector.start();
  }

  async close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      const e = new WatchError("stream", `the ${this.resource.resource} informer was closed before it synced`);
      for (const w of [...this.#waiters]) w.reject(e);
    }
    await this.#reflector?.close();
    observeClose(this.#o.observer);
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/**
 * Creates an informer over `options.resource` in `options.namespace` (all
 * namespaces when undefined). Call `start()`, then `await ready()`.
 *
 * @example
 * ```ts
 * await using pods = createInformer({ api: client, resource: podResource(), namespace: "shop" });
 * pods.start();
 * await pods.ready();
 * pods.get("shop", "web-0");
 * ```
 */
export function createInformer<R extends ObjectRecord>(options: InformerOptions<R>): Informer<R> {
  return new InformerImpl(options);
}
