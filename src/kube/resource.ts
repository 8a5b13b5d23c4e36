/**
 * Resource descriptors: what the list-and-watch loop and the cache need to
 * know about one kind of object, so Pods, EndpointSlices and any other
 * resource go through the same code.
 *
 * A descriptor names the REST resource (group, version, plural: the path),
 * projects each object read from the API into a small immutable record (the
 * wire type `W` in, the record `R` out) and lists the index functions the
 * cache files records under. Projection and indexes belong to the caller, so
 * `kube/` knows no vocabulary of its users: the registry passes the labels and
 * annotations it reads and its own membership index.
 *
 * The projection is per descriptor on purpose: its protobuf reader
 * ({@link ResourceDescriptor.protobuf}) reads the protobuf encoding of the same
 * resource into the small wire object `project` takes, skipping what the
 * projection drops.
 *
 * @module
 */
import type { ProtobufProjection } from "./protobuf/decoder.ts";
import type { KubeObject } from "./wire.ts";

/** The REST identity of a resource. */
export interface ResourceType {
  /** API group; `""` for the core group (`/api/v1`). */
  readonly group: string;
  /** API version, e.g. `v1`. */
  readonly version: string;
  /** Plural resource name used in paths and RBAC, e.g. `pods`, `endpointslices`. */
  readonly resource: string;
  /** The object kind, e.g. `Pod`, `EndpointSlice`. */
  readonly kind: string;
}

/** What every cached record carries: the object's identity and version. */
export interface ObjectRecord {
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
  readonly resourceVersion: string;
}

/**
 * An index function: the one value a record is filed under in that index,
 * or undefined to leave it out (client-go `cache.IndexFunc`, single-valued).
 */
export type IndexFunction<R> = (record: R) => string | undefined;

/** A resource as the reflector and the cache handle it. */
export interface ResourceDescriptor<R extends ObjectRecord = ObjectRecord, W extends KubeObject = KubeObject> extends ResourceType {
  /**
   * Projects one object read from the API into a record. Returns a string
   * (the reason) instead of throwing when the object cannot be cached; every
   * other oddity should be tolerated so one strange object never stops a cache.
   *
   * `previous` is the record cached under the same namespace/name, which this
   * one replaces: a projection may reuse its unchanged parts, so a new
   * version of an object costs what changed (and the young generation keeps
   * fewer survivors). Optional to use.
   */
  project(object: W, previous?: R): R | string;
  /** Index name → index function. The cache keeps each index up to date. */
  readonly indexes?: Readonly<Record<string, IndexFunction<R>>> | undefined;
  /** Server-side label selector every list and watch of this descriptor sends; default none. */
  readonly labelSelector?: string | undefined;
  /**
   * Reads this resource's protobuf encoding into the wire object `project`
   * takes, keeping only what it reads. Without it the client asks for JSON
   * only. `podResource` and `endpointSliceResource` set it.
   */
  readonly protobuf?: ProtobufProjection<W> | undefined;
}

/** The core/v1 Pod resource. */
export const POD_RESOURCE: ResourceType = Object.freeze({ group: "", version: "v1", resource: "pods", kind: "Pod" });
/** The discovery.k8s.io/v1 EndpointSlice resource. */
export const ENDPOINT_SLICE_RESOURCE: ResourceType = Object.freeze({
  group: "discovery.k8s.io",
  version: "v1",
  resource: "endpointslices",
  kind: "EndpointSlice",
});

/**
 * The API path of a resource: `/api/v1/pods`, `/api/v1/namespaces/NS/pods`,
 * `/apis/GROUP/VERSION/namespaces/NS/RESOURCE/NAME`. `namespace` undefined
 * means all namespaces.
 */
export function resourcePath(type: ResourceType, namespace?: string, name?: string): string {
  const base = type.group === "" ? `/api/${type.version}` : `/apis/${type.group}/${type.version}`;
  const ns = namespace === undefined ? "" : `/namespaces/${encodeURIComponent(namespace)}`;
  const obj = name === undefined ? "" : `/${encodeURIComponent(name)}`;
  return `${base}${ns}/${type.resource}${obj}`;
}

/** A resource's name in messages, as kubectl writes it: `pods`, `endpointslices.discovery.k8s.io`. */
export function resourceName(type: ResourceType): string {
  return type.group === "" ? type.resource : `${type.resource}.${type.group}`;
}

/** The cache key of an object: `namespace/name`. */
export function objectKey(namespace: string, name: string): string {
  // One flat string (a cache keeps one per object): `+` would keep the pieces too.
  return [namespace, "/", name].join("");
}

/** `namespace/name` of an object as read from the wire, with `?` for what is missing (for messages). */
export function describeObject(object: unknown): string {
  const meta = (object as KubeObject | undefined)?.metadata;
  const ns = typeof meta?.namespace === "string" && meta.namespace !== "" ? meta.namespace : "?";
  const name = typeof meta?.name === "string" && meta.name !== "" ? meta.name : "?";
  return `${ns}/${name}`;
}
