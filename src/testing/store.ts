/**
 * The fake apiserver's storage of one resource: objects by `namespace/name`,
 * one resourceVersion counter shared by every write of every resource (a
 * {@link Revision}, like etcd's revision), and a bounded ring of change
 * events (per resource, like the watch cache's) that watches and exact LISTs
 * read from.
 *
 * @module
 */
import type { KubeObject, Pod } from "../kube/wire.ts";
import { copyJson } from "./copy-json.ts";

/** A stored change. `prev` is the object before the change (MODIFIED, DELETED). */
export interface StoreEvent<T extends KubeObject = Pod> {
  readonly type: "ADDED" | "MODIFIED" | "DELETED";
  /** The revision of the change. */
  readonly rv: number;
  /** The object after the change; for DELETED the last state carrying the delete's RV. */
  readonly object: T;
  readonly prev: T | undefined;
}

/** The revision counter the stores of one server share (etcd's revision). */
export interface Revision {
  value: number;
}

/** The storage key of a pod, `namespace/name`, ordered as etcd orders keys. */
export function podKey(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}

/** Compares keys bytewise (etcd order). */
export function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Deep copy as objects cross the wire (what `JSON.parse(JSON.stringify(p))` gives). */
export function copyPod<T extends KubeObject = Pod>(p: T): T {
  return copyJson(p);
}

/** In-memory storage of one resource with history (pods unless `T` says otherwise). */
export class PodStore<T extends KubeObject = Pod> {
  readonly #revision: Revision;
  /** Every event with `rv > #historyStart` is in `#history`. */
  #historyStart: number;
  readonly #history: StoreEvent<T>[] = [];
  readonly #pods = new Map<string, T>();
  readonly #listeners = new Set<(e: StoreEvent<T>) => void>();
  readonly #historyLimit: number;

  /**
   * `initialRv` is arbitrary (a fresh cluster's revision is in the hundreds);
   * only equality and order matter. Stores of one server pass the same `revision`.
   */
  constructor(historyLimit: number, initialRv = 1000, revision: Revision = { value: initialRv }) {
    this.#historyLimit = Math.max(1, historyLimit);
    this.#revision = revision;
    this.#historyStart = revision.value;
  }

  /** The latest revision (of the server, not only of this resource). */
  get rv(): number {
    return this.#revision.value;
  }

  /** The oldest revision still covered by history: a watch from any RV ≥ this is served. */
  get historyStart(): number {
    return this.#historyStart;
  }

  /** The live object (do not mutate; copy first). */
  get(key: string): T | undefined {
    return this.#pods.get(key);
  }

  /** Live objects in key order. */
  sorted(): [string, T][] {
    return [...this.#pods.entries()].sort((a, b) => compareKeys(a[0], b[0]));
  }

  /** Number of pods. */
  get size(): number {
    return this.#pods.size;
  }

  /** Takes the next revision and stamps it on `pod`. */
  #bump(pod: T): number {
    this.#revision.value += 1;
    pod.metadata.resourceVersion = String(this.#revision.value);
    return this.#revision.value;
  }

  #record(e: StoreEvent<T>): void {
    this.#history.push(e);
    while (this.#history.length > this.#historyLimit) {
      const dropped = this.#history.shift()!;
      this.#historyStart = dropped.rv;
    }
    for (const l of [...this.#listeners]) l(e);
  }

  /** Stores a new object; the caller checked it does not exist. */
  add(key: string, pod: T): T {
    const obj = copyPod(pod);
    const rv = this.#bump(obj);
    this.#pods.set(key, obj);
    this.#record({ type: "ADDED", rv, object: obj, prev: undefined });
    return obj;
  }

  /** Replaces an existing object. */
  replace(key: string, pod: T): T {
    const prev = this.#pods.get(key);
    if (prev === undefined) throw new Error(`replace: no object at ${key}`);
    const obj = copyPod(pod);
    const rv = this.#bump(obj);
    this.#pods.set(key, obj);
    this.#record({ type: "MODIFIED", rv, object: obj, prev });
    return obj;
  }

  /** Removes an object; the DELETED event carries its last state with the delete's RV. */
  remove(key: string): T | undefined {
    const prev = this.#pods.get(key);
    if (prev === undefined) return undefined;
    const obj = copyPod(prev);
    const rv = this.#bump(obj);
    this.#pods.delete(key);
    this.#record({ type: "DELETED", rv, object: obj, prev });
    return obj;
  }

  /** Events with `rv > from`, or undefined when `from` is older than the history. */
  since(from: number): StoreEvent<T>[] | undefined {
    if (from < this.#historyStart) return undefined;
    return this.#history.filter((e) => e.rv > from);
  }

  /** Forgets all history: every older RV is now compacted. */
  compact(): void {
    this.#history.length = 0;
    this.#historyStart = this.#revision.value;
  }

  /**
   * The objects as they were at revision `at`, in key order, or undefined when
   * `at` is compacted. Rolls the current state back through history.
   */
  snapshotAt(at: number): [string, T][] | undefined {
    if (at >= this.#revision.value) return this.sorted();
    const events = this.since(at);
    if (events === undefined) return undefined;
    const state = new Map(this.#pods);
    for (let i = events.length - 1; i >= 0; i--) {
      const e = events[i]!;
      const key = podKey(e.object.metadata.namespace ?? "", e.object.metadata.name ?? "");
      if (e.type === "ADDED") state.delete(key);
      else state.set(key, e.prev!);
    }
    return [...state.entries()].sort((a, b) => compareKeys(a[0], b[0]));
  }

  /** Calls `fn` synchronously after every change; returns the unsubscribe function. */
  subscribe(fn: (e: StoreEvent<T>) => void): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }
}
