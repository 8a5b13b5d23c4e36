/**
 * LIST continue tokens in the apiserver's format (apiserver `storage/continue.go`):
 * base64url without padding of `{"v":"meta.k8s.io/v1","rv":N,"start":"<key>\u0000"}`,
 * where the start key is relative to the list's scope. The watch cache, which
 * serves paged lists by default, writes it with a leading slash
 * (`/name\u0000` in a namespace, `/namespace/name\u0000` across namespaces);
 * etcd, which answers for expired tokens, without. An `rv` of -1 marks the
 * inconsistent token handed out with a 410 for an expired one: it continues
 * at the latest snapshot. Clients must treat tokens as opaque.
 *
 * @module
 */
import { goJsonKind, goJsonSyntaxError, goRawUrlBase64 } from "./go-json.ts";

/** A decoded continue token, as it is written. */
export interface ContinueToken {
  /** The list's revision, or -1 for "latest" (inconsistent continuation). */
  rv: number;
  /** The first key (inclusive) of the next page, relative to the list's scope. */
  start: string;
}

function toBase64Url(text: string): string {
  const bytes = new TextEncoder().encode(text);
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** The key of `pod` relative to a list over `namespace` (undefined = all namespaces). */
function relative(key: string, namespace: string | undefined): string {
  return namespace === undefined ? key : key.slice(namespace.length + 1);
}

/**
 * Encodes a token continuing right after the pod at `lastKey`
 * (`namespace/name`), for a list over `namespace` (undefined = all), as the
 * watch cache writes it (a leading slash) or, with `etcd`, as etcd does.
 */
export function encodeContinue(rv: number, lastKey: string, namespace?: string, etcd = false): string {
  const start = `${etcd ? "" : "/"}${relative(lastKey, namespace)}\u0000`;
  return toBase64Url(JSON.stringify({ v: "meta.k8s.io/v1", rv, start }));
}

/** Go's `path.Clean`. */
function pathClean(p: string): string {
  if (p === "") return ".";
  const rooted = p.startsWith("/");
  const out: string[] = [];
  for (const part of p.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") {
      if (out.length > 0 && out[out.length - 1] !== "..") out.pop();
      else if (!rooted) out.push("..");
    } else out.push(part);
  }
  const r = (rooted ? "/" : "") + out.join("/");
  return r === "" ? "." : r;
}

const INVALID = "continue key is not valid";

function field(o: Record<string, unknown>, name: string, type: "int64" | "string"): unknown {
  const v = o[name];
  if (v === undefined || v === null) return type === "int64" ? 0 : "";
  const ok = type === "string" ? typeof v === "string" : typeof v === "number" && Number.isInteger(v);
  if (!ok) {
    const kind = typeof v === "number" ? `number ${String(v)}` : goJsonKind(v);
    throw new Error(`${INVALID}: json: cannot unmarshal ${kind} into Go struct field continueToken.${name} of type ${type}`);
  }
  return v;
}

/**
 * Decodes a token; throws an Error whose message is the apiserver's
 * (`continue key is not valid: …`, with Go's base64 and JSON texts) on a
 * malformed one.
 */
export function decodeContinue(token: string): ContinueToken {
  let bytes: Uint8Array;
  try {
    bytes = goRawUrlBase64(token);
  } catch (e) {
    throw new Error(`${INVALID}: ${(e as Error).message}`);
  }
  const syntax = goJsonSyntaxError(bytes);
  if (syntax !== undefined) throw new Error(`${INVALID}: ${syntax}`);
  const parsed: unknown = JSON.parse(new TextDecoder().decode(bytes));
  if (parsed === null) return check({});
  if (typeof parsed !== "object" || Array.isArray(parsed)) {
    throw new Error(`${INVALID}: json: cannot unmarshal ${goJsonKind(parsed)} into Go value of type storage.continueToken`);
  }
  return check(parsed as Record<string, unknown>);
}

function check(o: Record<string, unknown>): ContinueToken {
  const v = field(o, "v", "string") as string;
  const rv = field(o, "rv", "int64") as number;
  const start = field(o, "start", "string") as string;
  if (v !== "meta.k8s.io/v1") throw new Error(`${INVALID}: server does not recognize this encoded version ${v}`);
  if (rv === 0) throw new Error(`${INVALID}: incorrect encoded start resourceVersion (version meta.k8s.io/v1)`);
  if (start === "") throw new Error(`${INVALID}: encoded start key empty (version meta.k8s.io/v1)`);
  const key = start.startsWith("/") ? start : `/${start}`;
  if (pathClean(key) !== key) throw new Error(`${INVALID}: ${start}`);
  return { rv, start };
}

/**
 * The storage key (`namespace/name…`) a decoded token's start stands for in
 * a list over `namespace` (undefined = all namespaces).
 */
export function continueStartKey(tok: ContinueToken, namespace: string | undefined): string {
  const rel = tok.start.startsWith("/") ? tok.start.slice(1) : tok.start;
  return namespace === undefined ? rel : `${namespace}/${rel}`;
}
