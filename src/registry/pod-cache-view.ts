/**
 * The part of the pod cache (`src/kube/pod-cache.ts`, `PodCacheView`) that
 * discovery reads, stated structurally so discovery can be tested with any
 * view and the real cache satisfies it as is.
 *
 * @module
 */
import type { PodRecord } from "../kube/pod-record.ts";

/** One applied change of the pod cache. */
export type PodChange =
  | { type: "added"; pod: PodRecord }
  | { type: "modified"; pod: PodRecord; old: PodRecord }
  | { type: "deleted"; pod: PodRecord };

/** What discovery needs of a pod cache. */
export interface PodCacheView {
  /** True after the first full sync. */
  readonly synced: boolean;
  /** Resolves after the first full sync; rejects on abort or close. */
  ready(signal?: AbortSignal): Promise<void>;
  /** Pods whose `kratos-service-app` label is `app`, in O(pods of that app). */
  byApp(app: string): readonly PodRecord[];
  /** Called synchronously after each applied batch; returns the unsubscribe function. */
  subscribe(listener: (changes: readonly PodChange[]) => void): () => void;
}
