/**
 * Zone-aware picking: calls stay in the caller's zone while enough of its
 * endpoints there are healthy, and spill over to every zone otherwise, as
 * Kubernetes `trafficDistribution: PreferSameZone` and Envoy's zone-aware
 * routing do (cross-zone traffic costs latency and, in most clouds, money).
 *
 * - An endpoint's zone is its instance metadata under `key` (default
 *   `zone`, which EndpointSlice instances carry; for Kratos Pods, a metadata
 *   key the service sets).
 * - EndpointSlice hints (metadata `hints.forZones`, comma-separated): when
 *   every endpoint has them, the endpoints that list the caller's zone serve
 *   it, whatever their own zone; when any endpoint lacks them, they are all
 *   ignored (the Kubernetes topology-aware routing rule, as kube-proxy).
 * - The local endpoints are used while at least `minLocalPercent` % of them
 *   (and at least one) are ready and not ejected; else every healthy
 *   endpoint is. No local endpoint at all: every healthy endpoint.
 *
 * Pure: the endpoint pool feeds it its endpoints and its healthy nodes.
 *
 * @module
 */
import { EndpointConfigError } from "../endpoint-source.ts";

/** Options of zone-aware picking (the transport's `zone` option). */
export interface ZoneOptions {
  /**
   * The caller's zone, e.g. its node's `topology.kubernetes.io/zone` label
   * (`"eu-west-1a"`). Default: the `KRATOS_KUBE_ZONE` environment variable;
   * neither set: zone-aware picking is off.
   */
  readonly local?: string;
  /** Stay local while at least this % of the local endpoints are ready and not ejected (default 50; 0 = while one is). */
  readonly minLocalPercent?: number;
  /** The instance metadata key that holds an endpoint's zone (default `"zone"`). */
  readonly key?: string;
}

/** The options with the defaults filled in. */
export interface ZoneConfig {
  readonly local: string;
  readonly minLocalPercent: number;
  readonly key: string;
}

/** The metadata key of EndpointSlice zone hints (comma-separated zones). */
export const ZONE_HINTS_KEY = "hints.forZones";

/**
 * Validates `o` and fills in the defaults; `undefined` (off) when `o` is
 * `false` or no local zone is known (neither `o.local` nor `envZone`).
 * Throws an `EndpointConfigError` (`BAD_OPTION`) naming a bad field.
 */
export function zoneConfig(o: ZoneOptions | false | undefined, envZone: string | undefined): ZoneConfig | undefined {
  if (o === false) return undefined;
  const bad = (name: string, v: unknown, want: string): never => {
    throw new EndpointConfigError("BAD_OPTION", `zone${name === "" ? "" : `.${name}`} must be ${want}, got ${JSON.stringify(v)}`);
  };
  if (o !== undefined && (typeof o !== "object" || o === null)) bad("", o, "an object or false");
  const { local = envZone, minLocalPercent = 50, key = "zone" } = o ?? {};
  if (local !== undefined && (typeof local !== "string" || local.trim() === "")) bad("local", local, "a non-empty string");
  if (typeof minLocalPercent !== "number" || !(minLocalPercent >= 0 && minLocalPercent <= 100)) bad("minLocalPercent", minLocalPercent, "a number in [0, 100]");
  if (typeof key !== "string" || key === "") bad("key", key, "a non-empty string");
  return local === undefined ? undefined : { local: local.trim(), minLocalPercent, key };
}

/** An endpoint as the policy sees it. */
export interface ZoneMember {
  readonly address: string;
  readonly instance: { readonly metadata: Readonly<Record<string, string>> };
}

/** The addresses of `members` that serve the local zone (see the module doc). */
export function localMembers(c: ZoneConfig, members: readonly ZoneMember[]): Set<string> {
  const out = new Set<string>();
  const hinted = members.length > 0 && members.every((m) => (m.instance.metadata[ZONE_HINTS_KEY] ?? "") !== "");
  for (const m of members) {
    const md = m.instance.metadata;
    const local = hinted ? md[ZONE_HINTS_KEY]!.split(",").some((z) => z.trim() === c.local) : md[c.key] === c.local;
    if (local) out.add(m.address);
  }
  return out;
}

/** Which nodes {@link preferLocal} chose: the local ones, or all. */
export interface ZoneChoice<N> {
  readonly nodes: readonly N[];
  /** True when only local endpoints are picked. */
  readonly local: boolean;
  /** Local endpoints ready and not ejected, and all local endpoints. */
  readonly healthyLocal: number;
  readonly totalLocal: number;
}

/** The nodes to pick from: the healthy local ones while there are enough, else every healthy one. */
export function preferLocal<N extends { readonly key: string }>(c: ZoneConfig, healthy: readonly N[], local: ReadonlySet<string>): ZoneChoice<N> {
  const mine = local.size === 0 ? [] : healthy.filter((n) => local.has(n.key));
  const enough = mine.length > 0 && mine.length * 100 >= c.minLocalPercent * local.size;
  return { nodes: enough ? mine : healthy, local: enough, healthyLocal: mine.length, totalLocal: local.size };
}

/**
 * The pool's zone state: its local endpoints (from the last list) and
 * whether it picks locally, with a report when that changes.
 */
export class ZonePreference {
  readonly config: ZoneConfig;
  #local = new Set<string>();
  #mode: boolean | undefined;
  #report: ((choice: ZoneChoice<unknown>) => void) | undefined;

  /** @param report told when picking moves to the local zone or spills over (not while nothing is healthy) */
  constructor(config: ZoneConfig, report?: (choice: ZoneChoice<unknown>) => void) {
    this.config = config;
    this.#report = report;
  }

  /** A new endpoint list. */
  update(members: readonly ZoneMember[]): void {
    this.#local = localMembers(this.config, members);
  }

  /** Whether `address` serves the local zone. */
  isLocal(address: string): boolean {
    return this.#local.has(address);
  }

  /** The nodes to pick from among `healthy`. */
  filter<N extends { readonly key: string }>(healthy: readonly N[]): readonly N[] {
    if (this.#local.size === 0) return healthy;
    const choice = preferLocal(this.config, healthy, this.#local);
    if (healthy.length > 0 && choice.local !== this.#mode) {
      const first = this.#mode === undefined;
      this.#mode = choice.local;
      // Starting local is what is expected: only a change (or starting spilled) is news.
      if (!(first && choice.local)) this.#report?.(choice);
    }
    return choice.nodes;
  }
}
