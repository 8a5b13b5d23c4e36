/**
 * The part of the pod cache (`pod-cache.ts`) that `createDiscovery` reads.
 * Discovery depends on this subset only, so it can be tested with any view;
 * the real `PodCache` satisfies it as is.
 *
 * @module
 */
import type { PodCacheView as FullPodCacheView } from "./pod-cache.ts";

export type { PodChange } from "./pod-cache.ts";

/** What discovery needs of a pod cache: sync state, the `byApp` index and change batches (`state` is optional). */
export type PodCacheView = Pick<FullPodCacheView, "synced" | "ready" | "byApp" | "subscribe"> & Partial<Pick<FullPodCacheView, "state">>;
