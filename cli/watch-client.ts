/**
 * `kratos-kube watch --connect`: besides discovery, what a client transport
 * does with the service's endpoints. A `createDiscoveryTransport` over the
 * service (every instance, no subset) dials each endpoint, watches its
 * grpc.health.v1 status and ramps new endpoints up under slow start; this
 * module turns what it reports into table cells and log lines. It makes no
 * calls of its own: outlier detection ejects endpoints only for failed calls,
 * so here ejections are connect and probe failures (`backoff`), and
 * NOT_SERVING / SERVING changes of the health watch.
 *
 * @module
 */
import { createDiscoveryTransport, type DiscoveryTransport, type EndpointStatus, type LogRecord, type RoutingOptions } from "../src/connect/index.ts";
import { KubernetesRegistry } from "../src/index.ts";
import type { KubeClient } from "../src/kube/index.ts";

/** What {@link startClientMonitor} needs. */
export interface ClientMonitorOptions {
  readonly client: KubeClient;
  readonly namespaces: readonly string[] | "*";
  readonly service: string;
  readonly routing: RoutingOptions;
  /** Slow-start window in ms (0 = off). */
  readonly slowStartMs: number;
  /** Called with each thing worth a line: a state change, an ejection, a health change. */
  readonly onLine: (line: ClientLine) => void;
}

/** One client-side change, for a log line or a JSON object. */
export interface ClientLine {
  readonly address: string;
  /** A fixed text, e.g. `endpoint reports NOT_SERVING, no new calls (its calls run on)`. */
  readonly message: string;
  /** The state the endpoint is in after the change, when known. */
  readonly state?: string;
  /** A reason or error text, when there is one. */
  readonly detail?: string;
}

/** A running monitor. */
export interface ClientMonitor extends AsyncDisposable {
  /** The endpoints' statuses now, by `host:port`. */
  statuses(): ReadonlyMap<string, EndpointStatus>;
  /** Ends the transport (its connections and health watches) and the registry's watch. */
  close(): Promise<void>;
}

/**
 * The CLIENT cell of an endpoint: `ready`, `ready, slow start 40%`,
 * `NOT_SERVING`, `ejected (consecutive-failures)`, `backoff: <error>`,
 * `connecting`, `draining`; empty when the transport has not dialed it.
 */
export function clientCell(s: EndpointStatus | undefined): string {
  if (s === undefined) return "";
  if (s.ejected !== undefined) return `ejected (${s.ejected})`;
  switch (s.state) {
    case "ready":
      return s.slowStartWeight !== undefined ? `ready, slow start ${Math.round(s.slowStartWeight * 100)}%` : "ready";
    case "not-serving":
      return "NOT_SERVING";
    case "backoff":
      return s.lastError !== undefined ? `backoff: ${s.lastError}` : "backoff";
    default:
      return s.state;
  }
}

/** The line of a transport log record, or undefined for the ones `watch` leaves out (debug). */
export function lineOfRecord(r: LogRecord): ClientLine | undefined {
  if (r.level === "debug") return undefined;
  const f = r.fields;
  const address = typeof f["address"] === "string" ? f["address"] : "";
  const detail = typeof f["reason"] === "string" ? f["reason"] : typeof f["error"] === "string" ? f["error"] : undefined;
  const state = typeof f["state"] === "string" ? f["state"] : undefined;
  return { address, message: r.message, ...(state !== undefined ? { state } : {}), ...(detail !== undefined ? { detail } : {}) };
}

/**
 * Tracks which endpoints ramp up under slow start, so a line says when one
 * starts and when its ramp is over (the transport reports neither as an event).
 * Pure: fed the statuses, returns the lines.
 */
export class SlowStartTracker {
  #ramping = new Set<string>();

  /** Lines for the endpoints whose ramp started or ended since the last call. */
  update(statuses: Iterable<EndpointStatus>): ClientLine[] {
    const out: ClientLine[] = [];
    const ramping = new Set<string>();
    for (const s of statuses) {
      const was = this.#ramping.has(s.address);
      if (s.state === "ready" && s.slowStartWeight !== undefined && s.ejected === undefined) {
        ramping.add(s.address);
        if (!was) out.push({ address: s.address, message: "slow start: taking a growing share of calls", state: s.state, detail: `weight ${Math.round(s.slowStartWeight * 100)}%` });
      } else if (was && s.state === "ready") {
        out.push({ address: s.address, message: "slow start over: taking its full share of calls", state: s.state });
      }
    }
    this.#ramping = ramping;
    return out;
  }
}

/** Starts a transport over the service that dials every endpoint and reports what happens to them. */
export function startClientMonitor(o: ClientMonitorOptions): ClientMonitor {
  const registry = new KubernetesRegistry({ client: o.client, namespace: o.namespaces === "*" ? "*" : [...o.namespaces] });
  let transport: DiscoveryTransport | undefined;
  const slowStart = new SlowStartTracker();
  const last = new Map<string, string>();
  const report = (line: ClientLine | undefined): void => {
    if (line !== undefined) o.onLine(line);
  };
  const statuses = (): Map<string, EndpointStatus> => new Map((transport?.endpoints() ?? []).map((s) => [s.address, s]));
  transport = createDiscoveryTransport({
    discovery: registry,
    target: `discovery:///${o.service}`,
    protocol: o.routing.protocol ?? "grpc",
    secure: o.routing.secure === true,
    subset: 0,
    ...(o.slowStartMs > 0 ? { slowStart: { windowMs: o.slowStartMs } } : {}),
    logger: (r) => report(lineOfRecord(r)),
    onEvent: (e) => {
      const before = last.get(e.address);
      last.set(e.address, e.state);
      // The logger reports leaving `ready` (and coming back from NOT_SERVING);
      // the first `ready` after a dial is a debug record, so it is said here.
      if (e.state === "ready" && before !== "not-serving") report({ address: e.address, message: "endpoint ready, taking calls", state: e.state });
      if (e.state === "ready") for (const l of slowStart.update(statuses().values())) report(l);
      if (e.state === "closed") last.delete(e.address);
    },
    onError: (e) => report({ address: "", message: "discovery failed, retrying", detail: e.message }),
  });
  const ticker = setInterval(() => {
    for (const l of slowStart.update(statuses().values())) report(l);
  }, 250);
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      clearInterval(ticker);
      await transport?.close();
      await registry.close();
    })());
  return { statuses, close, [Symbol.asyncDispose]: close };
}
