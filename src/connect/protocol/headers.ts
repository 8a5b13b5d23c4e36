/**
 * Header blocks as HTTP/2 libraries hand them over (a plain object with
 * lower-case names, pseudo-headers such as `:status` included, repeated
 * fields as arrays) and their conversion to the fetch `Headers` that
 * connect's public API uses. Pure.
 *
 * @module
 */

/** A received header block: lower-case names; `:status` may be a number. */
export type RawHeaders = Readonly<Record<string, string | string[] | number | undefined>>;

/** A header block to send: lower-case names. */
export type OutgoingHeaders = Record<string, string | string[]>;

/** The first value of `name`, as a string. */
export function headerValue(h: RawHeaders, name: string): string | undefined {
  const v = h[name];
  if (v === undefined) return undefined;
  if (typeof v === "string") return v;
  if (typeof v === "number") return String(v);
  return v[0];
}

/** The `:status` of a response block (0 when missing or malformed). */
export function statusOf(h: RawHeaders): number {
  const v = h[":status"];
  const n = typeof v === "number" ? v : typeof v === "string" ? Number(v) : 0;
  return Number.isInteger(n) ? n : 0;
}

/** `h` as fetch `Headers`, without pseudo-headers; `prefix` keeps only names that start with it, stripped. */
export function toWebHeaders(h: RawHeaders | undefined, into: Headers = new Headers(), prefix = ""): Headers {
  if (h === undefined) return into;
  for (const name of Object.keys(h)) {
    if (name.charCodeAt(0) === 58 /* ":" */) continue;
    if (prefix !== "" && !name.startsWith(prefix)) continue;
    const v = h[name];
    if (v === undefined) continue;
    const key = prefix === "" ? name : name.slice(prefix.length);
    if (Array.isArray(v)) for (const x of v) append(into, key, x);
    else append(into, key, typeof v === "number" ? String(v) : v);
  }
  return into;
}

/** `Headers.append` that skips what fetch's `Headers` refuses (a name or value it calls invalid) instead of throwing. */
function append(h: Headers, name: string, value: string): void {
  try {
    h.append(name, value);
  } catch {
    // a peer's malformed field must not fail the call
  }
}

/**
 * Connection-specific fields that HTTP/2 forbids (RFC 9113 §8.2.2); a user
 * header of these names would make the HTTP/2 library throw, so they are
 * dropped.
 */
const FORBIDDEN = new Set(["connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "host"]);

/** Adds the caller's headers to an outgoing block (repeated names become arrays). */
export function addHeaders(into: OutgoingHeaders, init: HeadersInit | undefined): void {
  if (init === undefined) return;
  const add = (name: string, value: string): void => {
    const key = name.toLowerCase();
    if (FORBIDDEN.has(key) || key.charCodeAt(0) === 58) return;
    const prev = into[key];
    if (prev === undefined) into[key] = value;
    else if (Array.isArray(prev)) prev.push(value);
    else into[key] = [prev, value];
  };
  if (init instanceof Headers) init.forEach((v, k) => add(k, v));
  else if (Array.isArray(init)) for (const [k, v] of init) add(k!, v!);
  else for (const k of Object.keys(init)) add(k, (init as Record<string, string>)[k]!);
}
