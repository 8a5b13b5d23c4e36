/**
 * gzip for the call path's message compression, through `node:zlib` (Node,
 * Bun and Deno provide it). Synchronous: messages are decompressed in order
 * as they arrive, and `maxOutputLength` bounds a decompression bomb.
 *
 * @module
 */
import * as zlib from "node:zlib";

/** Thrown by {@link gunzip} when the output would exceed its limit. */
export class OutputTooLargeError extends Error {
  /** The limit. */
  readonly maxBytes: number;
  /** @param maxBytes the limit that was exceeded */
  constructor(maxBytes: number) {
    super(`decompressed message is larger than ${maxBytes} bytes`);
    this.name = "OutputTooLargeError";
    this.maxBytes = maxBytes;
  }
}

/** gzip-compresses `data`. */
export function gzip(data: Uint8Array): Uint8Array {
  return zlib.gzipSync(data);
}

/** Decompresses gzip `data`, failing with {@link OutputTooLargeError} past `maxBytes`. */
export function gunzip(data: Uint8Array, maxBytes: number): Uint8Array {
  const limit = Math.min(maxBytes, 0x7fff_ffff);
  let out: Uint8Array;
  try {
    out = zlib.gunzipSync(data, { maxOutputLength: Math.max(1, limit) });
  } catch (e) {
    if ((e as { code?: unknown }).code === "ERR_BUFFER_TOO_LARGE" || e instanceof RangeError) throw new OutputTooLargeError(maxBytes);
    throw e;
  }
  // Runtimes that ignore maxOutputLength are still held to the limit.
  if (out.byteLength > maxBytes) throw new OutputTooLargeError(maxBytes);
  return out;
}
