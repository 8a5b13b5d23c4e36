/**
 * One HTTP/2 connection of an endpoint: dialing with a deadline, the peer's
 * stream limit, GOAWAY, the streams open on it and whether the process may
 * exit while it is idle. Calls open their streams through {@link open} and
 * report their end with {@link release}. Background streams (the health
 * watch) neither keep the process alive nor hold a retiring connection open:
 * they are cancelled when it retires.
 *
 * States: `connecting` → `ready` → `retiring` (GOAWAY received, or replaced
 * because of its age: no new streams, closes when its last stream ends) →
 * `closed`.
 *
 * @module
 */
import { Code, ConnectError } from "@connectrpc/connect";
import {
  dialHttp2,
  openStream,
  type ClientConnection,
  type ClientStream,
  type ConnectionEvents,
  type DialOptions,
  type OutgoingHeaderBlock,
  type StreamSink,
} from "../../runtime/http2-client.ts";
import type { TransportClock, TransportTimer } from "../transport-clock.ts";
import { OpenStreams, type OpenStream } from "../open-streams.ts";
import { connectionError } from "./errors.ts";
import { Keepalive, type KeepaliveOptions } from "./keepalive.ts";

/** Connection states (see the module doc). */
export type ConnectionState = "connecting" | "ready" | "retiring" | "closed";

/** What a connection tells its endpoint. */
export interface ConnectionOwner {
  /** The connection is ready. */
  connected(c: Connection): void;
  /** The connection stopped taking new streams (GOAWAY) or closed; `error` says why. */
  lost(c: Connection, error: ConnectError): void;
  /** The connection closed. */
  closed(c: Connection): void;
}

/** A call's hold on a stream of a connection (see {@link Connection.open}). */
export interface StreamHolder extends StreamSink {
  /** Fails the call: its connection closed without closing its stream. */
  orphaned(error: ConnectError): void;
}

/** How to dial and keep a connection. */
export interface ConnectionOptions {
  readonly dial: DialOptions;
  readonly clock: TransportClock;
  /** Bound on dialing. */
  readonly connectTimeoutMs: number;
  readonly keepalive: KeepaliveOptions | undefined;
}

/** One HTTP/2 connection; see the module doc. */
export class Connection implements ConnectionEvents {
  readonly address: string;
  readonly createdAt: number;
  /** Closed by the keepalive after the idle timeout (not a failure). */
  idleClosed = false;
  #o: ConnectionOptions;
  #keepalive: Keepalive | undefined;
  #state: ConnectionState = "connecting";
  #conn: ClientConnection;
  #owner: ConnectionOwner;
  #timer: TransportTimer | undefined;
  #ready: { resolve: (c: Connection) => void; reject: (e: ConnectError) => void }[] = [];
  #error: ConnectError | undefined;
  #open = new OpenStreams<StreamHolder>();
  /** Background streams (see the module doc). */
  #bg = new OpenStreams<StreamHolder>();
  /** The peer's SETTINGS_MAX_CONCURRENT_STREAMS. */
  maxStreams: number = Number.POSITIVE_INFINITY;
  /** Streams above this id were not processed (GOAWAY). */
  lastStreamId: number = Number.POSITIVE_INFINITY;
  /** Response headers and body chunks received on any stream: proof the peer is alive. */
  activity = 0;

  /** Dials; fails the dial after `connectTimeoutMs`. */
  constructor(o: ConnectionOptions, owner: ConnectionOwner) {
    this.#o = o;
    this.address = o.dial.address;
    this.createdAt = o.clock.now();
    this.#owner = owner;
    const ms = o.connectTimeoutMs;
    this.#timer = o.clock.setTimeout(() => {
      this.#timer = undefined;
      this.destroy(new ConnectError(`connecting to ${this.address} timed out after ${ms} ms`, Code.Unavailable));
    }, ms);
    this.#conn = dialHttp2(o.dial, this);
  }

  /** The current state. */
  get state(): ConnectionState {
    return this.#state;
  }

  /** Streams open on this connection. */
  get streams(): number {
    return this.#open.size;
  }

  /** Ready and below the peer's stream limit. */
  get available(): boolean {
    return this.#state === "ready" && this.#open.size + this.#bg.size < this.maxStreams;
  }

  /** The underlying connection is closed or destroyed (it may not have reported it yet). */
  get broken(): boolean {
    return this.#state === "closed" || this.#conn.destroyed || this.#conn.closed;
  }

  /** Why it closed or failed to connect. */
  get error(): ConnectError | undefined {
    return this.#error;
  }

  /** Resolves once ready; rejects when the dial fails or times out. */
  whenReady(): Promise<Connection> {
    if (this.#state === "ready") return Promise.resolve(this);
    if (this.#state !== "connecting") {
      return Promise.reject(this.#error ?? new ConnectError(`connection to ${this.address} is closed`, Code.Unavailable));
    }
    return new Promise((resolve, reject) => this.#ready.push({ resolve, reject }));
  }

  /**
   * Opens a stream for `holder`. Throws (nothing was sent) when the
   * connection no longer takes streams. The holder must call
   * {@link release} with the returned entry when its stream closed.
   * A `background` stream keeps the connection from its idle timeout only.
   */
  open(headers: OutgoingHeaderBlock, holder: StreamHolder, endStream: boolean, background = false): { stream: ClientStream; entry: OpenStream<StreamHolder> } {
    if (this.#state !== "ready") throw this.#error ?? new ConnectError(`connection to ${this.address} takes no new streams`, Code.Unavailable);
    const stream = openStream(this.#conn, headers, holder, endStream);
    if (background) {
      const entry = this.#bg.add(holder, noop);
      this.#keepalive?.streams(1);
      return { stream, entry };
    }
    if (this.#open.size === 0) this.#conn.ref();
    const entry = this.#open.add(holder, noop);
    if (this.#open.size === 1) this.#keepalive?.streams(1);
    return { stream, entry };
  }

  /** A stream of this connection closed (`background` as it was opened). */
  release(entry: OpenStream<StreamHolder>, background = false): void {
    if (background) {
      if (!this.#bg.remove(entry) || this.#open.size > 0) return;
    } else {
      if (!this.#open.remove(entry)) return;
      if (this.#open.size > 0) return;
      this.#conn.unref();
    }
    this.#keepalive?.streams(this.#bg.size);
    if (this.#state === "retiring" && !this.#conn.closed) this.#conn.close();
  }

  /** Stops new streams; closes once the open ones ended. */
  retire(): void {
    if (this.#state !== "ready" && this.#state !== "connecting") return;
    this.#cancelBackground();
    this.#state = "retiring";
    if (this.#open.size === 0) this.#conn.close();
  }

  /** Cancels the background streams (their release closes a retiring connection without other streams). */
  #cancelBackground(): void {
    if (this.#bg.size === 0) return;
    const error = new ConnectError(`connection to ${this.address} takes no new streams`, Code.Unavailable);
    for (const e of this.#bg.entries()) e.stream.orphaned(error);
  }

  /** Sends PING; resolves true when acknowledged within `timeoutMs`. */
  ping(timeoutMs: number): Promise<boolean> {
    if (this.#state !== "ready" && this.#state !== "retiring") return Promise.resolve(false);
    return new Promise<boolean>((resolve) => {
      const timer = this.#o.clock.setTimeout(() => resolve(false), timeoutMs);
      let sent = false;
      try {
        sent = this.#conn.ping((err) => {
          timer.cancel();
          resolve(err === null || err === undefined);
        });
      } catch {
        sent = false;
      }
      if (!sent) {
        timer.cancel();
        resolve(false);
      }
    });
  }

  /** Closes now: open streams fail with `reason` (default Canceled). */
  destroy(reason?: ConnectError): void {
    if (this.#state === "closed") return;
    const error = reason ?? new ConnectError(`connection to ${this.address} closed`, Code.Canceled);
    this.#error ??= error;
    // Every runtime then reports the same error for the calls in flight.
    for (const e of this.#open.entries()) e.stream.orphaned(error);
    for (const e of this.#bg.entries()) e.stream.orphaned(error);
    this.#conn.destroy();
    this.#closed(error);
  }

  // ---- ConnectionEvents ----------------------------------------------------

  /** @internal */
  onConnect(): void {
    if (this.#state !== "connecting") return;
    this.#timer?.cancel();
    this.#timer = undefined;
    this.#state = "ready";
    this.#conn.unref();
    const self = this;
    this.#keepalive = new Keepalive(
      {
        get activity() {
          return self.activity;
        },
        ping: (ms) => this.ping(ms),
        unresponsive: (ms) => this.destroy(new ConnectError(`${this.address} did not acknowledge a keepalive PING within ${ms} ms`, Code.Unavailable)),
        idle: () => {
          this.idleClosed = true;
          this.retire();
        },
      },
      this.#o.clock,
      this.#o.keepalive,
    );
    for (const w of this.#ready.splice(0)) w.resolve(this);
    this.#owner.connected(this);
  }

  /** @internal */
  onSettings(maxConcurrentStreams: number | undefined): void {
    if (maxConcurrentStreams !== undefined && maxConcurrentStreams >= 0) this.maxStreams = maxConcurrentStreams;
  }

  /** @internal */
  onGoaway(errorCode: number, lastStreamId: number): void {
    this.lastStreamId = Math.min(this.lastStreamId, lastStreamId);
    const error = new ConnectError(`endpoint ${this.address} sent GOAWAY (code ${errorCode})`, Code.Unavailable);
    this.#error ??= error;
    // Streams above lastStreamId were refused: their calls see a reset (or the close) and retry.
    if (this.#state === "ready" || this.#state === "connecting") {
      // Not inside the GOAWAY callback: Deno's nghttp2 asserts when a stream closes during it.
      if (this.#bg.size > 0) setTimeout(() => this.#cancelBackground(), 0);
      this.#state = "retiring";
      this.#owner.lost(this, error);
      if (this.#open.size === 0) this.#conn.close();
    }
  }

  /** @internal */
  onError(error: unknown): void {
    this.#error ??= connectionError(this.address, error);
  }

  /** @internal */
  onClose(): void {
    const error = this.#error ?? new ConnectError(`connection to ${this.address} closed`, Code.Unavailable);
    // Deno 2.9's node:http2 client may close a connection whose peer died
    // (SIGKILL) without closing or failing its streams: fail their calls here.
    // On Node and Bun every stream has closed before the connection does.
    for (const e of [...this.#open.entries(), ...this.#bg.entries()]) {
      e.stream.orphaned(new ConnectError(`connection to ${this.address} closed with the call in flight`, Code.Unavailable, undefined, undefined, error));
    }
    this.#closed(error);
  }

  #closed(error: ConnectError): void {
    if (this.#state === "closed") return;
    const wasOpen = this.#state === "ready";
    this.#state = "closed";
    this.#timer?.cancel();
    this.#timer = undefined;
    this.#keepalive?.stop();
    for (const w of this.#ready.splice(0)) w.reject(error);
    if (wasOpen) this.#owner.lost(this, error);
    this.#owner.closed(this);
  }
}

function noop(): void {}
