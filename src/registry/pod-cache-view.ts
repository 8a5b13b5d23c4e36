/**
 * The part of the pod cache (`src/kube/pod-cache.ts`) that discovery reads.
 * Discovery depends on this subset only, so it can be tested with any view;
 * the real `PodCache` satisfies it as is.
 *
 * @module
 */
import type { PodCacheView as FullPodCacheView } from "../kube/pod-cache.ts";

export type { PodChange } from "../kube/pod-cache.ts";

/** What discovery needs of a pod cache: sync state, the `byApp` index and change batches. */
export type PodCacheView = Pick<FullPodCacheView, "synced" | "ready" | "byApp" | "subscribe">;
