/**
 * The records of a store, by key, in one array sorted by key: one slot per
 * object where a `Map` costs a hash entry (≈ 37 B on V8, ≈ 68 B on
 * JavaScriptCore, measured at 10,000 entries). A lookup is a binary search;
 * an insertion or a removal is a splice (a move of the slots after it), as in
 * the sorted sets the registry builds on the cache, and only for objects that
 * come or go: an update replaces its slot.
 *
 * A key is the object's name in the table's namespace (names hold no `/`),
 * else `namespace/name`. The key of a stored record is not kept: it is
 * compared in place from the record's namespace and name.
 *
 * @module
 */
import type { ObjectRecord } from "../resource.ts";
import { objectKey } from "../resource.ts";

/** The `/` of `namespace/name`. */
const SLASH = 47;

/** `key` against the key of `rec` (see the module doc), without building the latter. */
function compareKey(key: string, rec: ObjectRecord, namespace: string | undefined): number {
  const name = rec.name;
  if (rec.namespace === namespace) return key < name ? -1 : key > name ? 1 : 0;
  const ns = rec.namespace;
  const nl = ns.length;
  const n = key.length < nl ? key.length : nl;
  for (let i = 0; i < n; i++) {
    const d = key.charCodeAt(i) - ns.charCodeAt(i);
    if (d !== 0) return d;
  }
  if (key.length <= nl) return -1;
  const slash = key.charCodeAt(nl) - SLASH;
  if (slash !== 0) return slash;
  const rest = key.length - nl - 1;
  const m = rest < name.length ? rest : name.length;
  for (let i = 0; i < m; i++) {
    const d = key.charCodeAt(nl + 1 + i) - name.charCodeAt(i);
    if (d !== 0) return d;
  }
  return rest - name.length;
}

/** Whether `key` is the key of `rec`: a string equality in the table's namespace. */
function isKeyOf(key: string, rec: ObjectRecord, namespace: string | undefined): boolean {
  return rec.namespace === namespace ? rec.name === key : compareKey(key, rec, namespace) === 0;
}

/**
 * Records sorted by key, read as a `ReadonlyMap` from key to record (in key
 * order). Advanced: the storage of {@link ObjectStore}.
 */
export class RecordTable<R extends ObjectRecord> implements ReadonlyMap<string, R> {
  #recs: R[] = [];
  readonly #namespace: string | undefined;
  /** The position the last search found (a hint, checked before use). */
  #last = 0;

  /** An empty table; `namespace`: the one whose objects are keyed by name alone. */
  constructor(namespace?: string) {
    this.#namespace = namespace;
  }

  /** The key of an object: its name in the table's namespace, else `namespace/name`. */
  keyOf(namespace: string, name: string): string {
    return namespace === this.#namespace ? name : objectKey(namespace, name);
  }

  /** First position whose record's key is not below `key`; the last position found is tried first. */
  #lowerBound(key: string): number {
    const recs = this.#recs;
    const ns = this.#namespace;
    const last = this.#last;
    // An update reads the record, then replaces it: the second search is the first's answer.
    if (last < recs.length && isKeyOf(key, recs[last]!, ns)) return last;
    let lo = 0;
    let hi = recs.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const r = recs[mid]!;
      // One comparison per step: is the record's key below `key`?
      if (r.namespace === ns ? r.name < key : compareKey(key, r, ns) > 0) lo = mid + 1;
      else hi = mid;
    }
    this.#last = lo;
    return lo;
  }

  /** Whether position `i` holds the record of `key`. */
  #holds(i: number, key: string): boolean {
    return i < this.#recs.length && isKeyOf(key, this.#recs[i]!, this.#namespace);
  }

  /** Position of `key`, or -1. */
  #find(key: string): number {
    const i = this.#lowerBound(key);
    return this.#holds(i, key) ? i : -1;
  }

  get size(): number {
    return this.#recs.length;
  }

  get(key: string): R | undefined {
    const i = this.#find(key);
    return i < 0 ? undefined : this.#recs[i];
  }

  has(key: string): boolean {
    return this.#find(key) >= 0;
  }

  /** Stores `rec` under `key` (which must be its key); returns the record it replaces. */
  set(key: string, rec: R): R | undefined {
    const recs = this.#recs;
    const i = this.#lowerBound(key);
    if (this.#holds(i, key)) {
      const old = recs[i];
      recs[i] = rec;
      return old;
    }
    if (i === recs.length) recs.push(rec);
    else recs.splice(i, 0, rec);
    return undefined;
  }

  /** Removes the record under `key`; returns it. */
  delete(key: string): R | undefined {
    const i = this.#find(key);
    if (i < 0) return undefined;
    return this.#recs.splice(i, 1)[0];
  }

  /** Replaces the contents with `entries` (key, record), in any order, keys distinct. */
  replace(entries: Iterable<readonly [string, R]>): void {
    const all = [...entries].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    const recs = new Array<R>(all.length);
    for (let i = 0; i < all.length; i++) recs[i] = all[i]![1];
    this.#recs = recs;
  }

  values(): MapIterator<R> {
    return this.#recs.values();
  }

  *keys(): MapIterator<string> {
    for (const r of this.#recs) yield this.keyOf(r.namespace, r.name);
  }

  *entries(): MapIterator<[string, R]> {
    for (const r of this.#recs) yield [this.keyOf(r.namespace, r.name), r];
  }

  [Symbol.iterator](): MapIterator<[string, R]> {
    return this.entries();
  }

  forEach(fn: (value: R, key: string, map: ReadonlyMap<string, R>) => void, thisArg?: unknown): void {
    for (const r of this.#recs) fn.call(thisArg, r, this.keyOf(r.namespace, r.name), this);
  }
}
