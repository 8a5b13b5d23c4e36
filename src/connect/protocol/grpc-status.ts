/**
 * The status of a gRPC or gRPC-web call, read from its trailers (or from the
 * headers of a trailers-only response): `grpc-status`, the percent-encoded
 * `grpc-message`, and `grpc-status-details-bin` (a base64 `google.rpc.Status`
 * that carries the error details and wins over the other two)
 * (https://github.com/grpc/grpc/blob/master/doc/PROTOCOL-HTTP2.md, "Responses").
 * Pure.
 *
 * @module
 */
import { Code, ConnectError } from "@connectrpc/connect";
import type { JsonValue } from "@bufbuild/protobuf";
import { base64Decode, BinaryReader, WireType } from "@bufbuild/protobuf/wire";
import { headerValue, type RawHeaders } from "./headers.ts";

/** An error detail as connect keeps it: the type name and the packed message. */
export interface WireDetail {
  readonly type: string;
  readonly value: Uint8Array;
  readonly debug?: JsonValue;
}

/** A status read off the wire. */
export interface WireStatus {
  /** 0 (OK) or a `Code`. */
  readonly code: number;
  readonly message: string;
  readonly details: WireDetail[];
}

const OK: WireStatus = { code: 0, message: "", details: [] };

/**
 * The status in a header block; `undefined` when it has neither
 * `grpc-status` nor `grpc-status-details-bin`. Codes outside 0–16 and
 * malformed codes read as `Unknown` (gRPC: "treat unknown status codes as
 * UNKNOWN").
 */
export function readGrpcStatus(h: RawHeaders): WireStatus | undefined {
  const bin = headerValue(h, "grpc-status-details-bin");
  if (bin !== undefined) {
    const s = decodeStatusDetails(bin);
    if (s !== undefined) return s;
  }
  const raw = headerValue(h, "grpc-status");
  if (raw === undefined) return undefined;
  if (raw === "0") return OK;
  const code = /^[0-9]{1,10}$/.test(raw) ? Number(raw) : -1;
  const message = percentDecode(headerValue(h, "grpc-message") ?? "");
  if (code >= 1 && code <= 16) return { code, message, details: [] };
  return { code: Code.Unknown, message: message || `invalid grpc-status: ${raw}`, details: [] };
}

/** A `ConnectError` for a non-OK status, with `metadata` (headers and trailers). */
export function statusError(s: WireStatus, metadata?: HeadersInit): ConnectError {
  const e = new ConnectError(s.message, s.code as Code, metadata);
  for (const d of s.details) e.details.push(d.debug === undefined ? { type: d.type, value: d.value } : { type: d.type, value: d.value, debug: d.debug });
  return e;
}

/** Decodes `grpc-status-details-bin`; `undefined` when it is not a valid base64 `google.rpc.Status`. */
export function decodeStatusDetails(value: string): WireStatus | undefined {
  try {
    const r = new BinaryReader(base64Decode(value));
    let code = 0;
    let message = "";
    const details: WireDetail[] = [];
    while (r.pos < r.len) {
      const [no, wt] = r.tag();
      if (no === 1 && wt === WireType.Varint) code = r.int32();
      else if (no === 2 && wt === WireType.LengthDelimited) message = r.string();
      else if (no === 3 && wt === WireType.LengthDelimited) details.push(decodeAny(r.bytes()));
      else r.skip(wt, no);
    }
    if (code === 0) return OK;
    return { code: code >= 1 && code <= 16 ? code : Code.Unknown, message, details };
  } catch {
    return undefined;
  }
}

/** A `google.protobuf.Any` as a detail: the type name is the part of `type_url` after its last `/`. */
function decodeAny(bytes: Uint8Array): WireDetail {
  const r = new BinaryReader(bytes);
  let typeUrl = "";
  let value: Uint8Array = new Uint8Array(0);
  while (r.pos < r.len) {
    const [no, wt] = r.tag();
    if (no === 1 && wt === WireType.LengthDelimited) typeUrl = r.string();
    else if (no === 2 && wt === WireType.LengthDelimited) value = r.bytes();
    else r.skip(wt, no);
  }
  return { type: typeUrl.slice(typeUrl.lastIndexOf("/") + 1), value };
}

/**
 * Percent-encodes a `grpc-message`: bytes outside 0x20–0x7E and `%` itself
 * become `%XX` of their UTF-8 encoding.
 */
export function percentEncode(message: string): string {
  if (/^[\x20-\x24\x26-\x7e]*$/.test(message)) return message;
  let out = "";
  for (const b of new TextEncoder().encode(message)) {
    out += b >= 0x20 && b <= 0x7e && b !== 0x25 ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

/**
 * Decodes a percent-encoded `grpc-message`. Never throws: a malformed `%`
 * sequence stays as it is and invalid UTF-8 becomes U+FFFD (gRPC: decoding
 * must not fail or drop the message).
 */
export function percentDecode(value: string): string {
  if (!value.includes("%")) return value;
  const bytes: number[] = [];
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 0x25 && i + 2 < value.length && isHex(value.charCodeAt(i + 1)) && isHex(value.charCodeAt(i + 2))) {
      bytes.push(parseInt(value.slice(i + 1, i + 3), 16));
      i += 2;
    } else if (c < 0x80) {
      bytes.push(c);
    } else {
      // Not allowed in the header, kept as its UTF-8 bytes.
      const ch = String.fromCodePoint(value.codePointAt(i)!);
      for (const b of new TextEncoder().encode(ch)) bytes.push(b);
      i += ch.length - 1;
    }
  }
  return new TextDecoder().decode(new Uint8Array(bytes));
}

function isHex(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);
}
