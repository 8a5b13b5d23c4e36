/**
 * The pure parts of an EndpointSlice set's members: what a slice version
 * offers its endpoints (family, ports), the state of a member that is not in
 * the common state, how instances are built and compared, so an unchanged
 * endpoint or instance costs a comparison instead of a refresh.
 *
 * @module
 */
import type { TimerHandle } from "../kube/clock.ts";
import { sliceAddress, type EndpointSliceRecord, type EndpointTraits } from "../kube/endpoint-slice-record.ts";
import { sameItems, sameStringMap } from "../kube/same.ts";
import type { ServiceInstance } from "./kratos-codec.ts";

/** What one slice version offers every endpoint in it: the family, and the ports resolved for the target. */
export interface SliceView {
  readonly family: "IPv4" | "IPv6";
  readonly ports: readonly { readonly scheme: string; readonly port: number }[];
}

/** What one slice says about one endpoint. */
export interface Contribution {
  /** The id of an instance built from it: the target's name, else the hostname, else the address. */
  readonly id: string;
  readonly address: string;
  readonly traits: EndpointTraits;
}

/**
 * A member in any state but the common one. The common one (ready in exactly
 * one slice, shown, no timer) is held as its shown instance alone; this is
 * for a member that is not ready, is in more than one slice (it moves, or
 * dual-stack), or has left every slice and waits out the grace window.
 */
export class Member {
  /** Slice key → what that slice says. */
  readonly contribs: Map<string, Contribution> = new Map();
  shown: ServiceInstance | undefined = undefined;
  timer: TimerHandle | undefined = undefined;
}

/** Ready and not terminating: what an instance is built from. */
export const isLive = (t: EndpointTraits): boolean => t.ready && !t.terminating;

/** Which of two entries of one endpoint counts: live, then serving, then neither. */
export const rank = (t: EndpointTraits): number => (isLive(t) ? 2 : t.serving ? 1 : 0);

const samePort = (p: SliceView["ports"][number], q: SliceView["ports"][number]): boolean => p.scheme === q.scheme && p.port === q.port;

export const sameView = (a: SliceView | undefined, b: SliceView | undefined): boolean =>
  a === b || (a !== undefined && b !== undefined && a.family === b.family && sameItems(a.ports, b.ports, samePort));

/** Two traits say the same (interned traits are usually the same object). */
export function sameTraits(x: EndpointTraits, y: EndpointTraits): boolean {
  return (
    x === y ||
    (x.ready === y.ready && x.serving === y.serving && x.terminating === y.terminating && x.hostname === y.hostname && x.nodeName === y.nodeName &&
      x.zone === y.zone && x.targetKind === y.targetKind && x.targetNamespace === y.targetNamespace && sameItems(x.forZones, y.forZones) && sameItems(x.forNodes, y.forNodes))
  );
}

/** Two shown instances are the same when id, endpoints and metadata are. */
export function sameInstance(a: ServiceInstance | undefined, b: ServiceInstance | undefined): boolean {
  if (a === b) return true;
  if (a === undefined || b === undefined) return false;
  return a.id === b.id && sameStringMap(a.metadata, b.metadata) && sameItems(a.endpoints, b.endpoints);
}

/**
 * An endpoint's identity: its Pod's name when it points to a Pod of the
 * slice's namespace (the common case: the string the record already holds,
 * no new one), else `kind/namespace/name`, else `@address`. Names cannot hold
 * `/` or start with `@`, so the three forms never collide.
 */
export function identityOf(slice: EndpointSliceRecord, i: number): string {
  const name = slice.targetNames[i];
  if (name === undefined) return ["@", sliceAddress(slice, i)].join("");
  const t = slice.traits[i]!;
  const ns = t.targetNamespace ?? slice.namespace;
  // join: one flat string (a key kept for the member's life; `+` would keep the pieces).
  return t.targetKind === "Pod" && ns === slice.namespace ? name : [t.targetKind ?? "", "/", ns, "/", name].join("");
}

/** The metadata of an instance: zone, node name, hostname and hints, the ones present. */
export function metadataOfTraits(t: EndpointTraits): Readonly<Record<string, string>> {
  const metadata: Record<string, string> = {};
  if (t.zone !== undefined) metadata["zone"] = t.zone;
  if (t.nodeName !== undefined) metadata["nodeName"] = t.nodeName;
  if (t.hostname !== undefined) metadata["hostname"] = t.hostname;
  if (t.forZones.length > 0) metadata["hints.forZones"] = t.forZones.join(",");
  if (t.forNodes.length > 0) metadata["hints.forNodes"] = t.forNodes.join(",");
  return Object.freeze(metadata);
}

/** `metadataOfTraits` through a cache keyed by the (interned) traits object: endpoints on one node share one metadata object. */
export function createMetadataCache(): (t: EndpointTraits) => Readonly<Record<string, string>> {
  const cache = new WeakMap<EndpointTraits, Readonly<Record<string, string>>>();
  return (t) => {
    let m = cache.get(t);
    if (m === undefined) cache.set(t, (m = metadataOfTraits(t)));
    return m;
  };
}
