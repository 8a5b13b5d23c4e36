/**
 * The list and watch requests of any resource, the part of the client the
 * reflector needs. `createKubeClient` implements it; tests may pass their own.
 *
 * @module
 */
import type { ResourceType } from "./resource.ts";
import type { KubeObjectList } from "./wire.ts";

/** Query options of a LIST. */
export interface ListOptions {
  /** Namespace, or undefined for all namespaces. */
  namespace?: string | undefined;
  labelSelector?: string | undefined;
  fieldSelector?: string | undefined;
  limit?: number | undefined;
  continue?: string | undefined;
  resourceVersion?: string | undefined;
  resourceVersionMatch?: "Exact" | "NotOlderThan" | undefined;
  signal?: AbortSignal | undefined;
}

/** Query options of a WATCH. */
export interface WatchOptions {
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

/** LIST and WATCH of any resource. Both reject with a `KubeApiError` on a non-2xx answer. */
export interface ListWatchApi {
  /** One LIST request (one page). */
  listObjects(resource: ResourceType, options: ListOptions): Promise<KubeObjectList>;
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
  watchObjects(resource: ResourceType, options: WatchOptions): Promise<ReadableStream<Uint8Array>>;
}
