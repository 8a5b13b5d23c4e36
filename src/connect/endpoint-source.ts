/**
 * What the balancing transport needs from service discovery, declared here so
 * `kratos-kube/connect` depends on nothing else of ours: any object shaped
 * like the registry's `Discovery` (for example `KubernetesRegistry`) fits
 * {@link EndpointSource} structurally. Also: the target syntax
 * (`discovery:///name`, `discovery://namespace/name`, and kuberesolver's
 * `kubernetes:///service.namespace:port`) and Kratos's choice of one address
 * per instance.
 *
 * @module
 */

/** A service instance, as Kratos discovery reports it (`registry.ServiceInstance`). */
export interface EndpointInstance {
  /** Instance ID (for Kubernetes, usually the Pod name). */
  readonly id: string;
  /** Service name. */
  readonly name: string;
  /** Version; see the transport's `version` filter. */
  readonly version: string;
  /** String metadata; `weight` feeds the `wrr` balancer. */
  readonly metadata: Readonly<Record<string, string>>;
  /** Endpoint URLs such as `grpc://10.1.2.3:9000` or `grpcs://[fd00::1]:9000`. */
  readonly endpoints: readonly string[];
}

/**
 * Where a watcher's lists come from, when the source says: a synced, working
 * watch (`synced`: an empty list means no instances), or one not synced yet
 * or failing (the list may be stale).
 */
export type InstanceWatcherState = "synced" | "unsynced" | "failing";

/** A running watch (Kratos `registry.Watcher`). */
export interface InstanceWatcher {
  /**
   * Resolves with the full current instance list: at once the first time,
   * then whenever it changes.
   */
  next(): Promise<readonly EndpointInstance[]>;
  /** Ends the watch; a pending `next()` may reject afterwards. */
  stop(): unknown;
  /** Optional: see {@link InstanceWatcherState}. */
  readonly state?: InstanceWatcherState | undefined;
}

/** Options of {@link EndpointSource.watch}. */
export interface EndpointSourceWatchOptions {
  signal?: AbortSignal;
  /**
   * The transport's whole target (`discovery://ns/name`,
   * `kubernetes:///svc.ns:port`, …); `name` is the service name parsed out
   * of it. Sources that know only names ignore it.
   */
  target?: string;
}

/** Service discovery (Kratos `registry.Discovery`, the watch half). */
export interface EndpointSource {
  /** Starts watching the instances of service `name` (of `options.target`). */
  watch(name: string, options?: EndpointSourceWatchOptions): Promise<InstanceWatcher>;
}

/** Error codes of {@link EndpointConfigError}. */
export type EndpointConfigErrorCode = "BAD_TARGET" | "BAD_OPTION";

/** A transport option that cannot work, named in the message. */
export class EndpointConfigError extends Error {
  /** Stable code. */
  readonly code: EndpointConfigErrorCode;
  /** @param code stable code; @param message what was wrong */
  constructor(code: EndpointConfigErrorCode, message: string) {
    super(message);
    this.name = "EndpointConfigError";
    this.code = code;
  }
}

/** A target's parts (see {@link parseTargetParts}). */
export interface TargetParts {
  /** `discovery` (Kratos services, also for a bare name) or `kubernetes` (a Service's EndpointSlices). */
  readonly scheme: "discovery" | "kubernetes";
  readonly service: string;
  /** The namespace the target names, if any. */
  readonly namespace: string | undefined;
  /** `kubernetes` only: the port name or number, if any. */
  readonly port: string | undefined;
}

function decodePart(target: string, part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    throw new EndpointConfigError("BAD_TARGET", `target ${JSON.stringify(target)} has a malformed %-escape`);
  }
}

/** kuberesolver's `service[.namespace[.…]][:port]`. */
function splitServicePort(s: string): { service: string; namespace: string | undefined; port: string | undefined } {
  const colon = s.lastIndexOf(":");
  const port = colon === -1 ? undefined : s.slice(colon + 1);
  const host = colon === -1 ? s : s.slice(0, colon);
  const [service, namespace] = host.split(".", 2);
  return { service: service!, namespace: namespace === "" ? undefined : namespace, port: port === "" ? undefined : port };
}

/**
 * Parses a target: `discovery:///<service>`, `discovery://<namespace>/<service>`,
 * a bare service name, or kuberesolver's `kubernetes:///<service>[.<namespace>][:<port>]`,
 * `kubernetes://<namespace>/<service>[:<port>]`, `kubernetes://<service>[.<namespace>][:<port>]`.
 * Throws a `BAD_TARGET` {@link EndpointConfigError} otherwise.
 */
export function parseTargetParts(target: string): TargetParts {
  const m = /^(discovery|kubernetes):\/\/([^/?#]*)(?:\/([^?#]*))?$/i.exec(target);
  if (m === null) {
    if (!target.includes("/") && !target.includes(":") && target.length > 0) return { scheme: "discovery", service: target, namespace: undefined, port: undefined };
    throw new EndpointConfigError(
      "BAD_TARGET",
      `target ${JSON.stringify(target)} is not discovery:///<service-name>, discovery://<namespace>/<service-name> or kubernetes:///<service>.<namespace>:<port>`,
    );
  }
  const authority = decodePart(target, m[2]!);
  const path = m[3] === undefined ? "" : decodePart(target, m[3]).replace(/\/$/, "");
  if (m[1]!.toLowerCase() === "discovery") {
    if (path === "" || path.includes("/")) throw new EndpointConfigError("BAD_TARGET", `target ${JSON.stringify(target)} is not discovery://[<namespace>]/<service-name>`);
    return { scheme: "discovery", service: path, namespace: authority === "" ? undefined : authority, port: undefined };
  }
  const parts = authority === "" ? splitServicePort(path) : path !== "" ? { ...splitServicePort(path), namespace: authority } : splitServicePort(authority);
  if (parts.service === "" || parts.service.includes("/")) {
    throw new EndpointConfigError("BAD_TARGET", `target ${JSON.stringify(target)} names no Service (kubernetes:///<service>.<namespace>:<port>)`);
  }
  return { scheme: "kubernetes", ...parts };
}

/**
 * Parses a target (see {@link parseTargetParts}) and returns the service
 * name: the Kratos service, or the Kubernetes Service.
 */
export function parseTarget(target: string): string {
  return parseTargetParts(target).service;
}

/** One dialable address chosen for an instance. */
export interface ResolvedEndpoint {
  /** `host:port`, IPv6 hosts in brackets; the dedupe and picker key. */
  readonly address: string;
  /** The instance it came from (the first one, when several share an address). */
  readonly instance: EndpointInstance;
  /** Static weight (metadata `weight`, default 100). */
  readonly weight: number;
}

/** Weight of an instance without a usable `weight` metadata value (go-kratos selector/node/direct). */
export const DEFAULT_WEIGHT = 100;

/** The `weight` metadata value as a positive number, else {@link DEFAULT_WEIGHT}. */
export function instanceWeight(instance: EndpointInstance): number {
  const raw = instance.metadata["weight"];
  if (raw === undefined || raw.trim() === "") return DEFAULT_WEIGHT;
  const w = Number(raw);
  return Number.isFinite(w) && w > 0 ? w : DEFAULT_WEIGHT;
}

/**
 * The address an instance serves `scheme` on, Kratos `endpoint.ParseEndpoint`
 * style: the first endpoint whose scheme is `scheme` (`grpc`, or `grpcs` when
 * `secure`; `http`/`https` for the Connect and gRPC-web protocols). Endpoints
 * in the legacy form (before Kratos v2.5) carry `?isSecure=true|false` on the
 * plain scheme instead; they match when that flag equals `secure`.
 * Unparseable endpoints are skipped.
 */
export function endpointAddress(endpoints: readonly string[], scheme: "grpc" | "http", secure: boolean): string | undefined {
  const wanted = secure ? `${scheme}s:` : `${scheme}:`;
  for (const e of endpoints) {
    let u: URL;
    try {
      u = new URL(e);
    } catch {
      continue;
    }
    if (u.hostname === "" || u.port === "") continue;
    const legacy = u.searchParams.get("isSecure");
    const legacySecure = legacy !== null && /^(1|t|true)$/i.test(legacy);
    const ok = u.protocol === wanted
      ? !(u.protocol === `${scheme}:` && legacySecure)
      : u.protocol === `${scheme}:` && secure && legacySecure;
    if (ok) return `${u.hostname}:${u.port}`;
  }
  return undefined;
}

/** A wire protocol of the transport (the same union as the transport's `protocol` option). */
export type RoutingProtocol = "grpc" | "connect" | "grpc-web";

/** What the transport dials: its `protocol` (default `grpc`) and whether it uses TLS (`secure`). */
export interface RoutingOptions {
  readonly protocol?: RoutingProtocol | undefined;
  readonly secure?: boolean | undefined;
  /**
   * Take each instance's first endpoint whatever its scheme: for
   * `kubernetes:///` targets, whose port the target chose (the scheme there
   * only names the port).
   */
  readonly anyScheme?: boolean | undefined;
}

/** The endpoint URL scheme the transport looks for: `grpc`/`grpcs` for gRPC, `http`/`https` for Connect and gRPC-web. */
export function routingScheme(o: RoutingOptions = {}): string {
  const base = o.protocol === undefined || o.protocol === "grpc" ? "grpc" : "http";
  return o.secure === true ? `${base}s` : base;
}

/**
 * The one rule deciding whether an instance is routable for a transport with
 * `o.protocol` and `o.secure`: the address it would dial ({@link endpointAddress}
 * with the protocol's scheme), or undefined when it has no such endpoint. The
 * transport and the `kratos-kube instances` / `doctor` commands both use it, so
 * they never disagree about which Pods can take calls.
 */
export function routableAddress(endpoints: readonly string[], o: RoutingOptions = {}): string | undefined {
  if (o.anyScheme === true) {
    for (const e of endpoints) {
      const m = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/((?:\[[0-9A-Fa-f:.]+\]|[^/:?#[\]]+):\d+)(?:[/?#]|$)/.exec(e);
      if (m !== null) return m[1]!;
    }
    return undefined;
  }
  const scheme = o.protocol === undefined || o.protocol === "grpc" ? "grpc" : "http";
  return endpointAddress(endpoints, scheme, o.secure === true);
}

/**
 * Chooses one address per instance ({@link routableAddress} for `o.protocol`
 * and `o.secure`) and drops duplicated addresses (first wins), like Kratos's
 * gRPC resolver. `filter` runs first (for example a
 * version filter).
 */
export function resolveEndpoints(
  instances: readonly EndpointInstance[],
  o: RoutingOptions & { readonly filter?: ((i: EndpointInstance) => boolean) | undefined } = {},
): ResolvedEndpoint[] {
  const seen = new Set<string>();
  const out: ResolvedEndpoint[] = [];
  for (const instance of instances) {
    if (o.filter !== undefined && !o.filter(instance)) continue;
    const address = routableAddress(instance.endpoints, o);
    if (address === undefined || seen.has(address)) continue;
    seen.add(address);
    out.push({ address, instance, weight: instanceWeight(instance) });
  }
  return out;
}
