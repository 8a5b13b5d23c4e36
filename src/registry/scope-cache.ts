/**
 * One {@link Scope} per namespace, shared by every set a source watches
 * there: a watched Service costs a count instead of an informer lease, a
 * scope, its parts and a release closure of its own. The lease is taken with
 * the first hold and given back with the last.
 *
 * @module
 */
import type { ObjectRecord } from "../kube/resource.ts";
import type { Scope, ScopePart } from "./service-types.ts";

/** What {@link ScopeCache.acquire} opens when no scope of the key is held. */
export interface OpenedScope<R extends ObjectRecord> {
  readonly parts: readonly ScopePart<R>[];
  /** Runs once, when the last hold is released. */
  close(): void;
}

/** A scope shared by its holders; `release()` gives back one hold. */
class SharedScope<R extends ObjectRecord> implements Scope<R> {
  readonly parts: readonly ScopePart<R>[];
  #holds = 0;
  readonly #owner: Map<string, SharedScope<R>>;
  readonly #key: string;
  readonly #close: () => void;

  constructor(owner: Map<string, SharedScope<R>>, key: string, opened: OpenedScope<R>) {
    this.parts = opened.parts;
    this.#owner = owner;
    this.#key = key;
    this.#close = opened.close;
  }

  hold(): this {
    this.#holds++;
    return this;
  }

  release(): void {
    if (this.#holds === 0) return;
    if (--this.#holds > 0) return;
    if (this.#owner.get(this.#key) === this) this.#owner.delete(this.#key);
    this.#close();
  }
}

/** The shared scopes of one source, by key (a namespace). */
export class ScopeCache<R extends ObjectRecord> {
  readonly #scopes = new Map<string, SharedScope<R>>();

  /**
   * A hold on the scope of `key`, opened by `open` when none is held. Every
   * hold is given back by exactly one `release()` of the returned scope.
   */
  acquire(key: string, open: () => OpenedScope<R>): Scope<R> {
    let s = this.#scopes.get(key);
    if (s === undefined) this.#scopes.set(key, (s = new SharedScope(this.#scopes, key, open())));
    return s.hold();
  }

  /** Number of scopes held. */
  get size(): number {
    return this.#scopes.size;
  }
}
