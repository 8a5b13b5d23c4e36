/**
 * The projection of a `discovery.k8s.io/v1` EndpointSlice that a cache keeps:
 * its address type, ports and, per endpoint, the first address, the
 * conditions, topology (zone, node, hostname), hints and the target
 * reference. Equal strings and hint lists are interned per descriptor.
 *
 * Conditions are read as the API documents them (`discovery/v1` types.go):
 * `ready` and `serving` absent mean true, `terminating` absent means false.
 *
 * @module
 */
import type { IndexFunction, ObjectRecord, ResourceDescriptor } from "./resource.ts";
import { ENDPOINT_SLICE_RESOURCE } from "./resource.ts";
import type { EndpointSlice } from "./wire.ts";
import { endpointSliceProtobuf } from "./protobuf/decoder.ts";

/** The label linking an EndpointSlice to its Service (`discovery.LabelServiceName`). */
export const SERVICE_NAME_LABEL = "kubernetes.io/service-name";
/** The label naming the controller that manages a slice (`discovery.LabelManagedBy`). */
export const MANAGED_BY_LABEL = "endpointslice.kubernetes.io/managed-by";
/** The managed-by value of the control plane's endpointslice controller. */
export const ENDPOINT_SLICE_CONTROLLER = "endpointslice-controller.k8s.io";

/** One port of a slice. */
export interface SlicePort {
  readonly name: string | undefined;
  /** Undefined means "all ports" (a nil port). */
  readonly port: number | undefined;
  /** `TCP` when absent. */
  readonly protocol: string;
  readonly appProtocol: string | undefined;
}

/** One endpoint of a slice, immutable. */
export interface SliceEndpoint {
  /** The first address (addresses are fungible; clients may use only the first). */
  readonly address: string;
  readonly ready: boolean;
  readonly serving: boolean;
  readonly terminating: boolean;
  readonly hostname: string | undefined;
  readonly nodeName: string | undefined;
  readonly zone: string | undefined;
  /** `hints.forZones` names. */
  readonly forZones: readonly string[];
  /** `hints.forNodes` names. */
  readonly forNodes: readonly string[];
  /** `targetRef.kind`, e.g. `Pod`. */
  readonly targetKind: string | undefined;
  /** `targetRef.namespace`. */
  readonly targetNamespace: string | undefined;
  /** `targetRef.name`, e.g. the Pod's name. */
  readonly targetName: string | undefined;
}

/** A cached EndpointSlice, immutable. Replaced as a whole on every change. */
export interface EndpointSliceRecord extends ObjectRecord {
  /** All labels (string values only). */
  readonly labels: Readonly<Record<string, string>>;
  /** `IPv4`, `IPv6` or `FQDN`. */
  readonly addressType: string;
  readonly ports: readonly SlicePort[];
  readonly endpoints: readonly SliceEndpoint[];
}

const NO_STRINGS: readonly string[] = Object.freeze([]);
const NO_LABELS: Readonly<Record<string, string>> = Object.freeze({});
const MAX_INTERNED = 10_000;

function str(v: unknown): string | undefined {
  return typeof v === "string" && v !== "" ? v : undefined;
}

function names(list: unknown): string[] {
  const out: string[] = [];
  if (Array.isArray(list)) for (const h of list) if (h && typeof h.name === "string" && h.name !== "") out.push(h.name);
  return out;
}

/**
 * Projects an EndpointSlice read from the API. `intern` shares equal strings
 * (identity by default). Returns the reason as a string when the object has
 * no name or namespace; endpoints without an address are dropped.
 */
export function projectEndpointSlice(
  slice: EndpointSlice,
  intern: <T extends string | undefined>(s: T) => T = (s) => s,
  internList: (l: string[]) => readonly string[] = (l) => (l.length === 0 ? NO_STRINGS : l),
): EndpointSliceRecord | string {
  const meta = slice?.metadata;
  if (meta === null || typeof meta !== "object") return "object has no metadata";
  const { name, namespace } = meta;
  if (typeof name !== "string" || name === "") return "metadata.name is missing";
  if (typeof namespace !== "string" || namespace === "") return "metadata.namespace is missing";
  const ports: SlicePort[] = [];
  if (Array.isArray(slice.ports)) {
    for (const p of slice.ports) {
      if (!p || typeof p !== "object") continue;
      ports.push(Object.freeze({
        name: intern(str(p.name)),
        port: typeof p.port === "number" ? p.port : undefined,
        protocol: intern(str(p.protocol) ?? "TCP"),
        appProtocol: intern(str(p.appProtocol)),
      }));
    }
  }
  const endpoints: SliceEndpoint[] = [];
  if (Array.isArray(slice.endpoints)) {
    for (const e of slice.endpoints) {
      if (!e || typeof e !== "object" || !Array.isArray(e.addresses)) continue;
      const address = str(e.addresses[0]);
      if (address === undefined) continue;
      const c = e.conditions && typeof e.conditions === "object" ? e.conditions : {};
      const ready = c.ready !== false;
      const ref = e.targetRef && typeof e.targetRef === "object" ? e.targetRef : undefined;
      const hints = e.hints && typeof e.hints === "object" ? e.hints : undefined;
      endpoints.push(Object.freeze({
        address,
        ready,
        serving: c.serving !== false,
        terminating: c.terminating === true,
        hostname: str(e.hostname),
        nodeName: intern(str(e.nodeName)),
        zone: intern(str(e.zone)),
        forZones: internList(names(hints?.forZones)),
        forNodes: internList(names(hints?.forNodes)),
        targetKind: intern(str(ref?.kind)),
        targetNamespace: intern(str(ref?.namespace)),
        targetName: str(ref?.name),
      }));
    }
  }
  let labels: Record<string, string> | undefined;
  if (meta.labels && typeof meta.labels === "object") {
    for (const [k, v] of Object.entries(meta.labels)) {
      if (typeof v !== "string" || k === "__proto__") continue;
      (labels ??= {})[intern(k)] = intern(v);
    }
  }
  return Object.freeze({
    namespace: intern(namespace),
    name,
    uid: typeof meta.uid === "string" ? meta.uid : "",
    resourceVersion: typeof meta.resourceVersion === "string" ? meta.resourceVersion : "",
    labels: labels === undefined ? NO_LABELS : Object.freeze(labels),
    addressType: intern(typeof slice.addressType === "string" ? slice.addressType : ""),
    ports: Object.freeze(ports),
    endpoints: Object.freeze(endpoints),
  });
}

/** Options of {@link endpointSliceResource}. */
export interface EndpointSliceResourceOptions {
  /** Index name → index function. */
  readonly indexes?: Readonly<Record<string, IndexFunction<EndpointSliceRecord>>> | undefined;
  /** Server-side label selector; default none. */
  readonly labelSelector?: string | undefined;
}

/** An EndpointSlice descriptor with its own interning tables. */
export function endpointSliceResource(options: EndpointSliceResourceOptions = {}): ResourceDescriptor<EndpointSliceRecord, EndpointSlice> {
  const strings = new Map<string, string>();
  const lists = new Map<string, readonly string[]>();
  const intern = <T extends string | undefined>(s: T): T => {
    if (s === undefined) return s;
    const hit = strings.get(s);
    if (hit !== undefined) return hit as T;
    if (strings.size >= MAX_INTERNED) strings.clear();
    strings.set(s, s);
    return s;
  };
  const internList = (l: string[]): readonly string[] => {
    if (l.length === 0) return NO_STRINGS;
    const key = l.join("\u0000");
    const hit = lists.get(key);
    if (hit !== undefined) return hit;
    if (lists.size >= MAX_INTERNED) lists.clear();
    const frozen = Object.freeze(l.map((s) => intern(s)));
    lists.set(key, frozen);
    return frozen;
  };
  return Object.freeze({
    ...ENDPOINT_SLICE_RESOURCE,
    project: (slice: EndpointSlice) => projectEndpointSlice(slice, intern, internList),
    indexes: options.indexes,
    labelSelector: options.labelSelector,
    protobuf: endpointSliceProtobuf(),
  });
}
