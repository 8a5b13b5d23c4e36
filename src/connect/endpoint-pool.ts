/**
 * The endpoints of one service as the balancing transport sees them: the
 * instance lists from discovery turned into {@link Endpoint}s (filtered,
 * Kratos-subsetted, one per address), removed endpoints draining, and the
 * picker snapshot over the ready ones, rebuilt whenever that set changes.
 * Calls that find no ready endpoint wait here for a change.
 *
 * @module
 */
import { Endpoint, type EndpointOptions } from "./channel/endpoint.ts";
import type { LifecycleName } from "./channel/lifecycle.ts";
import { resolveEndpoints, routingScheme, type EndpointInstance, type ResolvedEndpoint, type RoutingProtocol } from "./endpoint-source.ts";
import { createNodeStats, type Picker, type PickerNode, type PickerPolicy } from "./picker.ts";
import { DEFAULT_SUBSET_SIZE, subset, subsetMemberKey } from "./subset.ts";
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
  readonly subset: number | undefined;
  readonly subsetKey: string;
  readonly drainTimeoutMs: number | undefined;
  readonly policy: PickerPolicy;
  readonly clock: TransportClock;
  /** Options of each new endpoint (all but the address and the change hook). */
  readonly endpoint: Omit<EndpointOptions, "address" | "onChange">;
  /** Every endpoint state change. */
  readonly onChange: (address: string, state: LifecycleName, error: unknown) => void;
}

interface Entry {
  endpoint: Endpoint;
  node: PickerNode<Endpoint>;
}

/** See the module doc. */
export class EndpointPool {
  #o: EndpointPoolOptions;
  #entries = new Map<string, Entry>();
  #draining = new Set<Endpoint>();
  #order: string[] = [];
  #picker: Picker<Endpoint>;
  #waiters = new Set<() => void>();
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
  }

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

  /** Applies an instance list from discovery. */
  apply(list: readonly EndpointInstance[]): void {
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
    if (resolved.length === 0 && this.#entries.size > 0) {
      // Kratos refuses empty updates and keeps the last endpoints.
      this.seen += " (empty update ignored, keeping the previous endpoints)";
      this.notify();
      return;
    }
    const chosen = subset(o.subsetKey, resolved, o.subset ?? DEFAULT_SUBSET_SIZE, (r: ResolvedEndpoint) => subsetMemberKey(r.instance));
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
      this.#draining.add(e.endpoint);
      e.endpoint.drain(o.drainTimeoutMs);
    }
    this.#order = chosen.map((r) => r.address);
    this.#rebuild();
  }

  #add(r: ResolvedEndpoint): void {
    const endpoint = new Endpoint({
      ...this.#o.endpoint,
      address: r.address,
      onChange: (ep, state, error) => this.#changed(ep, state, error),
    });
    const node: PickerNode<Endpoint> = { key: r.address, value: endpoint, weight: r.weight, stats: createNodeStats(this.#o.clock.now()) };
    this.#entries.set(r.address, { endpoint, node });
    this.#o.onChange(r.address, endpoint.state, undefined);
  }

  #changed(ep: Endpoint, state: LifecycleName, error: unknown): void {
    if (state === "closed") this.#draining.delete(ep);
    this.#o.onChange(ep.address, state, error);
    if (this.#entries.get(ep.address)?.endpoint === ep) this.#rebuild();
  }

  #rebuild(): void {
    const nodes: PickerNode<Endpoint>[] = [];
    for (const address of this.#order) {
      const e = this.#entries.get(address);
      if (e !== undefined && e.endpoint.state === "ready") nodes.push(e.node);
    }
    const prev = this.#picker;
    const same = prev.nodes.length === nodes.length && nodes.every((n, i) => prev.nodes[i] === n);
    if (!same) this.#picker = this.#o.policy.build(nodes, prev);
    this.notify();
  }

  /**
   * Picks a node, avoiding the endpoints in `tried` (attempts that failed
   * unsent) while others are available.
   */
  pick(tried: readonly Endpoint[] | undefined): PickerNode<Endpoint> | undefined {
    const picker = this.#picker;
    const first = picker.pick();
    if (tried === undefined || first === undefined || !tried.includes(first.value)) return first;
    // p2c counts a pick as in flight: give back the picks not used.
    for (let i = 1; i < picker.nodes.length; i++) {
      const n = picker.pick();
      if (n === undefined) break;
      if (!tried.includes(n.value)) {
        picker.release(first);
        return n;
      }
      picker.release(n);
    }
    return first;
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
