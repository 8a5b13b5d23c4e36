/**
 * Discovery over a pod cache: `getService` answers from the `byApp` index in
 * time proportional to that service's pods, and service watchers yield the
 * current set as soon as the cache is synced (also `[]`), then each change.
 *
 * Watchers coalesce: between two `next()` calls only a "dirty" flag is kept,
 * so a burst of events costs one recomputation and a slow consumer never
 * builds a queue; the latest state wins, and a set identical to the last one
 * yielded is not yielded again.
 *
 * @module
 */
import { KRATOS_LABEL_APP, type PodRecord } from "../kube/pod-record.ts";
import type { PodCacheView, PodChange } from "./pod-cache-view.ts";
import { RegistryError } from "./errors.ts";
import { isMalformed, selectInstance, type InstanceResult, type Selection, type ServiceInstance } from "./kratos-codec.ts";

/** Finds service instances (Go Kratos's `registry.Discovery`). */
export interface Discovery {
  /**
   * The instances of service `name`, sorted by Pod namespace/name. Waits for
   * the first sync of the pod cache (bounded by `signal` and the sync timeout).
   */
  getService(name: string, options?: { signal?: AbortSignal | undefined }): Promise<ServiceInstance[]>;
  /**
   * A watcher of service `name`. Resolves once the cache is synced (bounded by
   * `signal` and the sync timeout); aborting `signal` later stops the watcher.
   */
  watch(name: string, options?: { signal?: AbortSignal | undefined }): Promise<ServiceWatcher>;
}

/**
 * The changing instance set of one service. The first `next()` gives the
 * current set at once (also `[]`), each later one the next different set.
 * Iterating with `for await` ends when `stop()` is called.
 */
export interface ServiceWatcher extends AsyncIterable<ServiceInstance[]> {
  /** The next set; rejects with a `CLOSED` {@link RegistryError} once stopped. */
  next(): Promise<ServiceInstance[]>;
  /** Ends the watcher: pending and later `next()` calls end. Idempotent. */
  stop(): Promise<void>;
}

/** Reports a pod skipped because it is malformed (bad annotation JSON, no IP). */
export type SkippedPodHook = (pod: { namespace: string; name: string }, reason: string) => void;

/** Options of {@link createDiscovery}. */
export interface DiscoveryOptions {
  /** Resolves to the synced view, starting the shared cache if needed; rejects on timeout or abort. */
  synced(signal?: AbortSignal): Promise<PodCacheView>;
  /** Which pods count; default `"ready"`. */
  selection?: Selection | undefined;
  /** Called once per malformed pod version. */
  onSkippedPod?: SkippedPodHook | undefined;
}

/** A {@link Discovery} with a lifecycle: `close()` stops every watcher. */
export interface ClosableDiscovery extends Discovery {
  /** Stops every watcher; later calls reject with `CLOSED`. */
  close(): Promise<void>;
}

interface Entry {
  readonly result: InstanceResult;
  /** `JSON.stringify([namespace, name, instance])`, to compare sets cheaply. */
  readonly key: string;
}

interface ServiceSet {
  readonly instances: ServiceInstance[];
  /** The entries behind `instances`, in the same order, to compare sets cheaply. */
  readonly entries: readonly Entry[];
}

function sameSet(a: readonly Entry[] | undefined, b: readonly Entry[]): boolean {
  if (a === undefined || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i] && a[i]!.key !== b[i]!.key) return false;
  return true;
}

function deepFreeze(i: ServiceInstance): ServiceInstance {
  Object.freeze(i.metadata);
  Object.freeze(i.endpoints);
  return Object.freeze(i);
}

const byNamespaceName = (a: { rec: PodRecord }, b: { rec: PodRecord }): number =>
  a.rec.namespace < b.rec.namespace ? -1 : a.rec.namespace > b.rec.namespace ? 1 : a.rec.name < b.rec.name ? -1 : a.rec.name > b.rec.name ? 1 : 0;

/** Creates a {@link Discovery} over the cache `options.synced` resolves to. */
export function createDiscovery(options: DiscoveryOptions): ClosableDiscovery {
  const selection = options.selection ?? "ready";
  // Records are immutable and replaced on change, so conversions are cached
  // per record and a malformed pod is reported once per version.
  const entries = new WeakMap<PodRecord, Entry>();
  const watchers = new Map<string, Set<Watcher>>();
  let unsubscribe: (() => void) | undefined;
  let closed = false;

  function entryOf(rec: PodRecord): Entry {
    let e = entries.get(rec);
    if (e === undefined) {
      const result = selectInstance(rec, selection);
      if (result.ok) deepFreeze(result.instance);
      else if (isMalformed(result.code)) {
        try {
          options.onSkippedPod?.({ namespace: rec.namespace, name: rec.name }, result.reason);
        } catch {
          // A throwing hook must not break discovery.
        }
      }
      e = { result, key: result.ok ? JSON.stringify([rec.namespace, rec.name, result.instance]) : "" };
      entries.set(rec, e);
    }
    return e;
  }

  function compute(view: PodCacheView, name: string): ServiceSet {
    const picked: { rec: PodRecord; e: Entry }[] = [];
    for (const rec of view.byApp(name)) {
      const e = entryOf(rec);
      if (e.result.ok) picked.push({ rec, e });
    }
    picked.sort(byNamespaceName);
    const instances: ServiceInstance[] = new Array(picked.length);
    const list: Entry[] = new Array(picked.length);
    for (let i = 0; i < picked.length; i++) {
      const p = picked[i]!;
      instances[i] = (p.e.result as { instance: ServiceInstance }).instance;
      list[i] = p.e;
    }
    return { instances, entries: list };
  }

  function onChanges(changes: readonly PodChange[]): void {
    const touched = new Set<string>();
    for (const c of changes) {
      const app = c.pod.labels[KRATOS_LABEL_APP];
      if (app) touched.add(app);
      if (c.type === "modified") {
        const old = c.old.labels[KRATOS_LABEL_APP];
        if (old) touched.add(old);
      }
    }
    for (const name of touched) {
      const set = watchers.get(name);
      if (set) for (const w of set) w.notify();
    }
  }

  function closedError(): RegistryError {
    return new RegistryError("CLOSED", "the registry is closed");
  }

  class Watcher implements ServiceWatcher {
    #dirty = true;
    #last: readonly Entry[] | undefined;
    #stopped = false;
    #waiters: { resolve: (r: IteratorResult<ServiceInstance[], undefined>) => void }[] = [];
    #cleanup: (() => void) | undefined;

    readonly name: string;
    readonly view: PodCacheView;

    constructor(name: string, view: PodCacheView) {
      this.name = name;
      this.view = view;
    }

    setCleanup(fn: () => void): void {
      this.#cleanup = fn;
    }

    #take(): ServiceInstance[] | undefined {
      if (!this.#dirty) return undefined;
      this.#dirty = false;
      const s = compute(this.view, this.name);
      if (sameSet(this.#last, s.entries)) return undefined;
      this.#last = s.entries;
      return s.instances;
    }

    notify(): void {
      this.#dirty = true;
      if (this.#waiters.length === 0) return; // coalesce: computed when pulled
      const value = this.#take();
      if (value !== undefined) this.#waiters.shift()!.resolve({ value, done: false });
    }

    pull(): Promise<IteratorResult<ServiceInstance[], undefined>> {
      if (this.#stopped) return Promise.resolve({ value: undefined, done: true });
      if (this.#waiters.length === 0) {
        const value = this.#take();
        if (value !== undefined) return Promise.resolve({ value, done: false });
      }
      return new Promise((resolve) => this.#waiters.push({ resolve }));
    }

    async next(): Promise<ServiceInstance[]> {
      const r = await this.pull();
      if (r.done) throw new RegistryError("CLOSED", `the watcher of ${this.name} was stopped`);
      return r.value;
    }

    stop(): Promise<void> {
      if (this.#stopped) return Promise.resolve();
      this.#stopped = true;
      this.#cleanup?.();
      for (const w of this.#waiters.splice(0)) w.resolve({ value: undefined, done: true });
      return Promise.resolve();
    }

    [Symbol.asyncIterator](): AsyncIterator<ServiceInstance[], undefined> {
      return {
        next: () => this.pull(),
        return: async () => {
          await this.stop();
          return { value: undefined, done: true };
        },
      };
    }
  }

  return {
    async getService(name, o) {
      if (closed) throw closedError();
      const view = await options.synced(o?.signal);
      return compute(view, name).instances;
    },

    async watch(name, o) {
      if (closed) throw closedError();
      const signal = o?.signal;
      const view = await options.synced(signal);
      if (closed) throw closedError();
      signal?.throwIfAborted();
      unsubscribe ??= view.subscribe(onChanges);
      const w = new Watcher(name, view);
      let set = watchers.get(name);
      if (set === undefined) watchers.set(name, (set = new Set()));
      set.add(w);
      const onAbort = (): void => void w.stop();
      signal?.addEventListener("abort", onAbort, { once: true });
      w.setCleanup(() => {
        signal?.removeEventListener("abort", onAbort);
        const s = watchers.get(name);
        s?.delete(w);
        if (s?.size === 0) watchers.delete(name);
      });
      return w;
    },

    async close() {
      if (closed) return;
      closed = true;
      for (const set of [...watchers.values()]) for (const w of [...set]) await w.stop();
      unsubscribe?.();
      unsubscribe = undefined;
    },
  };
}
