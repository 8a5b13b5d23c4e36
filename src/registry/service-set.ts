/**
 * The instance set of one watched service, kept up to date change by change
 * so a watch event costs O(log n) bookkeeping plus one O(n) array of the
 * instances when a watcher pulls, instead of a rebuild and sort of the whole
 * service. `version` moves only when an instance changes.
 *
 * @module
 */
import type { PodRecord } from "../kube/pod-record.ts";
import type { InstanceResult, ServiceInstance } from "./kratos-codec.ts";

/** A pod's conversion, cached per (immutable) record. */
export interface Entry {
  readonly result: InstanceResult;
  /** `JSON.stringify([namespace, name, instance])` for selected pods, `""` otherwise. */
  readonly key: string;
}

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

/** Sort key: namespace, then name (`\0` sorts before every character a name may hold). */
export function podKey(pod: { namespace: string; name: string }): string {
  return `${pod.namespace}\u0000${pod.name}`;
}

/** Creates a set from `pods`, converting each with `entryOf`. */
export function createServiceSet(pods: Iterable<PodRecord>, entryOf: (pod: PodRecord) => Entry): ServiceSet {
  const initial: { k: string; e: Entry }[] = [];
  for (const p of pods) {
    const e = entryOf(p);
    if (e.result.ok) initial.push({ k: podKey(p), e });
  }
  initial.sort((a, b) => (a.k < b.k ? -1 : a.k > b.k ? 1 : 0));
  const keys: string[] = initial.map((x) => x.k);
  const ents: Entry[] = initial.map((x) => x.e);
  let version = 0;

  const lowerBound = (k: string): number => {
    let lo = 0;
    let hi = keys.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (keys[mid]! < k) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };

  const removeKey = (k: string): void => {
    const i = lowerBound(k);
    if (keys[i] !== k) return;
    keys.splice(i, 1);
    ents.splice(i, 1);
    version++;
  };

  return {
    get version() {
      return version;
    },
    upsert(pod) {
      const k = podKey(pod);
      const e = entryOf(pod);
      if (!e.result.ok) return removeKey(k);
      const i = lowerBound(k);
      if (keys[i] === k) {
        if (ents[i] !== e && ents[i]!.key !== e.key) version++;
        ents[i] = e;
      } else {
        keys.splice(i, 0, k);
        ents.splice(i, 0, e);
        version++;
      }
    },
    remove(pod) {
      removeKey(podKey(pod));
    },
    instances() {
      const out: ServiceInstance[] = new Array(ents.length);
      for (let i = 0; i < ents.length; i++) out[i] = (ents[i]!.result as { instance: ServiceInstance }).instance;
      return out;
    },
  };
}
