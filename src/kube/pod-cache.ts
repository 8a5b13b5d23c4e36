/**
 * The pod cache: a list-and-watch mirror of the pods discovery needs, kept as
 * small immutable {@link PodRecord}s and indexed by the `kratos-service-app`
 * label.
 *
 * ## Contract
 * - Server-side filtering by default: namespaced (the client's namespace, or
 *   `"default"`), with `labelSelector=kratos-service-app` (the label exists).
 *   Several namespaces run one reflector each; `"*"` watches all namespaces
 *   through `/api/v1/pods`.
 * - `ready()` resolves after the first full sync of every watched namespace.
 * - A relist replaces a namespace's pods atomically and emits the difference
 *   (`added`, `modified`, `deleted`) as one batch; each watch event is a batch
 *   of one. Listeners run synchronously after the batch is applied.
 * - A pod that cannot be projected (no name or namespace) is reported to
 *   `onError` with what is known of it and skipped; it never stops the loop.
 *
 * ## Recovery and errors
 * The reflectors (`reflector/reflector.ts`) retry forever; every failure
 * reaches `onError` as a `WatchError`. Only `close()` stops them.
 *
 * ## Memory
 * Only the projection is kept (no raw JSON). Low-cardinality strings
 * (namespace, phase, annotations, port names) and identical port lists are
 * shared between pods, and empty maps and lists are shared frozen objects.
 *
 * @module
 */
import type { Clock } from "./clock.ts";
import type { PodApi } from "./pod-api.ts";
import type { PodPort, PodRecord } from "./pod-record.ts";
import { KRATOS_LABEL_APP, KRATOS_LABEL_ID, projectPod } from "./pod-record.ts";
import type { Pod } from "./wire.ts";
import { WatchError } from "./errors.ts";
import type { Reflector } from "./reflector/reflector.ts";
import { createReflector } from "./reflector/reflector.ts";
import type { PodChange } from "./reflector/store.ts";
import { AppIndex, ShardWriter } from "./reflector/store.ts";

export type { PodChange } from "./reflector/store.ts";

/** The read side of a {@link PodCache}. */
export interface PodCacheView {
  /** Every watched namespace completed its first full sync. */
  readonly synced: boolean;
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
  api: PodApi;
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

/** Caps the interning table so a churn of unusual values cannot grow it forever. */
const MAX_INTERNED = 10_000;
const NO_PORTS: readonly PodPort[] = Object.freeze([]);
const NO_IPS: readonly string[] = Object.freeze([]);
const NO_LABELS: Readonly<Record<string, string>> = Object.freeze({});

/** Shares equal low-cardinality values between records. */
function createInterner(): (rec: PodRecord) => PodRecord {
  const strings = new Map<string, string>();
  const portLists = new Map<string, readonly PodPort[]>();
  const str = <T extends string | undefined>(s: T): T => {
    if (s === undefined) return s;
    const hit = strings.get(s);
    if (hit !== undefined) return hit as T;
    if (strings.size >= MAX_INTERNED) strings.clear();
    strings.set(s, s);
    return s;
  };
  const ports = (list: readonly PodPort[]): readonly PodPort[] => {
    if (list.length === 0) return NO_PORTS;
    const key = list.map((p) => `${p.name ?? ""}\u0000${p.port}\u0000${p.protocol}`).join("\u0001");
    const hit = portLists.get(key);
    if (hit !== undefined) return hit;
    if (portLists.size >= MAX_INTERNED) portLists.clear();
    const frozen = Object.freeze(list.map((p) => Object.freeze({ name: str(p.name), port: p.port, protocol: str(p.protocol) })));
    portLists.set(key, frozen);
    return frozen;
  };
  // Labels are copied property by property, not spread: on Node 20 (V8 11.3)
  // freezing a spread copy gives every pod its own hidden class (≈ 220 B of
  // Map and DescriptorArray per pod); a plain copy shares one per label set.
  const labels = (src: Readonly<Record<string, string>>, name: string): Readonly<Record<string, string>> => {
    const out: Record<string, string> = {};
    let n = 0;
    for (const k in src) {
      const v = src[k]!;
      // The instance ID is unique per pod (usually the pod name): never interned.
      out[k] = k === KRATOS_LABEL_ID ? (v === name ? name : v) : str(v);
      n++;
    }
    return n === 0 ? NO_LABELS : Object.freeze(out);
  };
  return (rec) => Object.freeze({
    namespace: str(rec.namespace),
    name: rec.name,
    uid: rec.uid,
    resourceVersion: rec.resourceVersion,
    labels: labels(rec.labels, rec.name),
    protocols: str(rec.protocols),
    metadata: str(rec.metadata),
    phase: str(rec.phase),
    ready: rec.ready,
    terminating: rec.terminating,
    // An exact-size copy: a pushed-to array keeps spare capacity (17 slots for one IP).
    podIPs: rec.podIPs.length === 0 ? NO_IPS : Object.freeze(rec.podIPs.length === 1 ? [rec.podIPs[0]!] : rec.podIPs.slice()),
    ports: ports(rec.ports),
  });
}

function describePod(pod: Pod): string {
  const meta = pod?.metadata;
  const ns = typeof meta?.namespace === "string" && meta.namespace !== "" ? meta.namespace : "?";
  const name = typeof meta?.name === "string" && meta.name !== "" ? meta.name : "?";
  return `${ns}/${name}`;
}

class PodCacheImpl implements PodCache {
  readonly #o: PodCacheOptions;
  readonly #index = new AppIndex();
  readonly #shards = new Map<string, ShardWriter>();
  readonly #reflectors: Reflector[] = [];
  readonly #listeners = new Set<(changes: readonly PodChange[]) => void>();
  readonly #waiters = new Set<{ resolve: () => void; reject: (e: unknown) => void }>();
  readonly #intern = createInterner();
  #started = false;
  #closed = false;

  constructor(o: PodCacheOptions) {
    this.#o = o;
    const namespaces = o.namespaces ?? [
      (o.api as { config?: { namespace?: unknown } }).config?.namespace,
    ].map((ns) => (typeof ns === "string" && ns !== "" ? ns : "default"));
    const list = namespaces === "*" ? ["*"] : [...new Set(namespaces)];
    if (list.length === 0) throw new TypeError("createPodCache: namespaces is empty");
    for (const ns of list) {
      if (typeof ns !== "string" || ns === "") throw new TypeError(`createPodCache: invalid namespace ${JSON.stringify(ns)}`);
      this.#shards.set(ns, new ShardWriter({
        index: this.#index,
        project: (pod) => {
          const r = projectPod(pod);
          return typeof r === "string" ? r : this.#intern(r);
        },
        onInvalid: (pod, reason, phase) => this.#error(new WatchError(phase, `pod ${describePod(pod)} skipped: ${reason}`, { cause: pod })),
        onChanges: (changes) => this.#emit(changes),
        onSynced: () => this.#checkSynced(),
      }));
    }
  }

  #error(e: Error): void {
    try {
      this.#o.onError?.(e);
    } catch {
      // A throwing hook must not stop the loop.
    }
  }

  #emit(changes: readonly PodChange[]): void {
    for (const l of [...this.#listeners]) {
      try {
        l(changes);
      } catch (e) {
        this.#error(e instanceof Error ? e : new Error(String(e)));
      }
    }
  }

  #checkSynced(): void {
    if (!this.synced) return;
    for (const w of [...this.#waiters]) w.resolve();
  }

  get synced(): boolean {
    for (const s of this.#shards.values()) if (!s.synced) return false;
    return true;
  }

  ready(signal?: AbortSignal): Promise<void> {
    if (this.synced) return Promise.resolve();
    if (this.#closed) return Promise.reject(new WatchError("stream", "the pod cache is closed"));
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

  #shardFor(namespace: string): ShardWriter | undefined {
    return this.#shards.get(namespace) ?? this.#shards.get("*");
  }

  byApp(app: string): readonly PodRecord[] {
    return this.#index.byApp(app);
  }

  get(namespace: string, name: string): PodRecord | undefined {
    return this.#shardFor(namespace)?.pods.get(`${namespace}/${name}`);
  }

  get size(): number {
    let n = 0;
    for (const s of this.#shards.values()) n += s.pods.size;
    return n;
  }

  *values(): IterableIterator<PodRecord> {
    for (const s of this.#shards.values()) yield* s.pods.values();
  }

  subscribe(listener: (changes: readonly PodChange[]) => void): () => void {
    const wrapped = (c: readonly PodChange[]): void => listener(c);
    this.#listeners.add(wrapped);
    return () => void this.#listeners.delete(wrapped);
  }

  start(): void {
    if (this.#started || this.#closed) return;
    this.#started = true;
    const o = this.#o;
    const selector = o.labelSelector ?? KRATOS_LABEL_APP;
    for (const [ns, shard] of this.#shards) {
      const r = createReflector({
        api: o.api,
        sink: shard,
        namespace: ns === "*" ? undefined : ns,
        labelSelector: selector === "" ? undefined : selector,
        clock: o.clock,
        random: o.random,
        onError: (e) => this.#error(e),
        pageSize: o.pageSize,
        streamingList: o.streamingList,
      });
      this.#reflectors.push(r);
      r.start();
    }
  }

  async close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      const e = new WatchError("stream", "the pod cache was closed before it synced");
      for (const w of [...this.#waiters]) w.reject(e);
    }
    await Promise.all(this.#reflectors.map((r) => r.close()));
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/**
 * Creates a pod cache over `api` (usually a `KubeClient`). Call `start()`,
 * then `await ready()`.
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
