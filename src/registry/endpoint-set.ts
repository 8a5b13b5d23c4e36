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
import type { Clock, TimerHandle } from "../kube/clock.ts";
import type { EndpointSliceRecord, SliceEndpoint, SlicePort } from "../kube/endpoint-slice-record.ts";
import { isIpLiteral, type ServiceInstance } from "./kratos-codec.ts";
import type { MemberSet } from "./service-hub.ts";

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

/** What one slice says about one endpoint. */
interface Contribution {
  readonly family: "IPv4" | "IPv6";
  readonly ep: SliceEndpoint;
  readonly urls: readonly string[];
}

interface Member {
  /** Slice key → what that slice says. */
  readonly from: Map<string, Contribution>;
  /** The instance shown, and its comparison key. */
  shown: ServiceInstance | undefined;
  shownKey: string;
  /** Pending removal after leaving every slice. */
  timer: TimerHandle | undefined;
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

function identity(slice: EndpointSliceRecord, ep: SliceEndpoint): string {
  if (ep.targetName !== undefined) return `${ep.targetKind ?? ""}/${ep.targetNamespace ?? slice.namespace}/${ep.targetName}`;
  return `@${ep.address}`;
}

function better(a: Contribution, b: Contribution): boolean {
  const rank = (c: Contribution): number => (c.ep.ready && !c.ep.terminating ? 2 : c.ep.serving ? 1 : 0);
  return rank(a) > rank(b);
}

const sameList = (a: readonly string[], b: readonly string[]): boolean => a.length === b.length && a.every((x, i) => x === b[i]);

/** True when two contributions show the same thing (a new slice version usually repeats most endpoints). */
function sameContribution(a: Contribution, b: Contribution): boolean {
  const x = a.ep;
  const y = b.ep;
  return (
    a.family === b.family &&
    (x === y ||
      (x.address === y.address && x.ready === y.ready && x.serving === y.serving && x.terminating === y.terminating &&
        x.hostname === y.hostname && x.nodeName === y.nodeName && x.zone === y.zone && x.targetKind === y.targetKind &&
        x.targetNamespace === y.targetNamespace && x.targetName === y.targetName && sameList(x.forZones, y.forZones) && sameList(x.forNodes, y.forNodes))) &&
    sameList(a.urls, b.urls)
  );
}

/** Creates the set of `service` over `slices`; `changed` runs when a grace window ends. */
export function createEndpointSet(
  service: string,
  slices: readonly EndpointSliceRecord[],
  o: EndpointSetOptions,
  changed: () => void,
): MemberSet<EndpointSliceRecord> {
  const bySlice = new Map<string, Map<string, Contribution>>();
  const members = new Map<string, Member>();
  const keys: string[] = [];
  const shown: ServiceInstance[] = [];
  let version = 0;
  let closed = false;

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
    const nextKey = next === undefined ? "" : JSON.stringify(next);
    if (nextKey === m.shownKey) return;
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
    m.shownKey = nextKey;
    version++;
  }

  /** The instance a member shows now, from its best contribution per family. */
  function instanceOf(m: Member): ServiceInstance | undefined {
    let v4: Contribution | undefined;
    let v6: Contribution | undefined;
    for (const c of m.from.values()) {
      if (c.family === "IPv4") v4 = v4 === undefined || better(c, v4) ? c : v4;
      else v6 = v6 === undefined || better(c, v6) ? c : v6;
    }
    const live = [v4, v6].filter((c): c is Contribution => c !== undefined && c.ep.ready && !c.ep.terminating && c.urls.length > 0);
    if (live.length === 0) return undefined;
    const ep = live[0]!.ep;
    const metadata: Record<string, string> = {};
    if (ep.zone !== undefined) metadata["zone"] = ep.zone;
    if (ep.nodeName !== undefined) metadata["nodeName"] = ep.nodeName;
    if (ep.hostname !== undefined) metadata["hostname"] = ep.hostname;
    if (ep.forZones.length > 0) metadata["hints.forZones"] = ep.forZones.join(",");
    if (ep.forNodes.length > 0) metadata["hints.forNodes"] = ep.forNodes.join(",");
    return Object.freeze({
      id: ep.targetName ?? ep.hostname ?? ep.address,
      name: service,
      version: "",
      metadata: Object.freeze(metadata),
      endpoints: Object.freeze(live.flatMap((c) => c.urls)),
    }) as ServiceInstance;
  }

  function refresh(id: string): void {
    const m = members.get(id);
    if (m === undefined) return;
    if (m.from.size > 0) {
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
      if (closed || members.get(id) !== m || m.from.size > 0) return;
      members.delete(id);
      const before = version;
      show(id, m, undefined);
      if (version !== before) changed();
    }, o.moveGraceMs);
  }

  function contributions(slice: EndpointSliceRecord): Map<string, Contribution> {
    const out = new Map<string, Contribution>();
    const family = familyOf(slice, o.family);
    if (family === undefined) return out;
    const ports = slicePorts(slice.ports, o.port);
    for (const ep of slice.endpoints) {
      if (!isIpLiteral(ep.address) || ep.address.includes(":") !== (family === "IPv6")) continue;
      const host = family === "IPv6" ? `[${ep.address}]` : ep.address;
      const urls = ports.map((p) => `${p.scheme}://${host}:${p.port}`);
      const id = identity(slice, ep);
      const prev = out.get(id);
      // Two entries of one target in one slice: keep the better one.
      const c: Contribution = { family, ep, urls };
      if (prev === undefined || better(c, prev)) out.set(id, c);
    }
    return out;
  }

  function put(sliceKey: string, next: Map<string, Contribution>): void {
    const prev = bySlice.get(sliceKey);
    const touched = new Set<string>();
    if (prev !== undefined) {
      for (const id of prev.keys()) {
        if (next.has(id)) continue;
        members.get(id)?.from.delete(sliceKey);
        touched.add(id);
      }
    }
    for (const [id, c] of next) {
      const was = prev?.get(id);
      // Unchanged endpoints of the changed slice cost a comparison, not a refresh.
      if (was !== undefined && sameContribution(was, c)) {
        next.set(id, was);
        continue;
      }
      let m = members.get(id);
      if (m === undefined) members.set(id, (m = { from: new Map(), shown: undefined, shownKey: "", timer: undefined }));
      m.from.set(sliceKey, c);
      touched.add(id);
    }
    if (next.size === 0) bySlice.delete(sliceKey);
    else bySlice.set(sliceKey, next);
    for (const id of touched) refresh(id);
  }

  const sliceKey = (s: EndpointSliceRecord): string => `${s.namespace}/${s.name}`;

  for (const s of slices) put(sliceKey(s), contributions(s));

  return {
    get version() {
      return version;
    },
    upsert(slice) {
      if (!closed) put(sliceKey(slice), contributions(slice));
    },
    remove(slice) {
      if (!closed) put(sliceKey(slice), new Map());
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
