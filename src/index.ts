/**
 * `kratos-kube`: Kratos-compatible service registry and discovery on
 * Kubernetes Pods, for Node, Bun and Deno.
 *
 * A service registers by patching its own Pod with the `kratos-service-*`
 * labels and annotations go-kratos's `contrib/registry/kubernetes` writes;
 * clients list-and-watch Pods and read them as {@link ServiceInstance}s. A Go
 * Kratos service discovers a kratos-kube service and the other way round.
 *
 * - {@link KubernetesRegistry}: `register`/`deregister`, `getService`, `watch`.
 *   No `start()` is needed; the first use starts the watch it needs. Targets:
 *   `name` / `discovery:///name` (Kratos services in the watched namespaces),
 *   `discovery://namespace/name`, and `kubernetes:///service.namespace:port`
 *   (any Kubernetes Service, through its EndpointSlices).
 * - {@link KubernetesDiscovery}: the same discovery without registration.
 * - Pure conversions (pod → instance, instance → patch body) for tools and tests.
 *
 * ## Errors
 * Public calls reject with a {@link RegistryError} with a stable `code`:
 * `INVALID_INSTANCE` (before any request), `NO_POD_IDENTITY`, `FORBIDDEN`
 * (naming verb, resource, namespace and identity), `UNAUTHORIZED`, `REGISTER_FAILED`,
 * `INVALID_TARGET`, `SYNC_TIMEOUT`, `CLOSED`.
 *
 * ## Recovery
 * The pod watch never gives up: errors go to `onError` while it retries with
 * backoff, and a malformed pod is skipped and reported through `onSkippedPod`
 * without hiding the healthy ones.
 *
 * @example
 * ```ts
 * import { KubernetesRegistry } from "kratos-kube";
 * await using registry = new KubernetesRegistry();
 * await registry.register({ id: "sayhello-1", name: "sayhello.service", version: "v1", metadata: {}, endpoints: ["grpc://0.0.0.0:9000"] });
 * const watcher = await registry.watch("sayhello.service");
 * for await (const instances of watcher) console.log(instances.map((i) => i.endpoints));
 * ```
 *
 * @module
 */

// ── end-user API ──────────────────────────────────────────────────────────
export { KubernetesRegistry, DEFAULT_SYNC_TIMEOUT_MS } from "./registry/kubernetes-registry.ts";
export type { KubernetesRegistryOptions } from "./registry/kubernetes-registry.ts";
export { KubernetesDiscovery } from "./registry/kubernetes-discovery.ts";
export type { KubernetesDiscoveryOptions } from "./registry/kubernetes-discovery.ts";
export type { ServiceInstance, Selection } from "./registry/kratos-codec.ts";
export type { Discovery, DiscoveryCallOptions, DiscoveryState, ServiceWatcher, SkippedPodHook } from "./registry/discovery.ts";
export type { AddressFamily } from "./registry/endpoint-set.ts";
export { DEFAULT_MOVE_GRACE_MS } from "./registry/endpoint-set.ts";
export type { Registrar, RegistrationInstance } from "./registry/registrar.ts";
export { RegistryError } from "./registry/errors.ts";
export type { RegistryErrorCode } from "./registry/errors.ts";
export { KubeConfig } from "./kube/config.ts";
/** The logger hook and the `telemetry` option's types (shared with `kratos-kube/connect`). */
export { consoleLogger, filterLevel } from "./connect/logger.ts";
export type { Logger, LogLevel, LogRecord } from "./connect/logger.ts";
export type { OtelApi, OtelMeterProvider, OtelTracerProvider, OtelPropagator, TelemetryOptions } from "./connect/telemetry/otel-api.ts";

// ── advanced: pure Kratos conversions, building blocks ────────────────────
export {
  instanceFromPod,
  instanceFromRecord,
  selectInstance,
  isSelected,
  isMalformed,
  parseStringMapAnnotation,
  registerPatchBody,
  deregisterPatchBody,
  registrationMetadata,
  validateInstance,
  labelValueProblem,
  protocolsFromEndpoints,
  endpointSchemePort,
} from "./registry/kratos-codec.ts";
export type { InstanceResult, SkipCode } from "./registry/kratos-codec.ts";
export { createRegistrar } from "./registry/registrar.ts";
export type { RegistrarOptions, PodIdentity } from "./registry/registrar.ts";
export { createDiscovery } from "./registry/discovery.ts";
export type { DiscoveryOptions, ClosableDiscovery } from "./registry/discovery.ts";
export { parseDiscoveryTarget, formatTarget } from "./registry/target.ts";
export type { DiscoveryTarget, TargetScheme } from "./registry/target.ts";
export {
  KRATOS_LABEL_ID,
  KRATOS_LABEL_APP,
  KRATOS_LABEL_VERSION,
  KRATOS_ANNOTATION_PROTOCOLS,
  KRATOS_ANNOTATION_METADATA,
  KRATOS_ANNOTATIONS,
  kratosPodResource,
  kratosServiceOf,
  projectKratosPod,
} from "./registry/kratos-pods.ts";
/** Advanced: the Kratos pod cache (moved here from `kratos-kube/kube`). */
export { createPodCache } from "./registry/pod-cache.ts";
export type { PodCache, PodCacheOptions, PodCacheView, PodChange } from "./registry/pod-cache.ts";
export { createEndpointSet, portScheme, slicePorts } from "./registry/endpoint-set.ts";
export type { EndpointSetOptions } from "./registry/endpoint-set.ts";
export { serviceOfSlice, serviceSliceResource } from "./registry/endpoint-slice-model.ts";
