/**
 * One balanced endpoint: the driver of its {@link Lifecycle} (one `#step`
 * that carries out the effects {@link transition} returns), its HTTP/2
 * connections ({@link ConnectionPool}) and the calls running on them.
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
import type { Connection } from "./connection.ts";
import { ConnectionPool } from "./connection-pool.ts";
import type { KeepaliveOptions } from "./keepalive.ts";
import { HealthWatch } from "./health-watch.ts";
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
  /** Also watch that service (grpc.health.v1 Watch) once a Check got a status from it. */
  readonly healthWatch?: boolean | undefined;
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
export class Endpoint implements CallOwner {
  readonly address: string;
  #o: EndpointOptions;
  #state: Lifecycle = INITIAL.state;
  #timer: TransportTimer | undefined;
  #pool: ConnectionPool;
  #inflight = 0;
  #probing = false;
  #target: CallTarget;
  #watch: HealthWatch | undefined;
  /** The last connect or probe error. */
  lastError: unknown = undefined;

  /** Creates the endpoint and starts its first probe. */
  constructor(o: EndpointOptions) {
    this.#o = o;
    this.address = o.address;
    const dial: DialOptions = { secure: o.secure, address: o.address, options: o.http2Options };
    this.#pool = new ConnectionPool({
      connection: { dial, clock: o.clock, connectTimeoutMs: o.connectTimeoutMs, keepalive: o.keepalive },
      maxConnectionAgeMs: o.maxConnectionAgeMs,
      clock: o.clock,
      random: o.random,
      onLost: (error) => {
        this.lastError = error;
        this.#step({ ev: "connection-lost", error });
      },
      mayReplace: () => this.#state.s === "ready",
    });
    this.#target = { config: o.config, owner: this };
    this.#watch = o.healthService === false || o.healthWatch !== true ? undefined : new HealthWatch({
      ...o, service: o.healthService, onStatus: (serving, error) => this.#step({ ev: "health", serving, error }),
      connection: () => (this.#state.s === "ready" || this.#state.s === "not-serving" ? this.#pool.ready() : undefined),
    });
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
    const c = this.#pool.ready();
    if (c !== undefined) return unaryCall(this.#target, c, plan, att, args);
    const t0 = performance.now();
    return this.#acquire(att, args.signal, args.timeoutMs).then(
      (conn) => unaryCall(this.#target, conn, plan, att, rest(args, t0)),
      (e: unknown) => this.#notStarted(e),
    );
  }

  /** Runs a streaming attempt here; `onFinal` runs once it is completely over. */
  stream(att: Attempt, plan: MethodPlan, args: StreamArgs, onFinal: (() => void) | undefined): Promise<StreamingResponse> {
    this.#inflight++;
    const target: CallTarget = { config: this.#o.config, owner: this, onFinal };
    const c = this.#pool.ready();
    if (c !== undefined) return streamCall(target, c, plan, att, args);
    const t0 = performance.now();
    return this.#acquire(att, args.signal, args.timeoutMs).then(
      (conn) => streamCall(target, conn, plan, att, rest(args, t0)),
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

  /**
   * A connection for a call when none is ready: waits for one being dialed,
   * or dials; bounded by the call's signal and deadline (the wait counts
   * against the deadline; the call then gets what is left of it).
   */
  async #acquire(att: Attempt, signal: AbortSignal | undefined, timeoutMs: number | undefined): Promise<Connection> {
    if (this.#state.s === "closed") {
      att.notSent = true;
      throw new ConnectError(`endpoint ${this.address} is closed`, Code.Unavailable);
    }
    const pending = this.#pool.dialing();
    try {
      return await abortable(pending.whenReady(), signal, timeoutMs);
    } catch (e) {
      if (signal?.aborted === true) throw ConnectError.from(signal.reason, Code.Canceled);
      if (e instanceof ConnectError && e.code === Code.DeadlineExceeded) {
        att.notSent = true;
        throw e;
      }
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
          if (this.#state.s === "draining" || this.#state.s === "closed") this.#watch?.close();
          this.#o.onChange(this, this.#state.s, fx.error);
          break;
      }
    }
  }

  #closeConnections(drainTimeoutMs: number | undefined): void {
    this.#pool.closeAll(
      drainTimeoutMs === undefined
        ? new ConnectError(`endpoint ${this.address} closed`, Code.Canceled)
        : new ConnectError(`endpoint ${this.address} left discovery and its calls did not end within ${drainTimeoutMs} ms`, Code.Unavailable),
    );
  }

  async #probe(): Promise<void> {
    if (this.#probing) return;
    this.#probing = true;
    const o = this.#o;
    const activity = this.#pool.activity;
    const r = await probe({
      address: this.address,
      clock: o.clock,
      timeoutMs: o.connectTimeoutMs,
      healthService: o.healthService,
      config: o.config,
      connection: () => {
        const c = this.#pool.ready();
        if (c !== undefined) return Promise.resolve({ conn: c, fresh: false });
        return this.#pool.dialing().whenReady().then((conn: Connection) => ({ conn, fresh: true }));
      },
    });
    this.#probing = false;
    if (this.#state.s !== "connecting") return;
    if (r.ok) {
      this.#step({ ev: "probe-ok" });
      return r.served === true ? this.#watch?.start() : undefined;
    }
    if (r.timedOut && this.#pool.activity > activity) {
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
}

/** `args` with the deadline that is left `performance.now() - t0` ms later. */
function rest<A extends { readonly timeoutMs: number | undefined }>(args: A, t0: number): A {
  if (args.timeoutMs === undefined) return args;
  return { ...args, timeoutMs: Math.max(1, Math.ceil(args.timeoutMs - (performance.now() - t0))) };
}

/** `p`, or a rejection when `signal` aborts or `timeoutMs` (a real timer, as call deadlines) passes first. */
function abortable<T>(p: Promise<T>, signal: AbortSignal | undefined, timeoutMs: number | undefined): Promise<T> {
  if (signal === undefined && timeoutMs === undefined) return p;
  if (signal?.aborted === true) return Promise.reject(ConnectError.from(signal.reason, Code.Canceled));
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(ConnectError.from(signal?.reason, Code.Canceled));
    };
    const timer = timeoutMs === undefined
      ? undefined
      : setTimeout(() => {
          signal?.removeEventListener("abort", onAbort);
          reject(new ConnectError(`the operation timed out after ${timeoutMs} ms (waiting for a connection)`, Code.DeadlineExceeded));
        }, timeoutMs);
    signal?.addEventListener("abort", onAbort, { once: true });
    p.then(
      (v) => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
        reject(e);
      },
    );
  });
}
