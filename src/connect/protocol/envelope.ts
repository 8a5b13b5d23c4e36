/**
 * The 5-byte length-prefixed message frame ("envelope") that gRPC, gRPC-web
 * and Connect streaming put around every message: one flags byte, a 4-byte
 * big-endian length, then the message
 * (https://github.com/grpc/grpc/blob/master/doc/PROTOCOL-HTTP2.md, "Length-Prefixed-Message";
 * https://connectrpc.com/docs/protocol/#streaming-request).
 *
 * Pure: {@link EnvelopeReader} is a small state machine fed with the body
 * chunks as they arrive; it copies only when an envelope spans chunks.
 *
 * @module
 */

/** Flag bit: the message is compressed with the negotiated encoding. */
export const FLAG_COMPRESSED = 0b0000_0001;
/** Flag bit of Connect streaming: this envelope is the end-of-stream JSON. */
export const FLAG_CONNECT_END_STREAM = 0b0000_0010;
/** Flag bit of gRPC-web: this envelope holds the trailers. */
export const FLAG_GRPC_WEB_TRAILER = 0b1000_0000;

/** Bytes of the envelope prefix. */
export const ENVELOPE_PREFIX_BYTES = 5;

/** One decoded envelope. `data` may be a view into a chunk that was pushed. */
export interface Envelope {
  readonly flags: number;
  readonly data: Uint8Array;
}

/** The envelope prefix and `data` in one new buffer (written once, no concatenation later). */
export function encodeEnvelope(flags: number, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(ENVELOPE_PREFIX_BYTES + data.byteLength);
  writePrefix(out, 0, flags, data.byteLength);
  out.set(data, ENVELOPE_PREFIX_BYTES);
  return out;
}

/** Writes the 5-byte prefix at `offset` of `target`. */
export function writePrefix(target: Uint8Array, offset: number, flags: number, length: number): void {
  target[offset] = flags;
  target[offset + 1] = (length >>> 24) & 0xff;
  target[offset + 2] = (length >>> 16) & 0xff;
  target[offset + 3] = (length >>> 8) & 0xff;
  target[offset + 4] = length & 0xff;
}

/** The error {@link EnvelopeReader.next} reports for an envelope larger than allowed. */
export interface EnvelopeTooLarge {
  readonly kind: "too-large";
  /** Length the prefix announced. */
  readonly length: number;
  /** The limit. */
  readonly maxBytes: number;
}

/**
 * Splits a byte stream into envelopes. Push chunks with {@link push}, then
 * call {@link next} until it returns `undefined`; {@link pending} tells
 * whether a partial envelope is buffered (an error once the body ended).
 */
export class EnvelopeReader {
  readonly #maxBytes: number;
  /** Chunks not consumed yet; `#head` is the read offset into the first. */
  #chunks: Uint8Array[] = [];
  #head = 0;
  #buffered = 0;

  /** @param maxBytes largest envelope payload accepted (default: no limit below 4 GiB). */
  constructor(maxBytes: number = 0xffff_ffff) {
    this.#maxBytes = maxBytes;
  }

  /** Bytes buffered that do not form a whole envelope yet. */
  get pending(): number {
    return this.#buffered;
  }

  /** Adds a chunk of the body. */
  push(chunk: Uint8Array): void {
    if (chunk.byteLength === 0) return;
    this.#chunks.push(chunk);
    this.#buffered += chunk.byteLength;
  }

  /** The next whole envelope, `undefined` when more bytes are needed, or an error value. */
  next(): Envelope | EnvelopeTooLarge | undefined {
    if (this.#buffered < ENVELOPE_PREFIX_BYTES) return undefined;
    const first = this.#chunks[0]!;
    const head = this.#head;
    let flags: number;
    let length: number;
    if (first.byteLength - head >= ENVELOPE_PREFIX_BYTES) {
      flags = first[head]!;
      length = ((first[head + 1]! << 24) | (first[head + 2]! << 16) | (first[head + 3]! << 8) | first[head + 4]!) >>> 0;
    } else {
      const p = this.#peek(ENVELOPE_PREFIX_BYTES);
      flags = p[0]!;
      length = ((p[1]! << 24) | (p[2]! << 16) | (p[3]! << 8) | p[4]!) >>> 0;
    }
    if (length > this.#maxBytes) return { kind: "too-large", length, maxBytes: this.#maxBytes };
    const total = ENVELOPE_PREFIX_BYTES + length;
    if (this.#buffered < total) return undefined;
    // The common case: the whole envelope sits in the first chunk; no copy.
    if (first.byteLength - head >= total) {
      const data = first.subarray(head + ENVELOPE_PREFIX_BYTES, head + total);
      this.#consume(total);
      return { flags, data };
    }
    const all = this.#take(total);
    return { flags, data: all.subarray(ENVELOPE_PREFIX_BYTES) };
  }

  /** The first `n` buffered bytes, copied (only used for a prefix split across chunks). */
  #peek(n: number): Uint8Array {
    const out = new Uint8Array(n);
    let got = 0;
    let offset = this.#head;
    for (const c of this.#chunks) {
      const part = c.subarray(offset, offset + (n - got));
      out.set(part, got);
      got += part.byteLength;
      offset = 0;
      if (got === n) break;
    }
    return out;
  }

  /** Removes and returns the first `n` buffered bytes as one new buffer. */
  #take(n: number): Uint8Array {
    const out = new Uint8Array(n);
    let got = 0;
    while (got < n) {
      const c = this.#chunks[0]!;
      const avail = c.byteLength - this.#head;
      const want = n - got;
      if (avail <= want) {
        out.set(this.#head === 0 ? c : c.subarray(this.#head), got);
        got += avail;
        this.#chunks.shift();
        this.#head = 0;
      } else {
        out.set(c.subarray(this.#head, this.#head + want), got);
        got += want;
        this.#head += want;
      }
    }
    this.#buffered -= n;
    return out;
  }

  #consume(n: number): void {
    this.#buffered -= n;
    const first = this.#chunks[0]!;
    if (this.#head + n === first.byteLength) {
      this.#chunks.shift();
      this.#head = 0;
    } else {
      this.#head += n;
    }
  }
}
