/**
 * What the endpointslice controller does for one Service (kubernetes
 * `pkg/controller/endpointslice`, `staging/src/k8s.io/endpointslice`
 * `reconciler.go`), for the fake API server, which runs no controllers:
 * the Pods the selector matches become endpoints (ready = Ready and not
 * terminating, serving = Ready, terminating = being deleted; Pods that
 * finished are left out), grouped by address family and by the ports they
 * resolve to (a named target port may have another number on another Pod),
 * in slices of at most `maxEndpointsPerSlice` (100). An endpoint stays in
 * its slice while it exists; new ones fill slices with room before new
 * slices are created; slices left empty are deleted. Writes go out in the
 * controller's order: creates, updates, deletes.
 *
 * @module
 */
import { ENDPOINT_SLICE_CONTROLLER, MANAGED_BY_LABEL, SERVICE_NAME_LABEL } from "../kube/endpoint-slice-record.ts";
import type { Endpoint, EndpointPort, EndpointSlice, Pod } from "../kube/wire.ts";
import { sameJson } from "./same-json.ts";

/** One port of the Service. */
export interface ServicePortSpec {
  /** The port's name (slices carry it); required when there are several. */
  name?: string;
  /** A container port number, or a container port name resolved per Pod. */
  targetPort: number | string;
  /** Default `TCP`. */
  protocol?: string;
  appProtocol?: string;
}

/** The Service whose slices {@link reconcileService} keeps. */
export interface ServiceSpec {
  /** Default `default`. */
  namespace?: string;
  name: string;
  /** Pods whose labels include all of these are endpoints. */
  selector: Record<string, string>;
  ports: ServicePortSpec[];
  /** Default 100 (the controller's `--max-endpoints-per-slice`). */
  maxEndpointsPerSlice?: number;
  /** Endpoints are ready whatever the Pod's readiness (Service `publishNotReadyAddresses`). */
  publishNotReadyAddresses?: boolean;
  /** The zone of a Pod's endpoint (the controller reads its Node's `topology.kubernetes.io/zone`). */
  zoneOf?: (pod: Pod) => string | undefined;
}

/** The writes that bring the slices in step, in order. */
export interface SliceWrites {
  create: EndpointSlice[];
  update: EndpointSlice[];
  delete: EndpointSlice[];
}

interface Group {
  readonly addressType: "IPv4" | "IPv6";
  readonly ports: EndpointPort[];
  readonly endpoints: Map<string, Endpoint>;
}

function matches(pod: Pod, selector: Record<string, string>): boolean {
  const labels = pod.metadata.labels ?? {};
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}

function podIps(pod: Pod): string[] {
  const ips = (pod.status?.podIPs ?? []).map((e) => e?.ip).filter((ip): ip is string => typeof ip === "string" && ip !== "");
  if (ips.length === 0 && typeof pod.status?.podIP === "string" && pod.status.podIP !== "") ips.push(pod.status.podIP);
  return ips;
}

function resolvePorts(pod: Pod, ports: readonly ServicePortSpec[]): EndpointPort[] {
  const out: EndpointPort[] = [];
  for (const p of ports) {
    let port: number | undefined;
    if (typeof p.targetPort === "number") port = p.targetPort;
    else {
      for (const c of pod.spec?.containers ?? []) for (const cp of c.ports ?? []) if (cp.name === p.targetPort) port ??= cp.containerPort;
    }
    if (port === undefined) continue;
    const ep: EndpointPort = { name: p.name ?? "", protocol: p.protocol ?? "TCP", port };
    if (p.appProtocol !== undefined) ep.appProtocol = p.appProtocol;
    out.push(ep);
  }
  return out;
}

function targetKey(e: Endpoint): string {
  return `${e.targetRef?.name ?? ""}\u0000${e.addresses[0] ?? ""}`;
}

/** The endpoints the Pods give, grouped by (address type, resolved ports). */
function desiredGroups(spec: ServiceSpec, pods: Iterable<Pod>): Map<string, Group> {
  const ns = spec.namespace ?? "default";
  const groups = new Map<string, Group>();
  for (const pod of pods) {
    if (pod.metadata.namespace !== ns || !matches(pod, spec.selector)) continue;
    const phase = pod.status?.phase;
    if (phase === "Succeeded" || phase === "Failed") continue;
    const podReady = (pod.status?.conditions ?? []).some((c) => c?.type === "Ready" && c.status === "True");
    const terminating = pod.metadata.deletionTimestamp !== undefined && pod.metadata.deletionTimestamp !== null;
    const ports = resolvePorts(pod, spec.ports);
    for (const ip of podIps(pod)) {
      const addressType = ip.includes(":") ? "IPv6" : "IPv4";
      const key = `${addressType}\u0000${JSON.stringify(ports)}`;
      let g = groups.get(key);
      if (g === undefined) groups.set(key, (g = { addressType, ports, endpoints: new Map() }));
      const endpoint: Endpoint = {
        addresses: [ip],
        conditions: {
          ready: spec.publishNotReadyAddresses === true || (podReady && !terminating),
          serving: spec.publishNotReadyAddresses === true || podReady,
          terminating,
        },
        targetRef: { kind: "Pod", namespace: ns, name: pod.metadata.name!, uid: pod.metadata.uid ?? "" },
      };
      if (pod.spec?.nodeName) endpoint.nodeName = pod.spec.nodeName;
      const zone = spec.zoneOf?.(pod);
      if (zone !== undefined) endpoint.zone = zone;
      const e: Endpoint = endpoint;
      g.endpoints.set(targetKey(e), e);
    }
  }
  return groups;
}

/**
 * The creates, updates and deletes that make `existing` (the Service's
 * slices) match `pods`. `newName` names created slices.
 */
export function reconcileService(spec: ServiceSpec, pods: Iterable<Pod>, existing: readonly EndpointSlice[], newName: () => string): SliceWrites {
  const max = Math.max(1, spec.maxEndpointsPerSlice ?? 100);
  const ns = spec.namespace ?? "default";
  const groups = desiredGroups(spec, pods);
  const writes: SliceWrites = { create: [], update: [], delete: [] };
  const mine = existing.filter((s) => s.metadata.labels?.[SERVICE_NAME_LABEL] === spec.name && s.metadata.labels?.[MANAGED_BY_LABEL] === ENDPOINT_SLICE_CONTROLLER);
  const used = new Set<EndpointSlice>();
  for (const g of groups.values()) {
    const slices = mine.filter((s) => s.addressType === g.addressType && sameJson(s.ports ?? [], g.ports));
    const placed = new Set<string>();
    const kept: { slice: EndpointSlice; endpoints: Endpoint[]; changed: boolean }[] = [];
    for (const s of slices) {
      used.add(s);
      const endpoints: Endpoint[] = [];
      let changed = false;
      for (const e of s.endpoints ?? []) {
        const want = g.endpoints.get(targetKey(e));
        if (want === undefined || placed.has(targetKey(e))) {
          changed = true;
          continue;
        }
        placed.add(targetKey(e));
        if (!sameJson(want, e)) changed = true;
        endpoints.push(want);
      }
      kept.push({ slice: s, endpoints, changed });
    }
    const fresh = [...g.endpoints.entries()].filter(([k]) => !placed.has(k)).map(([, e]) => e);
    for (const k of kept) {
      while (k.endpoints.length < max && fresh.length > 0) {
        k.endpoints.push(fresh.shift()!);
        k.changed = true;
      }
    }
    while (fresh.length > 0) {
      writes.create.push({
        metadata: {
          name: newName(),
          namespace: ns,
          labels: { [SERVICE_NAME_LABEL]: spec.name, [MANAGED_BY_LABEL]: ENDPOINT_SLICE_CONTROLLER },
        },
        addressType: g.addressType,
        endpoints: fresh.splice(0, max),
        ports: g.ports,
      });
    }
    for (const k of kept) {
      if (k.endpoints.length === 0) writes.delete.push(k.slice);
      else if (k.changed) writes.update.push({ ...k.slice, endpoints: k.endpoints });
    }
  }
  for (const s of mine) if (!used.has(s)) writes.delete.push(s);
  return writes;
}
