/**
 * The Pod resource descriptor: {@link projectPod} plus interning, so equal
 * low-cardinality values (namespace, phase, label values, annotation maps,
 * port lists) are shared between cached pods and empty maps and lists are
 * shared frozen objects.
 *
 * @module
 */
import type { PodPort, PodRecord } from "./pod-record.ts";
import { projectPod } from "./pod-record.ts";
import type { IndexFunction, ResourceDescriptor } from "./resource.ts";
import { POD_RESOURCE } from "./resource.ts";
import type { Pod } from "./wire.ts";
import { podProtobuf } from "./protobuf/decoder.ts";
import { sameItems, sameStringMap } from "./same.ts";
import { createStringInterner, MAX_INTERNED } from "./intern.ts";

/** Options of {@link podResource}. */
export interface PodResourceOptions {
  /** Annotation keys the records keep, or `"all"`; default none. */
  readonly annotations?: readonly string[] | "all" | undefined;
  /** Index name → index function. */
  readonly indexes?: Readonly<Record<string, IndexFunction<PodRecord>>> | undefined;
  /** Server-side label selector; default none (every pod). */
  readonly labelSelector?: string | undefined;
  /**
   * Label keys whose values are unique per pod (an instance ID): never
   * interned. Values equal to the pod's name are never interned either.
   */
  readonly uniqueLabels?: readonly string[] | undefined;
}

const samePort = (x: PodPort, y: PodPort): boolean => x.name === y.name && x.port === y.port && x.protocol === y.protocol;

/** Annotation maps longer than this (in characters) are not interned. */
const MAX_INTERNED_MAP = 4096;
const NO_PORTS: readonly PodPort[] = Object.freeze([]);
const NO_IPS: readonly string[] = Object.freeze([]);
const NO_STRINGS: Readonly<Record<string, string>> = Object.freeze({});

/**
 * A plain object (prototype `Object.prototype`, as `{}`) with room for its
 * properties inside it. V8 gives `{}` four in-object slots and moves a fifth
 * property (a Deployment's pods carry five or more labels) to a separate
 * property array, 40 more bytes per pod; objects made by `new` are sized to
 * what that constructor's objects hold (in-object slack tracking).
 */
function PlainObject(this: object): void {}
PlainObject.prototype = Object.prototype;
const plainObject = (): Record<string, string> => new (PlainObject as unknown as new () => Record<string, string>)();

/**
 * Shares equal low-cardinality values between records, and with `previous`
 * (the record a new version replaces) its equal parts: a status update keeps
 * the old labels, annotations, ports, IPs and strings instead of copying them.
 */
export function createPodInterner(uniqueLabels: readonly string[] = []): (rec: PodRecord, previous?: PodRecord) => PodRecord {
  const unique = new Set(uniqueLabels);
  const portLists = new Map<string, readonly PodPort[]>();
  const maps = new Map<string, Readonly<Record<string, string>>>();
  const str = createStringInterner();
  const ports = (list: readonly PodPort[]): readonly PodPort[] => {
    if (list.length === 0) return NO_PORTS;
    const key = list.map((p) => `${p.name ?? ""}\u0000${p.port}\u0000${p.protocol}`).join("\u0001");
    const hit = portLists.get(key);
    if (hit !== undefined) return hit;
    if (portLists.size >= MAX_INTERNED) portLists.clear();
    const frozen = Object.freeze(list.map((p) => Object.freeze({ name: str(p.name), port: p.port, protocol: str(p.protocol) })));
    portLists.set(key, frozen);
    return frozen;
  };
  // Labels are copied property by property, not spread: on Node 20 (V8 11.3)
  // freezing a spread copy gives every pod its own hidden class (≈ 220 B of
  // Map and DescriptorArray per pod); a plain copy shares one per label set.
  // The copy is made by `new`, see plainObject().
  const labels = (src: Readonly<Record<string, string>>, name: string): Readonly<Record<string, string>> => {
    const out = plainObject();
    let n = 0;
    for (const k in src) {
      const v = src[k]!;
      const value = v === name ? name : unique.has(k) ? v : str(v);
      if (k === "__proto__") Object.defineProperty(out, k, { value, enumerable: true, writable: true, configurable: true });
      else out[k] = value;
      n++;
    }
    return n === 0 ? NO_STRINGS : Object.freeze(out);
  };
  // Annotation maps kept by a projection are usually the same for every pod
  // of a workload: one frozen map per distinct content.
  const annotations = (src: Readonly<Record<string, string>>): Readonly<Record<string, string>> => {
    let key = "";
    for (const k in src) key += `${k}\u0000${src[k]}\u0001`;
    if (key === "") return NO_STRINGS;
    if (key.length > MAX_INTERNED_MAP) return Object.freeze({ ...src });
    const hit = maps.get(key);
    if (hit !== undefined) return hit;
    if (maps.size >= MAX_INTERNED) maps.clear();
    const out: Record<string, string> = {};
    for (const k in src) {
      if (k === "__proto__") Object.defineProperty(out, k, { value: str(src[k]!), enumerable: true, writable: true, configurable: true });
      else out[k] = str(src[k]!);
    }
    const frozen = Object.freeze(out);
    maps.set(key, frozen);
    return frozen;
  };
  return (rec, p) => Object.freeze({
    namespace: str(rec.namespace),
    name: p?.name === rec.name ? p.name : rec.name,
    uid: p?.uid === rec.uid ? p.uid : rec.uid,
    resourceVersion: rec.resourceVersion,
    labels: p !== undefined && sameStringMap(p.labels, rec.labels) ? p.labels : labels(rec.labels, rec.name),
    annotations: p !== undefined && sameStringMap(p.annotations, rec.annotations) ? p.annotations : annotations(rec.annotations),
    phase: str(rec.phase),
    ready: rec.ready,
    terminating: rec.terminating,
    // An exact-size copy: a pushed-to array keeps spare capacity (17 slots for one IP).
    podIPs: p !== undefined && sameItems(p.podIPs, rec.podIPs) ? p.podIPs
      : rec.podIPs.length === 0 ? NO_IPS : Object.freeze(rec.podIPs.length === 1 ? [rec.podIPs[0]!] : rec.podIPs.slice()),
    ports: p !== undefined && sameItems(p.ports, rec.ports, samePort) ? p.ports : ports(rec.ports),
  });
}

/**
 * A Pod descriptor: records from {@link projectPod} keeping the annotations
 * asked for, interned; with the caller's indexes and label selector. Each
 * call makes a descriptor with its own interning tables.
 */
export function podResource(options: PodResourceOptions = {}): ResourceDescriptor<PodRecord, Pod> {
  const intern = createPodInterner(options.uniqueLabels);
  const projectOptions = { annotations: options.annotations };
  return Object.freeze({
    ...POD_RESOURCE,
    project: (pod: Pod, previous?: PodRecord): PodRecord | string => {
      const r = projectPod(pod, projectOptions);
      return typeof r === "string" ? r : intern(r, previous);
    },
    indexes: options.indexes,
    labelSelector: options.labelSelector,
    protobuf: podProtobuf(projectOptions),
  });
}
