/**
 * The instance set of one watched service, kept up to date change by change
 * so a watch event costs O(log n) bookkeeping plus one O(n) array of the
 * instances when a watcher pulls, instead of a rebuild and sort of the whole
 * service. `version` moves only when an instance changes: a new record that
 * converts to the same instance object (see `pod-model.ts`) changes nothing.
 *
 * Per pod the set keeps two array slots: the pod's current record (its sort
 * key and the base of the next conversion) and its instance.
 *
 * @module
 */
import type { PodRecord } from "../kube/pod-record.ts";
import type { InstanceResult, ServiceInstance } from "./kratos-codec.ts";

/** A pod's conversion; `prev` is the same pod's record and instance already in the set. */
export type ConvertPod = (pod: PodRecord, prev?: { readonly rec: PodRecord; readonly instance: ServiceInstance }) => InstanceResult;

/** A sorted, incrementally maintained instance set. */
export interface ServiceSet {
  /** Bumped on every change of the set's content. */
  readonly version: number;
  /** Adds, replaces or (when it gives no instance) removes the pod. */
  upsert(pod: PodRecord): void;
  /** Removes the pod, if present. */
  remove(pod: PodRecord): void;
  /** A fresh array of the current instances in namespace/name order. */
  instances(): ServiceInstance[];
}

/** Orders pods by namespace, then name (namespace `a` before `a-b`). */
function compare(a: { namespace: string; name: string }, ns: string, name: string): number {
  if (a.namespace !== ns) return a.namespace < ns ? -1 : 1;
  return a.name < name ? -1 : a.name > name ? 1 : 0;
}

/** Creates a set from `pods`, converting each with `convert`. */
export function createServiceSet(pods: Iterable<PodRecord>, convert: ConvertPod): ServiceSet {
  const initial: { r: PodRecord; i: ServiceInstance }[] = [];
  for (const p of pods) {
    const res = convert(p);
    if (res.ok) initial.push({ r: p, i: res.instance });
  }
  initial.sort((a, b) => compare(a.r, b.r.namespace, b.r.name));
  const recs: PodRecord[] = initial.map((x) => x.r);
  const insts: ServiceInstance[] = initial.map((x) => x.i);
  let version = 0;

  const lowerBound = (ns: string, name: string): number => {
    let lo = 0;
    let hi = recs.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compare(recs[mid]!, ns, name) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  const at = (pod: PodRecord, i: number): boolean => i < recs.length && compare(recs[i]!, pod.namespace, pod.name) === 0;

  return {
    get version() {
      return version;
    },
    upsert(pod) {
      const i = lowerBound(pod.namespace, pod.name);
      const found = at(pod, i);
      if (found && recs[i] === pod) return;
      const res = convert(pod, found ? { rec: recs[i]!, instance: insts[i]! } : undefined);
      if (!res.ok) {
        if (found) {
          recs.splice(i, 1);
          insts.splice(i, 1);
          version++;
        }
        return;
      }
      if (found) {
        recs[i] = pod;
        if (insts[i] === res.instance) return;
        insts[i] = res.instance;
      } else {
        recs.splice(i, 0, pod);
        insts.splice(i, 0, res.instance);
      }
      version++;
    },
    remove(pod) {
      const i = lowerBound(pod.namespace, pod.name);
      if (!at(pod, i)) return;
      recs.splice(i, 1);
      insts.splice(i, 1);
      version++;
    },
    instances() {
      return insts.slice();
    },
  };
}
