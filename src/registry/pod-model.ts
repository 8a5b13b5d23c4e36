/**
 * Kratos discovery on Pods as a {@link ServiceModel}: pods are filed by their
 * `kratos-service-app` label ({@link kratosServiceOf}), converted with the
 * Kratos codec behind the selection rule, and kept per service in a sorted
 * {@link createServiceSet}.
 *
 * What instances share, so that a watched pod costs little more than its
 * cached record:
 * - one frozen metadata map per distinct annotation text (and one parsed
 *   protocols map), instead of a parse and a map per pod and event;
 * - the instance itself, endpoint strings included, while nothing it shows
 *   changes: a new pod record (a status update, a new resourceVersion) that
 *   shows the same id, service, version, IP, ports and annotations keeps the
 *   previous instance object, so the set does not change either.
 *
 * A malformed pod is reported once per (immutable) record.
 *
 * @module
 */
import type { PodPort, PodRecord } from "../kube/pod-record.ts";
import {
  isMalformed,
  isSelected,
  parseStringMapAnnotation,
  readInstance,
  type InstanceResult,
  type Selection,
  type ServiceInstance,
} from "./kratos-codec.ts";
import { KRATOS_ANNOTATION_METADATA, KRATOS_ANNOTATION_PROTOCOLS, KRATOS_LABEL_APP, KRATOS_LABEL_ID, KRATOS_LABEL_VERSION, kratosServiceOf, SERVICE_INDEX } from "./kratos-pods.ts";
import type { ServiceModel } from "./service-hub.ts";
import { createServiceSet } from "./service-set.ts";

/** Reports a pod skipped because it is malformed (bad annotation JSON, no IP). */
export type SkippedPodHook = (pod: { namespace: string; name: string }, reason: string) => void;

/** Options of {@link kratosPodModel}. */
export interface PodModelOptions {
  /** Which pods count; default `"ready"`. */
  readonly selection?: Selection | undefined;
  /** Called once per malformed pod version. */
  readonly onSkippedPod?: SkippedPodHook | undefined;
}

/** Converts a pod; `prev` is the same pod's earlier record and the instance it gave, reused when the new record shows the same. */
export type PodConverter = (rec: PodRecord, prev?: { readonly rec: PodRecord; readonly instance: ServiceInstance }) => InstanceResult;

/** Caps the table of parsed annotation maps so a churn of distinct texts cannot grow it forever. */
const MAX_MAPS = 10_000;
/** Annotation texts longer than this are parsed each time, not kept. */
const MAX_MAP_TEXT = 4096;
const EMPTY_MAP: Readonly<Record<string, string>> = Object.freeze({});

/**
 * `parseStringMapAnnotation` returning one frozen map per distinct text:
 * equal texts share the map, different texts never do. Errors are not kept.
 */
export function sharedMapParser(): (raw: string | undefined) => Readonly<Record<string, string>> | string {
  const maps = new Map<string, Readonly<Record<string, string>>>();
  return (raw) => {
    if (raw === undefined) return EMPTY_MAP;
    const hit = maps.get(raw);
    if (hit !== undefined) return hit;
    const parsed = parseStringMapAnnotation(raw);
    if (typeof parsed === "string") return parsed;
    const frozen = Object.keys(parsed).length === 0 ? EMPTY_MAP : Object.freeze(parsed);
    if (raw.length <= MAX_MAP_TEXT) {
      if (maps.size >= MAX_MAPS) maps.clear();
      maps.set(raw, frozen);
    }
    return frozen;
  };
}

function samePorts(a: readonly PodPort[], b: readonly PodPort[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const p = a[i]!;
    const q = b[i]!;
    if (p.port !== q.port || p.name !== q.name || p.protocol !== q.protocol) return false;
  }
  return true;
}

/** Whether two records of a pod give the same instance (when both are selected): everything `readInstance` reads is equal. */
export function showsSame(a: PodRecord, b: PodRecord): boolean {
  if (a.podIPs[0] !== b.podIPs[0] || !samePorts(a.ports, b.ports)) return false;
  const la = a.labels;
  const lb = b.labels;
  if (la[KRATOS_LABEL_APP] !== lb[KRATOS_LABEL_APP] || la[KRATOS_LABEL_ID] !== lb[KRATOS_LABEL_ID] || la[KRATOS_LABEL_VERSION] !== lb[KRATOS_LABEL_VERSION]) return false;
  const aa = a.annotations;
  const ab = b.annotations;
  return aa === ab || (aa[KRATOS_ANNOTATION_METADATA] === ab[KRATOS_ANNOTATION_METADATA] && aa[KRATOS_ANNOTATION_PROTOCOLS] === ab[KRATOS_ANNOTATION_PROTOCOLS]);
}

/** The pod → instance conversion of one model: shared annotation maps, reused instances, malformed pods reported once per record. */
export function podConverter(o: PodModelOptions = {}): PodConverter {
  const selection = o.selection ?? "ready";
  const parse = sharedMapParser();
  const reported = new WeakSet<PodRecord>();
  return (rec, prev) => {
    if (prev !== undefined && isSelected(rec, selection) && showsSame(prev.rec, rec)) return { ok: true, instance: prev.instance };
    const result = isSelected(rec, selection)
      ? readInstance(rec, parse)
      : { ok: false as const, code: "not-selected" as const, reason: `phase ${rec.phase || "(none)"}, ready ${rec.ready}, terminating ${rec.terminating}` };
    if (result.ok) {
      result.instance.endpoints = Object.freeze(result.instance.endpoints) as string[];
      Object.freeze(result.instance);
    } else if (isMalformed(result.code) && !reported.has(rec)) {
      reported.add(rec);
      try {
        o.onSkippedPod?.({ namespace: rec.namespace, name: rec.name }, result.reason);
      } catch {
        // A throwing hook must not break discovery.
      }
    }
    return result;
  };
}

/** The Kratos pod model. */
export function kratosPodModel(o: PodModelOptions = {}): ServiceModel<PodRecord, undefined> {
  const convert = podConverter(o);
  return {
    index: SERVICE_INDEX,
    serviceOf: kratosServiceOf,
    createSet: (_service, records) => createServiceSet(records, convert),
  };
}
