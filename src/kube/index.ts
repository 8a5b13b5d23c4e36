/**
 * `kratos-kube/kube`: a small Kubernetes client for Node, Bun and Deno.
 *
 * - {@link KubeConfig}: where the API is and how to authenticate, from explicit
 *   options, a pod's service account (`inCluster`), kubectl's kubeconfig
 *   (`fromKubeconfig`, exec plugins included) or whichever applies (`load`).
 *   Printing a config never shows a token or key.
 * - {@link createKubeClient}: the pod operations ({@link PodApi}), raw requests
 *   and `SelfSubjectAccessReview`, over the runtime's own TLS-capable fetch or
 *   an injected {@link FetchLike}.
 * - {@link createInformer} / {@link createInformerPool}: list-and-watch caches
 *   of any resource described by a {@link ResourceDescriptor} (path,
 *   projection, indexes); {@link podResource} and
 *   {@link endpointSliceResource} describe Pods and EndpointSlices.
 *
 * ## Errors
 * A non-2xx answer is a {@link KubeApiError} (Status fields, `retryAfterSeconds`,
 * predicates such as `isGone()`); no answer is a {@link KubeConnectionError}
 * naming the server (`tls: true` for certificate problems); an unusable
 * configuration is a {@link KubeConfigError}. Each has a stable `code`.
 *
 * ## Stability
 * The config, client, errors, clock, wire types, resource descriptors and
 * informers are the stable API. The projections, resource helpers, reflector
 * machinery and watch decoder are exported as advanced and unstable (marked
 * "Advanced" below): they may change in a minor release.
 *
 * ## Recovery
 * The client retries only once, after a 401, with a re-read token (token file
 * or exec plugin). Token files are re-read about every 50 s (client-go's 1 min
 * minus 10 s), and a failed read keeps the last good token.
 *
 * @example
 * ```ts
 * import { KubeConfig, createKubeClient } from "kratos-kube/kube";
 * await using client = createKubeClient({ config: await KubeConfig.load() });
 * const pods = await client.listPods({ namespace: client.config.namespace, limit: 500 });
 * ```
 *
 * @module
 */

// ── config, client, errors ────────────────────────────────────────────────
export { KubeConfig } from "./config.ts";
export type { FromKubeconfigOptions, InClusterOptions, KubeConfigOptions, LoadOptions } from "./config.ts";
export { createKubeClient, PATCH_CONTENT_TYPES, KRATOS_KUBE_VERSION } from "./client.ts";
export type { KubeClient, KubeClientOptions, KubeRequestOptions, QueryValues } from "./client.ts";
export type { Encoding } from "./protobuf/negotiation.ts";
export { KubeApiError, KubeConfigError, KubeConnectionError, WatchError } from "./errors.ts";
export type { KubeApiErrorInit, WatchErrorKind } from "./errors.ts";
export { SERVICE_ACCOUNT_DIR } from "./in-cluster.ts";
export { TOKEN_FILE_REFRESH_MS } from "./token-source.ts";

// ── shared contracts ──────────────────────────────────────────────────────
export type { FetchLike } from "./fetch-like.ts";
export type { Clock, TimerHandle } from "./clock.ts";
export { systemClock, sleep } from "./clock.ts";
export type { ListPodsOptions, PatchType, PodApi, WatchPodsOptions } from "./pod-api.ts";
export type { ListOptions, ListWatchApi, WatchOptions } from "./list-watch-api.ts";
export type {
  ContainerPort,
  Container,
  Endpoint,
  EndpointConditions,
  EndpointHints,
  EndpointPort,
  EndpointSlice,
  EndpointSliceList,
  KubeObject,
  KubeObjectList,
  ListMeta,
  ObjectMeta,
  ObjectReference,
  Pod,
  PodCondition,
  PodList,
  Status,
  WatchEvent,
  WatchEventType,
} from "./wire.ts";
export { INITIAL_EVENTS_END_ANNOTATION, WATCH_EVENT_TYPES } from "./wire.ts";

// ── resources and informers ───────────────────────────────────────────────
export { ENDPOINT_SLICE_RESOURCE, POD_RESOURCE } from "./resource.ts";
export type { IndexFunction, ObjectRecord, ResourceDescriptor, ResourceType } from "./resource.ts";
export { podResource } from "./pod-resource.ts";
export type { PodResourceOptions } from "./pod-resource.ts";
export type { PodPort, PodRecord } from "./pod-record.ts";
export { ENDPOINT_SLICE_CONTROLLER, MANAGED_BY_LABEL, SERVICE_NAME_LABEL, endpointSliceResource, sliceAddress, sliceEndpoint, sliceEndpoints } from "./endpoint-slice-record.ts";
export type { EndpointSliceRecord, EndpointSliceResourceOptions, EndpointTraits, SliceEndpoint, SlicePort } from "./endpoint-slice-record.ts";
export { createInformer } from "./informer.ts";
export type { Informer, InformerOptions, InformerState, InformerView, ObjectChange } from "./informer.ts";
export { createInformerPool } from "./informer-pool.ts";
export type { InformerErrorContext, InformerLease, InformerPool, InformerPoolOptions } from "./informer-pool.ts";
/** Advanced: a hook on an informer's loop (relists, watches, events, cache size), for metrics and logs. */
export { lastWrite, observeSink } from "./informer-observer.ts";
export type { InformerObserver } from "./informer-observer.ts";

// ══ Advanced and unstable ═════════════════════════════════════════════════
// Everything below is exported for tools and tests that build their own
// caches; it may change in a minor release (see CHANGELOG.md). The API above
// this line is the stable one.

/** Advanced: resource helpers and the projections behind the descriptors. */
export { describeObject, objectKey, resourceName, resourcePath } from "./resource.ts";
export { projectPod } from "./pod-record.ts";
export type { ProjectPodOptions } from "./pod-record.ts";
export { createPodInterner } from "./pod-resource.ts";
export { createSliceInterner, projectEndpointSlice } from "./endpoint-slice-record.ts";
export type { SliceInterner } from "./endpoint-slice-record.ts";

/**
 * Advanced: the list-and-watch machinery under the informers (a pure state
 * machine, its driver, the backoff policy and the watch-stream decoder).
 */
export { createReflector, Reflector, DEFAULT_BOOKMARK_SILENCE_MS, DEFAULT_IDLE_GRACE_MS, MIN_WATCH_TIMEOUT_SECONDS } from "./reflector/reflector.ts";
export type { ReflectorApi, ReflectorOptions, ReflectorSink } from "./reflector/reflector.ts";
export { IndexSet, ObjectStore } from "./reflector/store.ts";
export { RecordTable } from "./reflector/record-table.ts";
export type { StoreHooks } from "./reflector/store.ts";
export { initialState, step, relistRequest, classifyError, DEFAULT_PAGE_SIZE, VERY_SHORT_WATCH_MS } from "./reflector/state.ts";
export type { Command, Effect, ErrorClass, ReflectorInput, ReflectorState, StepResult, ListRequest, WatchRequest } from "./reflector/state.ts";
export { createBackoff, BACKOFF_FACTOR, BACKOFF_INITIAL_MS, BACKOFF_MAX_MS, BACKOFF_RESET_AFTER_MS } from "./reflector/backoff.ts";
export type { Backoff, BackoffOptions } from "./reflector/backoff.ts";
export { createWatchDecoder, decodeWatchLine, WatchDecodeError, DEFAULT_MAX_LINE_BYTES } from "./watch-decoder.ts";
export type { DecodedWatchEvent, WatchDecoder, WatchDecoderOptions, WatchDecodeResult, WatchDecodeErrorReason } from "./watch-decoder.ts";

/**
 * Advanced: the Kubernetes protobuf decoder (projections that read only what
 * a descriptor keeps, bodies, watch frames) and the marking of protobuf watch
 * bodies for a custom `ListWatchApi`.
 */
export { decodeListBody, decodeObjectBody, decodeStatusBody, endpointSliceProtobuf, podProtobuf } from "./protobuf/decoder.ts";
export type { PodProtobufOptions, ProtobufProjection } from "./protobuf/decoder.ts";
export { createProtobufWatchDecoder } from "./protobuf/watch-decoder.ts";
export type { ProtobufWatchDecoderOptions } from "./protobuf/watch-decoder.ts";
export { ProtobufDecodeError, PROTOBUF_MEDIA_TYPE } from "./protobuf/reader.ts";
export { markProtobufWatch } from "./protobuf/negotiation.ts";
