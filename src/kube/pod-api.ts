/**
 * The pod operations kratos-kube performs against the Kubernetes API. The
 * reflector and the registry depend on this interface only; `createKubeClient`
 * implements it over a {@link FetchLike}.
 *
 * @module
 */
import type { Pod, PodList } from "./wire.ts";

/** Query options of a pod LIST. */
export interface ListPodsOptions {
  /** Namespace, or undefined for all namespaces (`/api/v1/pods`). */
  namespace?: string | undefined;
  labelSelector?: string | undefined;
  fieldSelector?: string | undefined;
  limit?: number | undefined;
  continue?: string | undefined;
  resourceVersion?: string | undefined;
  resourceVersionMatch?: "Exact" | "NotOlderThan" | undefined;
  signal?: AbortSignal | undefined;
}

/** Query options of a pod WATCH. */
export interface WatchPodsOptions {
  namespace?: string | undefined;
  labelSelector?: string | undefined;
  fieldSelector?: string | undefined;
  resourceVersion?: string | undefined;
  resourceVersionMatch?: "NotOlderThan" | undefined;
  timeoutSeconds?: number | undefined;
  allowWatchBookmarks?: boolean | undefined;
  sendInitialEvents?: boolean | undefined;
  signal?: AbortSignal | undefined;
}

/** Strategic merge, JSON merge or JSON patch. */
export type PatchType = "strategic" | "merge" | "json";

/** Pod operations. Every method rejects with a `KubeApiError` on a non-2xx answer. */
export interface PodApi {
  /** One LIST request (one page). */
  listPods(options: ListPodsOptions): Promise<PodList>;
  /**
   * Opens a WATCH; resolves once the response headers arrived with a 2xx
   * status, to the raw body (newline-delimited JSON watch events).
   */
  watchPods(options: WatchPodsOptions): Promise<ReadableStream<Uint8Array>>;
  /** GET one pod. */
  getPod(namespace: string, name: string, options?: { signal?: AbortSignal | undefined }): Promise<Pod>;
  /** PATCH one pod. */
  patchPod(
    namespace: string,
    name: string,
    patch: unknown,
    options: { type: PatchType; fieldManager?: string | undefined; signal?: AbortSignal | undefined },
  ): Promise<Pod>;
}
