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
 * endpoints that fail to connect are ejected with gRPC connection backoff; a
 * call is retried on another endpoint only when it provably was not sent.
 *
 * Errors: `ConnectError` codes as connect-node reports them; `Unavailable`
 * (naming the service and what discovery saw) when no endpoint became ready
 * in time; `EndpointConfigError` for a bad target.
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
  TlsOptions,
} from "./balancing-transport.ts";
export type { EndpointInstance, EndpointSource, InstanceWatcher } from "./endpoint-source.ts";
export { EndpointConfigError } from "./endpoint-source.ts";
export type { EndpointConfigErrorCode } from "./endpoint-source.ts";
export { createManualDiscovery, WatcherStoppedError } from "./manual-discovery.ts";
export type { ManualDiscovery } from "./manual-discovery.ts";

// Advanced: custom pickers, endpoint transports, Kratos helpers
export { createNodeStats, p2c, p2cWeight, P2C_FORCE_PICK_MS, P2C_TAU_MS, randomPicker, roundRobin, weightedRoundRobin } from "./picker.ts";
export type { NodeStats, Picker, PickerClock, PickerNode, PickerPolicy } from "./picker.ts";
export { DEFAULT_SUBSET_SIZE, fnv32a, subset, subsetMemberKey, SUBSET_REPLICAS } from "./subset.ts";
export { DEFAULT_WEIGHT, endpointAddress, instanceWeight, parseTarget, resolveEndpoints, routableAddress, routingScheme } from "./endpoint-source.ts";
export type { ResolvedEndpoint, RoutingOptions, RoutingProtocol } from "./endpoint-source.ts";
export { defaultTransportFactory, transportFactoryWith } from "./legacy/endpoint-channel.ts";
export type { ChannelState, EndpointProtocol, EndpointTransportFactory, Http2ConnectOptions, SessionManager } from "./legacy/endpoint-channel.ts";
export { backoffDelay, DEFAULT_BACKOFF, realClock } from "./transport-clock.ts";
export type { BackoffPolicy, TransportClock, TransportTimer } from "./transport-clock.ts";
