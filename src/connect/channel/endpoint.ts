/**
 * One balanced endpoint: the driver of its {@link Lifecycle} (one `setState`
 * that carries out the effects {@link transition} returns), its HTTP/2
 * connections, and the calls running on them.
 *
 * Connections: calls share one connection; another is dialed when every
 * open one reached the peer's SETTINGS_MAX_CONCURRENT_STREAMS, and with
 * `maxConnectionAgeMs` a connection is replaced once that old (a new one is
 * dialed first, the old one finishes its streams), so long-lived clients
 * spread onto new Pods.
 *
 * @module
 */
import { Code, ConnectError } from "@connectrpc/connect";
import type { DialOptions } from "../../runtime/http2-client.ts";
import type { Attempt } from "../call/attempt.ts";
import type { CallOwner, CallTarget } from "../call/call-base.ts";
import type { CallConfig, MethodPlan } from "../call/call-config.ts";
import type { LazyUnaryResponse } from "../call/response.ts";
import { streamCall, type StreamArgs, type StreamingResponse } from "../call/stream-call.ts";
import { unaryCall, type UnaryArgs } from "../call/unary-call.ts";
import { backoffDelay, type BackoffPolicy, type TransportClock, type TransportTimer } from "../transport-clock.ts";
import { Connection, type ConnectionOptions, type ConnectionOwner } from "./connection.ts";
import type { KeepaliveOptions } from "./keepalive.ts";
import { failuresOf, INITIAL, transition, type Lifecycle, type LifecycleEffect, type LifecycleEvent, type LifecycleName } from "./lifecycle.ts";
import { probe } from "./probe.ts";

/** Options of an {@link Endpoint}. */
export interface EndpointOptions {
  /** `host:port`. */
  readonly address: string;
  /** TLS (`https`) instead of h2c. */
  readonly secure: boolean;
  /** Extra `node:http2` connect options (TLS settings). */
  readonly http2Options: Readonly<Record<string, unknown>> | undefined;
  readonly connectTimeoutMs: number;
  /** Probe with grpc.health.v1 Check of this service; `false` = PING. */
  readonly healthService: string | false;
  /** Replace connections older than this (default: never). */
  readonly maxConnectionAgeMs: number | undefined;
  /** PINGs and idle timeout of the connections. */
  readonly keepalive: KeepaliveOptions | undefined;
  readonly backoff: BackoffPolicy;
  readonly clock: TransportClock;
  readonly random: () => number;
  readonly config: CallConfig;
  /** Every state change, with the error that caused it. */
  readonly onChange: (endpoint: Endpoint, state: LifecycleName, error: unknown) => void;
}

/** See the module doc. */
export class Endpoint implements CallOwner, ConnectionOwner {
  readonly address: string;
  #o: EndpointOptions;
  #state: Lifecycle = INITIAL.state;
  #timer: TransportTimer | undefined;
  /** Connections that take new streams (connecting or ready). */
  #conns: Connection[] = [];
  /** Every connection not closed yet (also retiring ones). */
  #all = new Set<Connection>();
  #ageTimers = new Map<Connection, TransportTimer>();
  #inflight = 0;
  #probing = false;
  #connOptions: ConnectionOptions;
  #target: CallTarget;
  /** The last connect or probe error. */
  lastError: unknown = undefined;

  /** Creates the endpoint and starts its first probe. */
  constructor(o: EndpointOptions) {
    this.#o = o;
    this.address = o.address;
    const dial: DialOptions = { secure: o.secure, address: o.address, options: o.http2Options };
    this.#connOptions = { dial, clock: o.clock, connectTimeoutMs: o.connectTimeoutMs, keepalive: o.keepalive };
    this.#target = { config: o.config, owner: this };
    this.#apply(INITIAL.effects);
  }

  /** The lifecycle state's name. */
  get state(): LifecycleName {
    return this.#state.s;
  }

  /** Consecutive failed probes and dials. */
  get failures(): number {
    return failuresOf(this.#state);
  }

  /** Calls not finished. */
  get inflight(): number {
    return this.#inflight;
  }

  /** Runs a unary attempt here. */
  unary(att: Attempt, plan: MethodPlan, args: UnaryArgs): Promise<LazyUnaryResponse> {
    this.#inflight++;
    const c = this.#ready();
    if (c !== undefined) return unaryCall(this.#target, c, plan, att, args);
    return this.#acquire(att, args.signal).then((conn) => unaryCall(this.#target, conn, plan, att, args), (e: unknown) => this.#notStarted(e));
  }

  /** Runs a streaming attempt here; `onFinal` runs once it is completely over. */
  stream(att: Attempt, plan: MethodPlan, args: StreamArgs, onFinal: (() => void) | undefined): Promise<StreamingResponse> {
    this.#inflight++;
    const target: CallTarget = { config: this.#o.config, owner: this, onFinal };
    const c = this.#ready();
    if (c !== undefined) return streamCall(target, c, plan, att, args);
    return this.#acquire(att, args.signal).then(
      (conn) => streamCall(target, conn, plan, att, args),
      (e: unknown) => {
        onFinal?.();
        return this.#notStarted(e);
      },
    );
  }

  /** A call hit its deadline without any response: verify the endpoint. */
  suspect(): void {
    this.#step({ ev: "suspect" });
  }

  /** Stops taking calls; closes once they ended, or after `timeoutMs` (failing them with Unavailable). */
  drain(timeoutMs?: number): void {
    this.#step({ ev: "drain", inflight: this.#inflight, timeoutMs });
  }

  /** Closes now; calls still running fail with Canceled. */
  close(): void {
    this.#step({ ev: "close" });
  }

  /** @internal CallOwner */
  callEnded(): void {
    if (--this.#inflight === 0 && this.#state.s === "draining") this.#step({ ev: "idle" });
  }

  // ---- connections -----------------------------------------------------------

  /** A ready connection below the peer's stream limit (the common case: the first). */
  #ready(): Connection | undefined {
    const cs = this.#conns;
    for (let i = 0; i < cs.length; i++) if (cs[i]!.available) return cs[i];
    return undefined;
  }

  /** A connection for a call when none is ready: waits for one being dialed, or dials. */
  async #acquire(att: Attempt, signal: AbortSignal | undefined): Promise<Connection> {
    if (this.#state.s === "closed") {
      att.notSent = true;
      throw new ConnectError(`endpoint ${this.address} is closed`, Code.Unavailable);
    }
    const pending = this.#conns.find((c) => c.state === "connecting") ?? this.#newConnection();
    try {
      return await abortable(pending.whenReady(), signal);
    } catch (e) {
      if (signal?.aborted === true) throw ConnectError.from(signal.reason, Code.Canceled);
      att.notSent = true;
      this.lastError = e;
      this.#step({ ev: "dial-failed", error: e, delayMs: (n) => backoffDelay(this.#o.backoff, n, this.#o.random) });
      throw ConnectError.from(e, Code.Unavailable);
    }
  }

  #notStarted(e: unknown): never {
    this.callEnded();
    throw e;
  }

  #newConnection(): Connection {
    const c = new Connection(this.#connOptions, this);
    this.#conns.push(c);
    this.#all.add(c);
    return c;
  }

  /** @internal ConnectionOwner */
  connected(c: Connection): void {
    const age = this.#o.maxConnectionAgeMs;
    if (age === undefined || !Number.isFinite(age)) return;
    // ±10 % so that the connections of many clients do not all move at once.
    const ms = age * (0.9 + 0.2 * this.#o.random());
    this.#ageTimers.set(c, this.#o.clock.setTimeout(() => this.#replace(c), ms));
  }

  /** Dials a successor of an old connection, then retires it. */
  #replace(old: Connection): void {
    this.#ageTimers.delete(old);
    if (this.#state.s !== "ready" || old.state !== "ready") return;
    const next = this.#newConnection();
    next.whenReady().then(
      () => {
        this.#conns = this.#conns.filter((c) => c !== old);
        old.retire();
      },
      () => {}, // the old connection stays; the failed dial reported itself
    );
  }

  /** @internal ConnectionOwner */
  lost(c: Connection, error: ConnectError): void {
    this.#conns = this.#conns.filter((x) => x !== c);
    this.#ageTimers.get(c)?.cancel();
    this.#ageTimers.delete(c);
    if (this.#conns.length === 0) {
      this.lastError = error;
      this.#step({ ev: "connection-lost", error });
    }
  }

  /** @internal ConnectionOwner */
  closed(c: Connection): void {
    this.#all.delete(c);
    if (!this.#conns.includes(c)) return;
    // An idle connection closed by its keepalive is no failure: the next call dials again.
    if (c.idleClosed) {
      this.#conns = this.#conns.filter((x) => x !== c);
      return;
    }
    this.lost(c, c.error ?? new ConnectError(`connection to ${this.address} closed`, Code.Unavailable));
  }

  // ---- lifecycle ---------------------------------------------------------------

  #step(e: LifecycleEvent): void {
    const { state, effects } = transition(this.#state, e);
    if (state === this.#state) return;
    this.#state = state;
    this.#apply(effects);
  }

  #apply(effects: readonly LifecycleEffect[]): void {
    for (const fx of effects) {
      switch (fx.fx) {
        case "probe":
          void this.#probe();
          break;
        case "timer":
          this.#timer?.cancel();
          this.#timer = this.#o.clock.setTimeout(() => {
            this.#timer = undefined;
            this.#step(fx.then === "backoff-elapsed" ? { ev: "backoff-elapsed" } : { ev: "drain-timeout", timeoutMs: fx.ms });
          }, fx.ms);
          break;
        case "cancel-timer":
          this.#timer?.cancel();
          this.#timer = undefined;
          break;
        case "close-connections":
          this.#closeConnections(fx.drainTimeoutMs);
          break;
        case "emit":
          if (fx.error !== undefined) this.lastError = fx.error;
          this.#o.onChange(this, this.#state.s, fx.error);
          break;
      }
    }
  }

  #closeConnections(drainTimeoutMs: number | undefined): void {
    const reason = drainTimeoutMs === undefined
      ? new ConnectError(`endpoint ${this.address} closed`, Code.Canceled)
      : new ConnectError(`endpoint ${this.address} left discovery and its calls did not end within ${drainTimeoutMs} ms`, Code.Unavailable);
    for (const t of this.#ageTimers.values()) t.cancel();
    this.#ageTimers.clear();
    this.#conns = [];
    for (const c of [...this.#all]) c.destroy(reason);
    this.#all.clear();
  }

  async #probe(): Promise<void> {
    if (this.#probing) return;
    this.#probing = true;
    const o = this.#o;
    const activity = this.#activity();
    const r = await probe({
      address: this.address,
      clock: o.clock,
      timeoutMs: o.connectTimeoutMs,
      healthService: o.healthService,
      config: o.config,
      connection: () => {
        const c = this.#ready();
        if (c !== undefined) return Promise.resolve({ conn: c, fresh: false });
        const next = this.#conns.find((x) => x.state === "connecting") ?? this.#newConnection();
        return next.whenReady().then((conn) => ({ conn, fresh: true }));
      },
    });
    this.#probing = false;
    if (this.#state.s !== "connecting") return;
    if (r.ok) return this.#step({ ev: "probe-ok" });
    if (r.timedOut && this.#activity() > activity) {
      // The probe timed out, but other streams received data meanwhile: the
      // peer is alive, only slow (or this process is starved of CPU).
      // Aborting the connection would fail every call in flight on it.
      this.lastError = r.error;
      return this.#step({ ev: "probe-ok" });
    }
    // A hung connection (silent peer) must not be reused by the next probe.
    if (r.timedOut && r.conn !== undefined) r.conn.destroy(ConnectError.from(r.error, Code.Unavailable));
    this.#step({ ev: "probe-failed", error: r.error, delayMs: (n) => backoffDelay(o.backoff, n, o.random) });
  }

  /** Responses received over every connection (changes while the peer answers). */
  #activity(): number {
    let n = 0;
    for (const c of this.#all) n += c.activity;
    return n;
  }
}

/** `p`, or a rejection when `signal` aborts first. */
function abortable<T>(p: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return p;
  if (signal.aborted) return Promise.reject(ConnectError.from(signal.reason, Code.Canceled));
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(ConnectError.from(signal.reason, Code.Canceled));
    signal.addEventListener("abort", onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener("abort", onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(e);
      },
    );
  });
}
