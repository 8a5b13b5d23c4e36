/**
 * Shared informers: one per resource descriptor and namespace, started on
 * the first `acquire` and stopped when the last lease is released. A lease on
 * a namespace is served by an all-namespaces informer of the same descriptor
 * when one is running, so no second watch is opened.
 *
 * @module
 */
import type { Clock } from "./clock.ts";
import type { Informer } from "./informer.ts";
import { createInformer } from "./informer.ts";
import type { ObjectRecord, ResourceDescriptor } from "./resource.ts";
import type { ReflectorApi } from "./reflector/reflector.ts";
import type { InformerObserver } from "./informer-observer.ts";

/** One holder's claim on a shared informer. */
export interface InformerLease<R extends ObjectRecord> {
  readonly informer: Informer<R>;
  /** The namespace asked for (undefined: all); the informer may watch more (all namespaces). */
  readonly namespace: string | undefined;
  /** Gives the claim back; the informer stops with its last lease. Idempotent. */
  release(): void;
}

/** What a pool's `onError` is told besides the error. */
export interface InformerErrorContext {
  /** The informer that failed. */
  readonly informer: Informer<ObjectRecord>;
  readonly resource: ResourceDescriptor<ObjectRecord>;
  /** The informer's namespace; undefined for all namespaces. */
  readonly namespace: string | undefined;
}

/** Options of {@link createInformerPool}. */
export interface InformerPoolOptions {
  api: ReflectorApi;
  clock?: Clock | undefined;
  random?: (() => number) | undefined;
  /** Every failure of every informer (retried afterwards), with which informer it was. */
  onError?: ((error: Error, context: InformerErrorContext) => void) | undefined;
  streamingList?: boolean | undefined;
  pageSize?: number | undefined;
  /** Advanced: an observer for each informer the pool creates (relists, watches, events, cache size). */
  observer?: ((context: { readonly resource: ResourceDescriptor<ObjectRecord>; readonly namespace: string | undefined }) => InformerObserver | undefined) | undefined;
}

/** A set of shared informers. */
export interface InformerPool extends AsyncDisposable {
  /** A lease on the informer of `resource` in `namespace` (undefined: all namespaces), started if new. */
  acquire<R extends ObjectRecord>(resource: ResourceDescriptor<R>, namespace: string | undefined): InformerLease<R>;
  /** Running informers. */
  readonly size: number;
  /** Stops every informer; later `acquire` calls throw. */
  close(): Promise<void>;
}

const ALL = "\u0000all";

interface Slot {
  readonly informer: Informer<ObjectRecord>;
  refs: number;
}

/** Creates an empty pool. */
export function createInformerPool(options: InformerPoolOptions): InformerPool {
  const slots = new Map<ResourceDescriptor<ObjectRecord>, Map<string, Slot>>();
  const closing = new Set<Promise<void>>();
  let closed = false;
  let count = 0;

  function release(resource: ResourceDescriptor<ObjectRecord>, key: string, slot: Slot): void {
    slot.refs--;
    if (slot.refs > 0) return;
    const bySpace = slots.get(resource);
    if (bySpace?.get(key) === slot) bySpace.delete(key);
    if (bySpace?.size === 0) slots.delete(resource);
    count--;
    const p = slot.informer.close().catch(() => {});
    closing.add(p);
    void p.then(() => closing.delete(p));
  }

  return {
    acquire<R extends ObjectRecord>(resource: ResourceDescriptor<R>, namespace: string | undefined): InformerLease<R> {
      if (closed) throw new Error("the informer pool is closed");
      if (namespace !== undefined && (typeof namespace !== "string" || namespace === "")) {
        throw new TypeError(`invalid namespace ${JSON.stringify(namespace)}`);
      }
      const desc = resource as unknown as ResourceDescriptor<ObjectRecord>;
      let bySpace = slots.get(desc);
      if (bySpace === undefined) slots.set(desc, (bySpace = new Map()));
      let key = namespace ?? ALL;
      let slot = bySpace.get(key) ?? (namespace !== undefined ? bySpace.get(ALL) : undefined);
      if (slot !== undefined && bySpace.get(key) !== slot) key = ALL;
      if (slot === undefined) {
        const informer: Informer<ObjectRecord> = createInformer<ObjectRecord>({
          api: options.api,
          resource: desc,
          namespace,
          clock: options.clock,
          random: options.random,
          streamingList: options.streamingList,
          pageSize: options.pageSize,
          observer: options.observer?.({ resource: desc, namespace }),
          onError: (e) => options.onError?.(e, { informer, resource: desc, namespace }),
        });
        slot = { informer, refs: 0 };
        bySpace.set(key, slot);
        count++;
        informer.start();
      }
      slot.refs++;
      const held = slot;
      const heldKey = key;
      let released = false;
      return {
        informer: held.informer as unknown as Informer<R>,
        namespace,
        release() {
          if (released) return;
          released = true;
          if (!closed) release(desc, heldKey, held);
        },
      };
    },
    get size() {
      return count;
    },
    async close() {
      closed = true;
      const all = [...slots.values()].flatMap((m) => [...m.values()]);
      slots.clear();
      count = 0;
      await Promise.all([...all.map((s) => s.informer.close().catch(() => {})), ...closing]);
    },
    [Symbol.asyncDispose]() {
      return this.close();
    },
  };
}
