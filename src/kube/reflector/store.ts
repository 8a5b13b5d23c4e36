/**
 * The pod cache's storage: a shared index of {@link PodRecord}s keyed by
 * `namespace/name` and by the `kratos-service-app` label, written by one
 * {@link ShardWriter} per reflector (one per namespace, or one for all).
 *
 * A relist is streamed into a buffer of projected records only (never the raw
 * pages; unchanged pods reuse their existing record), then swapped in at
 * `relistDone` in one synchronous step, so readers never see a half-applied
 * relist, and the difference is emitted as one batch of changes.
 *
 * @module
 */
import type { Pod } from "../wire.ts";
import type { PodRecord } from "../pod-record.ts";
import { KRATOS_LABEL_APP } from "../pod-record.ts";
import type { ReflectorSink } from "./reflector.ts";

/** One change of the cache contents. */
export type PodChange =
  | { readonly type: "added"; readonly pod: PodRecord }
  | { readonly type: "modified"; readonly pod: PodRecord; readonly old: PodRecord }
  | { readonly type: "deleted"; readonly pod: PodRecord };

const EMPTY: readonly PodRecord[] = Object.freeze([]);

interface AppEntry {
  readonly pods: Map<string, PodRecord>;
  /** Frozen snapshot for `byApp`, rebuilt lazily after a change. */
  list: readonly PodRecord[] | undefined;
}

/** The key of a pod: `namespace/name`. */
export function podKey(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}

/** The app index shared by every shard. */
export class AppIndex {
  readonly #apps = new Map<string, AppEntry>();

  /** Pods whose `kratos-service-app` label is `app`; O(pods of that app) after a change, O(1) otherwise. */
  byApp(app: string): readonly PodRecord[] {
    const entry = this.#apps.get(app);
    if (entry === undefined) return EMPTY;
    entry.list ??= Object.freeze([...entry.pods.values()]);
    return entry.list;
  }

  /** Records one change. */
  update(key: string, old: PodRecord | undefined, next: PodRecord | undefined): void {
    const oldApp = old?.labels[KRATOS_LABEL_APP];
    const newApp = next?.labels[KRATOS_LABEL_APP];
    if (oldApp !== undefined && (oldApp !== newApp || next === undefined)) {
      const entry = this.#apps.get(oldApp);
      if (entry && entry.pods.delete(key)) {
        entry.list = undefined;
        if (entry.pods.size === 0) this.#apps.delete(oldApp);
      }
    }
    if (newApp !== undefined && next !== undefined) {
      let entry = this.#apps.get(newApp);
      if (entry === undefined) {
        entry = { pods: new Map(), list: undefined };
        this.#apps.set(newApp, entry);
      }
      entry.pods.set(key, next);
      entry.list = undefined;
    }
  }
}

/** What a {@link ShardWriter} needs from its cache. */
export interface ShardHooks {
  readonly index: AppIndex;
  /** Projects a pod; a string is the reason it cannot be cached. */
  project(pod: Pod): PodRecord | string;
  /** A pod that could not be projected (reported, then skipped). */
  onInvalid(pod: Pod, reason: string, phase: "list" | "watch-event"): void;
  /** A batch of changes was applied. */
  onChanges(changes: readonly PodChange[]): void;
  /** The first relist completed. */
  onSynced(): void;
}

function sameRecord(a: PodRecord, b: PodRecord): boolean {
  return a.uid === b.uid && a.resourceVersion === b.resourceVersion && a.resourceVersion !== "";
}

/** The pods of one reflector; implements its {@link ReflectorSink}. */
export class ShardWriter implements ReflectorSink {
  /** Current contents, by key. */
  readonly pods: Map<string, PodRecord> = new Map();
  #next: Map<string, PodRecord> | undefined;
  #synced = false;
  readonly #hooks: ShardHooks;

  /** A shard writing into `hooks.index`. */
  constructor(hooks: ShardHooks) {
    this.#hooks = hooks;
  }

  /** The first relist completed. */
  get synced(): boolean {
    return this.#synced;
  }

  #project(pod: Pod, phase: "list" | "watch-event"): PodRecord | undefined {
    const r = this.#hooks.project(pod);
    if (typeof r === "string") {
      this.#hooks.onInvalid(pod, r, phase);
      return undefined;
    }
    return r;
  }

  relistBegin(): void {
    this.#next = new Map();
  }

  relistItems(items: readonly Pod[]): void {
    const next = (this.#next ??= new Map());
    for (const pod of items) {
      const rec = this.#project(pod, "list");
      if (rec === undefined) continue;
      const key = podKey(rec.namespace, rec.name);
      const old = this.pods.get(key);
      // Reuse the record of an unchanged pod: the buffer then costs only its map entries.
      next.set(key, old !== undefined && sameRecord(old, rec) ? old : rec);
    }
  }

  relistDelete(object: Pod): void {
    const meta = object?.metadata;
    if (meta && typeof meta.namespace === "string" && typeof meta.name === "string") this.#next?.delete(podKey(meta.namespace, meta.name));
  }

  relistAbort(): void {
    this.#next = undefined;
  }

  relistDone(): void {
    const next = this.#next ?? new Map<string, PodRecord>();
    this.#next = undefined;
    const changes: PodChange[] = [];
    const { index } = this.#hooks;
    for (const [key, rec] of next) {
      const old = this.pods.get(key);
      if (old === undefined) changes.push({ type: "added", pod: rec });
      else if (old !== rec) changes.push({ type: "modified", pod: rec, old });
      else continue;
      index.update(key, old, rec);
    }
    for (const [key, old] of this.pods) {
      if (next.has(key)) continue;
      changes.push({ type: "deleted", pod: old });
      index.update(key, old, undefined);
    }
    // Swap contents: clear and refill keeps the one Map the view holds.
    this.pods.clear();
    for (const [key, rec] of next) this.pods.set(key, rec);
    const first = !this.#synced;
    this.#synced = true;
    if (changes.length > 0) this.#hooks.onChanges(changes);
    if (first) this.#hooks.onSynced();
  }

  apply(type: "ADDED" | "MODIFIED" | "DELETED", object: Pod): void {
    if (type === "DELETED") {
      const meta = object?.metadata;
      if (!meta || typeof meta.namespace !== "string" || typeof meta.name !== "string") {
        this.#hooks.onInvalid(object, "DELETED object has no metadata.namespace/name", "watch-event");
        return;
      }
      const key = podKey(meta.namespace, meta.name);
      const old = this.pods.get(key);
      if (old === undefined) return;
      const last = this.#hooks.project(object);
      this.pods.delete(key);
      this.#hooks.index.update(key, old, undefined);
      this.#hooks.onChanges([{ type: "deleted", pod: typeof last === "string" ? old : last }]);
      return;
    }
    const rec = this.#project(object, "watch-event");
    if (rec === undefined) return;
    const key = podKey(rec.namespace, rec.name);
    const old = this.pods.get(key);
    this.pods.set(key, rec);
    this.#hooks.index.update(key, old, rec);
    this.#hooks.onChanges([old === undefined ? { type: "added", pod: rec } : { type: "modified", pod: rec, old }]);
  }
}
