/**
 * The byte side of a watch response: events (JSON lines, or protobuf frames)
 * written into a `ReadableStream` the way the apiserver's encoder +
 * flush-when-idle does (apiserver `handlers/watch.go`): events written in the
 * same tick are batched, in either encoding, and with re-chunking on the
 * batch is cut at random byte boundaries (pieces of 1 byte up to ¾ of the
 * batch), so a chunk may hold several events or part of one.
 *
 * @module
 */

/** A seeded PRNG (mulberry32): deterministic re-chunking for a given seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const encoder = new TextEncoder();

/**
 * How a watch writes its events: the response's content type and one event's
 * bytes (undefined drops the event).
 */
export interface WatchEncoding {
  readonly contentType: string;
  encode(event: unknown): Uint8Array | undefined;
}

/** JSON events, one per line (`application/json`). */
export const JSON_WATCH_ENCODING: WatchEncoding = {
  contentType: "application/json",
  encode: (event) => encoder.encode(JSON.stringify(event) + "\n"),
};

/** The state of a watch output. */
export type WatchOutputState = "open" | "hung" | "ended" | "failed";

/** A watch response body being written. */
export class WatchOutput {
  readonly stream: ReadableStream<Uint8Array>;
  #controller!: ReadableStreamDefaultController<Uint8Array>;
  #pending: Uint8Array[] = [];
  #scheduled = false;
  #state: WatchOutputState = "open";
  #endAfterFlush = false;
  readonly #random: (() => number) | undefined;
  readonly #onFinish: () => void;
  readonly #encoding: WatchEncoding;
  #finished = false;

  /**
   * @param random PRNG for re-chunking, or undefined to write each batch as one chunk.
   * @param onFinish called once when the stream ends, fails or is cancelled by the reader.
   * @param encoding how events are written; JSON lines by default.
   */
  constructor(random: (() => number) | undefined, onFinish: () => void, encoding: WatchEncoding = JSON_WATCH_ENCODING) {
    this.#random = random;
    this.#onFinish = onFinish;
    this.#encoding = encoding;
    this.stream = new ReadableStream<Uint8Array>({
      start: (c) => {
        this.#controller = c;
      },
      cancel: () => {
        this.#state = "ended";
        this.#finish();
      },
    });
  }

  /** `open`, `hung` (silent but open), `ended` or `failed`. */
  get state(): WatchOutputState {
    return this.#state;
  }

  #finish(): void {
    if (this.#finished) return;
    this.#finished = true;
    this.#onFinish();
  }

  /** Queues one event; dropped silently when hung or ended. */
  send(event: unknown): void {
    if (this.#state !== "open" || this.#endAfterFlush) return;
    const bytes = this.#encoding.encode(event);
    if (bytes === undefined) return;
    this.#pending.push(bytes);
    if (!this.#scheduled) {
      this.#scheduled = true;
      queueMicrotask(() => this.#flush());
    }
  }

  #flush(): void {
    this.#scheduled = false;
    if (this.#state !== "open") {
      this.#pending = [];
      return;
    }
    const parts = this.#pending;
    this.#pending = [];
    const total = parts.reduce((n, p) => n + p.length, 0);
    if (total > 0) {
      const all = new Uint8Array(total);
      let off = 0;
      for (const p of parts) {
        all.set(p, off);
        off += p.length;
      }
      try {
        if (this.#random === undefined || total < 2) this.#controller.enqueue(all);
        else {
          // Cut at random boundaries: pieces of 1 byte up to ¾ of the batch (at most 16 KiB).
          const maxPiece = Math.max(2, Math.min(16_384, Math.ceil(total * 0.75)));
          let start = 0;
          while (start < total) {
            const size = 1 + Math.floor(this.#random() * maxPiece);
            this.#controller.enqueue(all.slice(start, Math.min(total, start + size)));
            start += size;
          }
        }
      } catch {
        // The reader went away; cancel() finishes.
      }
    }
    if (this.#endAfterFlush) this.#closeNow();
  }

  #closeNow(): void {
    this.#state = "ended";
    try {
      this.#controller.close();
    } catch {
      // already closed or cancelled
    }
    this.#finish();
  }

  /** Ends the stream cleanly after the queued events (a timeout, an ERROR event, shutdown). */
  end(): void {
    if (this.#state === "ended" || this.#state === "failed") return;
    if (this.#state === "hung") {
      this.#closeNow();
      return;
    }
    this.#endAfterFlush = true;
    if (!this.#scheduled) this.#flush();
  }

  /** Aborts the stream: the reader gets an error, a served socket is reset. */
  fail(reason: Error): void {
    if (this.#state === "ended" || this.#state === "failed") return;
    this.#state = "failed";
    this.#pending = [];
    try {
      this.#controller.error(reason);
    } catch {
      // already closed
    }
    this.#finish();
  }

  /** Stops writing anything but keeps the stream open (until `end()` or `fail()`). */
  hang(): void {
    if (this.#state === "open") {
      this.#state = "hung";
      this.#pending = [];
    }
  }
}
