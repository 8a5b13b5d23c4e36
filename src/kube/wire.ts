/**
 * Wire types of the Kubernetes core/v1 objects kratos-kube reads and writes.
 *
 * Only the fields the library uses are typed; everything else passes through
 * untouched as `unknown`. Values arriving from the network are never trusted
 * to match these types: decoders validate before use.
 *
 * @module
 */

/** `metav1.ObjectMeta`, the fields kratos-kube reads. */
export interface ObjectMeta {
  name?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string | null;
  deletionTimestamp?: string | null;
  deletionGracePeriodSeconds?: number | null;
  labels?: Record<string, string> | null;
  annotations?: Record<string, string> | null;
  [key: string]: unknown;
}

/** `metav1.ListMeta`. */
export interface ListMeta {
  resourceVersion?: string;
  continue?: string;
  remainingItemCount?: number;
}

/** A container port of a Pod spec. */
export interface ContainerPort {
  name?: string;
  containerPort: number;
  protocol?: string;
  hostPort?: number;
  hostIP?: string;
}

/** A container of a Pod spec (only what discovery needs). */
export interface Container {
  name: string;
  image?: string;
  ports?: ContainerPort[] | null;
  [key: string]: unknown;
}

/** A Pod condition such as `Ready`. */
export interface PodCondition {
  type: string;
  status: "True" | "False" | "Unknown" | string;
  lastTransitionTime?: string | null;
  reason?: string;
  message?: string;
}

/** `core/v1` Pod. */
export interface Pod {
  kind?: string;
  apiVersion?: string;
  metadata: ObjectMeta;
  spec?: {
    containers?: Container[] | null;
    nodeName?: string;
    restartPolicy?: string;
    schedulerName?: string;
    serviceAccountName?: string;
    hostNetwork?: boolean;
    terminationGracePeriodSeconds?: number;
    [key: string]: unknown;
  };
  status?: {
    phase?: string;
    conditions?: PodCondition[] | null;
    podIP?: string;
    podIPs?: { ip: string }[] | null;
    hostIP?: string;
    nominatedNodeName?: string;
    [key: string]: unknown;
  };
}

/**
 * Any object of the API as far as the list-and-watch loop reads it: only
 * `metadata` (name, namespace, resourceVersion) is looked at; resource
 * descriptors project the rest.
 */
export interface KubeObject {
  kind?: string;
  apiVersion?: string;
  metadata: ObjectMeta;
}

/** A LIST answer of any resource (`PodList`, `EndpointSliceList`, …). */
export interface KubeObjectList<T extends KubeObject = KubeObject> {
  kind?: string;
  apiVersion?: string;
  metadata: ListMeta;
  items: T[];
}

/** `core/v1` ObjectReference, as EndpointSlice endpoints carry it in `targetRef`. */
export interface ObjectReference {
  kind?: string;
  namespace?: string;
  name?: string;
  uid?: string;
  apiVersion?: string;
  resourceVersion?: string;
  fieldPath?: string;
}

/** `discovery/v1` EndpointConditions; `ready` and `serving` mean true when absent, `terminating` false. */
export interface EndpointConditions {
  ready?: boolean | null;
  serving?: boolean | null;
  terminating?: boolean | null;
}

/** `discovery/v1` EndpointHints. */
export interface EndpointHints {
  forZones?: { name: string }[] | null;
  forNodes?: { name: string }[] | null;
}

/** `discovery/v1` Endpoint: one backend of a Service. */
export interface Endpoint {
  /** At least one address; they are fungible and clients may use only the first. */
  addresses: string[];
  conditions?: EndpointConditions;
  hostname?: string;
  targetRef?: ObjectReference;
  nodeName?: string;
  zone?: string;
  hints?: EndpointHints;
}

/** `discovery/v1` EndpointPort. A nil `port` means "all ports". */
export interface EndpointPort {
  name?: string;
  protocol?: string;
  port?: number | null;
  appProtocol?: string;
}

/** `discovery/v1` EndpointSlice. */
export interface EndpointSlice {
  kind?: string;
  apiVersion?: string;
  metadata: ObjectMeta;
  /** `IPv4`, `IPv6` or `FQDN`; immutable. */
  addressType: string;
  endpoints: Endpoint[] | null;
  ports?: EndpointPort[] | null;
}

/** `discovery/v1` EndpointSliceList. */
export interface EndpointSliceList {
  kind?: string;
  apiVersion?: string;
  metadata: ListMeta;
  items: EndpointSlice[];
}

/** `core/v1` PodList. */
export interface PodList {
  kind?: string;
  apiVersion?: string;
  metadata: ListMeta;
  items: Pod[];
}

/** `metav1.Status`, the body of every API error and of in-stream `ERROR` events. */
export interface Status {
  kind: "Status";
  apiVersion: "v1";
  metadata: ListMeta;
  status: "Success" | "Failure";
  message?: string;
  reason?: string;
  details?: {
    name?: string;
    group?: string;
    kind?: string;
    uid?: string;
    causes?: { reason?: string; message?: string; field?: string }[];
    retryAfterSeconds?: number;
  };
  code: number;
}

/** The event types a watch stream may carry; anything else is a decode error. */
export const WATCH_EVENT_TYPES: readonly ["ADDED", "MODIFIED", "DELETED", "BOOKMARK", "ERROR"] = [
  "ADDED",
  "MODIFIED",
  "DELETED",
  "BOOKMARK",
  "ERROR",
];

/** One of {@link WATCH_EVENT_TYPES}. */
export type WatchEventType = (typeof WATCH_EVENT_TYPES)[number];

/** One line of a watch stream, `{"type":T,"object":{…}}`. */
export interface WatchEvent<T = Pod> {
  type: WatchEventType;
  object: T | Status;
}

/** The annotation that marks the bookmark ending a streaming list's initial events. */
export const INITIAL_EVENTS_END_ANNOTATION = "k8s.io/initial-events-end";
