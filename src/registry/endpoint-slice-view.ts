/**
 * The pure reading of one slice for one target: which endpoints count (IP
 * literals of the family), their identities and contributions, the ports a
 * slice offers for the target's port, and the order of a yielded set.
 *
 * @module
 */
import { sliceAddress, type EndpointSliceRecord, type SlicePort } from "../kube/endpoint-slice-record.ts";
import { packIPv4 } from "../kube/ipv4.ts";
import { isIpLiteral, type ServiceInstance } from "./kratos-codec.ts";
import { identityOf, rank, type Contribution } from "./endpoint-set-member.ts";

/** Which address families are used: one, or both (IPv4 endpoints listed first). */
export type AddressFamily = "IPv4" | "IPv6" | "dual";

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

export function familyOf(slice: EndpointSliceRecord, family: AddressFamily): "IPv4" | "IPv6" | undefined {
  const t = slice.addressType;
  if (t !== "IPv4" && t !== "IPv6") return undefined;
  return family === "dual" || family === t ? t : undefined;
}

/** Does endpoint `i` of a slice of `family` count (an IP literal of that family)? */
export function counts(slice: EndpointSliceRecord, i: number, family: "IPv4" | "IPv6"): boolean {
  const a = slice.addresses[i]!;
  // A number is a packed canonical IPv4 address.
  if (typeof a === "number") return family === "IPv4";
  return isIpLiteral(a) && a.includes(":") === (family === "IPv6");
}

/** Identity → index of the endpoints of `slice` that count; of two entries of one target, the better one. */
export function indexSlice(slice: EndpointSliceRecord, family: "IPv4" | "IPv6"): Map<string, number> {
  const out = new Map<string, number>();
  for (let i = 0; i < slice.addresses.length; i++) {
    if (!counts(slice, i, family)) continue;
    const id = identityOf(slice, i);
    const prev = out.get(id);
    if (prev === undefined || rank(slice.traits[i]!) > rank(slice.traits[prev]!)) out.set(id, i);
  }
  return out;
}

/** What endpoint `i` of `record` says. */
export function contribution(record: EndpointSliceRecord, i: number): Contribution {
  const traits = record.traits[i]!;
  const address = sliceAddress(record, i);
  return { id: record.targetNames[i] ?? traits.hostname ?? address, address, traits };
}

/** A cheap test that `record` may hold identity `id` (see {@link identityOf}). */
export function mayHold(record: EndpointSliceRecord, id: string): boolean {
  // An address is kept packed exactly when it packs (see packIPv4).
  if (id.startsWith("@")) {
    const address = id.slice(1);
    return record.addresses.includes(packIPv4(address) ?? address);
  }
  return record.targetNames.includes(id.slice(id.lastIndexOf("/") + 1));
}

/**
 * The order of a yielded set: by id; instances sharing one (rare: an
 * endpoint without a target named like a Pod) by endpoints, then metadata, so
 * the order never depends on the order of events.
 */
export function byIdThenEndpoints(a: ServiceInstance, b: ServiceInstance): number {
  if (a.id !== b.id) return a.id < b.id ? -1 : 1;
  const n = Math.min(a.endpoints.length, b.endpoints.length);
  for (let i = 0; i < n; i++) if (a.endpoints[i] !== b.endpoints[i]) return a.endpoints[i]! < b.endpoints[i]! ? -1 : 1;
  if (a.endpoints.length !== b.endpoints.length) return a.endpoints.length - b.endpoints.length;
  const ma = JSON.stringify(a.metadata);
  const mb = JSON.stringify(b.metadata);
  return ma < mb ? -1 : ma > mb ? 1 : 0;
}
