/**
 * The trailers of a gRPC-web response, which travel in the body as the last
 * envelope (flag 0x80) in HTTP/1 header syntax, `name: value` lines ending
 * in CRLF (https://github.com/grpc/grpc/blob/master/doc/PROTOCOL-WEB.md). Pure.
 *
 * @module
 */
import type { RawHeaders } from "./headers.ts";

/** Parses a trailer envelope's payload; names are lower-cased, repeated names become arrays. */
export function parseGrpcWebTrailer(data: Uint8Array): RawHeaders {
  const out: Record<string, string | string[]> = {};
  // Field values are bytes (RFC 9110 §5.5): one character per byte, as HTTP/2 libraries deliver headers.
  let text = "";
  for (let i = 0; i < data.byteLength; i += 4096) text += String.fromCharCode(...data.subarray(i, i + 4096));
  for (const line of text.split(/\r?\n/)) {
    if (line === "") continue;
    const i = line.indexOf(":");
    if (i <= 0) continue;
    const name = line.slice(0, i).trim().toLowerCase();
    const value = line.slice(i + 1).trim();
    const prev = out[name];
    if (prev === undefined) out[name] = value;
    else if (Array.isArray(prev)) prev.push(value);
    else out[name] = [prev, value];
  }
  return out;
}
