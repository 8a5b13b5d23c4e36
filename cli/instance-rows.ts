/**
 * Pure: the rows `instances` and `watch` show, one per pod carrying the
 * service's label, with the instance discovery would produce or the reason it
 * excludes the pod, in words an operator can act on. Whether a pod takes calls
 * is decided by the transport's own rule (`routableAddress` of
 * `kratos-kube/connect`, with the protocol as a parameter), so these commands
 * and the transport never disagree.
 *
 * @module
 */
import type { PodRecord } from "../src/kube/index.ts";
import { KRATOS_LABEL_APP, KRATOS_LABEL_VERSION } from "../src/index.ts";
import { instanceFromRecord, type Selection } from "../src/index.ts";
import { routableAddress, routingScheme, type RoutingOptions } from "../src/connect/index.ts";
import { renderTable, type Column } from "./table.ts";

/**
 * Why a pod takes no calls, as a stable code (the `excluded` text says it in
 * words): the selection rule (`phase`, `terminating`, `not-ready`), what
 * discovery skips (`no-ip`, `bad-metadata`, `bad-protocols`), or no endpoint
 * for the transport's protocol (`no-endpoint`).
 */
export type Exclusion = "phase" | "terminating" | "not-ready" | "no-ip" | "bad-metadata" | "bad-protocols" | "no-endpoint";

/** One pod as discovery and the transport see it. */
export interface InstanceRow {
  readonly namespace: string;
  readonly pod: string;
  readonly ip: string;
  /** Endpoints of the instance (also shown for excluded pods when they can be computed). */
  readonly endpoints: readonly string[];
  readonly version: string;
  readonly phase: string;
  readonly ready: boolean;
  readonly terminating: boolean;
  /** The `host:port` a transport with the given protocol dials ({@link routableAddress}); undefined when none. */
  readonly address: string | undefined;
  /** True when discovery yields the pod and the transport routes calls to it. */
  readonly included: boolean;
  /** Why the pod takes no calls, as a code; undefined when included. */
  readonly exclusion: Exclusion | undefined;
  /** Why the pod takes no calls, in words; undefined when included. */
  readonly excluded: string | undefined;
}

/** Why a pod fails the selection rule (undefined when it passes). */
export function selectionProblem(pod: PodRecord, selection: Selection): { code: Exclusion; reason: string } | undefined {
  if (pod.phase !== "Running") return { code: "phase", reason: `phase is ${pod.phase || "unknown"}, not Running` };
  if (selection === "kratos") return undefined;
  if (pod.terminating) return { code: "terminating", reason: "terminating (deletionTimestamp set): draining" };
  if (!pod.ready) return { code: "not-ready", reason: "not Ready (readiness probe failing or starting)" };
  return undefined;
}

/**
 * The row of one pod. `routing` is the transport's protocol and TLS setting:
 * the pod counts only when {@link routableAddress} finds it an endpoint, the
 * same rule the transport applies.
 */
export function instanceRow(pod: PodRecord, selection: Selection = "ready", routing: RoutingOptions = {}): InstanceRow {
  const result = instanceFromRecord(pod);
  const endpoints = result.ok ? result.instance.endpoints : [];
  const address = routableAddress(endpoints, routing);
  let problem = selectionProblem(pod, selection);
  if (problem === undefined && !result.ok) {
    problem = { code: result.code === "bad-metadata" || result.code === "bad-protocols" ? result.code : "no-ip", reason: result.reason };
  }
  if (problem === undefined && address === undefined) {
    const scheme = routingScheme(routing);
    problem = { code: "no-endpoint", reason: `no ${scheme}:// endpoint (a ${routing.protocol ?? "grpc"}${routing.secure === true ? " secure" : ""} transport skips it)` };
  }
  return {
    namespace: pod.namespace,
    pod: pod.name,
    ip: pod.podIPs.join(","),
    endpoints,
    version: pod.labels[KRATOS_LABEL_VERSION] ?? "",
    phase: pod.phase,
    ready: pod.ready,
    terminating: pod.terminating,
    address,
    included: problem === undefined,
    exclusion: problem?.code,
    excluded: problem?.reason,
  };
}

/** Rows for every pod labelled with `service`, sorted by namespace and name. */
export function instanceRows(pods: Iterable<PodRecord>, service: string, selection: Selection = "ready", routing: RoutingOptions = {}): InstanceRow[] {
  const rows: InstanceRow[] = [];
  for (const p of pods) if (p.labels[KRATOS_LABEL_APP] === service) rows.push(instanceRow(p, selection, routing));
  return rows.sort((a, b) => (a.namespace === b.namespace ? cmp(a.pod, b.pod) : cmp(a.namespace, b.namespace)));
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Renders rows as a table; the NAMESPACE column appears only when rows span
 * several namespaces, a CLIENT column when `client` gives each row's client
 * state (`watch --connect`).
 */
export function renderInstanceTable(rows: readonly InstanceRow[], client?: (r: InstanceRow) => string): string[] {
  const namespaces = new Set(rows.map((r) => r.namespace));
  const columns: Column<InstanceRow>[] = [
    ...(namespaces.size > 1 ? [{ header: "NAMESPACE", cell: (r: InstanceRow) => r.namespace }] : []),
    { header: "POD", cell: (r) => r.pod },
    { header: "IP", cell: (r) => r.ip || "<none>" },
    { header: "ENDPOINTS", cell: (r) => r.endpoints.join(",") || "<none>" },
    { header: "VERSION", cell: (r) => r.version || "<none>" },
    { header: "READY", cell: (r) => (r.terminating ? "Terminating" : r.ready ? "True" : "False") },
    ...(client !== undefined ? [{ header: "CLIENT", cell: client }] : []),
    { header: "EXCLUDED", cell: (r) => r.excluded ?? "" },
  ];
  return renderTable(columns, rows);
}

/** One summary line, e.g. `2 of 3 pods of sayhello.service are routable over grpc://`. */
export function summaryLine(rows: readonly InstanceRow[], service: string, routing: RoutingOptions = {}): string {
  const n = rows.filter((r) => r.included).length;
  return `${n} of ${rows.length} pod${rows.length === 1 ? "" : "s"} of ${service} ${n === 1 || rows.length === 1 ? "is" : "are"} routable over ${routingScheme(routing)}://`;
}
