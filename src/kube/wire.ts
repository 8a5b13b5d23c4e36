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
