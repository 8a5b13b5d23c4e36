/**
 * Waiting on what a real server does: a cache or watcher reaching a state,
 * with a deadline that only bounds a failure (every wait ends on the event
 * itself, never on elapsed time).
 */
import { after } from "node:test";
import type { PodApi } from "../../src/kube/pod-api.ts";
import type { PodCacheView } from "../../src/registry/pod-cache.ts";
import { releaseSharedCluster } from "./real-cluster.ts";

/** Resolves once `pred(cache)` holds (checked now and after every applied batch); rejects after `ms`. */
export function cacheUntil(cache: PodCacheView, pred: (c: PodCacheView) => boolean, what: string, ms = 30_000): Promise<void> {
  if (pred(cache)) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`timed out after ${ms} ms waiting for ${what}`));
    }, ms);
    const off = cache.subscribe(() => {
      if (!pred(cache)) return;
      clearTimeout(timer);
      off();
      resolve();
    });
  });
}

/** Names of the cached pods of `namespace`, sorted. */
export function cachedIn(cache: PodCacheView, namespace: string): string[] {
  return [...cache.values()].filter((p) => p.namespace === namespace).map((p) => p.name).sort();
}

/** A PodApi that logs each LIST and WATCH it passes on. */
export function loggedApi(api: PodApi): { api: PodApi; log: string[] } {
  const log: string[] = [];
  return {
    log,
    api: {
      listPods: (o) => {
        log.push(`list rv=${o.resourceVersion ?? ""} limit=${o.limit ?? ""} continue=${o.continue === undefined ? "no" : "yes"}`);
        return api.listPods(o);
      },
      watchPods: (o) => {
        log.push(`watch rv=${o.resourceVersion ?? ""}${o.sendInitialEvents ? " sendInitialEvents" : ""}`);
        return api.watchPods(o);
      },
      getPod: (ns, name, o) => api.getPod(ns, name, o),
      patchPod: (ns, name, patch, o) => api.patchPod(ns, name, patch, o),
    },
  };
}

/** Resolves once `pred()` holds, polling every `everyMs`; for state only a request can observe (e.g. a peer's view). */
export async function eventually<T>(probe: () => Promise<T>, pred: (v: T) => boolean, what: string, ms = 30_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + ms;
  let last: T | undefined;
  let lastErr: unknown;
  while (Date.now() < deadline) {
    try {
      last = await probe();
      if (pred(last)) return last;
    } catch (e) {
      lastErr = e;
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what}; last: ${JSON.stringify(last)}${lastErr ? ` (${String(lastErr)})` : ""}`);
}

/** The next set from `w` for which `pred` holds (each pull waits for a real change); rejects after `ms`. */
export async function nextMatching<T>(w: { next(): Promise<T> }, pred: (set: T) => boolean, what: string, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const set = await Promise.race([
      w.next(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), Math.max(1, deadline - Date.now()));
      }),
    ]).finally(() => clearTimeout(timer));
    if (pred(set)) return set;
  }
}

/**
 * Cleanups run in reverse order after the file's tests (and the shared
 * control plane released, when this process started it).
 */
export function cleanups(): { push(...fns: (() => Promise<unknown>)[]): void } {
  const fns: (() => Promise<unknown>)[] = [];
  after(async () => {
    for (const f of fns.reverse()) await f();
    await releaseSharedCluster();
  });
  return { push: (...more) => void fns.push(...more) };
}
