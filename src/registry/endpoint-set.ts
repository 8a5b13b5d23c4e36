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
 * - An endpoint in two slices of one family shows as the better one (ready
 *   over serving over neither), and of two alike as the one in the slice
 *   whose `namespace/name` sorts first, whichever event came first.
 * - An endpoint that leaves every slice stays for `moveGraceMs` before it is
 *   removed, so one that moves between slices (two events, in either order)
 *   keeps its connection and statistics. A Service with no slices, or no
 *   ready endpoints, is an empty set at once.
 *
 * Memory: a member in the common state (ready in one slice) is its shown
 * instance alone, found by id in the sorted shown instances, with no map
 * entry; the slice records (the informer's) are the only other copy. A
 * {@link Member} exists only for the others.
 *
 * @module
 */
import type { Clock } from "../kube/clock.ts";
import type { EndpointSliceRecord, EndpointTraits } from "../kube/endpoint-slice-record.ts";
import { endpointUrl, type ServiceInstance } from "./kratos-codec.ts";
import type { MemberSet } from "./service-hub.ts";
import { ShownInstances } from "./shown-instances.ts";
import { createMetadataCache, identityOf, isLive, Member, rank, sameInstance, sameTraits, sameView, type Contribution, type SliceView } from "./endpoint-set-member.ts";
import { contribution, counts, familyOf, indexSlice, mayHold, slicePorts, type AddressFamily } from "./endpoint-slice-view.ts";

export type { AddressFamily } from "./endpoint-slice-view.ts";
export { portScheme, slicePorts } from "./endpoint-slice-view.ts";

/** Default grace for an endpoint moving between slices, 2 s. */
export const DEFAULT_MOVE_GRACE_MS = 2_000;

/** Options of {@link createEndpointSet}. */
export interface EndpointSetOptions {
  /** A port name, or a number (the endpoints' port); undefined: every port of each slice, in slice order. */
  readonly port: string | undefined;
  readonly family: AddressFamily;
  readonly moveGraceMs: number;
  readonly clock: Clock;
  /** The metadata of an endpoint's traits; sets sharing one share the objects (default: one cache per set). */
  readonly metadata?: ((t: EndpointTraits) => Readonly<Record<string, string>>) | undefined;
}

interface SliceState {
  readonly record: EndpointSliceRecord;
  readonly view: SliceView;
}

const NONE: ReadonlyMap<string, number> = new Map();

/** Creates the set of `service` over `slices`; `changed` runs when a grace window ends. */
export function createEndpointSet(
  service: string,
  slices: readonly EndpointSliceRecord[],
  o: EndpointSetOptions,
  changed: () => void,
): MemberSet<EndpointSliceRecord> {
  return new EndpointSet(service, slices, o, changed);
}

// join: one flat string (kept as a map key for the slice's life; a template literal would keep its pieces).
const sliceKey = (s: EndpointSliceRecord): string => [s.namespace, s.name].join("/");

/** A class, not closures: a fleet of Services holds one set each, and methods on a prototype cost nothing per set. */
class EndpointSet implements MemberSet<EndpointSliceRecord> {
  /** The slice versions merged (the informer holds the same objects), for slices with endpoints of the family. */
  readonly #states = new Map<string, SliceState>();
  /**
   * Identity → its {@link Member}, or its shown instance when the identity is
   * not the instance's id (a target other than a Pod of the namespace, or
   * none). A member in the common state whose identity is its Pod's name is
   * not here: it is found in {@link EndpointSet.#shown} by id, and costs no entry.
   * Made on first use: most sets hold only common members.
   */
  #members: Map<string, ServiceInstance | Member> | undefined;
  /** The shown instances of {@link EndpointSet.#members}' entries (few): the others with an id are common members. */
  #mapped: WeakSet<ServiceInstance> | undefined;
  /** The shown instances, in {@link byIdThenEndpoints} order. */
  #shown: ShownInstances;
  #closed = false;
  readonly #service: string;
  readonly #o: EndpointSetOptions;
  readonly #changed: () => void;
  readonly #metadataOf: (t: EndpointTraits) => Readonly<Record<string, string>>;

  constructor(service: string, slices: readonly EndpointSliceRecord[], o: EndpointSetOptions, changed: () => void) {
    this.#service = service;
    this.#o = o;
    this.#changed = changed;
    this.#metadataOf = o.metadata ?? createMetadataCache();
    // The first build sees every slice at once: each member is settled once (an
    // endpoint in two slices, as dual-stack has them all, costs no scan).
    const all = new Map<string, Member>();
    for (const s of slices) {
      const family = familyOf(s, o.family);
      if (family === undefined) continue;
      const index = indexSlice(s, family);
      if (index.size === 0) continue;
      const key = sliceKey(s);
      this.#states.set(key, { record: s, view: { family, ports: slicePorts(s.ports, o.port) } });
      for (const [id, i] of index) {
        let m = all.get(id);
        if (m === undefined) all.set(id, (m = new Member()));
        m.contribs.set(key, contribution(s, i));
      }
    }
    const shown: ServiceInstance[] = [];
    for (const [id, m] of all) {
      m.shown = this.#instanceOf(m);
      if (m.shown !== undefined) shown.push(m.shown);
      this.#setEntry(id, m.contribs.size === 1 && m.shown !== undefined ? m.shown : m);
    }
    this.#shown = new ShownInstances(shown);
  }

  get version(): number {
    return this.#shown.version;
  }

  upsert(slice: EndpointSliceRecord): void {
    if (!this.#closed) this.#put(sliceKey(slice), slice);
  }

  remove(slice: EndpointSliceRecord): void {
    if (!this.#closed) this.#put(sliceKey(slice), undefined);
  }

  instances(): ServiceInstance[] {
    return this.#shown.toArray();
  }

  close(): void {
    this.#closed = true;
    for (const e of this.#members?.values() ?? []) if (e instanceof Member) e.timer?.cancel();
  }

  #build(live: readonly (readonly [Contribution, SliceView, ...unknown[]])[]): ServiceInstance {
    const endpoints: string[] = [];
    for (const [c, view] of live) for (const p of view.ports) endpoints.push(endpointUrl(p.scheme, c.address, p.port));
    const [c] = live[0]!;
    return Object.freeze({
      id: c.id,
      name: this.#service,
      version: "",
      metadata: this.#metadataOf(c.traits),
      // slice(): exact size (a pushed-to array keeps room for 17 elements).
      endpoints: Object.freeze(endpoints.slice()),
    }) as ServiceInstance;
  }

  /** Shows `next` instead of `prev`; keeps `prev` when they show the same. */
  #show(prev: ServiceInstance | undefined, next: ServiceInstance | undefined): ServiceInstance | undefined {
    return this.#shown.replace(prev, next, sameInstance);
  }

  /** The instance a member shows now, from its best contribution per family. */
  #instanceOf(m: Member): ServiceInstance | undefined {
    // Per family, the best contribution; of equal ones, the slice named first (whatever order the events came in).
    let v4: [Contribution, SliceView, string] | undefined;
    let v6: [Contribution, SliceView, string] | undefined;
    const better = (c: Contribution, key: string, than: [Contribution, SliceView, string] | undefined): boolean =>
      than === undefined || rank(c.traits) > rank(than[0].traits) || (rank(c.traits) === rank(than[0].traits) && key < than[2]);
    for (const [key, c] of m.contribs) {
      const view = this.#states.get(key)?.view;
      if (view === undefined) continue;
      if (view.family === "IPv4") v4 = better(c, key, v4) ? [c, view, key] : v4;
      else v6 = better(c, key, v6) ? [c, view, key] : v6;
    }
    const live = [v4, v6].filter((x): x is [Contribution, SliceView, string] => x !== undefined && isLive(x[0].traits) && x[1].ports.length > 0);
    return live.length === 0 ? undefined : this.#build(live);
  }

  /** Brings a {@link Member} up to date: shown, back to the common state, or through the grace window. */
  #settle(id: string, m: Member): void {
    if (m.contribs.size > 0) {
      m.timer?.cancel();
      m.timer = undefined;
      m.shown = this.#show(m.shown, this.#instanceOf(m));
      this.#setEntry(id, m.contribs.size === 1 && m.shown !== undefined ? m.shown : m);
      return;
    }
    if (m.shown === undefined || this.#o.moveGraceMs <= 0) {
      m.timer?.cancel();
      this.#members?.delete(id);
      m.shown = this.#show(m.shown, undefined);
      return;
    }
    // Left every slice while shown: keep it through the grace window.
    m.timer ??= this.#o.clock.setTimeout(() => {
      m.timer = undefined;
      if (this.#closed || this.#members?.get(id) !== m || m.contribs.size > 0) return;
      this.#members?.delete(id);
      const before = this.#shown.version;
      m.shown = this.#show(m.shown, undefined);
      if (this.#shown.version !== before) this.#changed();
    }, this.#o.moveGraceMs);
  }

  /** The slice other than `except` that holds `id` (a member in the common state names none): a scan, run only when an endpoint joins a second slice. */
  #findElsewhere(id: string, except: string): [string, Contribution] | undefined {
    for (const [key, st] of this.#states) {
      if (key === except) continue;
      if (!mayHold(st.record, id)) continue;
      const i = indexSlice(st.record, st.view.family).get(id);
      if (i !== undefined) return [key, contribution(st.record, i)];
    }
    return undefined;
  }


  /** The entry of identity `id`: its Member, or the instance it shows in the common state. */
  #entry(id: string): ServiceInstance | Member | undefined {
    const e = this.#members?.get(id);
    if (e !== undefined || id.startsWith("@") || id.includes("/")) return e;
    // A Pod's name: a common member is the shown instance with that id that no entry holds.
    return this.#shown.find(id, (i) => this.#mapped?.has(i) === true);
  }

  /** Files `id`'s entry: an instance whose id is the identity goes unmapped (the common state); anything else into the map. */
  #setEntry(id: string, e: ServiceInstance | Member): void {
    if (!(e instanceof Member) && e.id === id && !id.startsWith("@") && !id.includes("/")) {
      this.#members?.delete(id);
      this.#mapped?.delete(e);
      return;
    }
    (this.#members ??= new Map()).set(id, e);
    const shown = e instanceof Member ? e.shown : e;
    // Made on first use: most sets never map an instance.
    if (shown !== undefined) (this.#mapped ??= new WeakSet()).add(shown);
  }

  /** `id` is in slice `key` (`c`, under `view`); `wasHere`: it was in that slice's previous version too. */
  #arrive(id: string, key: string, c: Contribution, view: SliceView, wasHere: boolean): void {
    const e = this.#entry(id);
    if (e instanceof Member) {
      e.contribs.set(key, c);
      this.#settle(id, e);
      return;
    }
    if (e === undefined || wasHere) {
      // In this slice only.
      if (isLive(c.traits) && view.ports.length > 0) {
        this.#setEntry(id, this.#show(e, this.#build([[c, view]]))!);
        return;
      }
      const m = this.#toMember(id, e);
      m.contribs.set(key, c);
      this.#settle(id, m);
      return;
    }
    // Shown from another slice, now also in this one.
    const m = this.#toMember(id, e);
    const other = this.#findElsewhere(id, key);
    if (other !== undefined) m.contribs.set(other[0], other[1]);
    m.contribs.set(key, c);
    this.#settle(id, m);
  }

  /** `id` is no longer in slice `key`. */
  #leave(id: string, key: string): void {
    const e = this.#entry(id);
    if (e === undefined) return;
    // A member in the common state was in this slice only.
    const m = e instanceof Member ? e : this.#toMember(id, e);
    m.contribs.delete(key);
    this.#settle(id, m);
  }

  /** A {@link Member} for `id`, which shows `shown` so far, filed as its entry. */
  #toMember(id: string, shown: ServiceInstance | undefined): Member {
    const m = new Member();
    m.shown = shown;
    this.#setEntry(id, m);
    return m;
  }

  #put(key: string, record: EndpointSliceRecord | undefined): void {
    const before = this.#states.get(key);
    const family = record === undefined ? undefined : familyOf(record, this.#o.family);
    // A new version keeps its predecessor's ports array when they are equal (see the projection): then so is the view.
    const fresh: SliceView | undefined = family === undefined ? undefined
      : before !== undefined && before.view.family === family && before.record.ports === record!.ports ? before.view
      : { family, ports: slicePorts(record!.ports, this.#o.port) };
    const keepView = before !== undefined && sameView(before.view, fresh);
    if (keepView && record !== undefined && this.#putAligned(key, before, record)) return;
    const view = keepView ? before.view : fresh;
    const prev = before === undefined ? NONE : indexSlice(before.record, before.view.family);
    const next = view === undefined ? NONE : indexSlice(record!, view.family);
    if (next.size > 0) this.#states.set(key, { record: record!, view: view! });
    else this.#states.delete(key);
    for (const id of prev.keys()) if (!next.has(id)) this.#leave(id, key);
    for (const [id, j] of next) {
      const i = prev.get(id);
      // Unchanged endpoints of the changed slice cost a comparison, not a refresh.
      if (i !== undefined && keepView && before.record.addresses[i] === record!.addresses[j] && sameTraits(before.record.traits[i]!, record!.traits[j]!)) continue;
      this.#arrive(id, key, contribution(record!, j), view!, i !== undefined);
    }
  }

  /**
   * A new version of a slice listing the same targets in the same places (a
   * readiness flip, the common update): only the changed endpoints are
   * visited and nothing is indexed. False when that does not apply.
   */
  #putAligned(key: string, before: SliceState, record: EndpointSliceRecord): boolean {
    const a = before.record;
    const n = a.addresses.length;
    if (record.addresses.length !== n) return false;
    let changed: number[] | undefined;
    for (let i = 0; i < n; i++) {
      const ta = a.traits[i]!;
      const tb = record.traits[i]!;
      if (a.targetNames[i] !== record.targetNames[i] || ta.targetKind !== tb.targetKind || ta.targetNamespace !== tb.targetNamespace) return false;
      if (a.addresses[i] === record.addresses[i] && sameTraits(ta, tb)) continue;
      const name = record.targetNames[i];
      // An `@address` identity moves with its address; a target listed twice needs the best of its entries.
      if (name === undefined || record.targetNames.indexOf(name) !== i || record.targetNames.lastIndexOf(name) !== i) return false;
      (changed ??= []).push(i);
    }
    this.#states.set(key, { record, view: before.view });
    const family = before.view.family;
    for (const i of changed ?? []) {
      const id = identityOf(record, i);
      const was = counts(a, i, family);
      if (counts(record, i, family)) this.#arrive(id, key, contribution(record, i), before.view, was);
      else if (was) this.#leave(id, key);
    }
    return true;
  }
}
