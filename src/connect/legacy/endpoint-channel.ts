/**
 * One endpoint of the balancing transport: a connect-node transport over our
 * own wrapper of connect-node's `Http2SessionManager`. The wrapper adds what
 * connect-node lacks for balancing:
 * a connect timeout, ejection with gRPC connection backoff, GOAWAY and close
 * listeners, counting of in-flight streams (correct even for abandoned
 * response iterators), and proof that a failed attempt was never sent, which
 * is what makes a transparent retry on another endpoint safe.
 *
 * A channel is `connecting` while it probes the endpoint (a `grpc.health.v1`
 * Check, or a bare HTTP/2 connect when health checking is off), `ready` when
 * it may be picked, `backoff` after a failure until its next probe,
 * `draining` once discovery removed it (closing when its last stream ends),
 * and finally `closed`.
 *
 * @module
 */
import { Code, ConnectError, type ContextValues, type Interceptor, type StreamResponse, type Transport, type UnaryResponse } from "@connectrpc/connect";
import type { DescMessage, DescMethodStreaming, DescMethodUnary, MessageInitShape } from "@bufbuild/protobuf";
import {
  createConnectTransport,
  createGrpcTransport,
  createGrpcWebTransport,
  Http2SessionManager,
  type GrpcTransportOptions,
  type Http2SessionOptions,
} from "@connectrpc/connect-node";
import { Health, HealthCheckResponse_ServingStatus } from "../gen/health_pb.ts";
import { OpenStreams } from "../open-streams.ts";
import { backoffDelay, type BackoffPolicy, type TransportClock, type TransportTimer } from "../transport-clock.ts";

/** connect-node's session-manager contract (not exported by name). */
export type SessionManager = NonNullable<GrpcTransportOptions["sessionManager"]>;
type H2Stream = Awaited<ReturnType<SessionManager["request"]>>;
type H2Session = H2Stream["session"];
/** Options for `node:http2` `connect()` (TLS: `ca`, `cert`, `key`, `servername`, …). */
export type Http2ConnectOptions = NonNullable<GrpcTransportOptions["nodeOptions"]>;

/** The wire protocol spoken to endpoints. */
export type EndpointProtocol = "grpc" | "connect" | "grpc-web";

/** Builds the transport of one endpoint; it must use `sessionManager`. */
export type EndpointTransportFactory = (o: {
  baseUrl: string;
  sessionManager: SessionManager;
  protocol: EndpointProtocol;
}) => Transport;

/** connect-node's gRPC, Connect or gRPC-web transport over HTTP/2, with `interceptors` on every attempt. */
export function transportFactoryWith(interceptors: Interceptor[]): EndpointTransportFactory {
  return ({ baseUrl, sessionManager, protocol }) => {
    if (protocol === "connect") return createConnectTransport({ baseUrl, httpVersion: "2", sessionManager, interceptors });
    if (protocol === "grpc-web") return createGrpcWebTransport({ baseUrl, httpVersion: "2", sessionManager, interceptors });
    return createGrpcTransport({ baseUrl, sessionManager, interceptors });
  };
}

/** The default factory: connect-node's transport for the protocol, no interceptors. */
export const defaultTransportFactory: EndpointTransportFactory = transportFactoryWith([]);

/**
 * The request header that ties an HTTP/2 stream to its attempt when
 * interceptors (or a custom transport) may open the stream later than the
 * call; removed before sending.
 */
export const ATTEMPT_HEADER = "x-kratos-kube-attempt";

/** HTTP/2 REFUSED_STREAM (RFC 9113 §8.7: the request was not processed). */
const REFUSED_STREAM = 7;
/** HTTP/2 CANCEL (RFC 9113 §7). */
const CANCEL = 8;
/** How long a call may stay pending after its stream closed with its connection (see `#watchStranded`). */
const STRANDED_GRACE_MS = 1000;

/** Channel lifecycle states. */
export type ChannelState = "connecting" | "ready" | "backoff" | "draining" | "closed";

/** What a channel reports to its owner. */
export interface ChannelEvent {
  /** The new state. */
  readonly state: ChannelState;
  /** Why the channel left `ready` or failed its probe. */
  readonly error?: unknown;
}

/** Options of {@link EndpointChannel}. */
export interface EndpointChannelOptions {
  /** `host:port`. */
  readonly address: string;
  /** TLS (`https`) instead of h2c. */
  readonly secure: boolean;
  /** Wire protocol of the endpoint transport. */
  readonly protocol: EndpointProtocol;
  /** Builds the endpoint transport over our session manager. */
  readonly transportFactory: EndpointTransportFactory;
  /** `node:http2` connect options (TLS settings). */
  readonly http2Options: Http2ConnectOptions | undefined;
  /** connect-node keepalive settings (PING interval and timeout, idle timeout). */
  readonly sessionOptions: Http2SessionOptions | undefined;
  /** Bound on dialing and on each probe. */
  readonly connectTimeoutMs: number;
  /** Probe with grpc.health.v1 Check (`service` = this); `false` = bare connect. */
  readonly healthService: string | false;
  /** Delay before re-probing after failures. */
  readonly backoff: BackoffPolicy;
  /** Timers and time. */
  readonly clock: TransportClock;
  /** Backoff jitter. */
  readonly random: () => number;
  /** Called on every state change. */
  readonly onChange: (channel: EndpointChannel, event: ChannelEvent) => void;
  /**
   * Tie streams to attempts with {@link ATTEMPT_HEADER} instead of by the
   * synchronous call: needed when interceptors (or a custom transport) may
   * open the HTTP/2 stream after the call returned. Default false.
   */
  readonly tagAttempts?: boolean;
}

let nextAttemptId = 1;

/**
 * One try of a call on one channel. The transport creates it with
 * {@link EndpointChannel.begin} and runs the call through
 * {@link EndpointChannel.unary} or {@link EndpointChannel.stream}; the
 * session-manager wrapper fills in what happened on the wire.
 */
export interface Attempt {
  readonly id: number;
  /** Response headers arrived: the server saw the request. */
  responded: boolean;
  /** Provably never processed: safe to retry elsewhere. */
  notSent: boolean;
  /** Set once the call settled (see {@link EndpointChannel.settle}). */
  settled: boolean;
  /** Pending holds before `onFinal` runs (the call, its stream). */
  holds: number;
  /** Runs once when the call settled and its stream (if any) closed. */
  onFinal: (() => void) | undefined;
}

/** A balanced endpoint: its transport, health state and in-flight accounting. */
export class EndpointChannel {
  /** `host:port`. */
  readonly address: string;
  /** The endpoint's connect-node transport (over {@link sessionManager}). */
  readonly transport: Transport;
  /** Our wrapper, as passed to connect-node. */
  readonly sessionManager: SessionManager;
  /** Consecutive failed probes or connects. */
  failures = 0;
  /** The last connect or probe error. */
  lastError: unknown = undefined;
  #state: ChannelState = "connecting";
  #inner: Http2SessionManager;
  #o: EndpointChannelOptions;
  #leases = 0;
  #attempts = new Map<number, Attempt>();
  #sessions = new WeakSet<object>();
  #goaway = new WeakMap<object, number>();
  #timer: TransportTimer | undefined;
  #probing = false;
  #lastSession: H2Session | undefined;
  /** The open streams of {@link #lastSession} (saves a lookup per call). */
  #lastOpen: OpenStreams<H2Stream> | undefined;
  /** Per session, its streams that have not closed yet, with their finishers. */
  #open = new Map<object, OpenStreams<H2Stream>>(); // a session leaves it when it closes
  /** The attempt whose call is running synchronously (it opens its stream before returning). */
  #current: Attempt | undefined;
  #tag: boolean;
  /** Pending checks of {@link #watchStranded}. */
  #stranded = new Map<TransportTimer, () => void>();
  /** Counts response headers and body chunks read on any stream: proof the peer is alive. */
  #activity = 0;

  /** Creates the channel and starts its first probe (eager connect). */
  constructor(o: EndpointChannelOptions) {
    this.#o = o;
    this.#tag = o.tagAttempts === true;
    this.address = o.address;
    const baseUrl = `${o.secure ? "https" : "http"}://${o.address}`;
    this.#inner = new Http2SessionManager(baseUrl, o.sessionOptions ?? {}, o.http2Options);
    const inner = this.#inner;
    this.sessionManager = {
      authority: inner.authority,
      request: (method, path, headers, options) => this.#request(method, path, headers, options),
      notifyResponseByteRead: (stream) => {
        this.#activity++;
        inner.notifyResponseByteRead(stream);
      },
    };
    this.transport = o.transportFactory({ baseUrl, sessionManager: this.sessionManager, protocol: o.protocol });
    void this.#probe();
  }

  /** The current state. */
  get state(): ChannelState {
    return this.#state;
  }

  /** Calls and streams not finished yet. */
  get inflight(): number {
    return this.#leases;
  }

  /**
   * Starts an attempt; run its call with {@link unary} or {@link stream},
   * then pair with {@link settle}. `onFinal` runs once the call settled and
   * its HTTP/2 stream (if one was opened) closed.
   */
  begin(onFinal?: () => void): Attempt {
    const att: Attempt = { id: nextAttemptId++, responded: false, notSent: false, settled: false, holds: 1, onFinal };
    if (this.#tag) this.#attempts.set(att.id, att);
    this.#leases++;
    return att;
  }

  /**
   * Runs a unary call of `att` on this endpoint's transport. The caller's
   * `signal` goes to connect as it is (no linked controller of ours).
   */
  unary<I extends DescMessage, O extends DescMessage>(
    att: Attempt,
    method: DescMethodUnary<I, O>,
    signal: AbortSignal | undefined,
    timeoutMs: number | undefined,
    header: HeadersInit | undefined,
    input: MessageInitShape<I>,
    contextValues?: ContextValues,
  ): Promise<UnaryResponse<I, O>> {
    const h = this.#tag ? tagged(header, att.id) : header;
    // connect-node opens the HTTP/2 stream synchronously inside unary() when
    // no interceptor runs first: #request picks the attempt up from here.
    this.#current = att;
    try {
      return this.transport.unary(method, signal, timeoutMs, h, input, contextValues);
    } finally {
      this.#current = undefined;
    }
  }

  /** Runs a streaming call of `att` on this endpoint's transport (see {@link unary}). */
  stream<I extends DescMessage, O extends DescMessage>(
    att: Attempt,
    method: DescMethodStreaming<I, O>,
    signal: AbortSignal | undefined,
    timeoutMs: number | undefined,
    header: HeadersInit | undefined,
    input: AsyncIterable<MessageInitShape<I>>,
    contextValues?: ContextValues,
  ): Promise<StreamResponse<I, O>> {
    const h = this.#tag ? tagged(header, att.id) : header;
    this.#current = att;
    try {
      return this.transport.stream(method, signal, timeoutMs, h, input, contextValues);
    } finally {
      this.#current = undefined;
    }
  }

  /** Marks the attempt's call settled (its promise resolved or rejected). */
  settle(att: Attempt): void {
    if (att.settled) return;
    att.settled = true;
    if (this.#tag) this.#attempts.delete(att.id);
    this.#release(att);
    this.#unlease();
  }

  /**
   * Reports that an attempt hit its deadline without any response: the peer
   * may be silent, so a ready channel re-probes it (and is ejected if the
   * probe times out too).
   */
  suspect(): void {
    if (this.#state === "ready") void this.#probe();
  }

  /**
   * Stops picking this endpoint; closes it once its in-flight streams end,
   * or after `timeoutMs` (if given), failing the calls still running with
   * `Code.Unavailable`.
   */
  drain(timeoutMs?: number): void {
    if (this.#state === "closed" || this.#state === "draining") return;
    this.#timer?.cancel();
    this.#timer = undefined;
    this.#set("draining");
    if (this.#leases === 0) {
      this.close();
      return;
    }
    if (timeoutMs !== undefined && Number.isFinite(timeoutMs)) {
      this.#timer = this.#o.clock.setTimeout(() => {
        this.#timer = undefined;
        this.close(new ConnectError(`endpoint ${this.address} left discovery and its calls did not end within ${timeoutMs} ms`, Code.Unavailable));
      }, Math.max(0, timeoutMs));
    }
  }

  /** Closes the session now (open streams fail with `reason`, default `Canceled`) and cancels every timer. */
  close(reason?: ConnectError): void {
    if (this.#state === "closed") return;
    this.#timer?.cancel();
    this.#timer = undefined;
    this.#set("closed");
    this.#lastSession = undefined;
    this.#lastOpen = undefined;
    // Closing: stranded calls fail now instead of after their grace period.
    for (const [timer, check] of [...this.#stranded]) {
      timer.cancel();
      check();
    }
    if (reason !== undefined) {
      // Every runtime then reports the same error (aborting the session alone
      // surfaces as a reset, whose code differs between runtimes).
      for (const open of this.#open.values()) for (const e of open.entries()) failStream(e.stream, reason);
    }
    this.#inner.abort(reason ?? new ConnectError(`endpoint ${this.address} closed`, Code.Canceled));
  }

  /** Same as {@link close}. */
  async [Symbol.asyncDispose](): Promise<void> {
    this.close();
  }

  #set(state: ChannelState, error?: unknown): void {
    if (this.#state === state && error === undefined) return;
    if (this.#state === "closed") return;
    this.#state = state;
    this.#o.onChange(this, error === undefined ? { state } : { state, error });
  }

  /** Closed or draining (a method, so TypeScript does not narrow across awaits). */
  #gone(): boolean {
    return this.#state === "closed" || this.#state === "draining";
  }

  #release(att: Attempt): void {
    if (--att.holds === 0) att.onFinal?.();
  }

  #unlease(): void {
    this.#leases--;
    if (this.#leases === 0 && this.#state === "draining") this.close();
  }

  /** Not an async function: one promise hop per call instead of two. */
  #request(
    method: string,
    path: string,
    headers: Parameters<SessionManager["request"]>[2],
    options: Parameters<SessionManager["request"]>[3],
  ): Promise<H2Stream> {
    let att = this.#current;
    this.#current = undefined;
    if (this.#tag) {
      const raw = headers[ATTEMPT_HEADER];
      if (raw !== undefined) {
        delete headers[ATTEMPT_HEADER];
        att = typeof raw === "string" ? this.#attempts.get(Number(raw)) : undefined;
      }
    }
    if (this.#state === "closed") {
      if (att !== undefined) att.notSent = true;
      return Promise.reject(new ConnectError(`endpoint ${this.address} is closed`, Code.Unavailable));
    }
    const s = this.#inner.state();
    const last = this.#lastSession;
    // "ready" over a connection that already died also dials (connect-node reconnects).
    const dialing = s === "closed" || s === "error" || s === "connecting" || (last !== undefined && (last.destroyed || last.closed));
    let p: Promise<H2Stream>;
    try {
      p = this.#inner.request(method, path, headers, options);
    } catch (e) {
      p = Promise.reject(e);
    }
    if (dialing) p = this.#withConnectTimeout(p);
    return p.then(
      (stream) => this.#opened(stream, att),
      (e: unknown) => {
        // No stream exists: nothing of this request reached the peer.
        if (att !== undefined) att.notSent = true;
        this.#dialFailed(e);
        throw e instanceof ConnectError
          ? e
          : new ConnectError(`endpoint ${this.address}: ${String(e)}`, Code.Unavailable, undefined, undefined, e);
      },
    );
  }

  /** Accounts for a stream connect-node opened for `att`. */
  #opened(stream: H2Stream, att: Attempt | undefined): H2Stream {
    this.#leases++;
    // A stream that arrives after its call settled (caller abort while dialing)
    // only holds the lease; its close drives holds below zero, harmlessly.
    if (att !== undefined && !att.settled) att.holds++;
    // Captured now: runtimes clear `stream.session` once the stream is destroyed.
    const session = stream.session as H2Session | undefined;
    let open: OpenStreams<H2Stream> | undefined;
    if (session !== undefined) {
      // Streams mostly open on the session of the previous call: skip the lookups then.
      if (session === this.#lastSession) open = this.#lastOpen;
      if (open === undefined) {
        this.#watchSession(session);
        open = this.#open.get(session);
        if (open === undefined) this.#open.set(session, (open = new OpenStreams()));
        this.#lastOpen = open;
      }
    }
    stream.on("response", () => {
      this.#activity++;
      if (att !== undefined) att.responded = true;
    });
    const finish = (): void => {
      if (open !== undefined && !open.remove(entry!)) return; // already finished
      // A session that closed before its 'close' listener was added never leaves #open otherwise.
      if (open !== undefined && open.size === 0 && session!.destroyed) this.#open.delete(session!);
      if (att !== undefined) {
        if (!att.responded && this.#refused(stream, session)) {
          att.notSent = true;
          // connect-node 2.1.2 leaves a call pending after a NO_ERROR reset
          // before headers (connect-es PR #1747): unblock it.
          failStream(stream, new ConnectError(`endpoint ${this.address} refused the stream`, Code.Unavailable));
        } else if (!att.settled && session !== undefined && (session.destroyed || session.closed)) {
          this.#watchStranded(att, stream);
        }
        this.#release(att);
      }
      this.#unlease();
    };
    const entry = open?.add(stream, finish);
    stream.on("close", finish);
    return stream;
  }

  /** Did the peer provably not process this stream? */
  #refused(stream: H2Stream, session: H2Session | undefined): boolean {
    if (stream.rstCode === REFUSED_STREAM) return true;
    const last = session === undefined ? undefined : this.#goaway.get(session);
    if (last !== undefined && stream.id !== undefined && stream.id > last) return true;
    // RST_STREAM(NO_ERROR) before response headers on a live session (graceful proxies do this).
    return stream.rstCode === 0 && session !== undefined && !session.destroyed && !session.closed;
  }

  #withConnectTimeout(p: Promise<H2Stream>): Promise<H2Stream> {
    const ms = this.#o.connectTimeoutMs;
    return new Promise<H2Stream>((resolve, reject) => {
      let timedOut = false;
      const timer = this.#o.clock.setTimeout(() => {
        timedOut = true;
        const err = new ConnectError(`connecting to ${this.address} timed out after ${ms} ms`, Code.Unavailable);
        this.#inner.abort(err);
        // Not only through the abort: a runtime whose dial never settles
        // (seen on Deno 2.9 after the peer was killed) must not strand the call.
        reject(err);
      }, ms);
      p.then(
        (v) => {
          timer.cancel();
          // A stream that arrives after the call gave up is closed unused.
          if (timedOut) v.close(CANCEL);
          else resolve(v);
        },
        (e: unknown) => {
          timer.cancel();
          reject(e);
        },
      );
    });
  }

  /**
   * PINGs the session the last stream used, if it is still open: a silent
   * peer accepts TCP (so `connect()` succeeds) but never acknowledges.
   * Resolves `true` when acknowledged, or when there is nothing to ping.
   */
  #ping(timeoutMs: number): Promise<boolean> {
    const session = this.#lastSession;
    if (session === undefined || session.destroyed || session.closed || typeof session.ping !== "function") {
      return Promise.resolve(true);
    }
    return new Promise<boolean>((resolve) => {
      const timer = this.#o.clock.setTimeout(() => resolve(false), timeoutMs);
      try {
        const sent = session.ping((err) => {
          timer.cancel();
          resolve(err === null || err === undefined);
        });
        if (!sent) {
          timer.cancel();
          resolve(true);
        }
      } catch {
        timer.cancel();
        resolve(true);
      }
    });
  }

  #watchSession(session: NonNullable<H2Session>): void {
    this.#lastSession = session;
    if (this.#sessions.has(session)) return;
    this.#sessions.add(session);
    // connect-node destroys a session with an error when the peer sends GOAWAY
    // with no open streams, after its own listeners are gone; without a
    // listener of ours that 'error' event would crash the host process.
    session.on("error", (error: unknown) => {
      this.lastError = error;
    });
    session.once("goaway", (_code: number, lastStreamID: number) => {
      this.#goaway.set(session, lastStreamID);
      this.#lost(new ConnectError(`endpoint ${this.address} sent GOAWAY`, Code.Unavailable));
    });
    session.once("close", () => {
      this.#orphaned(session);
      this.#lost(new ConnectError(`connection to ${this.address} closed`, Code.Unavailable));
    });
  }

  /**
   * Fails the calls whose streams are still open after their session closed.
   * Node closes every stream before its session, so this finds none there;
   * Deno 2.9's node:http2 client sometimes closes the session of a peer that
   * died (SIGKILL: the socket is reset) without ever closing or erroring its
   * open streams, which left those calls pending forever and their endpoint
   * draining forever.
   */
  #orphaned(session: object): void {
    const open = this.#open.get(session);
    if (open === undefined) return;
    this.#open.delete(session);
    for (const e of open.entries()) {
      this.#failInFlight(e.stream);
      e.finish();
    }
  }

  /** Fails the call of a stream whose connection died under it. */
  #failInFlight(stream: H2Stream): void {
    failStream(stream, new ConnectError(`connection to ${this.address} closed with the call in flight`, Code.Unavailable));
  }

  /**
   * A stream closed because its connection died while its call had not
   * settled. A call whose response was complete settles within microtasks;
   * one still pending after {@link STRANDED_GRACE_MS} never will: Deno 2.9's
   * node:http2 client closes the streams of a SIGKILLed peer with NO_ERROR
   * and without an `error` event, on which connect-node waits forever.
   */
  #watchStranded(att: Attempt, stream: H2Stream): void {
    const check = (): void => {
      this.#stranded.delete(timer);
      if (!att.settled) this.#failInFlight(stream);
    };
    const timer = this.#o.clock.setTimeout(check, STRANDED_GRACE_MS);
    this.#stranded.set(timer, check);
  }

  /** The connection went away: verify the endpoint before picking it again. */
  #lost(error: unknown): void {
    if (this.#state !== "ready") return;
    this.lastError = error;
    void this.#probe();
  }

  #dialFailed(error: unknown): void {
    this.lastError = error;
    if (this.#state === "ready") this.#eject(error);
  }

  #eject(error: unknown): void {
    if (this.#state === "closed" || this.#state === "draining") return;
    this.failures++;
    this.lastError = error;
    const delay = backoffDelay(this.#o.backoff, this.failures, this.#o.random);
    this.#timer?.cancel();
    this.#timer = this.#o.clock.setTimeout(() => {
      this.#timer = undefined;
      void this.#probe();
    }, delay);
    this.#set("backoff", error);
  }

  async #probe(): Promise<void> {
    if (this.#probing || this.#state === "closed" || this.#state === "draining") return;
    this.#probing = true;
    this.#set("connecting");
    let failure: unknown;
    let timedOut = false;
    const { healthService, connectTimeoutMs } = this.#o;
    const activity = this.#activity;
    if (healthService === false) {
      let timer: TransportTimer | undefined;
      const outcome = await Promise.race([
        this.#inner.connect(),
        new Promise<"timeout">((resolve) => {
          timer = this.#o.clock.setTimeout(() => resolve("timeout"), connectTimeoutMs);
        }),
      ]);
      timer?.cancel();
      if (outcome === "timeout") {
        timedOut = true;
        failure = new ConnectError(`connecting to ${this.address} timed out after ${connectTimeoutMs} ms`, Code.Unavailable);
      } else if (outcome === "error") failure = this.#inner.error();
      else if (!(await this.#ping(connectTimeoutMs))) {
        timedOut = true;
        failure = new ConnectError(`${this.address} did not answer an HTTP/2 PING within ${connectTimeoutMs} ms`, Code.Unavailable);
      }
    } else {
      const att = this.begin();
      // The probe's deadline runs on the injected clock (like the connect timeout).
      const ac = new AbortController();
      const timer = this.#o.clock.setTimeout(() => {
        ac.abort(new ConnectError(`health check of ${this.address} timed out after ${connectTimeoutMs} ms`, Code.DeadlineExceeded));
      }, connectTimeoutMs);
      try {
        const res = await this.unary(att, Health.method.check, ac.signal, undefined, undefined, { service: healthService });
        if (res.message.status === HealthCheckResponse_ServingStatus.NOT_SERVING) {
          failure = new ConnectError(`endpoint ${this.address} reports NOT_SERVING`, Code.Unavailable);
        }
      } catch (e) {
        // Any answer (e.g. Unimplemented: no health service) proves the peer is alive.
        if (!att.responded) {
          failure = e;
          timedOut = ConnectError.from(e).code === Code.DeadlineExceeded || !att.notSent;
        }
      } finally {
        timer.cancel();
        this.settle(att);
      }
    }
    this.#probing = false;
    if (this.#gone()) return;
    if (failure !== undefined && timedOut && this.#activity !== activity) {
      // The probe timed out, but other streams of this connection received
      // data meanwhile: the peer is alive, only slow (or this process is
      // starved of CPU). Aborting the connection would fail every call in
      // flight on it, and ejecting it would pile the load on the others.
      this.lastError = failure;
      failure = undefined;
    }
    if (failure === undefined) {
      this.failures = 0;
      this.#set("ready");
      return;
    }
    // A hung connection (silent peer) must not be reused by the next probe.
    if (timedOut) this.#inner.abort(ConnectError.from(failure));
    this.#eject(failure);
  }
}

/** `header` plus {@link ATTEMPT_HEADER}. */
function tagged(header: HeadersInit | undefined, id: number): Headers {
  const h = new Headers(header);
  h.set(ATTEMPT_HEADER, String(id));
  return h;
}

/**
 * Fails the call that owns `stream` with `error`: connect-node rejects a
 * call when its stream emits `error`. Used where connect-node would wait
 * forever (a NO_ERROR reset before headers; a stream whose session closed
 * under it without closing it).
 */
function failStream(stream: { listenerCount(event: string): number; emit(event: string, error: unknown): boolean }, error: ConnectError): void {
  if (stream.listenerCount("error") > 0) stream.emit("error", error);
}
