/**
 * Pod LIST semantics (apiserver `storage/cacher/delegator/interface.go`,
 * `cacher.go`, `etcd3/store.go`): resourceVersion rules, `limit`/`continue`
 * paging in key order, `remainingItemCount`, and the 410 for expired tokens.
 *
 * @module
 */
import type { Clock } from "../kube/clock.ts";
import type { KubeObject, KubeObjectList, Pod, PodList, Status } from "../kube/wire.ts";
import { continueStartKey, decodeContinue, encodeContinue } from "./continue-token.ts";
import type { ListQuery } from "./list-options.ts";
import type { PodStore } from "./store.ts";
import { badRequest, CONTINUE_EXPIRED_MESSAGE, failure, listTooOld, tooLargeResourceVersion } from "./status.ts";
import { BLOCK_TIMEOUT_MS } from "./watch.ts";

/** Removes `kind`/`apiVersion`: LIST items do not carry them (golden `responses/list`). */
function asItem<T extends KubeObject>(pod: T): T {
  const { kind: _k, apiVersion: _a, ...rest } = pod;
  return rest as T;
}

/** The list kind of a resource's LIST answer. */
export interface ListKind {
  readonly kind: string;
  readonly apiVersion: string;
}

/** Waits (on `clock`) until the store reaches `rv`, at most {@link BLOCK_TIMEOUT_MS}; resolves whether it did. */
export function waitForRv<T extends KubeObject>(store: PodStore<T>, clock: Clock, rv: number, signal?: AbortSignal): Promise<boolean> {
  if (store.rv >= rv) return Promise.resolve(true);
  return new Promise((resolve) => {
    const done = (ok: boolean): void => {
      stop();
      timer.cancel();
      signal?.removeEventListener("abort", onAbort);
      resolve(ok);
    };
    const onAbort = (): void => done(false);
    const stop = store.subscribe(() => {
      if (store.rv >= rv) done(true);
    });
    const timer = clock.setTimeout(() => done(false), BLOCK_TIMEOUT_MS);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** Serves one LIST; returns the PodList (or `list`'s kind) or the failure Status. */
export async function listPods<T extends KubeObject = Pod>(
  store: PodStore<T>,
  clock: Clock,
  namespace: string | undefined,
  q: ListQuery,
  signal?: AbortSignal,
  list: ListKind = { kind: "PodList", apiVersion: "v1" },
): Promise<(T extends Pod ? PodList : KubeObjectList<T>) | Status> {
  const inScope = (key: string, p: T): boolean =>
    (namespace === undefined || key.startsWith(`${namespace}/`)) && q.matches(p as unknown as Pod);
  let snapshot: [string, T][];
  let listRv: number;
  let start = "";
  let limit = q.limit;
  let expired: Status | undefined;

  if (q.continue !== "") {
    // Order of apiserver `storage.ValidateListOptions`: the token first, then the RV.
    let tok;
    try {
      tok = decodeContinue(q.continue);
    } catch (e) {
      return badRequest(`invalid continue token: ${(e as Error).message}`);
    }
    if (q.resourceVersion !== "" && q.resourceVersion !== "0") {
      return badRequest("specifying resource version is not allowed when using continue");
    }
    start = continueStartKey(tok, namespace);
    // resourceVersion=0 is served from the cache with no paging: the rest at once.
    if (q.rv === 0) limit = 0;
    if (tok.rv === -1) {
      snapshot = store.sorted();
      listRv = store.rv;
    } else {
      const snap = store.snapshotAt(tok.rv);
      if (snap === undefined) {
        // apiserver `etcd3/errors.go` handleCompactedErrorForPaging: 410 with an
        // inconsistent token (rv -1) continuing from the same key.
        expired = failure(410, "Expired", CONTINUE_EXPIRED_MESSAGE);
        const lastKey = start.endsWith("\u0000") ? start.slice(0, -1) : start;
        expired.metadata = { continue: encodeContinue(-1, lastKey, namespace, true) };
        return expired;
      }
      snapshot = snap;
      listRv = tok.rv;
    }
  } else if (q.rv === undefined) {
    snapshot = store.sorted();
    listRv = store.rv;
  } else if (q.rv === 0) {
    // "any version" from the cache: limit is ignored (cacher.go computeListLimit).
    snapshot = store.sorted();
    listRv = store.rv;
    limit = 0;
  } else if (q.resourceVersionMatch === "Exact" || (q.limit > 0 && q.resourceVersionMatch === "")) {
    if (q.rv > store.rv && !(await waitForRv(store, clock, q.rv, signal))) return tooLargeResourceVersion(q.rv, store.rv);
    const snap = store.snapshotAt(q.rv);
    if (snap === undefined) return listTooOld();
    snapshot = snap;
    listRv = q.rv;
  } else {
    // NotOlderThan (or RV=N without limit): wait up to 3 s for the cache, then 504.
    if (!(await waitForRv(store, clock, q.rv, signal))) return tooLargeResourceVersion(q.rv, store.rv);
    snapshot = store.sorted();
    listRv = store.rv;
  }

  const items: T[] = [];
  let i = 0;
  while (i < snapshot.length && snapshot[i]![0] < start) i++;
  let lastKey = "";
  for (; i < snapshot.length; i++) {
    const [key, pod] = snapshot[i]!;
    if (!inScope(key, pod)) continue;
    if (limit > 0 && items.length === limit) break;
    items.push(asItem(pod));
    lastKey = key;
  }
  const metadata: PodList["metadata"] = { resourceVersion: String(listRv) };
  let remaining = 0;
  for (let j = i; j < snapshot.length; j++) if (inScope(snapshot[j]![0], snapshot[j]![1])) remaining++;
  if (limit > 0 && remaining > 0) {
    metadata.continue = encodeContinue(listRv, lastKey, namespace);
    if (!q.selective) metadata.remainingItemCount = remaining;
  }
  return { kind: list.kind, apiVersion: list.apiVersion, metadata, items } as unknown as T extends Pod ? PodList : KubeObjectList<T>;
}
