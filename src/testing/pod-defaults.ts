/**
 * What a real kube-apiserver adds to a Pod it decodes and stores: the v1
 * defaults (kubernetes `pkg/apis/core/v1/defaults.go`), the create-time
 * admission defaults of a stock apiserver (`DefaultTolerationSeconds`,
 * `Priority`), the QoS class (`pkg/apis/core/helper/qos/qos.go`) and the
 * zero values Go always serialises (`lastProbeTime: null` in conditions).
 * The ServiceAccount admission plugin is not modelled (no token volume is
 * added). Mutates in place. Pure otherwise.
 *
 * @module
 */
import type { Pod } from "../kube/wire.ts";

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);
const objects = (v: unknown): Obj[] => (Array.isArray(v) ? v.filter(isObj) : []);

/** The image tag as `parsers.ParseImageName` reads it (`latest` when none, `""` for a digest only). */
function imageTag(image: string): string {
  const at = image.indexOf("@");
  const name = at >= 0 ? image.slice(0, at) : image;
  const last = name.slice(name.lastIndexOf("/") + 1);
  const colon = last.lastIndexOf(":");
  if (colon >= 0) return last.slice(colon + 1);
  return at >= 0 ? "" : "latest";
}

function defaultProbe(p: unknown): void {
  if (!isObj(p)) return;
  p.timeoutSeconds ||= 1;
  p.periodSeconds ||= 10;
  p.successThreshold ||= 1;
  p.failureThreshold ||= 3;
  if (isObj(p.httpGet)) {
    p.httpGet.path ||= "/";
    p.httpGet.scheme ||= "HTTP";
  }
}

function defaultContainer(c: Obj): void {
  if (!c.imagePullPolicy) c.imagePullPolicy = imageTag(String(c.image ?? "")) === "latest" ? "Always" : "IfNotPresent";
  c.terminationMessagePath ||= "/dev/termination-log";
  c.terminationMessagePolicy ||= "File";
  // ResourceRequirements is a struct: always serialised; requests default to limits (SetDefaults_Pod).
  const r = isObj(c.resources) ? c.resources : (c.resources = {});
  if (isObj(r.limits)) {
    const req = isObj(r.requests) ? r.requests : (r.requests = {});
    for (const [k, v] of Object.entries(r.limits)) if (!(k in req)) req[k] = v;
  }
  for (const p of objects(c.ports)) p.protocol ||= "TCP";
  for (const e of objects(c.env)) {
    const ref = isObj(e.valueFrom) ? e.valueFrom.fieldRef : undefined;
    if (isObj(ref)) ref.apiVersion ||= "v1";
  }
  defaultProbe(c.livenessProbe);
  defaultProbe(c.readinessProbe);
  defaultProbe(c.startupProbe);
}

function defaultVolume(v: Obj): void {
  const sources = Object.keys(v).filter((k) => k !== "name");
  if (sources.length === 0) v.emptyDir = {};
  // 0644 for every source that has a default mode.
  for (const k of ["secret", "configMap", "downwardAPI", "projected"]) {
    const s = v[k];
    if (isObj(s)) s.defaultMode ??= 420;
  }
  if (isObj(v.projected)) {
    for (const src of objects(v.projected.sources)) {
      if (isObj(src.serviceAccountToken)) src.serviceAccountToken.expirationSeconds ??= 3600;
    }
  }
}

/** The v1 defaults Go applies whenever it decodes a Pod (create, update, patch). */
export function defaultPod(pod: Pod): void {
  if (!isObj(pod.spec)) pod.spec = {};
  const spec = pod.spec as Obj;
  for (const c of [...objects(spec.containers), ...objects(spec.initContainers)]) defaultContainer(c);
  for (const v of objects(spec.volumes)) defaultVolume(v);
  spec.dnsPolicy ||= "ClusterFirst";
  spec.restartPolicy ||= "Always";
  spec.securityContext ??= {};
  spec.terminationGracePeriodSeconds ??= 30;
  spec.schedulerName ||= "default-scheduler";
  spec.enableServiceLinks ??= true;
}

const NOT_READY = "node.kubernetes.io/not-ready";
const UNREACHABLE = "node.kubernetes.io/unreachable";

/** What a stock apiserver's admission adds on create: default NoExecute tolerations, priority 0. */
export function admitPod(pod: Pod): void {
  const spec = pod.spec as Obj;
  const tolerations = objects(spec.tolerations);
  const tolerates = (key: string): boolean =>
    tolerations.some((t) => (t.key === key || (t.key === undefined && t.operator === "Exists")) && (t.effect === "NoExecute" || t.effect === undefined || t.effect === ""));
  const added = [NOT_READY, UNREACHABLE].filter((k) => !tolerates(k)).map((key) => ({ key, operator: "Exists", effect: "NoExecute", tolerationSeconds: 300 }));
  if (added.length > 0) spec.tolerations = [...tolerations, ...added];
  if (!spec.priorityClassName) spec.priority ??= 0;
  spec.preemptionPolicy ||= "PreemptLowerPriority";
}

const UNITS: Record<string, number> = {
  n: 1e-9, u: 1e-6, m: 1e-3, "": 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
  Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60,
};

/** A resource quantity (`100m`, `128Mi`, `1e3`) as a number; NaN when it does not parse. */
export function quantity(q: unknown): number {
  if (typeof q === "number") return q;
  const m = /^([+-]?(?:\d+\.?\d*|\.\d+))(?:([eE][+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]))?$/.exec(String(q).trim());
  if (m === null) return NaN;
  return m[2] !== undefined ? Number(m[1] + m[2]) : Number(m[1]) * UNITS[m[3] ?? ""]!;
}

/** The pod's QoS class, as the apiserver computes it on create (`ComputePodQOS`, container resources). */
export function podQosClass(pod: Pod): "Guaranteed" | "Burstable" | "BestEffort" {
  const spec = (pod.spec ?? {}) as Obj;
  const requests = new Map<string, number>();
  const limits = new Map<string, number>();
  let guaranteed = true;
  const add = (m: Map<string, number>, k: string, v: number): void => void m.set(k, (m.get(k) ?? 0) + v);
  for (const c of [...objects(spec.containers), ...objects(spec.initContainers)]) {
    const r = isObj(c.resources) ? c.resources : {};
    for (const [k, v] of Object.entries(isObj(r.requests) ? r.requests : {})) {
      if ((k === "cpu" || k === "memory") && quantity(v) > 0) add(requests, k, quantity(v));
    }
    const found = new Set<string>();
    for (const [k, v] of Object.entries(isObj(r.limits) ? r.limits : {})) {
      if ((k === "cpu" || k === "memory") && quantity(v) > 0) {
        found.add(k);
        add(limits, k, quantity(v));
      }
    }
    if (!found.has("cpu") || !found.has("memory")) guaranteed = false;
  }
  if (requests.size === 0 && limits.size === 0) return "BestEffort";
  if (guaranteed) for (const [k, v] of requests) if (limits.get(k) !== v) guaranteed = false;
  return guaranteed && requests.size === limits.size ? "Guaranteed" : "Burstable";
}

/**
 * A Go round trip of the fields clients write most: empty `omitempty` maps and
 * lists in metadata vanish; zero times that Go always writes (a condition's
 * probe and transition times) appear as null.
 */
export function serialisePod(pod: Pod): void {
  const meta = pod.metadata as Obj;
  for (const k of ["labels", "annotations"]) if (isObj(meta[k]) && Object.keys(meta[k]).length === 0) delete meta[k];
  for (const k of ["finalizers", "ownerReferences"]) if (Array.isArray(meta[k]) && meta[k].length === 0) delete meta[k];
  const status = pod.status as Obj | undefined;
  if (!isObj(status)) return;
  for (const c of objects(status.conditions)) {
    c.lastProbeTime ??= null;
    c.lastTransitionTime ??= null;
  }
}
