/**
 * A cache's storage: projected records keyed by `namespace/name`, and the
 * descriptor's indexes, written by one {@link ObjectStore} per reflector.
 *
 * A relist is streamed into a buffer of projected records only (never the raw
 * pages; unchanged objects reuse their existing record), then swapped in at
 * `relistDone` in one synchronous step, so readers never see a half-applied
 * relist, and the difference is emitted as one batch of changes.
 *
 * @module
 */
import type { IndexFunction, ObjectRecord } from "../resource.ts";
import type { KubeObject } from "../wire.ts";
import type { ReflectorSink } from "./reflector.ts";
import { RecordTable } from "./record-table.ts";

/** One change of a cache's contents. */
export type ObjectChange<R> =
  | { readonly type: "added"; readonly object: R }
  | { readonly type: "modified"; readonly object: R; readonly old: R }
  | { readonly type: "deleted"; readonly object: R };

const EMPTY: readonly never[] = Object.freeze([]);

interface IndexEntry<R> {
  /**
   * The keys filed under the value (the records are the store's). An array
   * costs one slot per key where a Set costs a hash entry (33 B on V8, 53 B
   * on JavaScriptCore). It is kept sorted, so a removal is a binary search
   * and a splice; keys added out of order are appended and sorted once, on
   * the next removal or read. One key alone is kept as itself, as a value
   * often has one record (a Service's only EndpointSlice).
   */
  keys: string | string[];
  /** Whether `keys` (an array) is in order. */
  sorted: boolean;
  /** Frozen snapshot for `byIndex`, rebuilt lazily after a change. */
  list: readonly R[] | undefined;
}

/** `keys` (the array of `entry`) sorted, without duplicates. */
function sortedKeys(entry: IndexEntry<unknown>, keys: string[]): string[] {
  if (!entry.sorted) {
    keys.sort();
    let n = 0;
    for (let i = 0; i < keys.length; i++) if (i === 0 || keys[i] !== keys[n - 1]) keys[n++] = keys[i]!;
    keys.length = n;
    entry.sorted = true;
  }
  return keys;
}

/** Removes `key` from `entry`; true when it was there. */
function removeKey(entry: IndexEntry<unknown>, key: string): boolean {
  if (typeof entry.keys === "string") return false;
  const keys = sortedKeys(entry, entry.keys);
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (keys[mid]! < key) lo = mid + 1;
    else hi = mid;
  }
  if (keys[lo] !== key) return false;
  keys.splice(lo, 1);
  return true;
}

/** Adds `key`, which is not filed under the entry's value yet. */
function addKey(entry: IndexEntry<unknown>, key: string): void {
  if (typeof entry.keys === "string") {
    entry.keys = [entry.keys, key];
    entry.sorted = entry.keys[0]! < key;
    return;
  }
  const keys = entry.keys;
  if (entry.sorted && keys.length > 0 && keys[keys.length - 1]! >= key) entry.sorted = false;
  keys.push(key);
}

/** The indexes of a cache: for each index function, value → records. */
export class IndexSet<R> {
  readonly #fns: readonly (readonly [string, IndexFunction<R>])[];
  readonly #maps = new Map<string, Map<string, IndexEntry<R>>>();
  readonly #lookup: (key: string) => R | undefined;

  /** Indexes for each of `functions`; `lookup` reads the record now stored under a key. */
  constructor(functions: Readonly<Record<string, IndexFunction<R>>>, lookup: (key: string) => R | undefined) {
    this.#fns = Object.entries(functions);
    this.#lookup = lookup;
    for (const [name] of this.#fns) this.#maps.set(name, new Map());
  }

  /** Whether index `name` exists. */
  has(name: string): boolean {
    return this.#maps.has(name);
  }

  /** Records filed under `value` in index `name`; O(records of that value) after a change, O(1) otherwise. Frozen. */
  byIndex(name: string, value: string): readonly R[] {
    const map = this.#maps.get(name);
    if (map === undefined) throw new RangeError(`no index named ${JSON.stringify(name)}`);
    const entry = map.get(value);
    if (entry === undefined) return EMPTY;
    if (entry.list === undefined) {
      // Sized up front: a pushed-to array keeps room for 17 records, kept per value.
      const keys = typeof entry.keys === "string" ? [entry.keys] : sortedKeys(entry, entry.keys);
      const list = new Array<R>(keys.length);
      let n = 0;
      for (const key of keys) {
        const r = this.#lookup(key);
        if (r !== undefined) list[n++] = r;
      }
      list.length = n;
      entry.list = Object.freeze(list);
    }
    return entry.list;
  }

  /** The values index `name` holds records under. */
  values(name: string): IterableIterator<string> {
    const map = this.#maps.get(name);
    if (map === undefined) throw new RangeError(`no index named ${JSON.stringify(name)}`);
    return map.keys();
  }

  /** Records one change of the record at `key`. */
  update(key: string, old: R | undefined, next: R | undefined): void {
    for (const [name, fn] of this.#fns) {
      const map = this.#maps.get(name)!;
      const before = old === undefined ? undefined : fn(old);
      const after = next === undefined ? undefined : fn(next);
      if (before !== undefined && (before !== after || next === undefined)) {
        const entry = map.get(before);
        if (entry !== undefined && entry.keys === key) map.delete(before);
        else if (entry !== undefined && removeKey(entry, key)) {
          entry.list = undefined;
          if (entry.keys.length === 0) map.delete(before);
        }
      }
      if (after !== undefined && next !== undefined) {
        const entry = map.get(after);
        if (entry === undefined) map.set(after, { keys: key, sorted: true, list: undefined });
        else {
          // The value is unchanged for most updates: the key is filed already.
          if (before !== after || old === undefined) addKey(entry, key);
          entry.list = undefined;
        }
      }
    }
  }
}

/** What an {@link ObjectStore} needs from its cache. */
export interface StoreHooks<R> {
  readonly index: IndexSet<R>;
  /** Projects an object (`previous`: the record it replaces); a string is the reason it cannot be cached. */
  project(object: KubeObject, previous: R | undefined): R | string;
  /** An object that could not be projected (reported, then skipped). */
  onInvalid(object: KubeObject, reason: string, phase: "list" | "watch-event"): void;
  /** A batch of changes was applied. */
  onChanges(changes: readonly ObjectChange<R>[]): void;
  /** A relist completed (the first one marks the store synced). */
  onSynced(): void;
  /** A plain watch was accepted. */
  onWatchStarted?(): void;
  /**
   * The namespace a namespaced list-and-watch reads: objects in it are keyed
   * by their name alone (the name string the record already holds, instead of
   * one more `namespace/name` string per object), others by `namespace/name`.
   */
  readonly namespace?: string | undefined;
}

function sameRecord(a: ObjectRecord, b: ObjectRecord): boolean {
  return a.uid === b.uid && a.resourceVersion === b.resourceVersion && a.resourceVersion !== "";
}

/** The records of one reflector; implements its {@link ReflectorSink}. */
export class ObjectStore<R extends ObjectRecord> implements ReflectorSink {
  /** Current contents, by {@link ObjectStore.keyOf} (`namespace/name`, or the name alone in the store's namespace), in key order. */
  readonly objects: RecordTable<R>;
  #next: Map<string, R> | undefined;
  #synced = false;
  readonly #hooks: StoreHooks<R>;

  /** A store writing into `hooks.index`. */
  constructor(hooks: StoreHooks<R>) {
    this.#hooks = hooks;
    this.objects = new RecordTable(hooks.namespace);
  }

  /** The key of an object in {@link ObjectStore.objects}: its name in the store's namespace (names hold no `/`), else `namespace/name`. */
  keyOf(namespace: string, name: string): string {
    return this.objects.keyOf(namespace, name);
  }

  /** The record of an object, if present. */
  get(namespace: string, name: string): R | undefined {
    return this.objects.get(this.keyOf(namespace, name));
  }

  /** The first relist completed. */
  get synced(): boolean {
    return this.#synced;
  }

  /** The record now cached under the object's namespace/name, if any. */
  #previous(object: KubeObject): R | undefined {
    const meta = object?.metadata;
    return meta && typeof meta.namespace === "string" && typeof meta.name === "string" ? this.objects.get(this.keyOf(meta.namespace, meta.name)) : undefined;
  }

  #project(object: KubeObject, phase: "list" | "watch-event"): R | undefined {
    const r = this.#hooks.project(object, this.#previous(object));
    if (typeof r === "string") {
      this.#hooks.onInvalid(object, r, phase);
      return undefined;
    }
    return r;
  }

  relistBegin(): void {
    this.#next = new Map();
  }

  relistItems(items: readonly KubeObject[]): void {
    const next = (this.#next ??= new Map());
    for (const object of items) {
      const rec = this.#project(object, "list");
      if (rec === undefined) continue;
      const key = this.keyOf(rec.namespace, rec.name);
      const old = this.objects.get(key);
      // Reuse the record of an unchanged object: the buffer then costs only its map entries.
      next.set(key, old !== undefined && sameRecord(old, rec) ? old : rec);
    }
  }

  relistDelete(object: KubeObject): void {
    const meta = object?.metadata;
    if (meta && typeof meta.namespace === "string" && typeof meta.name === "string") this.#next?.delete(this.keyOf(meta.namespace, meta.name));
  }

  relistAbort(): void {
    this.#next = undefined;
  }

  relistDone(): void {
    const next = this.#next ?? new Map<string, R>();
    this.#next = undefined;
    const changes: ObjectChange<R>[] = [];
    const { index } = this.#hooks;
    for (const [key, rec] of next) {
      const old = this.objects.get(key);
      if (old === undefined) changes.push({ type: "added", object: rec });
      else if (old !== rec) changes.push({ type: "modified", object: rec, old });
      else continue;
      index.update(key, old, rec);
    }
    for (const [key, old] of this.objects) {
      if (next.has(key)) continue;
      changes.push({ type: "deleted", object: old });
      index.update(key, old, undefined);
    }
    // Swap contents in place: readers hold this one table.
    this.objects.replace(next);
    this.#synced = true;
    if (changes.length > 0) this.#hooks.onChanges(changes);
    this.#hooks.onSynced();
  }

  watchStarted(): void {
    this.#hooks.onWatchStarted?.();
  }

  apply(type: "ADDED" | "MODIFIED" | "DELETED", object: KubeObject): void {
    if (type === "DELETED") {
      const meta = object?.metadata;
      if (!meta || typeof meta.namespace !== "string" || typeof meta.name !== "string") {
        this.#hooks.onInvalid(object, "DELETED object has no metadata.namespace/name", "watch-event");
        return;
      }
      const key = this.keyOf(meta.namespace, meta.name);
      const old = this.objects.get(key);
      if (old === undefined) return;
      const last = this.#hooks.project(object, old);
      this.objects.delete(key);
      this.#hooks.index.update(key, old, undefined);
      this.#hooks.onChanges([{ type: "deleted", object: typeof last === "string" ? old : last }]);
      return;
    }
    const rec = this.#project(object, "watch-event");
    if (rec === undefined) return;
    const key = this.keyOf(rec.namespace, rec.name);
    const old = this.objects.set(key, rec);
    this.#hooks.index.update(key, old, rec);
    this.#hooks.onChanges([old === undefined ? { type: "added", object: rec } : { type: "modified", object: rec, old }]);
  }
}
