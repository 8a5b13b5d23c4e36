/**
 * The Kratos vocabulary on Pods: the `kratos-service-*` labels and
 * annotations go-kratos's `contrib/registry/kubernetes` writes, the Pod
 * descriptor the registry's caches use (it keeps the two Kratos annotations
 * and indexes pods by service), and the one rule for which service a pod
 * belongs to.
 *
 * @module
 */
import type { PodRecord } from "../kube/pod-record.ts";
import { projectPod } from "../kube/pod-record.ts";
import { podResource } from "../kube/pod-resource.ts";
import type { ResourceDescriptor } from "../kube/resource.ts";
import type { Pod } from "../kube/wire.ts";

/** The instance ID label. */
export const KRATOS_LABEL_ID = "kratos-service-id";
/** The service name label; pod caches index on it. */
export const KRATOS_LABEL_APP = "kratos-service-app";
/** The service version label. */
export const KRATOS_LABEL_VERSION = "kratos-service-version";
/** Annotation: JSON object port → scheme. */
export const KRATOS_ANNOTATION_PROTOCOLS = "kratos-service-protocols";
/** Annotation: JSON object of string metadata. */
export const KRATOS_ANNOTATION_METADATA = "kratos-service-metadata";

/** The annotations a Kratos pod record keeps. */
export const KRATOS_ANNOTATIONS: readonly string[] = Object.freeze([KRATOS_ANNOTATION_PROTOCOLS, KRATOS_ANNOTATION_METADATA]);

/** The name of the index by Kratos service in {@link kratosPodResource} caches. */
export const SERVICE_INDEX = "service";

/**
 * The service a pod belongs to: its `kratos-service-app` label, or undefined
 * when the label is missing or empty (never registered, or deregistered by Go
 * Kratos, which blanks the labels). The one membership rule: the cache index
 * and discovery's change routing both call it.
 */
export function kratosServiceOf(pod: PodRecord): string | undefined {
  const app = pod.labels[KRATOS_LABEL_APP];
  return app === undefined || app === "" ? undefined : app;
}

/**
 * The Pod descriptor of Kratos discovery: pods with a `kratos-service-app`
 * label (filtered on the server), records keeping the two Kratos annotations,
 * indexed by {@link kratosServiceOf} under {@link SERVICE_INDEX}. Each call
 * makes a descriptor with its own interning tables.
 */
export function kratosPodResource(options: { labelSelector?: string | undefined } = {}): ResourceDescriptor<PodRecord, Pod> {
  return podResource({
    annotations: KRATOS_ANNOTATIONS,
    uniqueLabels: [KRATOS_LABEL_ID],
    labelSelector: options.labelSelector ?? KRATOS_LABEL_APP,
    indexes: { [SERVICE_INDEX]: kratosServiceOf },
  });
}

/** {@link projectPod} keeping the Kratos annotations (not interned). */
export function projectKratosPod(pod: Pod): PodRecord | string {
  return projectPod(pod, { annotations: KRATOS_ANNOTATIONS });
}
