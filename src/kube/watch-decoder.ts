/**
 * A pure decoder for Kubernetes watch streams: bytes in, typed watch events
 * (or typed decode errors) out.
 *
 * The API server writes one JSON object per line (`{"type":T,"object":{…}}\n`,
 * a Go `json.Encoder`), but flushes whenever its queue is empty, so a chunk may
 * carry several events or any part of one (kubernetes-api.md §1 item 2). The
 * decoder splits on `\n` bytes, decodes each complete line with `TextDecoder`
 * (a newline byte never occurs inside a UTF-8 sequence, so lines are always
 * whole characters) and validates only what the loop needs. It uses web
 * standards only, so it runs unchanged on Node, Bun and Deno.
 *
 * Errors are values: a malformed line yields a {@link WatchDecodeError} and the
 * decoder carries on with the next line, so the caller decides what to do (the
 * reflector reports it and reconnects).
 *
 * Why not `ndjson`: measured in bench/watch.ts on the same lines, it costs the
 * same CPU per event (64.1 vs 63.8 µs on Node 24) but needs Node streams,
 * which `fetch` bodies on Bun and Deno are not, and has no line limit.
 *
 * @module
 */
import type { Pod, Status } from "./wire.ts";
import { INITIAL_EVENTS_END_ANNOTATION } from "./wire.ts";

/** Default longest accepted line: 16 MiB (a generous bound over etcd's 1.5 MiB object limit). */
export const DEFAULT_MAX_LINE_BYTES: number = 16 * 1024 * 1024;

/** A decoded `ADDED`, `MODIFIED` or `DELETED` event. The object is only checked to have `metadata`. */
export interface ObjectWatchEvent {
  readonly type: "ADDED" | "MODIFIED" | "DELETED";
  readonly object: Pod;
  /** `object.metadata.resourceVersion` when it is a non-empty string. */
  readonly resourceVersion: string | undefined;
}

/** A decoded `BOOKMARK`: only its resourceVersion matters; the object is never validated as a pod. */
export interface BookmarkWatchEvent {
  readonly type: "BOOKMARK";
  readonly resourceVersion: string;
  /** Carries the `k8s.io/initial-events-end` annotation (end of a streaming list's initial events). */
  readonly initialEventsEnd: boolean;
}

/** A decoded in-stream `ERROR`; `status` is normalised (a non-Status object becomes a 500 InternalError). */
export interface ErrorWatchEvent {
  readonly type: "ERROR";
  readonly status: Status;
}

/** One decoded watch event. */
export type DecodedWatchEvent = ObjectWatchEvent | BookmarkWatchEvent | ErrorWatchEvent;

/** Why a line could not be decoded. */
export type WatchDecodeErrorReason =
  | "line-too-long"
  | "invalid-json"
  | "not-an-object"
  | "unknown-type"
  | "missing-object"
  | "invalid-bookmark"
  | "truncated"
  /** Protobuf streams: a frame longer than the limit. */
  | "frame-too-long"
  /** Protobuf streams: a frame that is not a valid `WatchEvent`. */
  | "invalid-protobuf";

/**
 * A line of a watch stream that is not a valid watch event. Returned as a value
 * by the decoder, never thrown.
 */
export class WatchDecodeError extends Error {
  /** Stable code. */
  readonly code: "WATCH_DECODE_ERROR" = "WATCH_DECODE_ERROR";
  /** What was wrong with the line. */
  readonly reason: WatchDecodeErrorReason;
  /** The first 200 characters of the offending line, when there is one. */
  readonly excerpt: string | undefined;
  /** Creates an error; `excerpt` is truncated to 200 characters. */
  constructor(reason: WatchDecodeErrorReason, message: string, excerpt?: string) {
    super(`watch stream: ${message}`);
    this.name = "WatchDecodeError";
    this.reason = reason;
    this.excerpt = excerpt === undefined ? undefined : excerpt.slice(0, 200);
  }
}

/** What {@link WatchDecoder.push} and {@link WatchDecoder.end} return, in stream order. */
export type WatchDecodeResult = DecodedWatchEvent | WatchDecodeError;

/** Options of {@link createWatchDecoder}. */
export interface WatchDecoderOptions {
  /** Longest accepted line in bytes, newline excluded. Default {@link DEFAULT_MAX_LINE_BYTES}. */
  maxLineBytes?: number;
}

/** An incremental watch-stream decoder. */
export interface WatchDecoder {
  /** Feeds one chunk; returns the events (and errors) of every line it completed. */
  push(chunk: Uint8Array): WatchDecodeResult[];
  /** Ends the stream; a last line without a newline is decoded, or reported as truncated. */
  end(): WatchDecodeResult[];
  /** Bytes buffered for the current, incomplete line. */
  readonly bufferedBytes: number;
}

const NEWLINE = 0x0a;
const EVENT_TYPES: ReadonlySet<string> = new Set(["ADDED", "MODIFIED", "DELETED", "BOOKMARK", "ERROR"]);

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function toStatus(object: Record<string, unknown>): Status {
  if (object["kind"] === "Status" && typeof object["code"] === "number") return object as unknown as Status;
  // Errors that are not a Status become code 500, reason InternalError (apiserver cacher.go).
  const message = typeof object["message"] === "string" ? object["message"] : JSON.stringify(object).slice(0, 200);
  return { kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message, reason: "InternalError", code: 500 };
}

/**
 * Decodes one complete line (without its newline). Returns `undefined` for a
 * blank line. Exported for tests and benchmarks.
 */
export function decodeWatchLine(line: string): WatchDecodeResult | undefined {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    if (line.trim() === "") return undefined;
    return new WatchDecodeError("invalid-json", "a line is not valid JSON", line);
  }
  if (!isObject(value)) return new WatchDecodeError("not-an-object", "a line is not a JSON object", line);
  const type = value["type"];
  if (typeof type !== "string" || !EVENT_TYPES.has(type)) {
    return new WatchDecodeError("unknown-type", `unknown watch event type ${JSON.stringify(type)}`, line);
  }
  const object = value["object"];
  if (!isObject(object)) return new WatchDecodeError("missing-object", `${type} event has no object`, line);
  if (type === "ERROR") return { type, status: toStatus(object) };
  const meta = object["metadata"];
  if (type === "BOOKMARK") {
    const rv = isObject(meta) ? meta["resourceVersion"] : undefined;
    if (typeof rv !== "string" || rv === "") {
      return new WatchDecodeError("invalid-bookmark", "BOOKMARK event has no metadata.resourceVersion", line);
    }
    const annotations = isObject(meta) ? meta["annotations"] : undefined;
    const end = isObject(annotations) && annotations[INITIAL_EVENTS_END_ANNOTATION] === "true";
    return { type, resourceVersion: rv, initialEventsEnd: end };
  }
  if (!isObject(meta)) return new WatchDecodeError("missing-object", `${type} event object has no metadata`, line);
  const rv = meta["resourceVersion"];
  return {
    type: type as ObjectWatchEvent["type"],
    object: object as unknown as Pod,
    resourceVersion: typeof rv === "string" && rv !== "" ? rv : undefined,
  };
}

/**
 * Creates an incremental decoder. Events may be split anywhere across chunks
 * and a chunk may hold many events. A line longer than `maxLineBytes` yields
 * one `line-too-long` error; its bytes are dropped up to the next newline, so
 * memory stays bounded by the limit.
 */
export function createWatchDecoder(options: WatchDecoderOptions = {}): WatchDecoder {
  const maxLineBytes = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
  const text = new TextDecoder("utf-8");
  let parts: Uint8Array[] = [];
  let partsLength = 0;
  let skipping = false;

  const decodeBytes = (bytes: Uint8Array, out: WatchDecodeResult[]): void => {
    const r = decodeWatchLine(text.decode(bytes));
    if (r !== undefined) out.push(r);
  };

  const tooLong = (out: WatchDecodeResult[]): void => {
    out.push(new WatchDecodeError("line-too-long", `a line is longer than the ${maxLineBytes}-byte limit`));
    parts = [];
    partsLength = 0;
  };

  /** Appends the incomplete tail of a chunk to the line buffer. */
  const keep = (chunk: Uint8Array, start: number, out: WatchDecodeResult[]): void => {
    if (skipping || start >= chunk.length) return;
    const tail = chunk.subarray(start);
    if (partsLength + tail.length > maxLineBytes) {
      tooLong(out);
      skipping = true;
      return;
    }
    // Copy small tails so one retained byte range never pins a large chunk.
    parts.push(tail.length < chunk.length / 2 ? tail.slice() : tail);
    partsLength += tail.length;
  };

  const takeLine = (chunk: Uint8Array, start: number, end: number): Uint8Array => {
    if (partsLength === 0) return chunk.subarray(start, end);
    const line = new Uint8Array(partsLength + (end - start));
    let at = 0;
    for (const p of parts) {
      line.set(p, at);
      at += p.length;
    }
    line.set(chunk.subarray(start, end), at);
    parts = [];
    partsLength = 0;
    return line;
  };

  return {
    get bufferedBytes() {
      return partsLength;
    },
    push(chunk) {
      const out: WatchDecodeResult[] = [];
      let start = 0;
      for (;;) {
        const nl = chunk.indexOf(NEWLINE, start);
        if (nl === -1) break;
        if (skipping) {
          skipping = false;
        } else if (partsLength + (nl - start) > maxLineBytes) {
          tooLong(out);
        } else {
          decodeBytes(takeLine(chunk, start, nl), out);
        }
        start = nl + 1;
      }
      keep(chunk, start, out);
      return out;
    },
    end() {
      const out: WatchDecodeResult[] = [];
      if (skipping || partsLength === 0) {
        skipping = false;
        return out;
      }
      const line = text.decode(takeLine(new Uint8Array(0), 0, 0));
      if (line.trim() === "") return out;
      const r = decodeWatchLine(line);
      if (r === undefined) return out;
      out.push(r instanceof WatchDecodeError ? new WatchDecodeError("truncated", "the stream ended inside an event", line) : r);
      return out;
    },
  };
}
