/**
 * What unary and streaming calls share: one HTTP/2 stream on a
 * {@link Connection}, the {@link ResponseReader} fed with its events, the
 * deadline timer, the caller's abort signal, and the end of the call
 * (settled, and its stream closed) reported to the endpoint.
 *
 * Why a stream that closed before its response was complete failed decides
 * whether the attempt may be retried elsewhere: refused (REFUSED_STREAM, a
 * NO_ERROR reset before any response on a live connection, a stream id
 * above the GOAWAY's last one) means the request was never processed.
 *
 * @module
 */
import { Code, ConnectError } from "@connectrpc/connect";
import type { ClientStream } from "../../runtime/http2-client.ts";
import type { Connection, StreamHolder } from "../channel/connection.ts";
import { isConnectionLoss } from "../channel/errors.ts";
import type { OpenStream } from "../open-streams.ts";
import type { RawHeaders } from "../protocol/headers.ts";
import { codeFromH2Reset, H2, h2CodeName } from "../protocol/http-status.ts";
import { ResponseReader, type ResponseSink } from "../protocol/response-reader.ts";
import type { Attempt } from "./attempt.ts";
import type { CallConfig, MethodPlan } from "./call-config.ts";

/** Told when a call is over (settled and its stream closed). */
export interface CallOwner {
  callEnded(): void;
}

/** What a call needs from its endpoint. */
export interface CallTarget {
  readonly config: CallConfig;
  readonly owner: CallOwner;
  /** Runs once when the call is over, after `owner.callEnded()`. */
  readonly onFinal?: (() => void) | undefined;
  /** An internal stream (the health watch): see `Connection.open`. */
  readonly background?: boolean | undefined;
}

function onDeadline(call: CallBase, timeoutMs: number): void {
  call.fail(new ConnectError(`the operation timed out after ${timeoutMs} ms`, Code.DeadlineExceeded));
}

/** See the module doc. Subclasses implement the {@link ResponseSink} half. */
export abstract class CallBase implements StreamHolder, ResponseSink {
  protected readonly target: CallTarget;
  protected readonly plan: MethodPlan;
  protected readonly att: Attempt;
  protected readonly reader: ResponseReader;
  protected stream: ClientStream | undefined;
  protected conn: Connection | undefined;
  #entry: OpenStream<StreamHolder> | undefined;
  #signal: AbortSignal | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** When the deadline passes (`performance.now()` time), if the call has one. */
  #deadlineAt: number | undefined;
  #timeoutMs = 0;
  #aborted = false;
  #streamError: unknown;
  /** The call's promise settled (or its response ended, for streams). */
  protected settled = false;
  #streamClosed = true;
  #ended = false;

  constructor(target: CallTarget, plan: MethodPlan, att: Attempt) {
    this.target = target;
    this.plan = plan;
    this.att = att;
    this.reader = new ResponseReader(plan.reader, this);
  }

  /**
   * Opens the stream with `headers`; watches `signal` and the deadline.
   * Returns false (the call failed, nothing was sent) when the connection
   * takes no new streams.
   */
  protected open(conn: Connection, headers: RawHeaders, signal: AbortSignal | undefined, timeoutMs: number | undefined): boolean {
    if (signal?.aborted === true) {
      this.fail(ConnectError.from(signal.reason, Code.Canceled));
      return false;
    }
    this.conn = conn;
    try {
      const { stream, entry } = conn.open(headers as Record<string, string>, this, false, this.target.background === true);
      this.stream = stream;
      this.#entry = entry;
      this.#streamClosed = false;
    } catch (e) {
      this.att.notSent = true;
      this.fail(ConnectError.from(e, Code.Unavailable));
      return false;
    }
    if (signal !== undefined) {
      this.#signal = signal;
      signal.addEventListener("abort", this);
    }
    // The deadline is a real timer (as connect's `timeoutMs`): the injected
    // clock drives the transport's own waits, backoff and probes.
    if (timeoutMs !== undefined) {
      this.#timer = setTimeout(onDeadline, timeoutMs, this, timeoutMs);
      this.#deadlineAt = performance.now() + timeoutMs;
      this.#timeoutMs = timeoutMs;
    }
    return true;
  }

  /** The caller's signal aborted (EventListener object: no closure per call). */
  handleEvent(): void {
    this.#aborted = true;
    this.fail(ConnectError.from(this.#signal?.reason, Code.Canceled));
  }

  /** Ends the call with `error` (if it has not ended) and resets its stream. */
  fail(error: ConnectError): void {
    if (this.settled) return;
    this.reader.fail(error);
  }

  /** Settles the call; subclasses resolve or reject their promise. */
  protected abstract settle(error: ConnectError | undefined, trailers: RawHeaders | Headers | undefined): void;

  /** Called by subclasses once the call settled: stops timers and listeners, cancels an unfinished stream. */
  protected cleanup(error: ConnectError | undefined): void {
    this.settled = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#signal?.removeEventListener("abort", this);
    this.#signal = undefined;
    // RST_STREAM CANCEL tells the server to stop (gRPC: cancellation and deadlines are CANCEL).
    if (error !== undefined && !this.#streamClosed) this.stream?.close(H2.CANCEL);
    this.#maybeEnded();
  }

  #maybeEnded(): void {
    if (this.#ended || !this.settled || !this.#streamClosed) return;
    this.#ended = true;
    this.target.owner.callEnded();
    this.target.onFinal?.();
  }

  // ---- ResponseSink --------------------------------------------------------

  abstract headers(h: RawHeaders): void;
  abstract message(data: Uint8Array): void;

  /** @internal */
  end(error: ConnectError | undefined, trailers: RawHeaders | Headers | undefined): void {
    // A stream that ended without a status (reset, or closed without trailers)
    // once the deadline had passed timed out: the server's deadline can fire
    // while our timer waits behind other work on the event loop (grpc-go too
    // reports DeadlineExceeded when its context has expired).
    if (error !== undefined && error.code !== Code.DeadlineExceeded && !this.#aborted && this.#deadlineAt !== undefined &&
      !this.reader.statusFromServer && performance.now() >= this.#deadlineAt) {
      error = new ConnectError(`the operation timed out after ${this.#timeoutMs} ms`, Code.DeadlineExceeded, error.metadata, undefined, error);
    }
    this.settle(error, trailers);
  }

  // ---- StreamSink ----------------------------------------------------------

  /** @internal */
  onHeaders(h: RawHeaders): void {
    this.att.responded = true;
    if (this.conn !== undefined) this.conn.activity++;
    this.reader.onHeaders(h);
  }

  /** @internal */
  onData(chunk: Uint8Array): void {
    if (this.conn !== undefined) this.conn.activity++;
    this.reader.onData(chunk);
  }

  /** @internal */
  onTrailers(t: RawHeaders): void {
    this.reader.onTrailers(t);
  }

  /** @internal */
  onEnd(): void {
    // A body that ends before any headers is a reset (NO_ERROR before the
    // response): onClose decides what it means.
    if (!this.att.responded) return;
    this.reader.onEnd();
  }

  /** @internal */
  onError(error: unknown): void {
    this.#streamError ??= error;
  }

  /** @internal */
  onClose(rstCode: number): void {
    if (this.#streamClosed) return;
    this.#streamClosed = true;
    if (this.#entry !== undefined) this.conn?.release(this.#entry, this.target.background === true);
    if (!this.settled) this.reader.fail(this.#closedEarly(rstCode));
    this.#maybeEnded();
  }

  /** @internal The connection closed without closing this stream. */
  orphaned(error: ConnectError): void {
    this.fail(error);
    this.onClose(0);
  }

  /** Why a stream that closed before its response was complete failed (see the module doc). */
  #closedEarly(rstCode: number): ConnectError {
    const conn = this.conn!;
    const address = conn.address;
    const id = this.stream?.id;
    const lost = conn.broken;
    if (rstCode === H2.REFUSED_STREAM || (id !== undefined && id > conn.lastStreamId) || (rstCode === H2.NO_ERROR && !this.att.responded && !lost && this.#streamError === undefined)) {
      this.att.notSent = true;
      return new ConnectError(`endpoint ${address} refused the stream (${h2CodeName(rstCode)})`, Code.Unavailable);
    }
    if (lost || isConnectionLoss(this.#streamError)) {
      return new ConnectError(`connection to ${address} closed with the call in flight`, Code.Unavailable, undefined, undefined, this.#streamError ?? conn.error);
    }
    if (rstCode !== H2.NO_ERROR) {
      return new ConnectError(`stream closed with error code ${h2CodeName(rstCode)}`, codeFromH2Reset(rstCode), undefined, undefined, this.#streamError);
    }
    return new ConnectError(`stream to ${address} closed before the response was complete`, Code.Unavailable, undefined, undefined, this.#streamError);
  }
}
