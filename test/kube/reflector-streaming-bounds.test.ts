/**
 * Streaming lists are bounded: initial events that stall, or that never reach
 * the `k8s.io/initial-events-end` bookmark, fall back to a paged LIST within
 * the driver's bounds (60 s without an event, 3 min overall) and say so via
 * onError, instead of waiting out the 5–10 min watch timeout silently.
 */
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import type { WatchError } from "../../src/kube/errors.ts";
import { createKubeClient } from "../../src/kube/client.ts";
import { createPodCache } from "../../src/registry/pod-cache.ts";
import type { PodCache } from "../../src/registry/pod-cache.ts";
import type { FetchLike } from "../../src/kube/fetch-like.ts";
import { initialState, step } from "../../src/kube/reflector/state.ts";
import { makePod } from "../../src/testing/pods.ts";
import { cachedNames, rig, settle, until } from "./reflector-harness.ts";
import type { Rig } from "./reflector-harness.ts";

const rigs: Rig[] = [];
const closers: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of closers) await c();
  for (const r of rigs) await r.close();
});

/** A second cache over `fetch`, on the rig's clock; errors collected. */
function cacheOver(r: Rig, fetch: FetchLike): { cache: PodCache; errors: WatchError[] } {
  const client = createKubeClient({ config: r.client.config, fetch, clock: r.clock });
  const errors: WatchError[] = [];
  const cache = createPodCache({ api: client, clock: r.clock, random: () => 0.5, streamingList: true, onError: (e) => errors.push(e as WatchError) });
  closers.push(async () => {
    await cache.close();
    await client.close();
  });
  return { cache, errors };
}

const kinds = (r: Rig): string[] => r.server.requests.map((q) => (q.watch ? `watch:${q.query["sendInitialEvents"] ?? "-"}` : "list"));

describe("reflector state: initial-events-timeout", () => {
  it("during a streaming list → relist-abort, an idle-timeout error, a LIST at once, streaming off", () => {
    const s = step(initialState({ streamingList: true }), { i: "start" }).state;
    assert.equal(s.t, "watch-listing");
    const r = step(s, { i: "initial-events-timeout", error: new Error("no initial event for 60000 ms") });
    assert.equal(r.state.t, "listing");
    assert.equal(r.state.streaming, false);
    assert.deepEqual(r.effects.map((e) => (e.e === "error" ? `error:${e.kind}` : e.e)), ["relist-abort", "error:idle-timeout"]);
    assert.deepEqual(r.command, { c: "list", request: { resourceVersion: "0", limit: 500, continue: undefined } });
  });

  it("is ignored once the stream is a plain watch", () => {
    const s = step(initialState(), { i: "start" }).state;
    const w = step(s, { i: "list-page", resourceVersion: "5", continue: undefined, items: [] }).state;
    const r = step(w, { i: "initial-events-timeout", error: new Error("late") });
    assert.equal(r.state, w);
    assert.equal(r.command, undefined);
  });
});

describe("reflector driver: streaming list bounds", () => {
  it("a stalled streaming list (headers, then no byte) falls back to LIST after 60 s, reported", async () => {
    const r = rig();
    rigs.push(r);
    r.server.createPod(makePod({ name: "a", app: "x" }));
    r.server.createPod(makePod({ name: "b", app: "x" }));
    let stalls = 0;
    const stalling: FetchLike = (req) => {
      if (new URL(req.url).searchParams.get("sendInitialEvents") === "true") {
        stalls++;
        return Promise.resolve(new Response(new ReadableStream<Uint8Array>(), { status: 200, headers: { "content-type": "application/json" } }));
      }
      return r.server.fetch(req);
    };
    const { cache, errors } = cacheOver(r, stalling);
    cache.start();
    await until(() => stalls === 1, "the streaming-list watch started");
    await r.clock.advance(59_000);
    assert.equal(cache.synced, false);
    assert.equal(errors.length, 0);
    await r.clock.advance(2_000);
    await until(() => cache.synced, "synced by the LIST fallback");
    assert.deepEqual(cachedNames(cache), ["default/a", "default/b"]);
    assert.equal(errors[0]!.kind, "idle-timeout");
    assert.match(errors[0]!.message, /no initial event for 60000 ms.*falling back to LIST/);
    await until(() => r.server.openWatches === 1, "watching after the LIST");
    assert.deepEqual(kinds(r), ["list", "watch:-"]);
    assert.equal(stalls, 1);
  });

  it("a streaming list whose events keep flowing but never end falls back to LIST after 3 min, reported", async () => {
    const r = rig();
    rigs.push(r);
    r.server.createPod(makePod({ name: "a", app: "x" }));
    // An old server: ignores the streaming-list parameters, sends the legacy
    // synthetic ADDED events, never a bookmark; live events keep coming.
    const old: FetchLike = (req) => {
      const u = new URL(req.url);
      for (const k of ["sendInitialEvents", "resourceVersionMatch", "allowWatchBookmarks"]) u.searchParams.delete(k);
      return r.server.fetch(new Request(u, req));
    };
    const { cache, errors } = cacheOver(r, old);
    cache.start();
    await until(() => r.server.openWatches === 1, "the streaming-list watch started");
    for (let i = 0; i < 6; i++) {
      await r.clock.advance(30_000);
      r.server.createPod(makePod({ name: `live-${i}`, app: "x" }));
      await settle(); // the event reaches the reflector before the clock moves on
      if (i < 5) assert.equal(cache.synced, false, `not synced after ${(i + 1) * 30} s: ${errors.map((e) => e.message).join("; ")}`);
    }
    await r.clock.advance(1_000);
    await until(() => cache.synced, "synced by the LIST fallback");
    assert.equal(errors.length, 1);
    assert.equal(errors[0]!.kind, "idle-timeout");
    assert.match(errors[0]!.message, /initial-events-end bookmark within 180000 ms.*falling back to LIST/);
    assert.deepEqual(cachedNames(cache), ["default/a", ...[0, 1, 2, 3, 4, 5].map((i) => `default/live-${i}`)].sort());
    await until(() => r.server.openWatches === 1, "watching after the LIST");
    assert.deepEqual(kinds(r).slice(1), ["list", "watch:-"]);
  });
});
