/**
 * Pure: the rows `instances` and `watch` show, one per pod carrying the
 * service's label, with the instance discovery would produce or the reason it
 * excludes the pod, in words an operator can act on.
 *
 * @module
 */
import { KRATOS_LABEL_APP, KRATOS_LABEL_VERSION, type PodRecord } from "../src/kube/index.ts";
import { instanceFromRecord, type Selection } from "../src/index.ts";
import { renderTable, type Column } from "./table.ts";

/** One pod as discovery sees it. */
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
  /** True when discovery routes calls to this pod. */
  readonly included: boolean;
  /** Why discovery leaves the pod out; undefined when included. */
  readonly excluded: string | undefined;
}

/** Why a pod fails the selection rule, in words (undefined when it passes). */
export function selectionProblem(pod: PodRecord, selection: Selection): string | undefined {
  if (pod.phase !== "Running") return `phase is ${pod.phase || "unknown"}, not Running`;
  if (selection === "kratos") return undefined;
  if (pod.terminating) return "terminating (deletionTimestamp set): draining";
  if (!pod.ready) return "not Ready (readiness probe failing or starting)";
  return undefined;
}

/** The row of one pod. */
export function instanceRow(pod: PodRecord, selection: Selection = "ready"): InstanceRow {
  const result = instanceFromRecord(pod);
  const problem = result.ok ? selectionProblem(pod, selection) : result.reason;
  return {
    namespace: pod.namespace,
    pod: pod.name,
    ip: pod.podIPs.join(","),
    endpoints: result.ok ? result.instance.endpoints : [],
    version: pod.labels[KRATOS_LABEL_VERSION] ?? "",
    phase: pod.phase,
    ready: pod.ready,
    terminating: pod.terminating,
    included: problem === undefined,
    excluded: problem,
  };
}

/** Rows for every pod labelled with `service`, sorted by namespace and name. */
export function instanceRows(pods: Iterable<PodRecord>, service: string, selection: Selection = "ready"): InstanceRow[] {
  const rows: InstanceRow[] = [];
  for (const p of pods) if (p.labels[KRATOS_LABEL_APP] === service) rows.push(instanceRow(p, selection));
  return rows.sort((a, b) => (a.namespace === b.namespace ? cmp(a.pod, b.pod) : cmp(a.namespace, b.namespace)));
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Renders rows as a table; the NAMESPACE column appears only when rows span several namespaces. */
export function renderInstanceTable(rows: readonly InstanceRow[]): string[] {
  const namespaces = new Set(rows.map((r) => r.namespace));
  const columns: Column<InstanceRow>[] = [
    ...(namespaces.size > 1 ? [{ header: "NAMESPACE", cell: (r: InstanceRow) => r.namespace }] : []),
    { header: "POD", cell: (r) => r.pod },
    { header: "IP", cell: (r) => r.ip || "<none>" },
    { header: "ENDPOINTS", cell: (r) => r.endpoints.join(",") || "<none>" },
    { header: "VERSION", cell: (r) => r.version || "<none>" },
    { header: "READY", cell: (r) => (r.terminating ? "Terminating" : r.ready ? "True" : "False") },
    { header: "EXCLUDED", cell: (r) => r.excluded ?? "" },
  ];
  return renderTable(columns, rows);
}

/** One summary line, e.g. `2 of 3 pods of sayhello.service are routable`. */
export function summaryLine(rows: readonly InstanceRow[], service: string): string {
  const n = rows.filter((r) => r.included).length;
  return `${n} of ${rows.length} pod${rows.length === 1 ? "" : "s"} of ${service} ${n === 1 ? "is" : "are"} routable`;
}
