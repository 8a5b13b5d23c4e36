/**
 * The endpoints of one Kubernetes Service, merged from all its EndpointSlices
 * and kept up to date slice by slice: an event costs the endpoints of the
 * changed slice, not of the Service (producing the yielded array is O(n)).
 *
 * - An endpoint's identity is its `targetRef` (kind/namespace/name), else its
 *   address; the same Pod in an IPv4 and an IPv6 slice is one instance.
 * - Only `ready` endpoints are instances. Terminating ones (also while still
 *   `serving`) leave the set, so a transport drains them: their calls finish,
 *   no new ones start, as for terminating Pods.
 * - Ports are resolved per slice: a named port may have another number in
 *   another slice; a slice without it contributes nothing.
 * - An endpoint that leaves every slice stays for `moveGraceMs` before it is
 *   removed, so one that moves between slices (two events, in either order)
 *   keeps its connection and statistics. A Service with no slices, or no
 *   ready endpoints, is an empty set at once.
 *
 * @module
 */
import type { Clock } from "../kube/clock.ts";
import type { EndpointSliceRecord, SliceEndpoint, SlicePort } from "../kube/endpoint-slice-record.ts";
import { isIpLiteral, type ServiceInstance } from "./kratos-codec.ts";
import type { MemberSet } from "./service-hub.ts";
import { contributionsOf, deleteFrom, rank, sameEndpoint, sameInstance, sameView, setFrom, type Member, type SliceView } from "./endpoint-set-member.ts";

/** Which address families are used: one, or both (IPv4 endpoints listed first). */
export type AddressFamily = "IPv4" | "IPv6" | "dual";

/** Default grace for an endpoint moving between slices, 2 s. */
export const DEFAULT_MOVE_GRACE_MS = 2_000;

/** Options of {@link createEndpointSet}. */
export interface EndpointSetOptions {
  /** A port name, or a number (the endpoints' port); undefined: every port of each slice, in slice order. */
  readonly port: string | undefined;
  readonly family: AddressFamily;
  readonly moveGraceMs: number;
  readonly clock: Clock;
}

const SCHEME = /^[a-z][a-z0-9+.-]*$/i;

/** The URL scheme of a port: a plain `appProtocol`, else the name up to its first `-`, else the protocol (the Kratos rule for Pods). */
export function portScheme(p: SlicePort): string {
  if (p.appProtocol !== undefined && SCHEME.test(p.appProtocol)) return p.appProtocol;
  if (p.name !== undefined) return p.name.split("-")[0]!;
  return p.protocol;
}

/** The (scheme, number) pairs a slice offers for `port`. */
export function slicePorts(ports: readonly SlicePort[], port: string | undefined): { scheme: string; port: number }[] {
  if (port === undefined) {
    const out: { scheme: string; port: number }[] = [];
    for (const p of ports) if (p.port !== undefined) out.push({ scheme: portScheme(p), port: p.port });
    return out;
  }
  if (/^\d+$/.test(port)) {
    const n = Number(port);
    const same = ports.find((p) => p.port === n);
    return [{ scheme: same ? portScheme(same) : (ports[0]?.protocol ?? "TCP"), port: n }];
  }
  const p = ports.find((q) => q.name === port);
  return p?.port === undefined ? [] : [{ scheme: portScheme(p), port: p.port }];
}

function familyOf(slice: EndpointSliceRecord, family: AddressFamily): "IPv4" | "IPv6" | undefined {
  const t = slice.addressType;
  if (t !== "IPv4" && t !== "IPv6") return undefined;
  return family === "dual" || family === t ? t : undefined;
}

/**
 * An endpoint's identity: its Pod's name when it points to a Pod of the
 * slice's namespace (the common case: the string the record already holds,
 * no new one), else `kind/namespace/name`, else `@address`. Names cannot hold
 * `/` or start with `@`, so the three forms never collide.
 */
function identity(slice: EndpointSliceRecord, ep: SliceEndpoint): string {
  if (ep.targetName === undefined) return `@${ep.address}`;
  const ns = ep.targetNamespace ?? slice.namespace;
  return ep.targetKind === "Pod" && ns === slice.namespace ? ep.targetName : `${ep.targetKind ?? ""}/${ns}/${ep.targetName}`;
}

/** Creates the set of `service` over `slices`; `changed` runs when a grace window ends. */
export function createEndpointSet(
  service: string,
  slices: readonly EndpointSliceRecord[],
  o: EndpointSetOptions,
  changed: () => void,
): MemberSet<EndpointSliceRecord> {
  /** The slice versions merged (the informer holds the same objects); their endpoints are re-read on the next update instead of kept in a map per endpoint. */
  const bySlice = new Map<string, EndpointSliceRecord>();
  const views = new Map<string, SliceView>();
  const members = new Map<string, Member>();
  const keys: string[] = [];
  const shown: ServiceInstance[] = [];
  let version = 0;
  let closed = false;
  /** One frozen metadata object per distinct (zone, node, hostname, hints): endpoints on a node share it. */
  const metadataCache = new Map<string, Readonly<Record<string, string>>>();
  const metadataOf = (ep: SliceEndpoint): Readonly<Record<string, string>> => {
    const key = `${ep.zone ?? ""}\0${ep.nodeName ?? ""}\0${ep.hostname ?? ""}\0${ep.forZones.join(",")}\0${ep.forNodes.join(",")}`;
    const hit = metadataCache.get(key);
    if (hit !== undefined) return hit;
    const metadata: Record<string, string> = {};
    if (ep.zone !== undefined) metadata["zone"] = ep.zone;
    if (ep.nodeName !== undefined) metadata["nodeName"] = ep.nodeName;
    if (ep.hostname !== undefined) metadata["hostname"] = ep.hostname;
    if (ep.forZones.length > 0) metadata["hints.forZones"] = ep.forZones.join(",");
    if (ep.forNodes.length > 0) metadata["hints.forNodes"] = ep.forNodes.join(",");
    const frozen = Object.freeze(metadata);
    // Bounded: node and pod churn must not grow it for ever (a rebuilt entry only costs a lookup).
    if (metadataCache.size > 2 * members.size + 64) metadataCache.clear();
    metadataCache.set(key, frozen);
    return frozen;
  };

  const lowerBound = (k: string): number => {
    let lo = 0;
    let hi = keys.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (keys[mid]! < k) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };

  function show(id: string, m: Member, next: ServiceInstance | undefined): void {
    if (sameInstance(m.shown, next)) return;
    const i = lowerBound(id);
    if (next === undefined) {
      if (keys[i] === id) {
        keys.splice(i, 1);
        shown.splice(i, 1);
      }
    } else if (keys[i] === id) shown[i] = next;
    else {
      keys.splice(i, 0, id);
      shown.splice(i, 0, next);
    }
    m.shown = next;
    version++;
  }

  /** The instance a member shows now, from its best contribution per family. */
  function instanceOf(m: Member): ServiceInstance | undefined {
    let v4: [SliceEndpoint, SliceView] | undefined;
    let v6: [SliceEndpoint, SliceView] | undefined;
    for (const [key, ep] of contributionsOf(m)) {
      const view = views.get(key);
      if (view === undefined) continue;
      if (view.family === "IPv4") v4 = v4 === undefined || rank(ep) > rank(v4[0]) ? [ep, view] : v4;
      else v6 = v6 === undefined || rank(ep) > rank(v6[0]) ? [ep, view] : v6;
    }
    const live = [v4, v6].filter((c): c is [SliceEndpoint, SliceView] => c !== undefined && c[0].ready && !c[0].terminating && c[1].ports.length > 0);
    if (live.length === 0) return undefined;
    const ep = live[0]![0];
    const endpoints: string[] = [];
    for (const [e, view] of live) {
      const host = view.family === "IPv6" ? `[${e.address}]` : e.address;
      for (const p of view.ports) endpoints.push(`${p.scheme}://${host}:${p.port}`);
    }
    return Object.freeze({
      id: ep.targetName ?? ep.hostname ?? ep.address,
      name: service,
      version: "",
      metadata: metadataOf(ep),
      endpoints: Object.freeze(endpoints),
    }) as ServiceInstance;
  }

  function refresh(id: string): void {
    const m = members.get(id);
    if (m === undefined) return;
    if (m.one !== undefined) {
      m.timer?.cancel();
      m.timer = undefined;
      show(id, m, instanceOf(m));
      return;
    }
    if (m.shown === undefined || o.moveGraceMs <= 0) {
      m.timer?.cancel();
      members.delete(id);
      show(id, m, undefined);
      return;
    }
    // Left every slice while shown: keep it through the grace window.
    m.timer ??= o.clock.setTimeout(() => {
      m.timer = undefined;
      if (closed || members.get(id) !== m || m.one !== undefined) return;
      members.delete(id);
      const before = version;
      show(id, m, undefined);
      if (version !== before) changed();
    }, o.moveGraceMs);
  }

  /** What `slice` says: its view (undefined for another family) and its endpoints by identity. */
  function contributions(slice: EndpointSliceRecord): { view: SliceView | undefined; eps: Map<string, SliceEndpoint> } {
    const eps = new Map<string, SliceEndpoint>();
    const family = familyOf(slice, o.family);
    if (family === undefined) return { view: undefined, eps };
    for (const ep of slice.endpoints) {
      if (!isIpLiteral(ep.address) || ep.address.includes(":") !== (family === "IPv6")) continue;
      const id = identity(slice, ep);
      const prev = eps.get(id);
      // Two entries of one target in one slice: keep the better one.
      if (prev === undefined || rank(ep) > rank(prev)) eps.set(id, ep);
    }
    return { view: { family, ports: slicePorts(slice.ports, o.port) }, eps };
  }

  function put(sliceKey: string, record: EndpointSliceRecord | undefined): void {
    const next = record === undefined ? { view: undefined, eps: new Map<string, SliceEndpoint>() } : contributions(record);
    const before = bySlice.get(sliceKey);
    const prev = before === undefined ? undefined : contributions(before).eps;
    const viewChanged = !sameView(views.get(sliceKey), next.view);
    if (next.view !== undefined && next.eps.size > 0) views.set(sliceKey, viewChanged ? next.view : views.get(sliceKey)!);
    const touched = new Set<string>();
    if (prev !== undefined) {
      for (const id of prev.keys()) {
        if (next.eps.has(id)) continue;
        const m = members.get(id);
        if (m !== undefined) deleteFrom(m, sliceKey);
        touched.add(id);
      }
    }
    for (const [id, ep] of next.eps) {
      let m = members.get(id);
      if (m === undefined) members.set(id, (m = { slice: undefined, one: undefined, more: undefined, shown: undefined, timer: undefined }));
      const was = prev?.get(id);
      setFrom(m, sliceKey, ep);
      // Unchanged endpoints of the changed slice cost a comparison, not a refresh.
      if (!viewChanged && was !== undefined && sameEndpoint(was, ep)) continue;
      touched.add(id);
    }
    if (next.eps.size === 0 || record === undefined) bySlice.delete(sliceKey);
    else bySlice.set(sliceKey, record);
    for (const id of touched) refresh(id);
    if (next.eps.size === 0) views.delete(sliceKey);
  }

  const sliceKey = (s: EndpointSliceRecord): string => `${s.namespace}/${s.name}`;

  for (const s of slices) put(sliceKey(s), s);

  return {
    get version() {
      return version;
    },
    upsert(slice) {
      if (!closed) put(sliceKey(slice), slice);
    },
    remove(slice) {
      if (!closed) put(sliceKey(slice), undefined);
    },
    instances() {
      return shown.slice();
    },
    close() {
      closed = true;
      for (const m of members.values()) m.timer?.cancel();
    },
  };
}
