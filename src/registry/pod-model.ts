/**
 * Kratos discovery on Pods as a {@link ServiceModel}: pods are filed by their
 * `kratos-service-app` label ({@link kratosServiceOf}), converted with the
 * Kratos codec behind the selection rule, and kept per service in a sorted
 * {@link createServiceSet}. Conversions are cached per (immutable) record, so
 * a malformed pod is reported once per version.
 *
 * @module
 */
import type { PodRecord } from "../kube/pod-record.ts";
import { isMalformed, selectInstance, type Selection, type ServiceInstance } from "./kratos-codec.ts";
import { kratosServiceOf, SERVICE_INDEX } from "./kratos-pods.ts";
import type { ServiceModel } from "./service-hub.ts";
import { createServiceSet, type Entry } from "./service-set.ts";

/** Reports a pod skipped because it is malformed (bad annotation JSON, no IP). */
export type SkippedPodHook = (pod: { namespace: string; name: string }, reason: string) => void;

/** Options of {@link kratosPodModel}. */
export interface PodModelOptions {
  /** Which pods count; default `"ready"`. */
  readonly selection?: Selection | undefined;
  /** Called once per malformed pod version. */
  readonly onSkippedPod?: SkippedPodHook | undefined;
}

function deepFreeze(i: ServiceInstance): ServiceInstance {
  Object.freeze(i.metadata);
  Object.freeze(i.endpoints);
  return Object.freeze(i);
}

/** The pod → instance conversion with its per-record cache. */
export function podEntries(o: PodModelOptions = {}): (rec: PodRecord) => Entry {
  const selection = o.selection ?? "ready";
  const entries = new WeakMap<PodRecord, Entry>();
  return (rec) => {
    let e = entries.get(rec);
    if (e === undefined) {
      const result = selectInstance(rec, selection);
      if (result.ok) deepFreeze(result.instance);
      else if (isMalformed(result.code)) {
        try {
          o.onSkippedPod?.({ namespace: rec.namespace, name: rec.name }, result.reason);
        } catch {
          // A throwing hook must not break discovery.
        }
      }
      e = { result, key: result.ok ? JSON.stringify([rec.namespace, rec.name, result.instance]) : "" };
      entries.set(rec, e);
    }
    return e;
  };
}

/** The Kratos pod model. */
export function kratosPodModel(o: PodModelOptions = {}): ServiceModel<PodRecord, undefined> {
  const entryOf = podEntries(o);
  return {
    index: SERVICE_INDEX,
    serviceOf: kratosServiceOf,
    createSet: (_service, records) => createServiceSet(records, entryOf),
  };
}
