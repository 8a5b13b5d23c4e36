/**
 * LIST continue tokens in the apiserver's format (apiserver `storage/continue.go`):
 * base64url without padding of `{"v":"meta.k8s.io/v1","rv":N,"start":"<key>\u0000"}`.
 * An `rv` of -1 marks the inconsistent token handed out with a 410 for an expired
 * one: it continues at the latest snapshot. Clients must treat tokens as opaque.
 *
 * @module
 */

/** A decoded continue token. */
export interface ContinueToken {
  /** The list's revision, or -1 for "latest" (inconsistent continuation). */
  rv: number;
  /** The first key (inclusive) of the next page. */
  start: string;
}

function toBase64Url(text: string): string {
  const bytes = new TextEncoder().encode(text);
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function fromBase64Url(s: string): string {
  const b64 = s.replace(/-/g, "+").replace(/_/g, "/");
  const bin = atob(b64 + "=".repeat((4 - (b64.length % 4)) % 4));
  const bytes = Uint8Array.from(bin, (c) => c.charCodeAt(0));
  return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
}

/** Encodes a token continuing right after `lastKey`. */
export function encodeContinue(rv: number, lastKey: string): string {
  return toBase64Url(JSON.stringify({ v: "meta.k8s.io/v1", rv, start: `${lastKey}\u0000` }));
}

/**
 * Decodes a token; throws an Error whose message is the apiserver's
 * ("continue key is not valid: …") on a malformed one.
 */
export function decodeContinue(token: string): ContinueToken {
  let parsed: unknown;
  try {
    parsed = JSON.parse(fromBase64Url(token));
  } catch {
    throw new Error("continue key is not valid: illegal base64 data or JSON");
  }
  if (typeof parsed !== "object" || parsed === null) throw new Error("continue key is not valid: not an object");
  const o = parsed as { v?: unknown; rv?: unknown; start?: unknown };
  if (o.v !== "meta.k8s.io/v1") throw new Error("continue key is not valid: server does not recognize this encoded version");
  if (typeof o.rv !== "number" || !Number.isInteger(o.rv) || o.rv === 0) {
    throw new Error("continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)");
  }
  if (typeof o.start !== "string" || o.start === "") throw new Error("continue key is not valid: encoded start key empty");
  if (o.start.startsWith("/") || o.start.includes("/../")) throw new Error("continue key is not valid: path traversal");
  return { rv: o.rv, start: o.start };
}
