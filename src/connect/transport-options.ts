/**
 * The options and public shape of the balancing transport, and how options
 * turn into pickers and `node:http2` settings.
 *
 * @module
 */
import { Code, ConnectError, type Interceptor, type Transport } from "@connectrpc/connect";
import type { Http2ConnectOptions } from "../runtime/http2-client.ts";
import type { CompressionName } from "./call/call-config.ts";
import type { KeepaliveOptions } from "./channel/keepalive.ts";
import type { LifecycleName } from "./channel/lifecycle.ts";
import type { JsonCodecOptions } from "./protocol/codec.ts";
import type { WireProtocol } from "./protocol/wire-protocol.ts";
import type { Logger } from "./logger.ts";
import type { TelemetryOptions } from "./telemetry/otel-api.ts";

/**
 * Endpoint states: `connecting`, `ready`, `not-serving` (its health watch
 * said NOT_SERVING: no new calls, its calls run on), `backoff`, `draining`
 * (removed, calls still running), `closed`.
 */
export type ChannelState = LifecycleName;

/** The wire protocol spoken to endpoints: `"grpc"`, `"connect"` or `"grpc-web"`. */
export type EndpointProtocol = WireProtocol;
import type { EndpointInstance, EndpointSource } from "./endpoint-source.ts";
import type { HealthCheckOptions } from "./channel/probe.ts";
export type { HealthCheckOptions } from "./channel/probe.ts";
import { p2c, randomPicker, roundRobin, weightedRoundRobin, type PickerPolicy } from "./picker.ts";
import type { BackoffPolicy, TransportClock } from "./transport-clock.ts";
import type { EmptySetPolicy } from "./policy/empty-set.ts";
import type { EjectionReason, OutlierDetectionOptions } from "./policy/outlier-detection.ts";
import type { SlowStartOptions } from "./policy/slow-start.ts";
import type { ZoneOptions } from "./policy/zone.ts";
import type { HedgingOptions } from "./policy/hedging.ts";
import type { RetryOptions } from "./policy/retry.ts";
import type { RetryBudgetOptions } from "./policy/retry-budget.ts";
import type { SubsetOption, SubsetOptions } from "./subset-config.ts";

/** TLS settings for `grpcs` endpoints. */
export interface TlsOptions {
  /** PEM CA bundle to trust (default: the runtime's roots). */
  readonly ca?: string;
  /** PEM client certificate, for mutual TLS. */
  readonly cert?: string;
  /** PEM client key, for mutual TLS. */
  readonly key?: string;
  /** Server name to verify instead of the Pod IP (SNI). */
  readonly serverName?: string;
  /** `false` skips verification (tests only). */
  readonly rejectUnauthorized?: boolean;
}

/** A balancer by name, or a custom picker policy. */
export type BalancerOption = "round_robin" | "p2c" | "wrr" | "random" | PickerPolicy;

/** One endpoint's state, for diagnostics and observability. */
export interface EndpointStatus {
  /** `host:port`. */
  readonly address: string;
  /** `connecting`, `ready`, `not-serving`, `backoff`, `draining` (removed, calls still running) or `closed`. */
  readonly state: ChannelState;
  /** Calls and streams not finished. */
  readonly inflight: number;
  /** Consecutive connect or probe failures. */
  readonly failures: number;
  /** The last connect or probe error, as text. */
  readonly lastError?: string;
  /** Why outlier detection ejected it, while it is ejected. */
  readonly ejected?: EjectionReason;
  /** Its slow-start weight factor (0–1) while it ramps up. */
  readonly slowStartWeight?: number;
}

/** An endpoint state change, reported to `onEvent`. */
export interface EndpointEvent {
  /** `host:port`. */
  readonly address: string;
  /** The state entered. */
  readonly state: ChannelState;
  /** Why it left `ready` or failed a probe, when known. */
  readonly error?: unknown;
}

/** Options of {@link createDiscoveryTransport}. */
export interface DiscoveryTransportOptions {
  /** Any Discovery, e.g. `KubernetesRegistry`. */
  readonly discovery: EndpointSource;
  /** `discovery:///<service-name>`. */
  readonly target: string;
  /** Wire protocol: `"grpc"` (default, what Go Kratos servers speak), `"connect"` or `"grpc-web"`. */
  readonly protocol?: EndpointProtocol;
  /** `"round_robin"` (default), `"p2c"`, `"wrr"`, `"random"`, or a custom {@link PickerPolicy}. */
  readonly balancer?: BalancerOption;
  /** Use `grpcs` (`https` for Connect/gRPC-web) endpoints, optionally with TLS settings. Default `false`. */
  readonly secure?: boolean | TlsOptions;
  /** Only instances of this version (Kratos `filter.Version`). */
  readonly version?: string;
  /** Only instances this returns `true` for. */
  readonly filter?: (instance: EndpointInstance) => boolean;
  /**
   * Which instances this client connects to: a Kratos subset size (default
   * 25; 0 = every instance), or {@link SubsetOptions} for rendezvous hashing
   * or Finagle's deterministic aperture (positioned by `index`/`count` or by
   * this client's own service in discovery, `self`).
   */
  readonly subset?: SubsetOption;
  /** The client's subset key for `"kratos"` and `"rendezvous"` subsets (default: a random UUID per transport, as Kratos). */
  readonly subsetKey?: string;
  /** How long a call waits for a first ready endpoint (default 10 000 ms, Kratos resolver `WithTimeout`). */
  readonly resolveTimeoutMs?: number;
  /** Deadline of calls that set none (default: none). */
  readonly defaultTimeoutMs?: number;
  /**
   * How long calls and streams may keep running on an endpoint that left
   * discovery before its connection is closed and they fail with
   * `Code.Unavailable` (default: no limit; the endpoint closes when its last
   * call ends, as grpc-go's graceful close). Set it when long-lived streams
   * should move to the remaining endpoints.
   */
  readonly drainTimeoutMs?: number;
  /** Connect (and probe) timeout per endpoint (default 5 000 ms). */
  readonly connectTimeoutMs?: number;
  /**
   * Probe endpoints with grpc.health.v1 Check (default `true`, service
   * `""`); `false` = plain connect. When a Check gets a status, the
   * endpoint's health is also watched (`grpc.health.v1.Health/Watch`, one
   * background stream per endpoint): NOT_SERVING takes it out of picking at
   * once (state `not-serving`; its calls run on), SERVING brings it back.
   * `{ service, watch: false }` keeps Check probes only.
   */
  readonly healthCheck?: boolean | HealthCheckOptions;
  /**
   * Interceptors run once per logical call, before an endpoint is picked,
   * whatever the attempts (as connect's own transports run them; never on
   * the health probes). The request's `url` names the service.
   */
  readonly interceptors?: Interceptor[];
  /** Interceptors run on each attempt, with the picked endpoint's URL (inside `interceptors`). */
  readonly attemptInterceptors?: Interceptor[];
  /**
   * OpenTelemetry metrics and traces (`{ api }`, the `@opentelemetry/api`
   * module, plus optional providers and propagator). Default: none, and
   * nothing of OpenTelemetry is loaded.
   */
  readonly telemetry?: TelemetryOptions;
  /** Log records (ejections, recoveries, discovery errors, retries); default: silent. `consoleLogger()` prints them. */
  readonly logger?: Logger;
  /**
   * Keepalive of each HTTP/2 connection (the field names of connect-node's
   * `Http2SessionOptions`: `pingIntervalMs`, `pingTimeoutMs`,
   * `pingIdleConnection`, `idleConnectionTimeoutMs`). Default: no PINGs, as
   * connect-node and grpc-go clients (a dead peer is then found by
   * deadlines), idle connections closed after 15 min. grpc-go servers reject
   * PINGs more often than every 5 min by default.
   */
  readonly keepalive?: KeepaliveOptions;
  /** Extra `node:http2` connect options (`settings`, `maxSessionMemory`, TLS options, …). */
  readonly http2Options?: Http2ConnectOptions;
  /** Protobuf binary messages (default `true`); `false` sends JSON (`application/grpc+json`, `application/json`, …). */
  readonly useBinaryFormat?: boolean;
  /** JSON options when `useBinaryFormat` is false, e.g. a `registry` for `google.protobuf.Any` fields. */
  readonly jsonOptions?: JsonCodecOptions;
  /** Compress request messages with gzip (default: no compression). */
  readonly sendCompression?: CompressionName;
  /** Only messages at least this many bytes are compressed (default 1024). */
  readonly compressMinBytes?: number;
  /** Encodings accepted in responses (default `["gzip"]`; `[]` = identity only). */
  readonly acceptCompression?: readonly CompressionName[];
  /** Largest response message in bytes, after decompression (default 4 MiB, as gRPC). */
  readonly readMaxBytes?: number;
  /** Largest request message in bytes (default 4 MiB). */
  readonly writeMaxBytes?: number;
  /**
   * Replace each connection after this many ms (±10 %): a new connection is
   * dialed, the old one finishes its calls. Long-lived clients then spread
   * onto Pods that started later. Default: never.
   */
  readonly maxConnectionAgeMs?: number;
  /**
   * Outlier detection (gRPC / Envoy semantics): endpoints whose calls fail
   * are ejected for a while. Default: on, with Envoy's and gRPC's defaults
   * (5 consecutive failures, success-rate ejection over 10 s intervals, 30 s
   * base ejection, at most 10 % ejected, panic below 50 % healthy); `false`
   * turns it off. See {@link OutlierDetectionOptions}.
   */
  readonly outlierDetection?: OutlierDetectionOptions | false;
  /**
   * Slow start (Envoy `slow_start_config`) for endpoints that become ready
   * while others serve: their share of calls ramps up over `windowMs`.
   * Default: off (as Envoy).
   */
  readonly slowStart?: SlowStartOptions | false;
  /**
   * What an empty instance list means. `"fail"` (default): an empty list
   * from a synced watch (the Kubernetes registry reports its state) drops
   * every endpoint, and calls wait up to `resolveTimeoutMs` then fail with
   * `Unavailable` naming the service; while discovery is unsynced or
   * failing, and for sources that report no state, the last endpoints are
   * kept. `"keep-last"`: always keep them, as Kratos does.
   */
  readonly emptySet?: EmptySetPolicy;
  /**
   * Zone-aware picking (Kubernetes `PreferSameZone`, Envoy zone-aware
   * routing): calls go to endpoints in the caller's zone `local` while at
   * least `minLocalPercent` % (50) of them are ready and not ejected, and
   * spill over to every zone otherwise. Zones come from instance metadata
   * `key` (`"zone"`, set for EndpointSlice instances), or from EndpointSlice
   * hints (`hints.forZones`) when every endpoint has them. Without `local`,
   * the `KRATOS_KUBE_ZONE` environment variable names the zone. Default:
   * off. See {@link ZoneOptions}.
   */
  readonly zone?: ZoneOptions | false;
  /**
   * Attempts per call when earlier ones were provably not sent (default 3).
   * These retries are free: no backoff, no budget, any method.
   */
  readonly maxAttempts?: number;
  /**
   * Retries of unary calls the server processed but failed (gRPC
   * `retryPolicy`, gRFC A6), on another endpoint when there is one, after a
   * backoff with full jitter, within the call's deadline and the retry
   * budget. Default: on for the methods whose descriptor declares
   * `idempotency_level` `NO_SIDE_EFFECTS` or `IDEMPOTENT`, code
   * `Unavailable`, 3 attempts, backoff bound 10 ms ×2 up to 1 s; `methods`
   * adds methods by name; `false` turns it off. See {@link RetryOptions}.
   */
  readonly retry?: RetryOptions | false;
  /**
   * Bounds retries and hedges per transport (Finagle's `RetryBudget`,
   * Linkerd's `retryBudget`): at most `ratio` (0.2) per call made in the
   * last `windowMs` (10 s), plus `minRetriesPerSecond` (10); beyond that a
   * failure is returned, not retried. Retries of attempts that provably
   * were not sent do not count. `false` = no budget (not recommended).
   */
  readonly retryBudget?: RetryBudgetOptions | false;
  /**
   * Hedging of idempotent unary calls (gRPC `hedgingPolicy`): after
   * `delayMs` without an answer another attempt goes to another endpoint,
   * up to `maxAttempts` (2); the first OK (or fatal) answer wins, the others
   * are cancelled; hedges count against the retry budget. Default: off. A
   * hedged method is not also retried. See {@link HedgingOptions}.
   */
  readonly hedging?: HedgingOptions | false;
  /** Reconnect backoff (default 1 s ×1.6 ±20 %, max 120 s). */
  readonly backoff?: BackoffPolicy;
  /** Time for waits, backoff, connect timeouts and p2c (default: `performance.now()` and unref'd timers). */
  readonly clock?: TransportClock;
  /** Randomness for p2c, random, backoff jitter (default `Math.random`). */
  readonly random?: () => number;
  /** Discovery errors (the watch is restarted after a second). */
  readonly onError?: (error: Error) => void;
  /** Endpoint state changes. */
  readonly onEvent?: (event: EndpointEvent) => void;
}

/** The transport {@link createDiscoveryTransport} returns. */
export interface DiscoveryTransport extends Transport, AsyncDisposable {
  /** The service name from the target. */
  readonly service: string;
  /** A snapshot of every endpoint (including draining ones). */
  endpoints(): EndpointStatus[];
  /** Resolves once at least `count` (default 1) endpoints are ready; rejects on abort or close. */
  ready(o?: { count?: number; signal?: AbortSignal }): Promise<void>;
  /** Stops the watch and closes every session; in-flight calls fail. Idempotent. */
  close(): Promise<void>;
}

/** The picker policy for a `balancer` option. */
export function policyOf(b: BalancerOption | undefined, clock: TransportClock, random: () => number): PickerPolicy {
  if (b === undefined || b === "round_robin") return roundRobin();
  if (b === "p2c") return p2c({ clock, random });
  if (b === "wrr") return weightedRoundRobin();
  if (b === "random") return randomPicker({ random });
  if (typeof b === "object" && typeof b.build === "function") return b;
  throw new ConnectError(`unknown balancer ${JSON.stringify(b)}`, Code.InvalidArgument);
}

/** `node:http2` connect options for `secure`, merged over `http2Options`. */
export function http2OptionsFor(
  secure: boolean | TlsOptions | undefined,
  http2Options: Http2ConnectOptions | undefined,
): Http2ConnectOptions | undefined {
  if (typeof secure !== "object") return http2Options;
  return {
    ...http2Options,
    ...(secure.ca !== undefined ? { ca: secure.ca } : {}),
    ...(secure.cert !== undefined ? { cert: secure.cert } : {}),
    ...(secure.key !== undefined ? { key: secure.key } : {}),
    ...(secure.serverName !== undefined ? { servername: secure.serverName } : {}),
    ...(secure.rejectUnauthorized !== undefined ? { rejectUnauthorized: secure.rejectUnauthorized } : {}),
  } as Http2ConnectOptions;
}
