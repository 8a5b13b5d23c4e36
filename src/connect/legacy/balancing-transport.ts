/**
 * The connect-node engine of the balancing transport (`engine:
 * "connect-node"`): one connect-node transport and HTTP/2 session per
 * endpoint. Kept while kratos-kube's own call path replaces it.
 *
 * @module
 */
import { Code, ConnectError } from "@connectrpc/connect";
import type { ContextValues, StreamResponse, UnaryResponse } from "@connectrpc/connect";
import type { DescMessage, DescMethodStreaming, DescMethodUnary, MessageInitShape } from "@bufbuild/protobuf";
import {
  defaultTransportFactory,
  transportFactoryWith,
  EndpointChannel,
  type Attempt,
  type ChannelEvent,
  type EndpointTransportFactory,
  type Http2ConnectOptions,
} from "./endpoint-channel.ts";
import { parseTarget, resolveEndpoints, routingScheme, type EndpointInstance, type ResolvedEndpoint } from "../endpoint-source.ts";
import { createNodeStats, type Picker, type PickerNode, type PickerPolicy } from "../picker.ts";
import { shieldInput } from "../shield-input.ts";
import { DEFAULT_SUBSET_SIZE, subset, subsetMemberKey } from "../subset.ts";
import { DEFAULT_BACKOFF, realClock, type TransportClock } from "../transport-clock.ts";
import {
  http2OptionsFor,
  policyOf,
  type DiscoveryTransport,
  type DiscoveryTransportOptions,
  type EndpointStatus,
} from "../transport-options.ts";
import { runWatchLoop } from "../watch-loop.ts";

const DEFAULT_RESOLVE_TIMEOUT_MS = 10_000;
const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;

/**
 * Creates a balancing transport for `target`.
 *
 * Recovery: discovery errors go to `onError` and the watch is started again
 * after a second (Kratos's resolver pauses 1 s too); an empty update is refused and the previous endpoints are kept (as
 * Kratos does). Endpoints that fail to connect are ejected and re-probed with
 * backoff. A call is retried on another endpoint only when it provably was
 * not sent, within its remaining deadline.
 *
 * Errors: while no endpoint is ready a call waits, up to its deadline and
 * `resolveTimeoutMs`, then fails with `Code.Unavailable` (`DeadlineExceeded`
 * if its own deadline ended first) naming the service and what discovery saw;
 * it fails at once when every known endpoint is in backoff.
 */
export function createLegacyTransport(options: DiscoveryTransportOptions): DiscoveryTransport {
  return new DiscoveryTransportImpl(options);
}

interface Entry {
  channel: EndpointChannel;
  node: PickerNode<EndpointChannel>;
}

function describeError(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

class DiscoveryTransportImpl implements DiscoveryTransport {
  readonly service: string;
  #o: DiscoveryTransportOptions;
  #clock: TransportClock;
  #random: () => number;
  #policy: PickerPolicy;
  #picker: Picker<EndpointChannel>;
  #entries = new Map<string, Entry>();
  #draining = new Set<EndpointChannel>();
  #order: string[] = [];
  #waiters = new Set<() => void>();
  #closed = false;
  #ac = new AbortController();
  #discovered = false;
  #seen = "";
  #discoveryError: unknown;
  #secure: boolean;
  #http2Options: Http2ConnectOptions | undefined;
  #factory: EndpointTransportFactory;
  #subsetKey: string;
  #tagAttempts: boolean;

  constructor(o: DiscoveryTransportOptions) {
    this.#o = o;
    this.service = parseTarget(o.target);
    this.#clock = o.clock ?? realClock;
    this.#random = o.random ?? Math.random;
    this.#policy = policyOf(o.balancer, this.#clock, this.#random);
    this.#picker = this.#policy.build([]);
    this.#secure = o.secure !== undefined && o.secure !== false;
    this.#http2Options = http2OptionsFor(o.secure, o.http2Options);
    const interceptors = o.interceptors;
    this.#factory = o.transportFactory ??
      (interceptors === undefined || interceptors.length === 0 ? defaultTransportFactory : transportFactoryWith(interceptors));
    this.#subsetKey = o.subsetKey ?? globalThis.crypto.randomUUID();
    // Interceptors (and custom transports) may open the stream after the call
    // returned: tie streams to attempts by a header then.
    this.#tagAttempts = o.transportFactory !== undefined || (interceptors !== undefined && interceptors.length > 0);
    void runWatchLoop({
      source: o.discovery,
      service: this.service,
      signal: this.#ac.signal,
      clock: this.#clock,
      onList: (list) => {
        this.#discoveryError = undefined;
        this.#apply(list);
      },
      onError: (e, during) => this.#report(e, during),
    });
  }

  // ---- discovery ---------------------------------------------------------

  #report(e: unknown, during: "watch" | "next"): void {
    this.#discoveryError = e;
    const err = e instanceof Error ? e : new Error(String(e));
    try {
      this.#o.onError?.(new Error(`discovery ${during} for service "${this.service}" failed: ${err.message}`, { cause: err }));
    } catch {
      // a throwing hook must not stop the watch
    }
    this.#notify();
  }

  #apply(list: readonly EndpointInstance[]): void {
    const routing = { protocol: this.#o.protocol, secure: this.#secure };
    const version = this.#o.version;
    const userFilter = this.#o.filter;
    const filter = version === undefined && userFilter === undefined
      ? undefined
      : (i: EndpointInstance): boolean => (version === undefined || i.version === version) && (userFilter === undefined || userFilter(i));
    const resolved = resolveEndpoints(list, { ...routing, filter });
    const wanted = routingScheme(routing);
    this.#discovered = true;
    this.#seen = `discovery returned ${list.length} instance(s), ${resolved.length} with a ${wanted} endpoint` +
      (version !== undefined ? ` of version ${JSON.stringify(version)}` : "");
    if (resolved.length === 0 && this.#entries.size > 0) {
      // Kratos refuses empty updates and keeps the last endpoints.
      this.#seen += " (empty update ignored, keeping the previous endpoints)";
      this.#notify();
      return;
    }
    const chosen = subset(this.#subsetKey, resolved, this.#o.subset ?? DEFAULT_SUBSET_SIZE, (r: ResolvedEndpoint) => subsetMemberKey(r.instance));
    const keep = new Set<string>();
    for (const r of chosen) {
      keep.add(r.address);
      const e = this.#entries.get(r.address);
      if (e === undefined) this.#add(r);
      else if (e.node.weight !== r.weight) e.node = { key: r.address, value: e.channel, weight: r.weight, stats: e.node.stats };
    }
    for (const [address, e] of this.#entries) {
      if (keep.has(address)) continue;
      this.#entries.delete(address);
      this.#draining.add(e.channel);
      e.channel.drain(this.#o.drainTimeoutMs);
    }
    this.#order = chosen.map((r) => r.address);
    this.#rebuild();
  }

  #add(r: ResolvedEndpoint): void {
    const o = this.#o;
    const channel = new EndpointChannel({
      address: r.address,
      secure: this.#secure,
      protocol: o.protocol ?? "grpc",
      transportFactory: this.#factory,
      http2Options: this.#http2Options,
      sessionOptions: o.keepalive,
      connectTimeoutMs: o.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
      healthService: o.healthCheck === false ? false : typeof o.healthCheck === "object" ? o.healthCheck.service : "",
      backoff: o.backoff ?? DEFAULT_BACKOFF,
      clock: this.#clock,
      random: this.#random,
      onChange: (ch, ev) => this.#changed(ch, ev),
      tagAttempts: this.#tagAttempts,
    });
    const node: PickerNode<EndpointChannel> = { key: r.address, value: channel, weight: r.weight, stats: createNodeStats(this.#clock.now()) };
    this.#entries.set(r.address, { channel, node });
    this.#emit(channel, { state: channel.state });
  }

  #changed(ch: EndpointChannel, ev: ChannelEvent): void {
    if (ev.state === "closed") this.#draining.delete(ch);
    this.#emit(ch, ev);
    if (this.#entries.get(ch.address)?.channel === ch) this.#rebuild();
  }

  #emit(ch: EndpointChannel, ev: ChannelEvent): void {
    const hook = this.#o.onEvent;
    if (hook === undefined) return;
    try {
      hook(ev.error === undefined ? { address: ch.address, state: ev.state } : { address: ch.address, state: ev.state, error: ev.error });
    } catch {
      // observers must not break balancing
    }
  }

  #rebuild(): void {
    const nodes: PickerNode<EndpointChannel>[] = [];
    for (const address of this.#order) {
      const e = this.#entries.get(address);
      if (e !== undefined && e.channel.state === "ready") nodes.push(e.node);
    }
    const prev = this.#picker;
    const same = prev.nodes.length === nodes.length && nodes.every((n, i) => prev.nodes[i] === n);
    if (!same) this.#picker = this.#policy.build(nodes, prev);
    this.#notify();
  }

  #notify(): void {
    if (this.#waiters.size === 0) return;
    const ws = [...this.#waiters];
    this.#waiters.clear();
    for (const w of ws) w();
  }

  // ---- waiting for endpoints ---------------------------------------------

  #describe(): string {
    if (!this.#discovered) {
      const err = this.#discoveryError === undefined ? "" : ` (last error: ${describeError(this.#discoveryError)})`;
      return `discovery has not returned the instances of "${this.service}" yet${err}`;
    }
    const eps = [...this.#entries.values()].map(({ channel: c }) =>
      `${c.address} ${c.state}${c.lastError === undefined || c.state === "ready" ? "" : ` (${describeError(c.lastError)})`}`,
    );
    return `${this.#seen}${eps.length > 0 ? `; endpoints: ${eps.join(", ")}` : ""}`;
  }

  #allInBackoff(): boolean {
    if (this.#entries.size === 0) return false;
    for (const e of this.#entries.values()) if (e.channel.state !== "backoff") return false;
    return true;
  }

  /**
   * Picks a node, avoiding the endpoints in `tried` (attempts that failed
   * unsent) while others are available.
   */
  #pick(tried: EndpointChannel[] | undefined): PickerNode<EndpointChannel> | undefined {
    const picker = this.#picker;
    const first = picker.pick();
    if (tried === undefined || first === undefined || !tried.includes(first.value)) return first;
    // p2c counts a pick as in flight: give back the picks not used.
    for (let i = 1; i < picker.nodes.length; i++) {
      const n = picker.pick();
      if (n === undefined) break;
      if (!tried.includes(n.value)) {
        picker.release(first);
        return n;
      }
      picker.release(n);
    }
    return first;
  }

  async #wait(
    signal: AbortSignal | undefined,
    deadline: number,
    start: number,
    tried: EndpointChannel[] | undefined,
  ): Promise<PickerNode<EndpointChannel>> {
    const resolveLimit = start + (this.#o.resolveTimeoutMs ?? DEFAULT_RESOLVE_TIMEOUT_MS);
    for (;;) {
      const node = this.#pick(tried);
      if (node !== undefined) return node;
      if (this.#closed) throw new ConnectError(`transport for "${this.service}" is closed`, Code.Unavailable);
      if (signal?.aborted === true) throw ConnectError.from(signal.reason);
      if (this.#allInBackoff()) {
        throw new ConnectError(`no endpoint of service "${this.service}" is reachable: ${this.#describe()}`, Code.Unavailable);
      }
      const limit = Math.min(deadline, resolveLimit);
      const left = limit - this.#clock.now();
      if (left <= 0) {
        const byDeadline = deadline <= resolveLimit;
        throw new ConnectError(
          `no endpoint of service "${this.service}" became ready within ${Math.round(limit - start)} ms ` +
            `(${byDeadline ? "call deadline" : "resolveTimeoutMs"}): ${this.#describe()}`,
          byDeadline ? Code.DeadlineExceeded : Code.Unavailable,
        );
      }
      await this.#changedOrTimeout(left, signal);
    }
  }

  /** Resolves on the next endpoint or discovery change, after `ms` (may be infinite), or on abort. */
  #changedOrTimeout(ms: number, signal: AbortSignal | undefined): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        this.#waiters.delete(done);
        timer?.cancel();
        signal?.removeEventListener("abort", done);
        resolve();
      };
      const timer = Number.isFinite(ms) ? this.#clock.setTimeout(done, ms) : undefined;
      signal?.addEventListener("abort", done, { once: true });
      this.#waiters.add(done);
    });
  }

  // ---- Transport ----------------------------------------------------------

  unary<I extends DescMessage, O extends DescMessage>(
    method: DescMethodUnary<I, O>,
    signal: AbortSignal | undefined,
    timeoutMs: number | undefined,
    header: HeadersInit | undefined,
    input: MessageInitShape<I>,
    contextValues?: ContextValues,
  ): Promise<UnaryResponse<I, O>> {
    const start = this.#clock.now();
    const t = timeoutMs ?? this.#o.defaultTimeoutMs;
    const deadline = t !== undefined && t > 0 ? start + t : Number.POSITIVE_INFINITY;
    const node = this.#pick(undefined);
    if (node === undefined) return this.#unaryAttempts(method, signal, header, input, contextValues, start, deadline, 1, undefined);
    // The first attempt without an async frame: the common case costs one promise hop.
    const ch = node.value;
    const att = ch.begin();
    return ch.unary(att, method, signal, remainingMs(deadline, start), header, input, contextValues).then(
      (res) => {
        this.#picker.done(node, start, false);
        ch.settle(att);
        return res;
      },
      (e: unknown) => {
        ch.settle(att);
        const err = this.#attemptFailed(e, node, att, start, signal);
        if (!this.#mayRetry(att, signal, 1, deadline)) throw this.#finalError(err, ch, att, signal);
        return this.#unaryAttempts(method, signal, header, input, contextValues, start, deadline, 2, [ch]);
      },
    );
  }

  /** Attempts `first`, `first + 1`, … of a unary call (after no endpoint was ready, or a retry). */
  async #unaryAttempts<I extends DescMessage, O extends DescMessage>(
    method: DescMethodUnary<I, O>,
    signal: AbortSignal | undefined,
    header: HeadersInit | undefined,
    input: MessageInitShape<I>,
    contextValues: ContextValues | undefined,
    start: number,
    deadline: number,
    first: number,
    tried: EndpointChannel[] | undefined,
  ): Promise<UnaryResponse<I, O>> {
    const clock = this.#clock;
    for (let attempt = first; ; attempt++) {
      const node = this.#pick(tried) ?? (await this.#wait(signal, deadline, start, tried));
      const ch = node.value;
      const att = ch.begin();
      const startedAt = clock.now();
      try {
        const res = await ch.unary(att, method, signal, remainingMs(deadline, startedAt), header, input, contextValues);
        this.#picker.done(node, startedAt, false);
        return res;
      } catch (e) {
        const err = this.#attemptFailed(e, node, att, startedAt, signal);
        if (this.#mayRetry(att, signal, attempt, deadline)) {
          (tried ??= []).push(ch);
          continue;
        }
        throw this.#finalError(err, ch, att, signal);
      } finally {
        ch.settle(att);
      }
    }
  }

  /** Reports a failed unary attempt to the picker; returns the error as a ConnectError. */
  #attemptFailed(e: unknown, node: PickerNode<EndpointChannel>, att: Attempt, startedAt: number, signal: AbortSignal | undefined): ConnectError {
    const err = ConnectError.from(e);
    const callerGone = signal?.aborted === true;
    this.#picker.done(node, startedAt, !callerGone && healthFailure(err, att.responded));
    return err;
  }

  /** A failed attempt is retried elsewhere only when it provably was not sent, within attempts and deadline. */
  #mayRetry(att: Attempt, signal: AbortSignal | undefined, attempt: number, deadline: number): boolean {
    return att.notSent && signal?.aborted !== true && !this.#closed && attempt < (this.#o.maxAttempts ?? 3) && this.#clock.now() < deadline;
  }

  /** The error a call ends with: re-probes a silent endpoint, marks unsent errors. */
  #finalError(err: ConnectError, ch: EndpointChannel, att: Attempt, signal: AbortSignal | undefined): ConnectError {
    if (err.code === Code.DeadlineExceeded && !att.responded && signal?.aborted !== true) ch.suspect();
    if (att.notSent) unsent.add(err);
    return err;
  }

  async stream<I extends DescMessage, O extends DescMessage>(
    method: DescMethodStreaming<I, O>,
    signal: AbortSignal | undefined,
    timeoutMs: number | undefined,
    header: HeadersInit | undefined,
    input: AsyncIterable<MessageInitShape<I>>,
    contextValues?: ContextValues,
  ): Promise<StreamResponse<I, O>> {
    const clock = this.#clock;
    const start = clock.now();
    const t = timeoutMs ?? this.#o.defaultTimeoutMs;
    const deadline = t !== undefined && t > 0 ? start + t : Number.POSITIVE_INFINITY;
    const shielded = shieldInput(input);
    let tried: EndpointChannel[] | undefined;
    for (let attempt = 1; ; attempt++) {
      const node = this.#pick(tried) ?? (await this.#wait(signal, deadline, start, tried));
      const ch = node.value;
      const picker = this.#picker;
      const att = ch.begin(() => picker.release(node));
      try {
        return await ch.stream(att, method, signal, remainingMs(deadline, clock.now()), header, shielded.iterable, contextValues);
      } catch (e) {
        const err = ConnectError.from(e);
        if (!shielded.pulled() && this.#mayRetry(att, signal, attempt, deadline)) {
          (tried ??= []).push(ch);
          continue;
        }
        throw this.#finalError(err, ch, att, signal);
      } finally {
        ch.settle(att);
      }
    }
  }

  // ---- lifecycle and diagnostics ------------------------------------------

  endpoints(): EndpointStatus[] {
    const out: EndpointStatus[] = [];
    const status = (c: EndpointChannel): EndpointStatus => {
      const base = { address: c.address, state: c.state, inflight: c.inflight, failures: c.failures };
      return c.lastError === undefined ? base : { ...base, lastError: describeError(c.lastError) };
    };
    for (const e of this.#entries.values()) out.push(status(e.channel));
    for (const c of this.#draining) out.push(status(c));
    return out;
  }

  async ready(o: { count?: number; signal?: AbortSignal } = {}): Promise<void> {
    const count = o.count ?? 1;
    for (;;) {
      if (this.#closed) throw new ConnectError(`transport for "${this.service}" is closed`, Code.Unavailable);
      if (o.signal?.aborted === true) throw ConnectError.from(o.signal.reason);
      if (this.#picker.nodes.length >= count) return;
      await this.#changedOrTimeout(Number.POSITIVE_INFINITY, o.signal);
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#ac.abort(new ConnectError(`transport for "${this.service}" closed`, Code.Canceled));
    for (const e of this.#entries.values()) e.channel.close();
    for (const c of this.#draining) c.close();
    this.#entries.clear();
    this.#draining.clear();
    this.#picker = this.#policy.build([]);
    this.#notify();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

const unsent = new WeakSet<object>();

/**
 * True for an error of a call that provably never reached a server (refused
 * connection, REFUSED_STREAM, GOAWAY before the stream, …) after the
 * transport ran out of attempts or deadline: safe to retry even for a
 * non-idempotent method.
 */
export function isUnsentError(error: unknown): boolean {
  return typeof error === "object" && error !== null && unsent.has(error);
}

/** Time left before `deadline`, as connect's `timeoutMs` (undefined = none). */
function remainingMs(deadline: number, now: number): number | undefined {
  if (deadline === Number.POSITIVE_INFINITY) return undefined;
  return Math.max(1, Math.ceil(deadline - now));
}

/** Errors that speak about the endpoint's health (Kratos ewma: 503, 504, deadline, network). */
function healthFailure(err: ConnectError, responded: boolean): boolean {
  return err.code === Code.Unavailable || err.code === Code.DeadlineExceeded || !responded;
}
