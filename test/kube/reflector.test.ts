/**
 * The driver (reflector.ts): lifecycle (close, signal, hooks that throw),
 * streaming lists against the fake API server, and real sockets (a plain
 * sync and a server restart).
 */
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createReflector } from "../../src/kube/reflector/reflector.ts";
import type { ReflectorSink } from "../../src/kube/reflector/reflector.ts";
import type { PodApi } from "../../src/kube/pod-api.ts";
import type { Pod, PodList } from "../../src/kube/wire.ts";
import { KubeApiError } from "../../src/kube/errors.ts";
import type { WatchError } from "../../src/kube/errors.ts";
import { KubeConfig } from "../../src/kube/config.ts";
import { createKubeClient } from "../../src/kube/client.ts";
import { createPodCache } from "../../src/registry/pod-cache.ts";
import type { FetchLike } from "../../src/kube/fetch-like.ts";
import { FakeKubeApiServer } from "../../src/testing/fake-api-server.ts";
import { serve } from "../../src/testing/listen.ts";
import { makePod } from "../../src/testing/pods.ts";
import { cachedNames, ManualClock, rig, serverNames, settle, until } from "./reflector-harness.ts";
import type { Rig } from "./reflector-harness.ts";

const rigs: Rig[] = [];
const closers: (() => Promise<void>)[] = [];
after(async () => {
  for (const r of rigs) await r.close();
  for (const c of closers) await c();
});

/** A sink that records what it is told. */
function recorder(): ReflectorSink & { log: string[] } {
  const log: string[] = [];
  return {
    log,
    relistBegin: () => log.push("begin"),
    relistItems: (items) => log.push(`items:${items.map((p) => p.metadata.name).join(",")}`),
    relistDelete: (p) => log.push(`delete:${p.metadata.name}`),
    relistDone: (rv) => log.push(`done:${rv}`),
    relistAbort: () => log.push("abort"),
    apply: (type, p) => log.push(`${type}:${p.metadata.name}`),
  };
}

/** A PodApi whose calls never settle (ignoring their signal), counting them. */
function deafApi(): PodApi & { calls: number } {
  const api = {
    calls: 0,
    listPods: (): Promise<PodList> => {
      api.calls++;
      return new Promise(() => {});
    },
    watchPods: (): Promise<ReadableStream<Uint8Array>> => {
      api.calls++;
      return new Promise(() => {});
    },
    getPod: (): Promise<Pod> => Promise.reject(new Error("unused")),
    patchPod: (): Promise<Pod> => Promise.reject(new Error("unused")),
  };
  return api;
}

describe("reflector driver: lifecycle", () => {
  it("close() returns at once even when a request ignores its signal, and leaves no timer", async () => {
    const clock = new ManualClock();
    const api = deafApi();
    const r = createReflector({ api, sink: recorder(), clock });
    r.start();
    await settle();
    assert.equal(api.calls, 1);
    await r.close();
    assert.equal(r.closed, true);
    assert.equal(clock.pending, 0);
    r.start(); // a no-op once closed
    await settle();
    assert.equal(api.calls, 1);
  });

  it("close() during a backoff cancels the timer; errors reach onError and a throwing hook is harmless", async () => {
    const clock = new ManualClock();
    let calls = 0;
    const api: PodApi = {
      ...deafApi(),
      listPods: () => {
        calls++;
        return Promise.reject(KubeApiError.fromStatus({ kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", reason: "InternalError", message: "etcd down", code: 500 }));
      },
    };
    const errors: WatchError[] = [];
    const r = createReflector({
      api,
      sink: recorder(),
      clock,
      random: () => 0,
      onError: (e) => {
        errors.push(e);
        throw new Error("hook bug");
      },
    });
    r.start();
    await until(() => errors.length === 1, "first error");
    await clock.advance(800);
    await until(() => errors.length === 2, "second error after 800 ms");
    assert.equal(calls, 2);
    assert.equal(errors[0]!.kind, "list");
    assert.equal(errors[0]!.code, "WATCH_ERROR");
    assert.match(errors[0]!.message, /etcd down/);
    assert.equal(clock.pending, 1, "the backoff timer");
    await r[Symbol.asyncDispose]();
    assert.equal(clock.pending, 0);
  });

  it("a LIST that never answers times out after 2 min, is reported and retried", async () => {
    const clock = new ManualClock();
    const api = deafApi();
    const errors: WatchError[] = [];
    const r = createReflector({ api, sink: recorder(), clock, random: () => 0, onError: (e) => errors.push(e) });
    r.start();
    await settle();
    await clock.advance(119_999);
    assert.equal(errors.length, 0);
    await clock.advance(1);
    await until(() => errors.length === 1, "timeout reported");
    assert.equal(errors[0]!.kind, "list");
    assert.match(errors[0]!.message, /no answer within 120000 ms/);
    await clock.advance(800);
    await until(() => api.calls === 2, "retried after the backoff");
    await r.close();
    assert.equal(clock.pending, 0);
  });

  it("an aborted signal option ends the loop like close()", async () => {
    const clock = new ManualClock();
    const ac = new AbortController();
    const r = createReflector({ api: deafApi(), sink: recorder(), clock, signal: ac.signal });
    r.start();
    await settle();
    ac.abort();
    await until(() => r.closed, "closed by the signal");
    await r.close();
    assert.equal(clock.pending, 0);
  });

  it("feeds the sink begin / items / done, then watch events, over the fake server", async () => {
    const clock = new ManualClock();
    const server = new FakeKubeApiServer({ clock, rechunk: 7 });
    closers.push(() => server.close());
    server.createPod(makePod({ name: "a", app: "x" }));
    const client = createKubeClient({ config: KubeConfig.fromOptions({ server: "http://127.0.0.1:1" }), fetch: server.fetch, clock });
    const sink = recorder();
    const r = createReflector({ api: client, sink, clock, namespace: "default" });
    closers.push(() => r.close());
    r.start();
    await until(() => server.openWatches === 1, "watching");
    server.createPod(makePod({ name: "b", app: "x" }));
    server.deletePod("default", "a");
    await until(() => sink.log.length === 5, "events");
    assert.deepEqual(sink.log, ["begin", "items:a", `done:${Number(server.resourceVersion) - 2}`, "ADDED:b", "DELETED:a"]);
    assert.equal(r.state.t, "watching");
  });
});

describe("reflector driver: streaming list", () => {
  it("syncs from one WATCH with sendInitialEvents and keeps that stream (no LIST)", async () => {
    const r = rig({ cache: { streamingList: true } });
    rigs.push(r);
    r.server.createPod(makePod({ name: "a", app: "x" }));
    r.server.createPod(makePod({ name: "b", app: "x" }));
    r.cache.start();
    await r.cache.ready();
    assert.deepEqual(cachedNames(r.cache), ["default/a", "default/b"]);
    const q = r.server.requests;
    assert.equal(q.length, 1);
    assert.equal(q[0]!.watch, true);
    assert.equal(q[0]!.query["sendInitialEvents"], "true");
    assert.equal(q[0]!.query["resourceVersionMatch"], "NotOlderThan");
    assert.equal(q[0]!.query["allowWatchBookmarks"], "true");
    assert.equal(q[0]!.query["resourceVersion"], undefined);
    r.server.createPod(makePod({ name: "c", app: "x" }));
    await until(() => r.cache.size === 3, "live event on the same stream");
    assert.equal(r.server.requests.length, 1);
  });

  it("falls back to a LIST on 422 and stops trying", async () => {
    const r = rig({ cache: { streamingList: true } });
    rigs.push(r);
    r.server.createPod(makePod({ name: "a", app: "x" }));
    r.server.faults.failNext(1, { status: 422, match: { watch: true } });
    r.cache.start();
    await r.cache.ready();
    await until(() => r.server.openWatches === 1, "watching");
    assert.deepEqual(r.server.requests.map((q) => (q.watch ? `watch:${q.query["sendInitialEvents"] ?? "-"}` : "list")), ["watch:true", "list", "watch:-"]);
    assert.deepEqual(r.errors.map((e) => (e as WatchError).kind), ["watch-start"]);
  });

  it("falls back to a LIST when the server ignores it (the stream ends without the end bookmark)", async () => {
    const r = rig({ cache: { streamingList: true } });
    rigs.push(r);
    r.server.createPod(makePod({ name: "a", app: "x" }));
    // An old server: drops the streaming-list parameters (and sends no bookmarks).
    const old: FetchLike = (req) => {
      const u = new URL(req.url);
      for (const k of ["sendInitialEvents", "resourceVersionMatch", "allowWatchBookmarks"]) u.searchParams.delete(k);
      if (!u.searchParams.has("resourceVersion") && u.searchParams.has("watch")) u.searchParams.set("resourceVersion", r.server.resourceVersion);
      return r.server.fetch(new Request(u, req));
    };
    const client = createKubeClient({ config: r.client.config, fetch: old, clock: r.clock });
    const errors: Error[] = [];
    const cache = createPodCache({ api: client, clock: r.clock, random: () => 0.5, streamingList: true, onError: (e) => errors.push(e) });
    closers.push(() => cache.close());
    cache.start();
    await until(() => r.server.openWatches === 1, "watching");
    await r.clock.advance(450_000);
    await cache.ready();
    assert.deepEqual(cachedNames(cache), ["default/a"]);
    assert.match(errors[0]!.message, /initial-events-end/);
  });
});

describe("reflector driver: real sockets", () => {
  it("syncs and follows over HTTP, then survives a server restart without a LIST", async () => {
    const clock = new ManualClock();
    const server = new FakeKubeApiServer({ clock });
    closers.push(() => server.close());
    server.createPod(makePod({ name: "a", app: "x" }));
    server.createPod(makePod({ name: "b", app: "x" }));
    let listening = await serve(server.fetch, { port: 0 });
    closers.push(() => listening.close());
    const port = listening.port;
    const client = createKubeClient({ config: KubeConfig.fromOptions({ server: listening.url, namespace: "default" }), clock });
    closers.push(() => client.close());
    const errors: WatchError[] = [];
    const cache = createPodCache({ api: client, clock, random: () => 0.5, onError: (e) => errors.push(e as WatchError) });
    closers.push(() => cache.close());
    cache.start();
    await cache.ready();
    await until(() => server.openWatches === 1, "watching", 20_000);
    server.createPod(makePod({ name: "c", app: "x" }));
    await until(() => cache.size === 3, "event over the socket", 20_000);
    await clock.advance(2_000);

    await listening.close(); // the process restarts: sockets reset, the port refuses for a while
    server.deletePod("default", "a");
    server.createPod(makePod({ name: "d", app: "x" }));
    await until(() => errors.some((e) => e.kind === "watch-start"), "re-watch refused", 20_000);
    listening = await serve(server.fetch, { port });
    for (let i = 0; i < 10 && cachedNames(cache).join() !== serverNames(server, "default").join(); i++) {
      await clock.advance(2_000);
      await until(() => server.openWatches === 1 || cachedNames(cache).join() === serverNames(server, "default").join(), "reconnected", 20_000);
    }
    await until(() => cachedNames(cache).join() === serverNames(server, "default").join(), "in sync after restart", 20_000);
    assert.equal(server.requests.filter((q) => !q.watch).length, 1, "re-watched from the last RV, no LIST");
    assert.ok(errors.every((e) => e.kind === "stream" || e.kind === "watch-start"), errors.map((e) => e.message).join(" | "));
    await cache.close();
    await client.close();
    await listening.close();
  });
});
