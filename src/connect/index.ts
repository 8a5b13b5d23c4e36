/**
 * `kratos-kube/connect`: a Connect-RPC transport that balances calls over the
 * Pods of a Kratos service found through discovery.
 *
 * ```ts
 * import { createClient } from "@connectrpc/connect";
 * import { createDiscoveryTransport } from "kratos-kube/connect";
 * const transport = createDiscoveryTransport({ discovery: registry, target: "discovery:///sayhello.service" });
 * const client = createClient(Greeter, transport);
 * ```
 *
 * Recovery: endpoints follow discovery (new ones are connected eagerly,
 * removed ones are never picked again and close once their calls end);
 * endpoints that fail to connect are ejected with gRPC connection backoff;
 * endpoints whose calls fail are ejected by outlier detection; a call is
 * retried on another endpoint when it provably was not sent, and a unary
 * call of an idempotent method also when it failed with `Unavailable`
 * (within a retry budget); hedging is opt-in.
 *
 * Calls go over kratos-kube's own gRPC / Connect / gRPC-web client on one
 * `node:http2` connection per endpoint (verified with the Connect
 * conformance suite).
 *
 * Errors: `ConnectError` codes as gRPC defines them; `Unavailable` (naming
 * the service and what discovery saw) when no endpoint became ready in time,
 * and for a call in flight when its connection died; `EndpointConfigError`
 * for a bad target.
 *
 * @module
 */

// End-user API
export { createDiscoveryTransport, isUnsentError } from "./balancing-transport.ts";
export type {
  BalancerOption,
  DiscoveryTransport,
  DiscoveryTransportOptions,
  EndpointEvent,
  EndpointStatus,
  HealthCheckOptions,
  TlsOptions,
} from "./balancing-transport.ts";
export type { EndpointInstance, EndpointSource, EndpointSourceWatchOptions, InstanceWatcher, InstanceWatcherState } from "./endpoint-source.ts";
export { EndpointConfigError } from "./endpoint-source.ts";
export type { EndpointConfigErrorCode } from "./endpoint-source.ts";
export { createManualDiscovery, WatcherStoppedError } from "./manual-discovery.ts";
export type { ManualDiscovery } from "./manual-discovery.ts";
export type { EmptySetPolicy } from "./policy/empty-set.ts";
export type { EjectionReason, FailurePercentageEjection, OutlierDetectionOptions, SuccessRateEjection } from "./policy/outlier-detection.ts";
export type { SlowStartOptions } from "./policy/slow-start.ts";
export type { ZoneOptions } from "./policy/zone.ts";
export type { MethodSelection, RetryOptions } from "./policy/retry.ts";
export type { RetryBudgetOptions } from "./policy/retry-budget.ts";
export type { HedgingOptions } from "./policy/hedging.ts";
export { ringHash } from "./policy/ring-hash.ts";
export type { RingHashOptions } from "./policy/ring-hash.ts";
export type { SubsetAlgorithm, SubsetOption, SubsetOptions, SubsetSelf } from "./subset-config.ts";

// Advanced: custom pickers, Kratos helpers, the health service the probes call
export { createNodeStats, p2c, p2cWeight, P2C_FORCE_PICK_MS, P2C_TAU_MS, randomPicker, roundRobin, weightedRoundRobin } from "./picker.ts";
export type { NodeStats, Picker, PickerClock, PickerNode, PickerPolicy, PickRequest } from "./picker.ts";
export { headerValue, RING_HASH_LOAD_FACTOR, RING_HASH_REPLICAS } from "./policy/ring-hash.ts";
export { subsetChooser } from "./subset-config.ts";
export type { SubsetChooser } from "./subset-config.ts";
export { apertureSubset, peerPosition } from "./subset-aperture.ts";
export type { PeerPosition } from "./subset-aperture.ts";
export { rendezvousScore, rendezvousSubset } from "./subset-rendezvous.ts";
export { DEFAULT_FAILURE_CODES, OutlierDetector, outlierConfig } from "./policy/outlier-detection.ts";
export type { EjectionChange, OutlierConfig } from "./policy/outlier-detection.ts";
export { slowStartConfig, slowStartFactor } from "./policy/slow-start.ts";
export { MAX_ATTEMPTS_LIMIT, methodFilter, retryBackoffMs, retryConfig, retryDelay } from "./policy/retry.ts";
export type { RetryConfig, RetryInput } from "./policy/retry.ts";
export { RetryBudget, retryBudgetConfig } from "./policy/retry-budget.ts";
export type { RetryBudgetConfig } from "./policy/retry-budget.ts";
export { HedgeState, hedgingConfig } from "./policy/hedging.ts";
export type { HedgeAction, HedgeOutcome, HedgingConfig } from "./policy/hedging.ts";
export type { SlowStartConfig } from "./policy/slow-start.ts";
export { DEFAULT_SUBSET_SIZE, fnv32a, subset, subsetMemberKey, SUBSET_REPLICAS } from "./subset.ts";
export { DEFAULT_WEIGHT, endpointAddress, instanceWeight, parseTarget, parseTargetParts, resolveEndpoints, routableAddress, routingScheme } from "./endpoint-source.ts";
export type { ResolvedEndpoint, RoutingOptions, RoutingProtocol, TargetParts } from "./endpoint-source.ts";
export type { ChannelState, EndpointProtocol } from "./transport-options.ts";
export type { Http2ConnectOptions } from "../runtime/http2-client.ts";
export type { KeepaliveOptions } from "./channel/keepalive.ts";
export type { CompressionName } from "./call/call-config.ts";
export type { JsonCodecOptions } from "./protocol/codec.ts";
export { Health, HealthCheckRequestSchema, HealthCheckResponseSchema, HealthCheckResponse_ServingStatus } from "./gen/health_pb.ts";
export { backoffDelay, DEFAULT_BACKOFF, realClock } from "./transport-clock.ts";

// Observability: the logger hook and OpenTelemetry (structural types; `@opentelemetry/api` is never imported)
export { consoleLogger, filterLevel } from "./logger.ts";
export type { Logger, LogLevel, LogRecord } from "./logger.ts";
export type {
  OtelApi,
  OtelMeterProvider,
  OtelPropagator,
  OtelTracerProvider,
  TelemetryOptions,
} from "./telemetry/otel-api.ts";
export { SEMCONV_VERSION } from "./telemetry/instruments.ts";
export type { BackoffPolicy, TransportClock, TransportTimer } from "./transport-clock.ts";
export type { Clock, TimerHandle } from "../runtime/clock.ts";
export { systemClock } from "../runtime/clock.ts";
