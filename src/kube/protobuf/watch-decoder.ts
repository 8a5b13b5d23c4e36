/**
 * A pure decoder for Kubernetes watch streams in protobuf: bytes in, the same
 * {@link WatchDecodeResult}s as the JSON decoder out.
 *
 * With `Accept: application/vnd.kubernetes.protobuf;stream=watch` the API
 * server writes frames, each a 4-byte big-endian length and a
 * `metav1.WatchEvent` (`type` = 1, `object` = 2, a `runtime.RawExtension`
 * whose `raw` = 1 holds the object's `k8s\0` + `runtime.Unknown` envelope)
 * (apimachinery `pkg/runtime/serializer/protobuf` `LengthDelimitedFramer`,
 * `pkg/runtime/serializer/streaming`). Frames may be split anywhere across
 * chunks. A frame over the size limit yields one `frame-too-long` error and
 * its bytes are dropped as they arrive; a malformed frame yields an
 * `invalid-protobuf` error; either way the decoder goes on with the next
 * frame, as the JSON decoder goes on with the next line.
 *
 * @module
 */
import type { WatchDecodeResult, WatchDecoder } from "../watch-decoder.ts";
import type { WireReader } from "./reader.ts";
import { DEFAULT_MAX_LINE_BYTES, WatchDecodeError } from "../watch-decoder.ts";
import type { KubeObject, Pod, WatchEventType } from "../wire.ts";
import { INITIAL_EVENTS_END_ANNOTATION } from "../wire.ts";
import type { ProtobufProjection } from "./decoder.ts";
import { readMetadataOnly, readStatus } from "./meta.ts";
import { keySet, messageEnd, nextTag, ProtobufDecodeError, readEnvelope, reader, skipField } from "./reader.ts";

/** Options of {@link createProtobufWatchDecoder}. */
export interface ProtobufWatchDecoderOptions {
  /** Largest accepted frame in bytes, length prefix excluded. Default 16 MiB, as the JSON decoder's line limit. */
  maxFrameBytes?: number | undefined;
}

const TYPES: readonly WatchEventType[] = ["ADDED", "MODIFIED", "DELETED", "BOOKMARK", "ERROR"];
const TYPE_BYTES: readonly Uint8Array[] = TYPES.map((t) => new TextEncoder().encode(t));
const BOOKMARK_KEYS = { labels: "none", annotations: keySet([INITIAL_EVENTS_END_ANNOTATION]) } as const;

/** The index in {@link TYPES} of the type string at `at`, compared as bytes; -1 when unknown. */
function eventType(buf: Uint8Array, at: number, len: number): number {
  outer: for (let i = 0; i < TYPE_BYTES.length; i++) {
    const b = TYPE_BYTES[i]!;
    if (b.length !== len) continue;
    for (let j = 0; j < len; j++) if (buf[at + j] !== b[j]) continue outer;
    return i;
  }
  return -1;
}

function excerpt(buf: Uint8Array, at: number, len: number): string {
  return new TextDecoder("utf-8", { fatal: false }).decode(buf.subarray(at, at + Math.min(len, 200)));
}

/** Decodes one frame (a raw `WatchEvent`) from `start` to `end` of `buf`. */
export function decodeWatchFrame(r: WireReader, buf: Uint8Array, start: number, end: number, projection: ProtobufProjection): WatchDecodeResult {
  try {
    r.pos = start;
    let typeAt = -1;
    let typeLen = 0;
    let rawStart = -1;
    let rawEnd = -1;
    while (r.pos < end) {
      const t = nextTag(r);
      if (t === 10) {
        typeLen = r.uint32();
        typeAt = r.pos;
        r.pos += typeLen;
        if (r.pos > end) throw new ProtobufDecodeError("the event type runs past the frame");
      } else if (t === 18) {
        const e = messageEnd(r, end);
        while (r.pos < e) {
          const u = nextTag(r);
          if (u === 10) {
            rawEnd = messageEnd(r, e);
            rawStart = r.pos;
            r.pos = rawEnd;
          } else skipField(r, u, e);
        }
      } else skipField(r, t, end);
    }
    const i = typeAt < 0 ? -1 : eventType(buf, typeAt, typeLen);
    if (i < 0) {
      const name = typeAt < 0 ? "none" : JSON.stringify(excerpt(buf, typeAt, typeLen));
      return new WatchDecodeError("unknown-type", `unknown watch event type ${name}`);
    }
    const type = TYPES[i]!;
    if (rawStart < 0) return new WatchDecodeError("missing-object", `${type} event has no object`);
    const env = readEnvelope(r, buf, rawStart, rawEnd);
    r.pos = env.rawStart;
    if (type === "ERROR") {
      if (env.kind === "Status") return { type, status: readStatus(r, env.rawEnd) };
      return { type, status: { kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message: `an ERROR event carried a ${env.kind}`, reason: "InternalError", code: 500 } };
    }
    if (type === "BOOKMARK") {
      const meta = readMetadataOnly(r, buf, env.rawEnd, BOOKMARK_KEYS);
      const rv = meta.resourceVersion;
      if (rv === undefined || rv === "") return new WatchDecodeError("invalid-bookmark", "BOOKMARK event has no metadata.resourceVersion");
      return { type, resourceVersion: rv, initialEventsEnd: meta.annotations?.[INITIAL_EVENTS_END_ANNOTATION] === "true" };
    }
    if (env.kind !== projection.kind) {
      return new WatchDecodeError("invalid-protobuf", `${type} event carries a ${JSON.stringify(env.kind)}, expected ${projection.kind}`);
    }
    const object: KubeObject = projection.read(r, buf, env.rawEnd);
    const rv = object.metadata.resourceVersion;
    return { type, object: object as Pod, resourceVersion: rv !== undefined && rv !== "" ? rv : undefined };
  } catch (e) {
    const why = e instanceof Error ? e.message.replace(/^protobuf: /, "") : String(e);
    return new WatchDecodeError("invalid-protobuf", `a frame is not a valid protobuf WatchEvent: ${why}`);
  }
}

/**
 * Creates an incremental decoder of protobuf watch frames whose objects are
 * read by `projection`.
 */
export function createProtobufWatchDecoder(projection: ProtobufProjection, options: ProtobufWatchDecoderOptions = {}): WatchDecoder {
  const maxFrameBytes = options.maxFrameBytes ?? DEFAULT_MAX_LINE_BYTES;
  /** The incomplete frame carried over, in pieces until it is whole (no copy per chunk). */
  let parts: Uint8Array[] = [];
  let partsLength = 0;
  /** Bytes of an oversized frame still to drop. */
  let dropping = 0;

  const byteAt = (i: number): number => {
    for (const p of parts) {
      if (i < p.length) return p[i]!;
      i -= p.length;
    }
    return 0;
  };
  /** Bytes the carried-over frame needs in all, or 0 when its length is not known yet. */
  const needed = (): number =>
    partsLength < 4 ? 0 : 4 + (((byteAt(0) << 24) | (byteAt(1) << 16) | (byteAt(2) << 8) | byteAt(3)) >>> 0);

  const drain = (buf: Uint8Array, out: WatchDecodeResult[]): Uint8Array => {
    let at = 0;
    let r: WireReader | undefined;
    for (;;) {
      if (dropping > 0) {
        const n = Math.min(dropping, buf.length - at);
        dropping -= n;
        at += n;
        if (dropping > 0) return new Uint8Array(0);
      }
      if (buf.length - at < 4) break;
      const len = ((buf[at]! << 24) | (buf[at + 1]! << 16) | (buf[at + 2]! << 8) | buf[at + 3]!) >>> 0;
      if (len > maxFrameBytes) {
        out.push(new WatchDecodeError("frame-too-long", `a frame of ${len} bytes is over the ${maxFrameBytes}-byte limit`));
        at += 4;
        dropping = len;
        continue;
      }
      if (buf.length - at - 4 < len) break;
      r ??= reader(buf);
      out.push(decodeWatchFrame(r, buf, at + 4, at + 4 + len, projection));
      at += 4 + len;
    }
    // Keep the incomplete tail, copied so it never pins a large chunk.
    return at === buf.length ? new Uint8Array(0) : buf.slice(at);
  };

  return {
    get bufferedBytes() {
      return partsLength;
    },
    push(chunk) {
      const out: WatchDecodeResult[] = [];
      let buf = chunk;
      if (partsLength > 0) {
        parts.push(chunk);
        partsLength += chunk.length;
        const need = needed();
        // Wait for the whole frame unless it is over the limit (then drain reports and drops it).
        if (partsLength < 4 || (partsLength < need && need - 4 <= maxFrameBytes)) return out;
        buf = new Uint8Array(partsLength);
        let at = 0;
        for (const p of parts) {
          buf.set(p, at);
          at += p.length;
        }
        parts = [];
        partsLength = 0;
      }
      const tail = drain(buf, out);
      if (tail.length > 0) {
        parts = [tail];
        partsLength = tail.length;
      }
      return out;
    },
    end() {
      const out: WatchDecodeResult[] = [];
      if (partsLength > 0 && dropping === 0) out.push(new WatchDecodeError("truncated", "the stream ended inside a frame"));
      parts = [];
      partsLength = 0;
      dropping = 0;
      return out;
    },
  };
}
