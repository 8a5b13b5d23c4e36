/**
 * The HTTP/2 client half of `node:http2` (Node, Bun and Deno all provide
 * it), reduced to what kratos-kube's call path needs: dial a connection,
 * open a stream whose events go to a {@link StreamSink}, and a few session
 * operations. The protocol logic lives in `src/connect/`; this file only
 * names the runtime's module.
 *
 * Stream events reach the sink through listeners shared by every stream
 * (the sink hangs off the stream object), so opening a stream allocates no
 * closures; they reach it in wire order on every runtime (see
 * {@link StreamState}: the one place that works around a runtime's event
 * order).
 *
 * @module
 */
import * as http2 from "node:http2";
import { detectRuntime } from "./detect.ts";

/** Options for `node:http2` `connect()` (TLS: `ca`, `cert`, `key`, `servername`, …; `settings`, …). */
export type Http2ConnectOptions = http2.SecureClientSessionOptions;

/** A header block to send (lower-case names). */
export type OutgoingHeaderBlock = Record<string, string | string[]>;
/** A header block received. */
export type IncomingHeaderBlock = Readonly<Record<string, string | string[] | number | undefined>>;

/** Receives the events of one stream, in order; `onClose` is always last. */
export interface StreamSink {
  /** Response headers. */
  onHeaders(headers: IncomingHeaderBlock): void;
  /** A chunk of the response body. */
  onData(chunk: Uint8Array): void;
  /** Trailers. */
  onTrailers(trailers: IncomingHeaderBlock): void;
  /** The response body ended (END_STREAM). */
  onEnd(): void;
  /** The stream failed (reset, connection lost); `onClose` follows. */
  onError(error: unknown): void;
  /** The stream is gone; `rstCode` is the RST_STREAM code (0 when it ended normally). */
  onClose(rstCode: number): void;
}

/** An open stream. */
export interface ClientStream {
  /** The HTTP/2 stream id (undefined until the runtime assigned one). */
  readonly id: number | undefined;
  /** Writes body bytes; `done` runs once they were handed to the connection (or failed). */
  write(data: Uint8Array, done?: (error?: Error | null) => void): boolean;
  /** Ends the request body, optionally with a last chunk. */
  end(data?: Uint8Array): void;
  /** Resets the stream with an HTTP/2 error code (RST_STREAM). */
  close(code?: number): void;
  /** Stops / restarts reading the response body (flow control). */
  pause(): unknown;
  resume(): unknown;
  readonly destroyed: boolean;
  readonly rstCode: number | undefined;
}

/** What a connection reports, once each except `onGoaway`. */
export interface ConnectionEvents {
  /** The connection is up (TCP and TLS done, HTTP/2 preface sent). */
  onConnect(): void;
  /** The peer's SETTINGS: its limit on concurrent streams. */
  onSettings(maxConcurrentStreams: number | undefined): void;
  /** GOAWAY from the peer: streams above `lastStreamId` were not processed. */
  onGoaway(errorCode: number, lastStreamId: number): void;
  /** A connection error (refused, reset, TLS failure, …); `onClose` follows. */
  onError(error: unknown): void;
  /** The connection is closed. */
  onClose(): void;
}

/** An HTTP/2 client connection. */
export interface ClientConnection {
  readonly closed: boolean;
  readonly destroyed: boolean;
  /** Sends PING; `done` gets an error or the round trip. False when it could not be sent. */
  ping(done: (error: Error | null, durationMs: number) => void): boolean;
  /** Graceful close: GOAWAY, streams finish. */
  close(): void;
  /** Closes at once; open streams fail. */
  destroy(error?: Error, code?: number): void;
  /** Keeps / stops keeping the process alive while the connection is open. */
  ref(): void;
  unref(): void;
}

/** TLS and extra `node:http2` options of a connection. */
export interface DialOptions {
  /** `https:` (TLS, ALPN h2) or `http:` (h2c). */
  readonly secure: boolean;
  /** `host:port` (IPv6 hosts in brackets). */
  readonly address: string;
  /** Extra `http2.connect()` options (TLS: `ca`, `cert`, `key`, `servername`, `rejectUnauthorized`). */
  readonly options?: Readonly<Record<string, unknown>> | undefined;
}

const kState = Symbol("kratos-kube.stream");

/**
 * Per stream: its sink, and what the event-order workarounds hold back.
 * Deno 2.9's node:http2 client emits the first 'data' of a response before
 * its 'response' event, and 'trailers' before the last 'data'; Node 20/24
 * and Bun 1.4 emit them in wire order. So body chunks wait for the headers,
 * and trailers for the end of the body (or the close, when no 'end' comes).
 */
interface StreamState {
  sink: StreamSink | undefined;
  responded: boolean;
  early: Uint8Array[] | undefined;
  trailers: IncomingHeaderBlock | undefined;
}
type StateHolder = { [kState]?: StreamState };

const DENO_DEFERS = detectRuntime() === "deno";

/**
 * Deno 2.9: calls that close or reset (session `close`/`destroy`, stream
 * `close`) run on the next macrotask. Made from inside one of Deno's
 * node:http2 event listeners, which run inside nghttp2's callbacks, they
 * re-enter nghttp2 and can abort the process (`find_stream_on_goaway_func`
 * assertion); deferred, they run after nghttp2 returned.
 */
function deferCalls(target: object, names: readonly string[]): void {
  const o = target as Record<string, (...args: unknown[]) => unknown>;
  for (const name of names) {
    const call = o[name]!.bind(target);
    o[name] = (...args: unknown[]) => {
      setTimeout(() => call(...args), 0);
    };
  }
}

/** Dials a connection; its events go to `events`. Never throws: a bad address arrives as `onError`. */
export function dialHttp2(o: DialOptions, events: ConnectionEvents): ClientConnection {
  const authority = `${o.secure ? "https" : "http"}://${o.address}`;
  let session: http2.ClientHttp2Session;
  try {
    session = http2.connect(authority, { ...(o.options ?? {}) });
  } catch (e) {
    return failedConnection(e, events);
  }
  session.once("connect", () => {
    events.onConnect();
  });
  session.on("remoteSettings", (s: http2.Settings) => events.onSettings(s.maxConcurrentStreams));
  session.on("goaway", (code: number, last: number) => {
    // Deno 2.9 runs this listener inside nghttp2's frame callback: closing
    // the session or cancelling streams from there re-enters nghttp2 and can
    // abort the process (`find_stream_on_goaway_func` assertion). So on Deno
    // the reaction waits for the next macrotask; Node and Bun queue such
    // calls themselves.
    if (DENO_DEFERS) setTimeout(() => events.onGoaway(code, last), 0);
    else events.onGoaway(code, last);
  });
  // Without an 'error' listener a connection error would crash the process.
  session.on("error", (e: unknown) => events.onError(e));
  session.once("close", () => events.onClose());
  if (DENO_DEFERS) deferCalls(session, ["close", "destroy"]);
  return session as unknown as ClientConnection;
}

/** A connection that failed before it existed (e.g. an invalid authority): reports the error and closes. */
function failedConnection(error: unknown, events: ConnectionEvents): ClientConnection {
  queueMicrotask(() => {
    events.onError(error);
    events.onClose();
  });
  return { closed: true, destroyed: true, ping: () => false, close() {}, destroy() {}, ref() {}, unref() {} };
}

/**
 * Opens a stream on `conn` with `headers`; its events go to `sink`. With
 * `endStream` the request has no body. Throws when the connection cannot
 * take streams any more (closed, or GOAWAY received): nothing was sent then.
 */
export function openStream(conn: ClientConnection, headers: OutgoingHeaderBlock, sink: StreamSink, endStream = false): ClientStream {
  const stream = (conn as unknown as http2.ClientHttp2Session).request(headers, { endStream });
  (stream as unknown as StateHolder)[kState] = { sink, responded: false, early: undefined, trailers: undefined };
  stream.on("response", onResponse);
  stream.on("data", onData);
  stream.on("trailers", onTrailers);
  stream.on("end", onEnd);
  stream.on("error", onError);
  stream.on("close", onClose);
  if (DENO_DEFERS) deferCalls(stream, ["close"]);
  return stream as unknown as ClientStream;
}

function stateOf(self: unknown): StreamState | undefined {
  return (self as StateHolder)[kState];
}
function onResponse(this: unknown, headers: IncomingHeaderBlock): void {
  const st = stateOf(this);
  if (st?.sink === undefined) return;
  st.responded = true;
  st.sink.onHeaders(headers);
  const early = st.early;
  if (early === undefined) return;
  st.early = undefined;
  for (const c of early) st.sink?.onData(c);
}
function onData(this: unknown, chunk: Uint8Array): void {
  const st = stateOf(this);
  if (st?.sink === undefined) return;
  if (st.responded) st.sink.onData(chunk);
  else (st.early ??= []).push(chunk);
}
function onTrailers(this: unknown, trailers: IncomingHeaderBlock): void {
  const st = stateOf(this);
  if (st !== undefined) st.trailers = trailers;
}
function onEnd(this: unknown): void {
  const st = stateOf(this);
  if (st?.sink === undefined) return;
  const t = st.trailers;
  st.trailers = undefined;
  if (t !== undefined) st.sink.onTrailers(t);
  st.sink.onEnd();
}
function onError(this: unknown, error: unknown): void {
  stateOf(this)?.sink?.onError(error);
}
function onClose(this: unknown): void {
  const st = stateOf(this);
  const sink = st?.sink;
  if (st === undefined || sink === undefined) return;
  const rstCode = (this as { rstCode?: number }).rstCode ?? 0;
  // A body that never reported its end still delivered its trailers.
  if (st.trailers !== undefined && rstCode === 0) onEnd.call(this);
  st.sink = undefined;
  st.early = undefined;
  sink.onClose(rstCode);
}

/** The `code` property of a runtime error (`ECONNREFUSED`, `ERR_HTTP2_GOAWAY_SESSION`, …). */
export function errorCode(error: unknown): string | undefined {
  for (let e = error, depth = 0; typeof e === "object" && e !== null && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string") return code;
  }
  return undefined;
}
