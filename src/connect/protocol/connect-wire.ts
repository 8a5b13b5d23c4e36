/**
 * The Connect protocol's own wire formats (https://connectrpc.com/docs/protocol/):
 * error codes as snake_case strings, the JSON error body of a unary response,
 * and the end-of-stream JSON that ends a streaming response. Pure.
 *
 * @module
 */
import { Code, ConnectError } from "@connectrpc/connect";
import type { JsonValue } from "@bufbuild/protobuf";
import { base64Decode } from "@bufbuild/protobuf/wire";
import type { WireDetail } from "./grpc-status.ts";

const NAMES: readonly string[] = [
  "ok",
  "canceled",
  "unknown",
  "invalid_argument",
  "deadline_exceeded",
  "not_found",
  "already_exists",
  "permission_denied",
  "resource_exhausted",
  "failed_precondition",
  "aborted",
  "out_of_range",
  "unimplemented",
  "internal",
  "unavailable",
  "data_loss",
  "unauthenticated",
];

/** The Connect name of a code (`deadline_exceeded`). */
export function codeToString(code: Code): string {
  return NAMES[code] ?? "unknown";
}

/** The code of a Connect name; `undefined` for an unknown name (and for `ok`, never an error). */
export function codeFromString(name: string): Code | undefined {
  const i = NAMES.indexOf(name);
  return i > 0 ? (i as Code) : undefined;
}

/**
 * A Connect error from its JSON form (`{"code", "message", "details": [{"type", "value", "debug"}]}`).
 * `fallback` is the code when the body has none or an unknown one (the HTTP
 * status's code). Returns `undefined` when `json` is not an error object at all.
 */
export function errorFromJson(json: unknown, fallback: Code, metadata?: HeadersInit): ConnectError | undefined {
  if (typeof json !== "object" || json === null || Array.isArray(json)) return undefined;
  const o = json as Record<string, unknown>;
  const code = typeof o["code"] === "string" ? (codeFromString(o["code"]) ?? fallback) : fallback;
  const message = o["message"];
  if (message !== undefined && message !== null && typeof message !== "string") return undefined;
  const details: WireDetail[] = [];
  if (Array.isArray(o["details"])) {
    for (const d of o["details"] as unknown[]) {
      if (typeof d !== "object" || d === null || Array.isArray(d)) return undefined;
      const { type, value, debug } = d as Record<string, unknown>;
      if (typeof type !== "string" || typeof value !== "string") return undefined;
      try {
        details.push(debug === undefined ? { type, value: base64Decode(value) } : { type, value: base64Decode(value), debug: debug as JsonValue });
      } catch {
        return undefined;
      }
    }
  }
  const e = new ConnectError(typeof message === "string" ? message : "", code, metadata);
  for (const d of details) e.details.push(d.debug === undefined ? { type: d.type, value: d.value } : { type: d.type, value: d.value, debug: d.debug });
  return e;
}

/** A Connect error from a response body; a generic error of `fallback` when the body is not one. */
export function errorFromBody(body: Uint8Array, fallback: Code, statusText: string, metadata?: HeadersInit): ConnectError {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(body));
  } catch {
    json = undefined;
  }
  return errorFromJson(json, fallback, metadata) ?? new ConnectError(statusText, fallback, metadata);
}

/** The end of a Connect stream: its trailers (`metadata`) and the error, if any. */
export interface EndStream {
  readonly metadata: Headers;
  readonly error: ConnectError | undefined;
}

/**
 * Parses the end-of-stream message (`{"error"?: …, "metadata"?: {"name": ["value", …]}}`);
 * a `ConnectError` (code Unknown) when it is malformed.
 */
export function parseEndStream(bytes: Uint8Array): EndStream | ConnectError {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(bytes));
  } catch (e) {
    return new ConnectError("protocol error: invalid end of stream (not JSON)", Code.Unknown, undefined, undefined, e);
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    return new ConnectError("protocol error: invalid end of stream", Code.Unknown);
  }
  const o = json as Record<string, unknown>;
  const metadata = new Headers();
  const md = o["metadata"];
  if (md !== undefined && md !== null) {
    if (typeof md !== "object" || Array.isArray(md)) return new ConnectError("protocol error: invalid end of stream metadata", Code.Unknown);
    for (const [k, vs] of Object.entries(md as Record<string, unknown>)) {
      if (!Array.isArray(vs) || !vs.every((v) => typeof v === "string")) {
        return new ConnectError("protocol error: invalid end of stream metadata", Code.Unknown);
      }
      for (const v of vs as string[]) metadata.append(k, v);
    }
  }
  const err = o["error"];
  if (err === undefined || err === null) return { metadata, error: undefined };
  const error = errorFromJson(err, Code.Unknown, metadata);
  if (error === undefined) return new ConnectError("protocol error: invalid end of stream error", Code.Unknown);
  return { metadata, error };
}
