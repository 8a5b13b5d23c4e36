/**
 * A streaming call (server, client or bidi) on one HTTP/2 stream. The
 * promise resolves with the response once its headers arrived; request
 * messages are pulled from the caller's iterable and written as they come
 * (waiting for the connection when it pushes back); response messages are
 * parsed as they arrive and queued for the reader, pausing the stream
 * (HTTP/2 flow control) while the queue is long.
 *
 * @module
 */
import { Code, ConnectError } from "@connectrpc/connect";
import type { DescMethod, DescService } from "@bufbuild/protobuf";
import type { Connection } from "../channel/connection.ts";
import { encodeEnvelope, FLAG_COMPRESSED } from "../protocol/envelope.ts";
import type { RawHeaders } from "../protocol/headers.ts";
import type { Attempt } from "./attempt.ts";
import { CallBase, type CallTarget } from "./call-base.ts";
import type { MethodPlan } from "./call-config.ts";
import { asHeaders, type HeaderSource } from "./response.ts";

/** The arguments of one streaming attempt. */
export interface StreamArgs {
  readonly signal: AbortSignal | undefined;
  readonly timeoutMs: number | undefined;
  readonly header: HeadersInit | undefined;
  readonly input: AsyncIterable<unknown>;
}

/** A streaming response as connect's `StreamResponse`. */
export interface StreamingResponse {
  readonly stream: true;
  readonly service: DescService;
  readonly method: DescMethod;
  readonly header: Headers;
  readonly trailer: Headers;
  readonly message: AsyncIterable<unknown>;
}

/** Response messages queued before the stream is paused. */
const HIGH_WATER = 64;

/** Runs a streaming call on `conn`; resolves once the response headers arrived. */
export function streamCall(target: CallTarget, conn: Connection, plan: MethodPlan, att: Attempt, args: StreamArgs): Promise<StreamingResponse> {
  return new Promise<StreamingResponse>((resolve, reject) => {
    new StreamCall(target, plan, att, resolve, reject).start(conn, args);
  });
}

class StreamCall extends CallBase implements AsyncIterator<unknown> {
  #resolve: ((r: StreamingResponse) => void) | undefined;
  #reject: ((e: ConnectError) => void) | undefined;
  #header: HeaderSource;
  #trailer = new Headers();
  #queue: unknown[] = [];
  #head = 0;
  #paused = false;
  #final: ConnectError | "ok" | undefined;
  #waiter: { resolve: (r: IteratorResult<unknown>) => void; reject: (e: unknown) => void } | undefined;

  constructor(target: CallTarget, plan: MethodPlan, att: Attempt, resolve: (r: StreamingResponse) => void, reject: (e: ConnectError) => void) {
    super(target, plan, att);
    this.#resolve = resolve;
    this.#reject = reject;
  }

  start(conn: Connection, args: StreamArgs): void {
    const headers = this.target.config.headers(this.plan, args.timeoutMs, args.header);
    if (!this.open(conn, headers, args.signal, args.timeoutMs)) return;
    void this.#pump(args.input);
  }

  /** Writes the request messages, then ends the request body. */
  async #pump(input: AsyncIterable<unknown>): Promise<void> {
    const config = this.target.config;
    const it = input[Symbol.asyncIterator]();
    let done = false;
    try {
      for (;;) {
        const r = await it.next();
        if (r.done === true) {
          done = true;
          break;
        }
        if (this.settled || this.stream === undefined || this.stream.destroyed) break;
        const { data, compressed } = config.encode(this.plan, r.value);
        const frame = encodeEnvelope(compressed ? FLAG_COMPRESSED : 0, data);
        const stream = this.stream;
        let failed = false;
        await new Promise<void>((resolve) => {
          const flushed = stream.write(frame, (e) => {
            if (e !== null && e !== undefined) failed = true;
            resolve();
          });
          // Wait for the connection only when it pushes back.
          if (flushed) resolve();
        });
        if (failed) break;
      }
      if (done && !this.settled && this.stream !== undefined && !this.stream.destroyed) this.stream.end();
    } catch (e) {
      // The caller's iterable failed: so does the call.
      this.fail(ConnectError.from(e, Code.Internal));
    } finally {
      if (!done) void Promise.resolve(it.return?.()).catch(() => {});
    }
  }

  // ---- ResponseSink ----------------------------------------------------------

  headers(h: RawHeaders): void {
    this.#header = h;
    const resolve = this.#resolve;
    this.#resolve = this.#reject = undefined;
    resolve?.(this.#response());
  }

  message(data: Uint8Array): void {
    let m: unknown;
    try {
      m = this.plan.codec.parse(data);
    } catch (e) {
      return this.fail(ConnectError.from(e));
    }
    const w = this.#waiter;
    if (w !== undefined) {
      this.#waiter = undefined;
      w.resolve({ done: false, value: m });
      return;
    }
    this.#queue.push(m);
    if (!this.#paused && this.#queue.length - this.#head >= HIGH_WATER) {
      this.#paused = true;
      this.stream?.pause();
    }
  }

  protected settle(error: ConnectError | undefined, trailers: RawHeaders | Headers | undefined): void {
    if (this.settled) return;
    this.cleanup(error);
    if (trailers !== undefined) {
      const t = asHeaders(trailers);
      t.forEach((v, k) => this.#trailer.append(k, v));
    }
    this.#final = error ?? "ok";
    const reject = this.#reject;
    this.#resolve = this.#reject = undefined;
    if (reject !== undefined) {
      // Failed before its headers: the call's promise rejects.
      reject(error ?? new ConnectError("protocol error: the response ended before its headers", Code.Internal));
      return;
    }
    const w = this.#waiter;
    if (w === undefined) return;
    this.#waiter = undefined;
    if (error !== undefined) w.reject(error);
    else w.resolve({ done: true, value: undefined });
  }

  // ---- the response messages (one iterator per call) --------------------------

  #response(): StreamingResponse {
    const self = this;
    const header = this.#header;
    let headers: Headers | undefined;
    return {
      stream: true,
      service: this.plan.method.parent,
      method: this.plan.method,
      get header() {
        return (headers ??= asHeaders(header));
      },
      trailer: this.#trailer,
      message: { [Symbol.asyncIterator]: () => self },
    };
  }

  next(): Promise<IteratorResult<unknown>> {
    if (this.#head < this.#queue.length) {
      const value = this.#queue[this.#head];
      this.#queue[this.#head++] = undefined;
      if (this.#head === this.#queue.length) {
        this.#queue.length = 0;
        this.#head = 0;
      }
      if (this.#paused && this.#queue.length - this.#head < HIGH_WATER / 2) {
        this.#paused = false;
        this.stream?.resume();
      }
      return Promise.resolve({ done: false, value });
    }
    const f = this.#final;
    if (f === "ok") return Promise.resolve({ done: true, value: undefined });
    if (f !== undefined) return Promise.reject(f);
    return new Promise((resolve, reject) => {
      this.#waiter = { resolve, reject };
    });
  }

  return(): Promise<IteratorResult<unknown>> {
    // The reader stopped: cancel what is still running.
    if (this.#final === undefined) this.fail(new ConnectError("the response iterator was closed", Code.Canceled));
    this.#queue.length = 0;
    this.#head = 0;
    return Promise.resolve({ done: true, value: undefined });
  }
}
