/**
 * The streams open on one HTTP/2 session, as an intrusive doubly linked list:
 * adding and removing a stream allocate one small node and never hash.
 *
 * A `Map` keyed by each stream's close listener did the same job, but every
 * call added and deleted a key, and on Bun that churn cost about a fifth of
 * the throughput of a whole unary call (measured in bench/transport).
 *
 * @module
 */

/** One entry of {@link OpenStreams}. */
export interface OpenStream<S> {
  /** The stream. */
  readonly stream: S;
  /** Runs when the stream is done (its close listener). */
  readonly finish: () => void;
  /** @internal */
  prev: OpenStream<S> | undefined;
  /** @internal */
  next: OpenStream<S> | undefined;
  /** @internal whether the entry is still in its list */
  linked: boolean;
}

/** The open streams of one session, in the order they were added. */
export class OpenStreams<S> {
  #head: OpenStream<S> | undefined;
  #tail: OpenStream<S> | undefined;
  #size = 0;

  /** Streams in the list. */
  get size(): number {
    return this.#size;
  }

  /** Adds `stream` with its `finish` listener; returns the entry to {@link remove} later. */
  add(stream: S, finish: () => void): OpenStream<S> {
    const e: OpenStream<S> = { stream, finish, prev: this.#tail, next: undefined, linked: true };
    if (this.#tail === undefined) this.#head = e;
    else this.#tail.next = e;
    this.#tail = e;
    this.#size++;
    return e;
  }

  /** Removes `e`; false when it was removed before. */
  remove(e: OpenStream<S>): boolean {
    if (!e.linked) return false;
    e.linked = false;
    if (e.prev === undefined) this.#head = e.next;
    else e.prev.next = e.next;
    if (e.next === undefined) this.#tail = e.prev;
    else e.next.prev = e.prev;
    e.prev = e.next = undefined;
    this.#size--;
    return true;
  }

  /** A snapshot of the entries (safe to remove entries while walking it). */
  entries(): OpenStream<S>[] {
    const out: OpenStream<S>[] = [];
    for (let e = this.#head; e !== undefined; e = e.next) out.push(e);
    return out;
  }
}
