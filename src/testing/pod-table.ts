/**
 * Pods as a `meta.k8s.io/v1` Table, the server-side printing kubectl asks
 * for (`Accept: application/json;as=Table;g=meta.k8s.io;v=v1`): the columns
 * and cells of kubernetes `pkg/printers/internalversion/printers.go`
 * (`printPod`, wide columns included, with their OpenAPI descriptions) and
 * each row's object as `PartialObjectMetadata` (`includeObject=Metadata`,
 * the default; `None` and `Object` as asked). Pure.
 *
 * @module
 */
import type { Pod } from "../kube/wire.ts";

type Obj = Record<string, unknown>;

const col = (name: string, description: string, priority = 0, format = ""): Obj => ({ name, type: "string", format, description, priority });

/** The column definitions of a pod table, as a v1.34 apiserver sends them. */
export const POD_COLUMNS: readonly Obj[] = [
  col(
    "Name",
    "Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names",
    0,
    "name",
  ),
  col("Ready", "The aggregate readiness state of this pod for accepting traffic."),
  col("Status", "The aggregate status of the containers in this pod."),
  col("Restarts", "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted."),
  col(
    "Age",
    "CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata",
  ),
  col("IP", "podIP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated.", 1),
  col(
    "Node",
    "NodeName indicates in which node this pod is scheduled. If empty, this pod is a candidate for scheduling by the scheduler defined in schedulerName. Once this field is set, the kubelet for this node becomes responsible for the lifecycle of this pod. This field should not be used to express a desire for the pod to be scheduled on a specific node. https://kubernetes.io/docs/concepts/scheduling-eviction/assign-pod-node/#nodename",
    1,
  ),
  col(
    "Nominated Node",
    "nominatedNodeName is set only when this pod preempts other pods on the node, but it cannot be scheduled right away as preemption victims receive their graceful termination periods. This field does not guarantee that the pod will be scheduled on this node. Scheduler may decide to place the pod elsewhere if other nodes become available sooner. Scheduler may also decide to give the resources on this node to a higher priority pod that is created after preemption. As a result, this field may be different than PodSpec.nodeName when the pod is scheduled.",
    1,
  ),
  col(
    "Readiness Gates",
    'If specified, all readiness gates will be evaluated for pod readiness. A pod is ready when all its containers are ready AND all conditions specified in the readiness gates have status equal to "True" More info: https://git.k8s.io/enhancements/keps/sig-network/580-pod-readiness-gates',
    1,
  ),
];

/** Apimachinery `duration.HumanDuration`. */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < -1) return "<invalid>";
  if (seconds < 0) return "0s";
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 10) return seconds % 60 === 0 ? `${minutes}m` : `${minutes}m${seconds % 60}s`;
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 8) return minutes % 60 === 0 ? `${hours}h` : `${hours}h${minutes % 60}m`;
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8) return hours % 24 === 0 ? `${Math.floor(hours / 24)}d` : `${Math.floor(hours / 24)}d${hours % 24}h`;
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24)}d`;
  const days = Math.floor(hours / 24);
  if (hours < 24 * 365 * 8) return days % 365 === 0 ? `${Math.floor(days / 365)}y` : `${Math.floor(days / 365)}y${days % 365}d`;
  return `${Math.floor(days / 365)}y`;
}

const objs = (v: unknown): Obj[] => (Array.isArray(v) ? v.filter((x): x is Obj => typeof x === "object" && x !== null) : []);
const since = (t: unknown, now: number): string => (typeof t === "string" && t !== "" ? humanDuration(now - Date.parse(t)) : "<unknown>");

/** `printPod`'s cells for `pod` at wall time `now` (ms). */
export function podCells(pod: Pod, now: number): string[] {
  const spec = (pod.spec ?? {}) as Obj;
  const status = (pod.status ?? {}) as Obj;
  const phase = typeof status.phase === "string" ? status.phase : "";
  let reason = typeof status.reason === "string" && status.reason !== "" ? status.reason : phase;
  for (const c of objs(status.conditions)) if (c.type === "PodScheduled" && c.reason === "SchedulingGated") reason = "SchedulingGated";
  const initSpecs = objs(spec.initContainers);
  const restartable = (name: unknown): boolean => initSpecs.some((c) => c.name === name && c.restartPolicy === "Always");
  let total = objs(spec.containers).length + initSpecs.filter((c) => c.restartPolicy === "Always").length;
  let ready = 0;
  let restarts = 0;
  let last = 0;
  let initializing = false;
  const initStatuses = objs(status.initContainerStatuses);
  for (const [i, c] of initStatuses.entries()) {
    restarts += Number(c.restartCount ?? 0);
    const state = (c.state ?? {}) as Obj;
    const term = state.terminated as Obj | undefined;
    if (term && Number(term.exitCode ?? 0) === 0) continue;
    if (restartable(c.name) && c.started === true) {
      if (c.ready === true) ready++;
      continue;
    }
    const waiting = state.waiting as Obj | undefined;
    if (term) reason = term.reason ? `Init:${String(term.reason)}` : term.signal ? `Init:Signal:${String(term.signal)}` : `Init:ExitCode:${String(term.exitCode ?? 0)}`;
    else if (waiting && waiting.reason && waiting.reason !== "PodInitializing") reason = `Init:${String(waiting.reason)}`;
    else reason = `Init:${i}/${initSpecs.length}`;
    initializing = true;
    break;
  }
  const initialized = objs(status.conditions).some((c) => c.type === "Initialized" && c.status === "True");
  if (!initializing || initialized) {
    restarts = initStatuses.filter((c) => restartable(c.name)).reduce((n, c) => n + Number(c.restartCount ?? 0), 0);
    let hasRunning = false;
    const statuses = objs(status.containerStatuses);
    for (let i = statuses.length - 1; i >= 0; i--) {
      const c = statuses[i]!;
      restarts += Number(c.restartCount ?? 0);
      const lastTerm = ((c.lastState ?? {}) as Obj).terminated as Obj | undefined;
      if (lastTerm && typeof lastTerm.finishedAt === "string") last = Math.max(last, Date.parse(lastTerm.finishedAt));
      const state = (c.state ?? {}) as Obj;
      const waiting = state.waiting as Obj | undefined;
      const term = state.terminated as Obj | undefined;
      if (waiting && waiting.reason) reason = String(waiting.reason);
      else if (term && term.reason) reason = String(term.reason);
      else if (term) reason = term.signal ? `Signal:${String(term.signal)}` : `ExitCode:${String(term.exitCode ?? 0)}`;
      else if (c.ready === true && state.running !== undefined) {
        hasRunning = true;
        ready++;
      }
    }
    if (reason === "Completed" && hasRunning) reason = objs(status.conditions).some((c) => c.type === "Ready" && c.status === "True") ? "Running" : "NotReady";
  }
  if (pod.metadata.deletionTimestamp && status.reason === "NodeLost") reason = "Unknown";
  else if (pod.metadata.deletionTimestamp && phase !== "Succeeded" && phase !== "Failed") reason = "Terminating";
  const restartsText = restarts !== 0 && last > 0 ? `${restarts} (${humanDuration(now - last)} ago)` : String(restarts);
  const ips = objs(status.podIPs);
  const gates = objs(spec.readinessGates);
  const conditions = objs(status.conditions);
  const gateText = gates.length === 0 ? "<none>" : `${gates.filter((g) => conditions.find((c) => c.type === g.conditionType)?.status === "True").length}/${gates.length}`;
  total = Math.max(total, 0);
  return [
    pod.metadata.name ?? "",
    `${ready}/${total}`,
    reason,
    restartsText,
    since(pod.metadata.creationTimestamp, now),
    typeof ips[0]?.ip === "string" && ips[0].ip !== "" ? ips[0].ip : "<none>",
    typeof spec.nodeName === "string" && spec.nodeName !== "" ? spec.nodeName : "<none>",
    typeof status.nominatedNodeName === "string" && status.nominatedNodeName !== "" ? status.nominatedNodeName : "<none>",
    gateText,
  ];
}

/** What a row carries as its object (`includeObject`). */
export type IncludeObject = "None" | "Metadata" | "Object";

function row(pod: Pod, now: number, include: IncludeObject): Obj {
  const r: Obj = { cells: podCells(pod, now) };
  const phase = pod.status?.phase;
  if (phase === "Succeeded") r.conditions = [{ type: "Completed", status: "True", reason: "Succeeded", message: "The pod has completed successfully." }];
  if (phase === "Failed") r.conditions = [{ type: "Completed", status: "True", reason: "Failed", message: "The pod failed." }];
  if (include === "Metadata") r.object = { kind: "PartialObjectMetadata", apiVersion: "meta.k8s.io/v1", metadata: pod.metadata };
  else if (include === "Object") r.object = { kind: "Pod", apiVersion: "v1", ...pod };
  return r;
}

/** A Table of `pods` with the list metadata `metadata` (a single GET: the pod's resourceVersion). */
export function podTable(pods: readonly Pod[], metadata: Obj, now: number, include: IncludeObject = "Metadata", columns = true): Obj {
  return {
    kind: "Table",
    apiVersion: "meta.k8s.io/v1",
    metadata,
    columnDefinitions: columns ? POD_COLUMNS : null,
    rows: pods.map((p) => row(p, now, include)),
  };
}
