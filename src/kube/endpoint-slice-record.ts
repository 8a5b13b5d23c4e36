/**
 * The projection of a `discovery.k8s.io/v1` EndpointSlice that a cache keeps:
 * its address type, ports and, per endpoint, the first address, the target's
 * name and the rest (conditions, topology, hints, the target's kind and
 * namespace) as interned traits. Endpoints are kept as columns: a slice of
 * 100 endpoints is a handful of arrays, not 100 objects.
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
import { sameItems, sameStringMap } from "./same.ts";
import { createStringInterner, MAX_INTERNED } from "./intern.ts";
import { addressString, packIPv4 } from "./ipv4.ts";

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

/**
 * What endpoints of a slice may share: conditions, topology, hints and the
 * target's kind and namespace. Interned per descriptor, so the endpoints on
 * one node in one state share one frozen object.
 */
export interface EndpointTraits {
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
}

/** One endpoint of a slice as one object ({@link sliceEndpoint} builds it from a record). */
export interface SliceEndpoint extends EndpointTraits {
  /** The first address (addresses are fungible; clients may use only the first). */
  readonly address: string;
  /** `targetRef.name`, e.g. the Pod's name. */
  readonly targetName: string | undefined;
}

/**
 * A cached EndpointSlice, immutable. Replaced as a whole on every change.
 *
 * Its endpoints are columns: endpoint `i` is `addresses[i]`,
 * `targetNames[i]` and `traits[i]` (three slots per endpoint instead of an
 * object each; {@link sliceEndpoint} gives one as an object, and
 * {@link sliceAddress} one address as a string).
 */
export interface EndpointSliceRecord extends ObjectRecord {
  /** All labels (string values only). */
  readonly labels: Readonly<Record<string, string>>;
  /** `IPv4`, `IPv6` or `FQDN`. */
  readonly addressType: string;
  readonly ports: readonly SlicePort[];
  /**
   * Each endpoint's first address; endpoints without one are dropped. A
   * canonical IPv4 address (`10.244.1.17`) is kept as a 32-bit integer, in
   * the slot itself instead of a string of its own; any other address as the
   * string. {@link sliceAddress} gives the string either way.
   */
  readonly addresses: readonly (string | number)[];
  /** Each endpoint's `targetRef.name`. */
  readonly targetNames: readonly (string | undefined)[];
  /** Each endpoint's interned {@link EndpointTraits}. */
  readonly traits: readonly EndpointTraits[];
}

/** The first address of endpoint `i` of `record`, as a string. */
export function sliceAddress(record: EndpointSliceRecord, i: number): string {
  return addressString(record.addresses[i]!);
}

/** Endpoint `i` of `record` as one object. */
export function sliceEndpoint(record: EndpointSliceRecord, i: number): SliceEndpoint {
  return { ...record.traits[i]!, address: sliceAddress(record, i), targetName: record.targetNames[i] };
}

/** Every endpoint of `record` as objects, in slice order. */
export function sliceEndpoints(record: EndpointSliceRecord): SliceEndpoint[] {
  return record.addresses.map((_, i) => sliceEndpoint(record, i));
}

const NO_STRINGS: readonly string[] = Object.freeze([]);
const NO_LABELS: Readonly<Record<string, string>> = Object.freeze({});

function str(v: unknown): string | undefined {
  return typeof v === "string" && v !== "" ? v : undefined;
}

function names(list: unknown): readonly string[] {
  if (!Array.isArray(list) || list.length === 0) return NO_STRINGS;
  const out: string[] = [];
  for (const h of list) if (h && typeof h.name === "string" && h.name !== "") out.push(h.name);
  return out;
}

/** Shares equal strings, string lists and traits; a projection with none of it copies nothing and shares nothing. */
export interface SliceInterner {
  string<T extends string | undefined>(s: T): T;
  list(l: readonly string[]): readonly string[];
  /** The traits with these fields (the lists already interned). */
  traits(
    ready: boolean, serving: boolean, terminating: boolean, hostname: string | undefined, nodeName: string | undefined, zone: string | undefined,
    forZones: readonly string[], forNodes: readonly string[], targetKind: string | undefined, targetNamespace: string | undefined,
  ): EndpointTraits;
}

const NO_INTERNING: SliceInterner = {
  string: (s) => s,
  list: (l) => (l.length === 0 ? NO_STRINGS : Object.freeze(l.slice())),
  traits: (ready, serving, terminating, hostname, nodeName, zone, forZones, forNodes, targetKind, targetNamespace) =>
    Object.freeze({ ready, serving, terminating, hostname, nodeName, zone, forZones, forNodes, targetKind, targetNamespace }),
};

/**
 * Interning tables, each capped at 10,000 entries (a churn of unusual values
 * clears a table instead of growing it). Traits are found without building a
 * key: by hostname (else node name), then among the few traits seen there.
 */
export function createSliceInterner(): SliceInterner {
  const lists = new Map<string, readonly string[]>();
  const traits = new Map<string, EndpointTraits[]>();
  let traitCount = 0;
  const string = createStringInterner();
  return {
    string,
    list(l) {
      if (l.length === 0) return NO_STRINGS;
      const key = l.join("\u0000");
      const hit = lists.get(key);
      if (hit !== undefined) return hit;
      if (lists.size >= MAX_INTERNED) lists.clear();
      const frozen = Object.freeze(l.map((x) => string(x)));
      lists.set(key, frozen);
      return frozen;
    },
    traits(ready, serving, terminating, hostname, nodeName, zone, forZones, forNodes, targetKind, targetNamespace) {
      const key = hostname ?? nodeName ?? "";
      let seen = traits.get(key);
      if (seen !== undefined) {
        for (const t of seen) {
          if (t.ready === ready && t.serving === serving && t.terminating === terminating && t.hostname === hostname && t.nodeName === nodeName &&
            t.zone === zone && t.forZones === forZones && t.forNodes === forNodes && t.targetKind === targetKind && t.targetNamespace === targetNamespace) return t;
        }
      }
      if (traitCount >= MAX_INTERNED) {
        traits.clear();
        traitCount = 0;
        seen = undefined;
      }
      const t: EndpointTraits = Object.freeze({
        ready, serving, terminating, hostname: string(hostname), nodeName: string(nodeName), zone: string(zone),
        forZones, forNodes, targetKind: string(targetKind), targetNamespace: string(targetNamespace),
      });
      if (seen === undefined) traits.set(key, (seen = []));
      seen.push(t);
      traitCount++;
      return t;
    },
  };
}

/**
 * Projects an EndpointSlice read from the API. `interner` shares equal
 * strings, lists and traits (none by default). `previous`, the record this
 * version replaces, lends its equal strings and columns: a readiness flip
 * keeps the address and name columns, and only the traits column is new.
 * Returns the reason as a string when the object has no name or namespace;
 * endpoints without an address are dropped.
 */
export function projectEndpointSlice(slice: EndpointSlice, interner: SliceInterner = NO_INTERNING, previous?: EndpointSliceRecord): EndpointSliceRecord | string {
  const intern = interner.string;
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
  // Sized up front, trimmed at the end: no growth copies, no spare room kept.
  const n = Array.isArray(slice.endpoints) ? slice.endpoints.length : 0;
  const addresses = new Array<string | number>(n);
  const targetNames = new Array<string | undefined>(n);
  const traits = new Array<EndpointTraits>(n);
  let k = 0;
  for (let i = 0; i < n; i++) {
    const e = slice.endpoints![i];
    if (!e || typeof e !== "object" || !Array.isArray(e.addresses)) continue;
    const address = str(e.addresses[0]);
    if (address === undefined) continue;
    const c = e.conditions && typeof e.conditions === "object" ? e.conditions : undefined;
    const ref = e.targetRef && typeof e.targetRef === "object" ? e.targetRef : undefined;
    const hints = e.hints && typeof e.hints === "object" ? e.hints : undefined;
    const name = str(ref?.name);
    // The previous version's equal strings: the new ones die young.
    const pa = previous?.addresses[k];
    const pn = previous?.targetNames[k];
    addresses[k] = packIPv4(address) ?? (pa === address ? pa : address);
    targetNames[k] = pn === name ? pn : name;
    traits[k] = interner.traits(
      c?.ready !== false,
      c?.serving !== false,
      c?.terminating === true,
      str(e.hostname),
      str(e.nodeName),
      str(e.zone),
      hints === undefined ? NO_STRINGS : interner.list(names(hints.forZones)),
      hints === undefined ? NO_STRINGS : interner.list(names(hints.forNodes)),
      str(ref?.kind),
      str(ref?.namespace),
    );
    k++;
  }
  addresses.length = k;
  targetNames.length = k;
  traits.length = k;
  let labels: Record<string, string> | undefined;
  if (meta.labels && typeof meta.labels === "object") {
    for (const [k, v] of Object.entries(meta.labels)) {
      if (typeof v !== "string" || k === "__proto__") continue;
      (labels ??= {})[intern(k)] = intern(v);
    }
  }
  const p = previous;
  return Object.freeze({
    namespace: intern(namespace),
    name: p?.name === name ? p.name : name,
    uid: typeof meta.uid === "string" ? (p?.uid === meta.uid ? p.uid : meta.uid) : "",
    resourceVersion: typeof meta.resourceVersion === "string" ? meta.resourceVersion : "",
    labels: labels === undefined ? NO_LABELS : p !== undefined && sameStringMap(p.labels, labels) ? p.labels : Object.freeze(labels),
    addressType: intern(typeof slice.addressType === "string" ? slice.addressType : ""),
    ports: p !== undefined && sameItems(p.ports, ports, samePort) ? p.ports : Object.freeze(ports.slice()),
    addresses: p !== undefined && sameItems(p.addresses, addresses) ? p.addresses : Object.freeze(addresses),
    targetNames: p !== undefined && sameItems(p.targetNames, targetNames) ? p.targetNames : Object.freeze(targetNames),
    traits: p !== undefined && sameItems(p.traits, traits) ? p.traits : Object.freeze(traits),
  });
}

const samePort = (x: SlicePort, y: SlicePort): boolean => x.name === y.name && x.port === y.port && x.protocol === y.protocol && x.appProtocol === y.appProtocol;

/** Options of {@link endpointSliceResource}. */
export interface EndpointSliceResourceOptions {
  /** Index name → index function. */
  readonly indexes?: Readonly<Record<string, IndexFunction<EndpointSliceRecord>>> | undefined;
  /** Server-side label selector; default none. */
  readonly labelSelector?: string | undefined;
}

/** An EndpointSlice descriptor with its own interning tables. */
export function endpointSliceResource(options: EndpointSliceResourceOptions = {}): ResourceDescriptor<EndpointSliceRecord, EndpointSlice> {
  const interner = createSliceInterner();
  return Object.freeze({
    ...ENDPOINT_SLICE_RESOURCE,
    project: (slice: EndpointSlice, previous?: EndpointSliceRecord) => projectEndpointSlice(slice, interner, previous),
    indexes: options.indexes,
    labelSelector: options.labelSelector,
    protobuf: endpointSliceProtobuf(),
  });
}
