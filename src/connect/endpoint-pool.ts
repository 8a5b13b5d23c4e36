/**
 * The endpoints of one service as the balancing transport sees them: the
 * instance lists from discovery turned into {@link Endpoint}s (filtered,
 * Kratos-subsetted, one per address), removed endpoints draining, and the
 * picker snapshot over the ready ones, rebuilt whenever that set changes.
 * Calls that find no ready endpoint wait here for a change.
 *
 * The resilience policies apply here, so every picker (custom ones too)
 * gets them: ejected endpoints (outlier detection) are left out unless too
 * few are healthy (the panic threshold), then the local zone's are kept while
 * enough (`zone`); a pick keeps one in slow start only with its weight factor.
 *
 * @module
 */
import { Endpoint, type EndpointOptions } from "./channel/endpoint.ts";
import type { LifecycleName } from "./channel/lifecycle.ts";
import type { Code } from "@connectrpc/connect";
import { resolveEndpoints, routingScheme, type EndpointInstance, type InstanceWatcherState, type ResolvedEndpoint, type RoutingProtocol } from "./endpoint-source.ts";
import { createNodeStats, type Picker, type PickerNode, type PickerPolicy, type PickRequest } from "./picker.ts";
import { keepLastReason, type EmptySetPolicy } from "./policy/empty-set.ts";
import { OutlierDetector, type EjectionChange, type EjectionReason, type OutlierConfig } from "./policy/outlier-detection.ts";
import { slowStartFactor, type SlowStartConfig } from "./policy/slow-start.ts";
import type { ZonePreference } from "./policy/zone.ts";
import { subsetMemberKey } from "./subset.ts";
import type { SubsetChooser } from "./subset-config.ts";
import type { TransportClock } from "./transport-clock.ts";

/** What the pool needs besides the per-endpoint options. */
export interface EndpointPoolOptions {
  readonly service: string;
  readonly protocol: RoutingProtocol | undefined;
  readonly secure: boolean;
  /** A `kubernetes:///` target: each instance's first endpoint is dialed whatever its scheme. */
  readonly anyScheme?: boolean | undefined;
  readonly version: string | undefined;
  readonly filter: ((i: EndpointInstance) => boolean) | undefined;
  /** Which instances this client connects to (the `subset` option). */
  readonly subset: SubsetChooser;
  readonly drainTimeoutMs: number | undefined;
  readonly policy: PickerPolicy;
  readonly clock: TransportClock;
  /** Options of each new endpoint (all but the address and the change hook). */
  readonly endpoint: Omit<EndpointOptions, "address" | "onChange">;
  /** Every endpoint state change. */
  readonly onChange: (address: string, state: LifecycleName, error: unknown) => void;
  /** Outlier detection, or `undefined` when off. */
  readonly outlier?: OutlierConfig | undefined;
  /** Slow start, or `undefined` when off. */
  readonly slowStart?: SlowStartConfig | undefined;
  /** What an empty list means (default `"fail"`). */
  readonly emptySet?: EmptySetPolicy | undefined;
  /** Zone-aware picking, or `undefined` when off. */
  readonly zone?: ZonePreference | undefined;
  /** Randomness for outlier enforcement and slow start. */
  readonly random?: (() => number) | undefined;
  /** Outlier detection ejected an endpoint (`reason`) or returned it (`undefined`), for metrics and logs. */
  readonly onEjection?: ((address: string, reason: EjectionReason | undefined) => void) | undefined;
}

interface Entry {
  endpoint: Endpoint;
  node: PickerNode<Endpoint>;
  /** Added while no endpoint was ready (the first set): its first ready skips slow start. */
  initial: boolean;
}

/** See the module doc. */
export class EndpointPool {
  #o: EndpointPoolOptions;
  #entries = new Map<string, Entry>();
  #draining = new Set<Endpoint>();
  #order: string[] = [];
  #picker: Picker<Endpoint>;
  #waiters = new Set<() => void>();
  #outliers: OutlierDetector | undefined;
  /** Endpoints in slow start: address → clock time they became ready. */
  #warming = new Map<string, number>();
  #random: () => number;
  /** Discovery answered at least once. */
  discovered = false;
  /** What the last instance list held, for error messages. */
  seen = "";
  /** The last discovery error, until a list arrives. */
  discoveryError: unknown = undefined;

  /** @param o see {@link EndpointPoolOptions} */
  constructor(o: EndpointPoolOptions) {
    this.#o = o;
    this.#picker = o.policy.build([]);
    this.#random = o.random ?? Math.random;
    this.#outliers = o.outlier === undefined ? undefined : new OutlierDetector(o.outlier, o.clock.now(), this.#random);
  }

  /** Endpoints that may be picked, in any zone (the picker holds the local ones only while they suffice). */
  pickable = 0;
  /** The current picker snapshot. */
  get picker(): Picker<Endpoint> {
    return this.#picker;
  }

  /** Endpoints from discovery (not draining ones). */
  get endpoints(): Iterable<Endpoint> {
    return [...this.#entries.values()].map((e) => e.endpoint);
  }

  /** Removed endpoints whose calls still run. */
  get draining(): Iterable<Endpoint> {
    return this.#draining;
  }

  /** Applies an instance list from discovery; `state` is the watcher's, when it reports one. */
  apply(list: readonly EndpointInstance[], state?: InstanceWatcherState): void {
    const o = this.#o;
    this.discoveryError = undefined;
    const routing = { protocol: o.protocol, secure: o.secure, anyScheme: o.anyScheme };
    const { version, filter: userFilter } = o;
    const filter = version === undefined && userFilter === undefined
      ? undefined
      : (i: EndpointInstance): boolean => (version === undefined || i.version === version) && (userFilter === undefined || userFilter(i));
    const resolved = resolveEndpoints(list, { ...routing, filter });
    this.discovered = true;
    this.seen = `discovery returned ${list.length} instance(s), ${resolved.length} with ${o.anyScheme === true ? "an" : `a ${routingScheme(routing)}`} endpoint` +
      (version !== undefined ? ` of version ${JSON.stringify(version)}` : "");
    const keepReason = resolved.length === 0 && this.#entries.size > 0 ? keepLastReason(o.emptySet ?? "fail", state) : undefined;
    if (keepReason !== undefined) {
      this.seen += ` (empty update ignored: ${keepReason}; keeping the previous endpoints)`;
      this.notify();
      return;
    }
    const chosen = o.subset.choose(resolved, (r: ResolvedEndpoint) => subsetMemberKey(r.instance));
    const keep = new Set<string>();
    for (const r of chosen) {
      keep.add(r.address);
      const e = this.#entries.get(r.address);
      if (e === undefined) this.#add(r);
      else if (e.node.weight !== r.weight) e.node = { key: r.address, value: e.endpoint, weight: r.weight, stats: e.node.stats };
    }
    for (const [address, e] of this.#entries) {
      if (keep.has(address)) continue;
      this.#entries.delete(address);
      this.#outliers?.remove(address);
      this.#warming.delete(address);
      this.#draining.add(e.endpoint);
      e.endpoint.drain(o.drainTimeoutMs);
    }
    this.#order = chosen.map((r) => r.address);
    o.zone?.update(chosen);
    this.#rebuild();
  }

  #add(r: ResolvedEndpoint): void {
    const endpoint = new Endpoint({
      ...this.#o.endpoint,
      address: r.address,
      onChange: (ep, state, error) => this.#changed(ep, state, error),
    });
    const node: PickerNode<Endpoint> = { key: r.address, value: endpoint, weight: r.weight, stats: createNodeStats(this.#o.clock.now()) };
    this.#entries.set(r.address, { endpoint, node, initial: this.#picker.nodes.length === 0 });
    this.#outliers?.add(r.address);
    this.#o.onChange(r.address, endpoint.state, undefined);
  }

  #changed(ep: Endpoint, state: LifecycleName, error: unknown): void {
    if (state === "closed") this.#draining.delete(ep);
    this.#o.onChange(ep.address, state, error);
    const entry = this.#entries.get(ep.address);
    if (entry?.endpoint !== ep) return;
    if (state !== "ready") this.#warming.delete(ep.address);
    else if (entry.initial) entry.initial = false;
    else if (this.#o.slowStart !== undefined && [...this.#entries.values()].some((e) => e.endpoint !== ep && e.endpoint.state === "ready")) {
      // Slow start for endpoints joining (or coming back to) others that serve; the first set starts at full weight.
      this.#warming.set(ep.address, this.#o.clock.now());
    }
    this.#rebuild();
  }

  #rebuild(): void {
    const nodes: PickerNode<Endpoint>[] = [];
    const od = this.#outliers;
    let ejectedReady = 0;
    for (const address of this.#order) {
      const e = this.#entries.get(address);
      if (e === undefined || e.endpoint.state !== "ready") continue;
      if (od !== undefined && od.ejectedCount > 0 && od.ejected(address) !== undefined) ejectedReady++;
      else nodes.push(e.node);
    }
    // Panic (Envoy healthy_panic_threshold): too few healthy endpoints, ignore ejections.
    if (ejectedReady > 0 && nodes.length * 100 < od!.config.panicThresholdPercent * this.#entries.size) {
      nodes.length = 0;
      for (const address of this.#order) {
        const e = this.#entries.get(address);
        if (e !== undefined && e.endpoint.state === "ready") nodes.push(e.node);
      }
    }
    this.pickable = nodes.length;
    const picked = this.#o.zone === undefined ? nodes : this.#o.zone.filter(nodes);
    const prev = this.#picker;
    const same = prev.nodes.length === picked.length && picked.every((n, i) => prev.nodes[i] === n);
    if (!same) this.#picker = this.#o.policy.build(picked, prev);
    this.notify();
  }

  /**
   * Picks a node, avoiding the endpoints in `tried` (attempts that failed
   * unsent) while others are available. `request` is the call, for pickers
   * keyed per call (they get `tried` as its `avoid`).
   */
  pick(tried: readonly Endpoint[] | undefined, request?: PickRequest): PickerNode<Endpoint> | undefined {
    let picker = this.#picker;
    const req = request === undefined || tried === undefined || tried.length === 0 ? request : { ...request, avoid: tried };
    let first = this.#warming.size === 0 ? picker.pick(req) : this.#pickWarm(picker, req);
    if (first === undefined && this.#outliers !== undefined && this.#outliers.ejectedCount > 0) {
      // No call completes while nothing is pickable: let due un-ejections happen here.
      this.#applyChanges(this.#outliers.tick(this.#o.clock.now()));
      picker = this.#picker;
      first = picker.pick(req);
    }
    if (tried === undefined || first === undefined || !tried.includes(first.value)) return first;
    // p2c counts a pick as in flight: give back the picks not used.
    for (let i = 1; i < picker.nodes.length; i++) {
      const n = this.#warming.size === 0 ? picker.pick(req) : this.#pickWarm(picker, req);
      if (n === undefined) break;
      if (!tried.includes(n.value)) {
        picker.release(first);
        return n;
      }
      picker.release(n);
    }
    return first;
  }

  /** A pick that keeps an endpoint in slow start with its weight factor (rejection sampling, bounded). */
  #pickWarm(picker: Picker<Endpoint>, req: PickRequest | undefined): PickerNode<Endpoint> | undefined {
    const c = this.#o.slowStart!;
    const now = this.#o.clock.now();
    const tries = 2 * picker.nodes.length;
    for (let i = 1; ; i++) {
      const n = picker.pick(req);
      if (n === undefined || i >= tries) return n;
      const readyAt = this.#warming.get(n.key);
      if (readyAt === undefined) return n;
      const f = slowStartFactor(c, now - readyAt);
      if (f >= 1) this.#warming.delete(n.key);
      if (f >= 1 || this.#random() < f) return n;
      picker.release(n);
    }
  }

  /** How a unary call or a stream's start on `node` ended (`code` undefined = OK), for outlier detection. */
  outcome(node: PickerNode<Endpoint>, code: Code | undefined): void {
    if (this.#outliers === undefined) return;
    this.#applyChanges(this.#outliers.record(node.key, code, this.#o.clock.now()));
  }

  #applyChanges(changes: readonly EjectionChange[]): void {
    if (changes.length === 0) return;
    this.#rebuild();
    const report = this.#o.onEjection;
    if (report !== undefined) for (const c of changes) report(c.key, c.ejected);
  }

  /** Why the endpoint at `address` is ejected, if it is. */
  ejection(address: string): EjectionReason | undefined {
    return this.#outliers?.ejected(address);
  }

  /** The slow-start weight factor of `address` while it ramps up, else `undefined`. */
  slowStartWeight(address: string): number | undefined {
    const readyAt = this.#warming.get(address);
    if (readyAt === undefined) return undefined;
    const f = slowStartFactor(this.#o.slowStart!, this.#o.clock.now() - readyAt);
    return f >= 1 ? undefined : f;
  }

  /** True when endpoints are known and every one is in backoff. */
  allInBackoff(): boolean {
    if (this.#entries.size === 0) return false;
    for (const e of this.#entries.values()) if (e.endpoint.state !== "backoff") return false;
    return true;
  }

  /** Registers a one-shot wake-up for the next change; returns its removal. */
  onNextChange(fn: () => void): () => void {
    this.#waiters.add(fn);
    return () => this.#waiters.delete(fn);
  }

  /** Wakes every waiter. */
  notify(): void {
    if (this.#waiters.size === 0) return;
    const ws = [...this.#waiters];
    this.#waiters.clear();
    for (const w of ws) w();
  }

  /** Closes every endpoint (calls still running fail with Canceled). */
  close(): void {
    for (const e of this.#entries.values()) e.endpoint.close();
    for (const ep of this.#draining) ep.close();
    this.#entries.clear();
    this.#draining.clear();
    this.#picker = this.#o.policy.build([]);
    this.notify();
  }
}
