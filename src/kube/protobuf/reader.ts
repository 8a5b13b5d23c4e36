/**
 * The wire-level pieces of kratos-kube's Kubernetes protobuf decoder: tags,
 * skips and string maps read with `@bufbuild/protobuf`'s `BinaryReader`, one
 * reader per body or frame, nested messages walked by end offset (no
 * sub-reader, no copy), unknown fields skipped by moving the position only.
 *
 * The encoding is the one of apimachinery's protobuf serializer
 * (`k8s.io/apimachinery/pkg/runtime/serializer/protobuf`): the 4-byte magic
 * `k8s\0` followed by a `runtime.Unknown` (`typeMeta` = 1 {`apiVersion` = 1,
 * `kind` = 2}, `raw` = 2, `contentEncoding` = 3, `contentType` = 4) whose
 * `raw` holds the object's own message.
 *
 * @module
 */
import { BinaryReader } from "@bufbuild/protobuf/wire";
import { sharedText } from "./shared-text.ts";
import { utf8, utf8Text } from "./utf8.ts";

/** The media type of Kubernetes protobuf (apimachinery `runtime.ContentTypeProtobuf`). */
export const PROTOBUF_MEDIA_TYPE = "application/vnd.kubernetes.protobuf";

/** The 4 bytes before every enveloped object: `k8s\0`. */
export const PROTOBUF_MAGIC: Uint8Array = Uint8Array.of(0x6b, 0x38, 0x73, 0x00);

/** Malformed protobuf input: what was being read and why it failed. Thrown inside decoders, turned into values at their edges. */
export class ProtobufDecodeError extends Error {
  /** Stable code. */
  readonly code: "PROTOBUF_DECODE_ERROR" = "PROTOBUF_DECODE_ERROR";
  /** Creates an error; the message is prefixed with `protobuf: `. */
  constructor(message: string, options?: ErrorOptions) {
    super(`protobuf: ${message}`, options);
    this.name = "ProtobufDecodeError";
  }
}

/** Wire types (protobuf encoding spec). */
export const VARINT = 0;
export const LEN = 2;

const decodeUtf8 = (bytes: Uint8Array): string => utf8.decode(bytes);

/** `BinaryReader` with its buffer in sight, so strings and map keys are read in place. */
export class WireReader extends BinaryReader {
  /** The bytes read. */
  readonly source: Uint8Array;
  /** A reader over `bytes` (a whole body or one or more frames). */
  constructor(bytes: Uint8Array) {
    super(bytes, decodeUtf8);
    this.source = bytes;
  }
}

/** A reader over `bytes` (a whole body or one or more frames). */
export function reader(bytes: Uint8Array): WireReader {
  return new WireReader(bytes);
}

/**
 * The next tag as one number (`field << 3 | wireType`): `BinaryReader.tag()`
 * returns a fresh array per field, this does not.
 */
export function nextTag(r: WireReader): number {
  const t = r.uint32();
  if (t >>> 3 === 0) throw new ProtobufDecodeError(`invalid tag ${t} at byte ${r.pos}`);
  return t;
}

/** Skips the value of a field with tag `t` by moving the position (groups, deprecated and unused by Kubernetes, through `BinaryReader.skip`). */
export function skipField(r: WireReader, t: number, end: number): void {
  const wt = t & 7;
  if (wt === VARINT) r.uint32();
  else if (wt === LEN) {
    const len = r.uint32(); // read first: `r.pos += r.uint32()` would add to the position before the length
    r.pos += len;
  }
  else if (wt === 1) r.pos += 8;
  else if (wt === 5) r.pos += 4;
  else r.skip(wt, t >>> 3);
  if (r.pos > end) throw new ProtobufDecodeError(`field ${t >>> 3} runs past the end of its message`);
}

/** Reads a length prefix and returns the end offset of the nested message, checked against `end`. */
export function messageEnd(r: WireReader, end: number): number {
  const len = r.uint32();
  const e = r.pos + len;
  if (e > end) throw new ProtobufDecodeError(`a nested message of ${len} bytes runs past the end of its parent`);
  return e;
}

/** Reads a length-delimited string, checked against `end`; `text` decodes its bytes. */
export function readString(r: WireReader, end: number, text: (buf: Uint8Array, at: number, len: number) => string = utf8Text): string {
  const len = r.uint32();
  const at = r.pos;
  r.pos += len;
  if (r.pos > end) throw new ProtobufDecodeError("a string runs past the end of its message");
  return text(r.source, at, len);
}

/** {@link readString} shared with earlier reads of the same bytes ({@link sharedText}): for values that repeat across objects. */
export function readSharedString(r: WireReader, end: number): string {
  return readString(r, end, sharedText);
}

/** Field 1 of a nested message as a string, `""` when absent (`PodIP.ip`, `ForZone.name`, …); the rest is skipped. */
export function readField1String(r: WireReader, end: number): string {
  const e = messageEnd(r, end);
  let text = "";
  while (r.pos < e) {
    const t = nextTag(r);
    if (t === 10) text = readString(r, e);
    else skipField(r, t, e);
  }
  return text;
}

/** Expects wire type `LEN` for field `t` (a message or string), else throws naming `what`. */
export function expectLen(t: number, what: string): void {
  if ((t & 7) !== LEN) throw new ProtobufDecodeError(`${what} has wire type ${t & 7}, expected 2 (length-delimited)`);
}

/** Which keys of a `map<string, string>` to keep: every key, none, or the UTF-8 bytes of a few. */
export type KeySet = "all" | "none" | readonly Uint8Array[];

const encoder = new TextEncoder();

/** The {@link KeySet} of a projection's option (`undefined` keeps none). */
export function keySet(keys: readonly string[] | "all" | undefined): KeySet {
  if (keys === "all") return "all";
  if (keys === undefined || keys.length === 0) return "none";
  return keys.map((k) => encoder.encode(k));
}

function bytesEqual(buf: Uint8Array, at: number, len: number, key: Uint8Array): boolean {
  if (key.length !== len) return false;
  for (let i = 0; i < len; i++) if (buf[at + i] !== key[i]) return false;
  return true;
}

function setOwn(target: Record<string, string>, key: string, value: string): void {
  if (key === "__proto__") Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
}

/**
 * Reads one `map<string, string>` entry (`key` = 1, `value` = 2) into `out`
 * when its key is in `keys`; an entry whose key is not kept is passed over
 * by comparing bytes, allocating nothing. Returns `out` (created on the
 * first kept entry).
 */
export function readMapEntry(r: WireReader, buf: Uint8Array, end: number, keys: KeySet, out: Record<string, string> | undefined): Record<string, string> | undefined {
  const e = messageEnd(r, end);
  if (keys === "none") {
    r.pos = e;
    return out;
  }
  let keyAt = -1;
  let keyLen = 0;
  let valueAt = -1;
  let valueLen = 0;
  while (r.pos < e) {
    const t = nextTag(r);
    if (t === 10 || t === 18) {
      const len = r.uint32();
      if (t === 10) {
        keyAt = r.pos;
        keyLen = len;
      } else {
        valueAt = r.pos;
        valueLen = len;
      }
      r.pos += len;
      if (r.pos > e) throw new ProtobufDecodeError("a map entry runs past its end");
    } else skipField(r, t, e);
  }
  if (keyAt < 0) keyAt = 0; // a missing key is the empty string (keyLen 0)
  if (keys !== "all") {
    let kept = false;
    for (const k of keys) if (bytesEqual(buf, keyAt, keyLen, k)) kept = true;
    if (!kept) return out;
  }
  // Keys repeat across objects (label and annotation names): shared.
  const key = sharedText(buf, keyAt, keyLen);
  const value = valueAt < 0 ? "" : utf8Text(buf, valueAt, valueLen);
  setOwn((out ??= {}), key, value);
  return out;
}

/** The `runtime.Unknown` of an enveloped object: its kind and the bounds of its `raw` in the reader's buffer. */
export interface Envelope {
  readonly apiVersion: string;
  readonly kind: string;
  readonly rawStart: number;
  readonly rawEnd: number;
}

/**
 * Reads `k8s\0` + `runtime.Unknown` from `start` to `end`. A non-empty
 * `contentEncoding` (never sent by kube-apiserver) is refused.
 */
export function readEnvelope(r: WireReader, buf: Uint8Array, start: number, end: number): Envelope {
  if (end - start < 4 || buf[start] !== 0x6b || buf[start + 1] !== 0x38 || buf[start + 2] !== 0x73 || buf[start + 3] !== 0) {
    throw new ProtobufDecodeError("the body does not start with the Kubernetes protobuf magic k8s\\0");
  }
  r.pos = start + 4;
  let apiVersion = "";
  let kind = "";
  let rawStart = -1;
  let rawEnd = -1;
  while (r.pos < end) {
    const t = nextTag(r);
    if (t === 10) {
      const e = messageEnd(r, end);
      while (r.pos < e) {
        const u = nextTag(r);
        if (u === 10) apiVersion = readString(r, e);
        else if (u === 18) kind = readString(r, e);
        else skipField(r, u, e);
      }
    } else if (t === 18) {
      rawEnd = messageEnd(r, end);
      rawStart = r.pos;
      r.pos = rawEnd;
    } else if (t === 26) {
      const enc = readString(r, end);
      if (enc !== "") throw new ProtobufDecodeError(`unsupported contentEncoding ${JSON.stringify(enc)}`);
    } else skipField(r, t, end);
  }
  if (rawStart < 0) return { apiVersion, kind, rawStart: end, rawEnd: end };
  return { apiVersion, kind, rawStart, rawEnd };
}

/** A `metav1.Time` (`seconds` = 1, `nanos` = 2; length prefix included) as Unix seconds. */
export function readTimeSeconds(r: WireReader, end: number): number {
  const e = messageEnd(r, end);
  let seconds = 0;
  while (r.pos < e) {
    const t = nextTag(r);
    if (t === 8) seconds = Number(r.int64());
    else skipField(r, t, e);
  }
  return seconds;
}

/** Unix seconds as RFC 3339 text with whole seconds, the JSON form of a `metav1.Time`. */
export function timeText(seconds: number): string {
  return new Date(seconds * 1000).toISOString().replace(".000Z", "Z");
}

/** A `metav1.Time` (`seconds` = 1, `nanos` = 2) as RFC 3339 text with whole seconds, its JSON form. */
export function readTime(r: WireReader, end: number): string {
  return timeText(readTimeSeconds(r, end));
}
