/**
 * The pod operations kratos-kube performs against the Kubernetes API (the
 * registrar's GET and PATCH, and the pod LIST and WATCH kept for callers of
 * earlier releases; the reflector uses {@link ListWatchApi}). `createKubeClient`
 * implements both.
 *
 * @module
 */
import type { ListOptions, ListWatchApi, WatchOptions } from "./list-watch-api.ts";
import type { Pod, PodList } from "./wire.ts";

/** Query options of a pod LIST (the same as any resource's). */
export type ListPodsOptions = ListOptions;

/** Query options of a pod WATCH (the same as any resource's). */
export type WatchPodsOptions = WatchOptions;

/** Strategic merge, JSON merge or JSON patch. */
export type PatchType = "strategic" | "merge" | "json";

/** Pod operations. Every method rejects with a `KubeApiError` on a non-2xx answer. */
export interface PodApi {
  /** One LIST request (one page). */
  listPods(options: ListPodsOptions): Promise<PodList>;
  /**
   * Opens a WATCH; resolves once the response headers arrived with a 2xx
   * status, to the raw body (newline-delimited JSON watch events).
   *
   * When `signal` aborts, the body errors with the abort reason on Node and
   * Bun. On Deno a read of the body from then on may never settle (its
   * fetch leaves a body it has handed out to the connection; 2 of 150
   * watches over TLS in a test here): cancel the reader as well, or race
   * each read against the signal, as kratos-kube's own reflector does.
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
