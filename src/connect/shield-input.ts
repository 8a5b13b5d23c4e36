/**
 * Wraps the request iterable of a streaming call so a retried attempt can
 * reuse it: an attempt that failed before pulling any message leaves the
 * caller's iterable untouched (connect closes the input of a failed call with
 * `return()`/`throw()`, which must not reach the caller's iterator then), and
 * `pulled()` tells whether a retry is still possible.
 *
 * @module
 */

/** The shielded iterable and whether any attempt pulled from it. */
export interface ShieldedInput<T> {
  readonly iterable: AsyncIterable<T>;
  pulled(): boolean;
}

/** Shields `input`; see the module doc. */
export function shieldInput<T>(input: AsyncIterable<T>): ShieldedInput<T> {
  let it: AsyncIterator<T> | undefined;
  const iterator: AsyncIterator<T> = {
    next() {
      it ??= input[Symbol.asyncIterator]();
      return it.next();
    },
    return(value?: unknown) {
      if (it === undefined) return Promise.resolve({ done: true, value: value as T });
      return it.return !== undefined ? it.return(value) : Promise.resolve({ done: true, value: value as T });
    },
    throw(e?: unknown) {
      if (it === undefined) return Promise.resolve({ done: true, value: undefined as T });
      return it.throw !== undefined ? it.throw(e) : Promise.reject(e);
    },
  };
  return {
    iterable: { [Symbol.asyncIterator]: () => iterator },
    pulled: () => it !== undefined,
  };
}
