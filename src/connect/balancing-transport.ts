/**
 * `createDiscoveryTransport()`: a connect `Transport` that follows a Kratos
 * service through discovery and balances each call over its endpoints, with
 * kratos-kube's own gRPC / Connect / gRPC-web call path over one
 * `node:http2` connection per endpoint.
 *
 * @module
 */
import { Code, ConnectError } from "@connectrpc/connect";
import type { ContextValues, StreamResponse, UnaryResponse } from "@connectrpc/connect";
import type { DescMessage, DescMethodStreaming, DescMethodUnary, MessageInitShape } from "@bufbuild/protobuf";
import { AttemptLoop } from "./attempt-loop.ts";
import { createCallRunner, type CallRunner } from "./call-scope.ts";
import { TransportObserver } from "./transport-observer.ts";
import { CallConfig } from "./call/call-config.ts";
import { EndpointPool } from "./endpoint-pool.ts";
import { emptySetPolicy } from "./policy/empty-set.ts";
import { ZonePreference, zoneConfig } from "./policy/zone.ts";
import { envZone } from "../runtime/host.ts";
import { outlierConfig } from "./policy/outlier-detection.ts";
import { slowStartConfig } from "./policy/slow-start.ts";
import { hedgingConfig } from "./policy/hedging.ts";
import { retryConfig } from "./policy/retry.ts";
import { RetryBudget, retryBudgetConfig } from "./policy/retry-budget.ts";
import { parseTargetParts, type EndpointInstance, type InstanceWatcherState } from "./endpoint-source.ts";
import { subsetChooser } from "./subset-config.ts";
import { watchPeers } from "./peer-watch.ts";
import { DEFAULT_BACKOFF, realClock, type TransportClock } from "./transport-clock.ts";
import { healthCheckOf } from "./channel/probe.ts";
import {
  http2OptionsFor,
  policyOf,
  type DiscoveryTransport,
  type DiscoveryTransportOptions,
  type EndpointStatus,
} from "./transport-options.ts";
import { changedOrTimeout, describeError } from "./wait-for-endpoint.ts";
import { runWatchLoop } from "./watch-loop.ts";

export type {
  BalancerOption,
  DiscoveryTransport,
  DiscoveryTransportOptions,
  EndpointEvent,
  EndpointStatus,
  HealthCheckOptions,
  TlsOptions,
} from "./transport-options.ts";

const DEFAULT_RESOLVE_TIMEOUT_MS = 10_000;
const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;
/** gRPC's default limit on received messages (4 MiB), also used for sent ones. */
const DEFAULT_MAX_BYTES = 4 * 1024 * 1024;
const DEFAULT_COMPRESS_MIN_BYTES = 1024;
/** `user-agent` of every call. */
const USER_AGENT = "kratos-kube";

/**
 * Creates a balancing transport for `target`.
 *
 * Recovery: discovery errors go to `onError` and the watch is started again
 * after a second (Kratos's resolver pauses 1 s too). An empty list from a
 * synced watch removes every endpoint (`emptySet: "fail"`, the default);
 * while discovery is unsynced or failing, or reports no state, the previous
 * endpoints are kept. Endpoints that fail to connect are ejected and
 * re-probed with backoff; endpoints whose calls fail are ejected by outlier
 * detection (`outlierDetection`). A call is retried on another endpoint at
 * once when it provably was not sent; a unary call of an idempotent method
 * (`retry`) also when it failed with `Unavailable`, after a backoff, within
 * the retry budget (`retryBudget`); hedging (`hedging`) is opt-in. Retries
 * never outlast the call's deadline.
 *
 * Errors: while no endpoint is ready a call waits, up to its deadline and
 * `resolveTimeoutMs`, then fails with `Code.Unavailable` (`DeadlineExceeded`
 * if its own deadline ended first) naming the service and what discovery saw;
 * it fails at once when every known endpoint is in backoff. A call in flight
 * when its connection dies fails with `Unavailable`.
 */
export function createDiscoveryTransport(options: DiscoveryTransportOptions): DiscoveryTransport {
  return new DiscoveryTransportImpl(options);
}

export { isUnsentError } from "./attempt-loop.ts";

/** The `zone` option's policy; the environment is read only when the option asks for it (no `local`). */
function zoneOf(o: DiscoveryTransportOptions["zone"], report: ConstructorParameters<typeof ZonePreference>[1]): ZonePreference | undefined {
  const c = o === undefined || o === false ? undefined : zoneConfig(o, o.local === undefined ? envZone() : undefined);
  return c === undefined ? undefined : new ZonePreference(c, report);
}

class DiscoveryTransportImpl implements DiscoveryTransport {
  readonly service: string;
  #clock: TransportClock;
  #pool: EndpointPool;
  #loop: AttemptLoop;
  #run: CallRunner;
  #observer: TransportObserver;
  #closed = false;
  #ac = new AbortController();
  #onError: ((error: Error) => void) | undefined;
  /** The last instance list and state, applied again when this client's subset position changes. */
  #last: [readonly EndpointInstance[], InstanceWatcherState | undefined] | undefined;

  constructor(o: DiscoveryTransportOptions) {
    const target = parseTargetParts(o.target);
    this.service = target.service;
    const clock = (this.#clock = o.clock ?? realClock);
    const random = o.random ?? Math.random;
    const retry = o.retry === false ? undefined : retryConfig(o.retry);
    const hedging = o.hedging === undefined || o.hedging === false ? undefined : hedgingConfig(o.hedging);
    const budget = o.retryBudget === false || (retry === undefined && hedging === undefined) ? undefined : new RetryBudget(retryBudgetConfig(o.retryBudget), clock.now());
    this.#onError = o.onError;
    const secure = o.secure !== undefined && o.secure !== false;
    const health = healthCheckOf(o.healthCheck);
    const protocol = o.protocol ?? "grpc";
    const config = new CallConfig({
      protocol,
      binary: o.useBinaryFormat ?? true,
      jsonOptions: o.jsonOptions,
      sendCompression: o.sendCompression,
      compressMinBytes: o.compressMinBytes ?? DEFAULT_COMPRESS_MIN_BYTES,
      acceptCompression: o.acceptCompression ?? ["gzip"],
      readMaxBytes: o.readMaxBytes ?? DEFAULT_MAX_BYTES,
      writeMaxBytes: o.writeMaxBytes ?? DEFAULT_MAX_BYTES,
      userAgent: USER_AGENT,
      clock,
    });
    const onEvent = o.onEvent;
    const subset = subsetChooser(o.subset, o.subsetKey ?? globalThis.crypto.randomUUID());
    const observer = (this.#observer = new TransportObserver({
      telemetry: o.telemetry, logger: o.logger, service: this.service, protocol, clock, states: () => this.endpoints(),
    }));
    this.#pool = new EndpointPool({
      service: this.service,
      protocol: o.protocol,
      secure,
      anyScheme: target.scheme === "kubernetes",
      version: o.version,
      filter: o.filter,
      subset,
      drainTimeoutMs: o.drainTimeoutMs,
      policy: policyOf(o.balancer, clock, random),
      clock,
      random,
      outlier: o.outlierDetection === false ? undefined : outlierConfig(o.outlierDetection),
      slowStart: o.slowStart === undefined || o.slowStart === false ? undefined : slowStartConfig(o.slowStart),
      emptySet: emptySetPolicy(o.emptySet),
      zone: zoneOf(o.zone, (choice) => observer.zone(choice)),
      endpoint: {
        secure,
        http2Options: http2OptionsFor(o.secure, o.http2Options) as Readonly<Record<string, unknown>> | undefined,
        connectTimeoutMs: o.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
        healthService: health.service,
        healthWatch: health.watch,
        maxConnectionAgeMs: o.maxConnectionAgeMs,
        keepalive: o.keepalive,
        backoff: o.backoff ?? DEFAULT_BACKOFF,
        clock,
        random,
        config,
      },
      onEjection: (address, reason) => observer.ejection(address, reason),
      onChange: (address, state, error) => {
        observer.endpoint(address, state, error);
        if (onEvent === undefined) return;
        try {
          onEvent(error === undefined ? { address, state } : { address, state, error });
        } catch {
          // observers must not break balancing
        }
      },
    });
    this.#loop = new AttemptLoop({
      service: this.service,
      pool: this.#pool,
      clock,
      resolveTimeoutMs: o.resolveTimeoutMs ?? DEFAULT_RESOLVE_TIMEOUT_MS,
      isClosed: () => this.#closed,
      config,
      interceptors: o.attemptInterceptors ?? [],
      maxAttempts: o.maxAttempts ?? 3,
      defaultTimeoutMs: o.defaultTimeoutMs,
      secure,
      retry,
      hedging,
      budget,
      random,
      onBudgetExhausted: (method, kind) => observer.budgetExhausted(method, kind),
    });
    this.#run = createCallRunner({
      loop: this.#loop, config, service: this.service, secure, defaultTimeoutMs: o.defaultTimeoutMs,
      interceptors: o.interceptors ?? [], telemetry: observer.telemetry,
    });
    void runWatchLoop({
      source: o.discovery,
      service: this.service,
      target: o.target,
      signal: this.#ac.signal,
      clock,
      onList: (list, state) => {
        this.#last = [list, state];
        this.#pool.apply(list, state);
      },
      onError: (e, during) => this.#report(e, during),
    });
    if (subset.self === undefined) return;
    watchPeers({
      source: o.discovery, service: subset.self.service, signal: this.#ac.signal, clock, onError: o.onError,
      onPeers: (ids) => {
        if (subset.setPeers(ids) && this.#last !== undefined) this.#pool.apply(...this.#last);
      },
    });
  }

  #report(e: unknown, during: "watch" | "next"): void {
    this.#pool.discoveryError = e;
    const err = e instanceof Error ? e : new Error(String(e));
    this.#observer.discoveryError(err, during);
    try {
      this.#onError?.(new Error(`discovery ${during} for service "${this.service}" failed: ${err.message}`, { cause: err }));
    } catch {
      // a throwing hook must not stop the watch
    }
    this.#pool.notify();
  }

  unary<I extends DescMessage, O extends DescMessage>(
    method: DescMethodUnary<I, O>,
    signal: AbortSignal | undefined,
    timeoutMs: number | undefined,
    header: HeadersInit | undefined,
    input: MessageInitShape<I>,
    contextValues?: ContextValues,
  ): Promise<UnaryResponse<I, O>> {
    return this.#run(method, signal, timeoutMs, header, input, contextValues) as Promise<UnaryResponse<I, O>>;
  }

  stream<I extends DescMessage, O extends DescMessage>(
    method: DescMethodStreaming<I, O>,
    signal: AbortSignal | undefined,
    timeoutMs: number | undefined,
    header: HeadersInit | undefined,
    input: AsyncIterable<MessageInitShape<I>>,
    contextValues?: ContextValues,
  ): Promise<StreamResponse<I, O>> {
    return this.#run(method, signal, timeoutMs, header, input, contextValues) as Promise<StreamResponse<I, O>>;
  }

  endpoints(): EndpointStatus[] {
    const out: EndpointStatus[] = [];
    const status = (e: { address: string; state: EndpointStatus["state"]; inflight: number; failures: number; lastError: unknown }): EndpointStatus => {
      const ejected = this.#pool.ejection(e.address);
      const slowStartWeight = this.#pool.slowStartWeight(e.address);
      return {
        address: e.address,
        state: e.state,
        inflight: e.inflight,
        failures: e.failures,
        ...(e.lastError === undefined ? {} : { lastError: describeError(e.lastError) }),
        ...(ejected === undefined ? {} : { ejected }),
        ...(slowStartWeight === undefined ? {} : { slowStartWeight }),
      };
    };
    for (const e of this.#pool.endpoints) out.push(status(e));
    for (const e of this.#pool.draining) out.push(status(e));
    return out;
  }

  async ready(o: { count?: number; signal?: AbortSignal } = {}): Promise<void> {
    const count = o.count ?? 1;
    for (;;) {
      if (this.#closed) throw new ConnectError(`transport for "${this.service}" is closed`, Code.Unavailable);
      if (o.signal?.aborted === true) throw ConnectError.from(o.signal.reason);
      if (this.#pool.pickable >= count) return;
      await changedOrTimeout({ pool: this.#pool, clock: this.#clock }, Number.POSITIVE_INFINITY, o.signal);
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#ac.abort(new ConnectError(`transport for "${this.service}" closed`, Code.Canceled));
    this.#pool.close();
    this.#observer.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
