/**
 * The pure parts of an EndpointSlice set's members: what a slice version
 * offers its endpoints (family, ports), the slices an endpoint is in (one
 * inline, a Map only for the rest), and the value comparisons that let an
 * unchanged endpoint or instance cost a comparison instead of a refresh.
 *
 * @module
 */
import type { TimerHandle } from "../kube/clock.ts";
import type { SliceEndpoint } from "../kube/endpoint-slice-record.ts";
import type { ServiceInstance } from "./kratos-codec.ts";

/** What one slice version offers every endpoint in it: the family, and the ports resolved for the target. */
export interface SliceView {
  readonly family: "IPv4" | "IPv6";
  readonly ports: readonly { readonly scheme: string; readonly port: number }[];
}

export interface Member {
  /**
   * Slice key → the endpoint as that slice has it (the informer's own record
   * object: nothing is copied). Almost every endpoint is in one slice: that
   * one is held inline (`slice`, `one`), a Map only for the rest.
   */
  slice: string | undefined;
  one: SliceEndpoint | undefined;
  more: Map<string, SliceEndpoint> | undefined;
  /** The instance shown. */
  shown: ServiceInstance | undefined;
  /** Pending removal after leaving every slice. */
  timer: TimerHandle | undefined;
}

export function setFrom(m: Member, slice: string, ep: SliceEndpoint): void {
  if (m.slice === undefined || m.slice === slice) {
    m.slice = slice;
    m.one = ep;
  } else (m.more ??= new Map()).set(slice, ep);
}

export function deleteFrom(m: Member, slice: string): void {
  if (m.slice === slice) {
    m.slice = undefined;
    m.one = undefined;
    const first = m.more?.entries().next();
    if (first !== undefined && first.done !== true) {
      m.more!.delete(first.value[0]);
      m.slice = first.value[0];
      m.one = first.value[1];
    }
  } else m.more?.delete(slice);
  if (m.more?.size === 0) m.more = undefined;
}

export function* contributionsOf(m: Member): Generator<readonly [string, SliceEndpoint]> {
  if (m.one !== undefined) yield [m.slice!, m.one];
  if (m.more !== undefined) yield* m.more.entries();
}

export const sameView = (a: SliceView | undefined, b: SliceView | undefined): boolean =>
  a === b || (a !== undefined && b !== undefined && a.family === b.family && a.ports.length === b.ports.length && a.ports.every((p, i) => p.scheme === b.ports[i]!.scheme && p.port === b.ports[i]!.port));

/** Two shown instances are the same when id, endpoints and (interned) metadata are. */
export function sameInstance(a: ServiceInstance | undefined, b: ServiceInstance | undefined): boolean {
  if (a === b) return true;
  if (a === undefined || b === undefined) return false;
  return a.id === b.id && sameMetadata(a.metadata, b.metadata) && sameList(a.endpoints, b.endpoints);
}

export function sameMetadata(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean {
  if (a === b) return true;
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => a[k] === b[k]);
}

export const rank = (ep: SliceEndpoint): number => (ep.ready && !ep.terminating ? 2 : ep.serving ? 1 : 0);

export const sameList = (a: readonly string[], b: readonly string[]): boolean => a.length === b.length && a.every((x, i) => x === b[i]);

/** True when two versions of an endpoint show the same thing (a new slice version usually repeats most endpoints). */
export function sameEndpoint(x: SliceEndpoint, y: SliceEndpoint): boolean {
  return (
    x === y ||
    (x.address === y.address && x.ready === y.ready && x.serving === y.serving && x.terminating === y.terminating &&
      x.hostname === y.hostname && x.nodeName === y.nodeName && x.zone === y.zone && x.targetKind === y.targetKind &&
      x.targetNamespace === y.targetNamespace && x.targetName === y.targetName && sameList(x.forZones, y.forZones) && sameList(x.forNodes, y.forNodes))
  );
}
