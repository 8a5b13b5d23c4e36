/**
 * A KubernetesRegistry wired to the fake API server through an intercepting
 * fetch, on a manual clock: a test serves crafted bytes for chosen LIST or
 * WATCH requests (or rewrites the fake's answer) and drives the reflector's
 * backoff by advancing the clock. Waits are bounded loops of clock advances
 * and macrotask turns, never wall-clock sleeps.
 */
import assert from "node:assert/strict";
import { KubeConfig } from "../../../src/kube/config.ts";
import { KubernetesRegistry, type ServiceInstance, type ServiceWatcher } from "../../../src/index.ts";
import { createManualClock, FakeKubeApiServer, type ManualClock } from "../../../src/testing/index.ts";

export const NS = "default";
export const APP = "hostile.service";

export type Hook = (req: Request, n: number, forward: () => Promise<Response>) => Promise<Response | undefined> | Response | undefined;

export interface HostileRig {
  fake: FakeKubeApiServer;
  clock: ManualClock;
  registry: KubernetesRegistry;
  errors: Error[];
  skipped: { name: string; reason: string }[];
  /** The latest instance set the registry's watcher yielded. */
  latest(): ServiceInstance[] | undefined;
  /** Sorted ids of {@link latest}. */
  ids(): string[];
  /** Advances the clock in small steps until `pred` holds (bounded). */
  eventually(pred: () => boolean, what: string): Promise<void>;
  close(): Promise<void>;
}

const turn = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 0));

/** Builds a rig; `onList`/`onWatch` see the n-th LIST/WATCH (from 0) and may answer it. */
export function hostileRig(o: { onList?: Hook; onWatch?: Hook; selection?: "ready" | "kratos" } = {}): HostileRig {
  const fake = new FakeKubeApiServer({ rechunk: 5 });
  const clock = createManualClock(1_000_000);
  const config = KubeConfig.fromOptions({ server: "http://127.0.0.1:6443", namespace: NS });
  let lists = 0;
  let watches = 0;
  const fetch = async (req: Request): Promise<Response> => {
    const url = new URL(req.url);
    const forward = (): Promise<Response> => fake.fetch(req);
    if (req.method === "GET" && url.pathname.endsWith("/pods")) {
      const watch = url.searchParams.get("watch");
      const hook = watch === "true" || watch === "1" ? o.onWatch : o.onList;
      const n = watch === "true" || watch === "1" ? watches++ : lists++;
      const r = await hook?.(req, n, forward);
      if (r !== undefined) return r;
    }
    return forward();
  };
  const errors: Error[] = [];
  const skipped: { name: string; reason: string }[] = [];
  const registry = new KubernetesRegistry({
    config,
    fetch,
    clock,
    namespace: NS,
    selection: o.selection ?? "ready",
    onError: (e) => errors.push(e),
    onSkippedPod: (p, reason) => skipped.push({ name: p.name, reason }),
  });
  let latest: ServiceInstance[] | undefined;
  let watcher: ServiceWatcher | undefined;
  let stopped = false;
  const consuming = (async () => {
    const w = await registry.watch(APP);
    watcher = w;
    if (stopped) return w.stop();
    for await (const set of w) latest = set;
  })().catch(() => {});
  const ids = (): string[] => (latest ?? []).map((i) => i.id).sort();
  return {
    fake,
    clock,
    registry,
    errors,
    skipped,
    latest: () => latest,
    ids,
    async eventually(pred, what) {
      for (let i = 0; i < 600; i++) {
        if (pred()) return;
        await turn();
        if (i % 3 === 2) await clock.advance(250);
      }
      assert.fail(`timed out waiting until ${what} (ids ${JSON.stringify(ids())}, errors ${errors.map((e) => e.message).join(" | ")})`);
    },
    async close() {
      stopped = true;
      await watcher?.stop();
      await registry.close();
      await consuming;
      await fake.close();
    },
  };
}

/** A ReadableStream of the given chunks (strings encoded as UTF-8). */
export function bytes(...chunks: (string | Uint8Array)[]): ReadableStream<Uint8Array> {
  const enc = new TextEncoder();
  let i = 0;
  return new ReadableStream({
    pull(c) {
      const next = chunks[i++];
      if (next === undefined) return c.close();
      c.enqueue(typeof next === "string" ? enc.encode(next) : next);
    },
  });
}

/** A 200 watch response with `body`. */
export function watchResponse(body: ReadableStream<Uint8Array> | string, contentType = "application/json"): Response {
  return new Response(typeof body === "string" ? bytes(body) : body, { status: 200, headers: { "content-type": contentType } });
}

/** Prepends `prefix` to the body of the fake's real answer (the rest of the stream is the live watch). */
export async function withPrefix(res: Promise<Response>, ...prefix: string[]): Promise<Response> {
  const real = await res;
  const reader = real.body!.getReader();
  const enc = new TextEncoder();
  let i = 0;
  const body = new ReadableStream<Uint8Array>({
    async pull(c) {
      if (i < prefix.length) return c.enqueue(enc.encode(prefix[i++]!));
      const r = await reader.read();
      if (r.done) c.close();
      else c.enqueue(r.value);
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  });
  return new Response(body, { status: real.status, headers: real.headers });
}
