/**
 * One test per fault of issue 3 / kubernetes-api.md "Known client bugs",
 * against the FakeKubeApiServer through `server.fetch` on a manual clock.
 * With `random: () => 0.5` every watch asks timeoutSeconds=450 and every
 * backoff delay is 1.5 × d (1200 ms, 2400 ms, …).
 */
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { makePod } from "../../src/testing/pods.ts";
import type { FakeKubeApiServer } from "../../src/testing/fake-api-server.ts";
import type { WatchError } from "../../src/kube/errors.ts";
import type { PodChange } from "../../src/registry/pod-cache.ts";
import type { FetchLike } from "../../src/kube/fetch-like.ts";
import { cachedNames, rig, serverNames, until } from "./reflector-harness.ts";
import type { Rig } from "./reflector-harness.ts";

const rigs: Rig[] = [];
after(async () => {
  for (const r of rigs) await r.close();
});
async function started(o: Parameters<typeof rig>[0] = {}, pods = ["a", "b", "c"]): Promise<Rig> {
  const r = rig(o);
  rigs.push(r);
  for (const name of pods) r.server.createPod(makePod({ name, app: "app" }));
  r.cache.start();
  await r.cache.ready();
  await until(() => r.server.openWatches === 1, "the watch is open");
  return r;
}
const lists = (s: FakeKubeApiServer) => s.requests.filter((q) => !q.watch && q.method === "GET" && /\/pods$/.test(q.path));
const watches = (s: FakeKubeApiServer) => s.requests.filter((q) => q.watch);
const kinds = (r: Rig) => r.errors.map((e) => (e as WatchError).kind);
const inSync = (r: Rig) => () => cachedNames(r.cache).join() === serverNames(r.server, "default").join();

describe("reflector faults", () => {
  it("counting: after a plain connection drop it re-watches from the last RV without a LIST", async () => {
    const r = await started();
    await r.clock.advance(2_000); // the watch is older than 1 s: not a "very short watch"
    const rv = r.server.resourceVersion;
    const [l, w] = [lists(r.server).length, watches(r.server).length];
    r.server.faults.dropWatches();
    await until(() => watches(r.server).length === w + 1 && r.server.openWatches === 1, "re-watch");
    assert.equal(lists(r.server).length, l, "no LIST");
    assert.equal(watches(r.server).at(-1)?.query["resourceVersion"], rv);
    assert.equal(watches(r.server).at(-1)?.query["allowWatchBookmarks"], "true");
    assert.deepEqual(kinds(r), ["stream"]);
    r.server.createPod(makePod({ name: "d", app: "app" }));
    await until(inSync(r), "cache in sync");
  });

  it("reset mid-line: the half event is dropped, the loop re-watches and receives it again", async () => {
    let cut: number | undefined;
    const fetchCut = (inner: FetchLike): FetchLike => async (req) => {
      const res = await inner(req);
      if (!new URL(req.url).searchParams.has("watch") || res.body === null) return res;
      const reader = res.body.getReader();
      const body = new ReadableStream<Uint8Array>({
        async pull(c) {
          const { done, value } = await reader.read();
          if (done) return c.close();
          if (cut !== undefined) {
            const n = Math.min(cut, value.length);
            cut -= n;
            if (cut === 0) {
              cut = undefined;
              c.enqueue(value.subarray(0, n));
              c.error(new TypeError("terminated: other side closed"));
              await reader.cancel();
              return;
            }
          }
          c.enqueue(value);
        },
        cancel: (reason) => reader.cancel(reason),
      });
      return new Response(body, { status: res.status, headers: res.headers });
    };
    const r = rig();
    rigs.push(r);
    const { createKubeClient } = await import("../../src/kube/client.ts");
    const { createPodCache } = await import("../../src/registry/pod-cache.ts");
    const client = createKubeClient({ config: r.client.config, fetch: fetchCut(r.server.fetch), clock: r.clock });
    const errors: Error[] = [];
    const cache = createPodCache({ api: client, clock: r.clock, random: () => 0.5, onError: (e) => errors.push(e) });
    cache.start();
    await cache.ready();
    r.server.createPod(makePod({ name: "first", app: "app" }));
    await until(() => cache.size === 1, "first pod");
    await r.clock.advance(2_000);
    const l = lists(r.server).length;
    cut = 100; // the next event's line is ~5 KB: cut after 100 bytes of it
    r.server.createPod(makePod({ name: "second", app: "app" }));
    await until(() => cache.get("default", "second") !== undefined, "second pod after re-watch");
    assert.equal(lists(r.server).length, l, "no LIST");
    assert.deepEqual(errors.map((e) => (e as WatchError).kind), ["stream"]);
    await cache.close();
    await client.close();
  });

  it("hang without closing (half-open connection): the idle watchdog aborts after timeoutSeconds + 5 s and resumes", async () => {
    const r = rig({ server: { bookmarkIntervalMs: 3_600_000 } });
    rigs.push(r);
    const net = halfOpen(r.server.fetch);
    const { cache, errors, close } = await cacheOver(r, net.fetch);
    r.server.createPod(makePod({ name: "a", app: "app" }));
    cache.start();
    await cache.ready();
    await until(() => r.server.openWatches === 1, "watching");
    net.silence(); // no byte, no FIN: not even the server's own timeout reaches the client
    r.server.createPod(makePod({ name: "d", app: "app" }));
    await r.clock.advance(454_999); // just under timeoutSeconds (450) + 5 s grace
    assert.equal(cache.get("default", "d"), undefined, "not delivered while silent");
    assert.deepEqual(errors, []);
    await r.clock.advance(2);
    await until(() => cache.get("default", "d") !== undefined, "delivered after the watchdog");
    assert.deepEqual(errors.map((e) => (e as WatchError).kind), ["idle-timeout"]);
    assert.equal(lists(r.server).length, 1, "resumed without a LIST");
    assert.equal(net.cancelled, 1, "the silent body was cancelled");
    await close();
  });

  it("the fake's own hangWatches() (half-open: no byte, no end at timeoutSeconds): the idle watchdog aborts after timeoutSeconds + 5 s and resumes from the last RV", async () => {
    const r = await started({ server: { bookmarkIntervalMs: 3_600_000 } }, ["a"]);
    const [l, w] = [lists(r.server).length, watches(r.server).length];
    const rv = r.server.resourceVersion;
    r.server.faults.hangWatches();
    r.server.createPod(makePod({ name: "d", app: "app" }));
    await r.clock.advance(454_999); // past the server's 450 s timeout, just under the watchdog's 455 s
    assert.equal(r.cache.get("default", "d"), undefined, "not delivered while hung");
    assert.deepEqual(r.errors, []);
    assert.equal(r.server.openWatches, 1, "the hung watch is still open");
    assert.equal(watches(r.server).length, w, "no re-watch yet");
    await r.clock.advance(2);
    await until(() => r.cache.get("default", "d") !== undefined, "delivered after the watchdog");
    assert.deepEqual(kinds(r), ["idle-timeout"]);
    assert.equal(lists(r.server).length, l, "resumed without a LIST");
    assert.equal(watches(r.server).at(w)?.query["resourceVersion"], rv, "re-watch from the last RV");
    await until(() => r.server.openWatches === 1, "the aborted hung watch was released, one live watch remains");
  });

  it("once bookmarks flow, a silence of 2 bookmark intervals is enough to reconnect", async () => {
    const r = await started();
    // Some other pod changes: a real apiserver sends bookmarks only once the pods' resourceVersion moved past the watch's start.
    r.server.createPod(makePod({ name: "unrelated", namespace: "elsewhere" }));
    await r.clock.advance(61_000); // one bookmark arrives (interval 60 s)
    r.server.faults.hangWatches();
    await r.clock.advance(118_000);
    assert.deepEqual(kinds(r), []);
    await r.clock.advance(3_000);
    await until(() => kinds(r).length === 1, "idle timeout");
    assert.deepEqual(kinds(r), ["idle-timeout"]);
  });

  it("a quiet stream kept alive by bookmarks only: no error, no LIST, re-watch at the server timeout", async () => {
    const r = await started();
    for (let i = 0; i < 20; i++) await r.clock.advance(60_000);
    assert.deepEqual(r.errors, []);
    assert.equal(lists(r.server).length, 1);
    assert.ok(watches(r.server).length >= 2, "the server's timeoutSeconds ended watches cleanly; each was resumed");
    r.server.createPod(makePod({ name: "d", app: "app" }));
    await until(inSync(r), "in sync");
  });

  it("HTTP 410 at watch start: backoff, then relist at the last RV (no limit)", async () => {
    const r = await started();
    await r.clock.advance(2_000);
    const rv = r.server.resourceVersion;
    r.server.faults.failNext(1, { status: 410, match: { watch: true } });
    r.server.faults.dropWatches();
    await until(() => kinds(r).length === 2, "stream + watch-start errors");
    assert.deepEqual(kinds(r), ["stream", "watch-start"]);
    const l = lists(r.server).length;
    await r.clock.advance(1_199);
    assert.equal(lists(r.server).length, l, "still backing off");
    await r.clock.advance(2);
    await until(() => lists(r.server).length === l + 1, "relist");
    const q = lists(r.server).at(-1)!.query;
    assert.equal(q["resourceVersion"], rv);
    assert.equal(q["limit"], undefined);
  });

  it("ERROR 410 in the stream after compaction while disconnected: relist, and pods deleted meanwhile disappear", async () => {
    const r = await started({}, ["a", "b", "c"]);
    await r.clock.advance(2_000);
    const changes: string[] = [];
    r.cache.subscribe((cs: readonly PodChange[]) => changes.push(...cs.map((c) => `${c.type}:${c.pod.name}`)));
    const rv = r.server.resourceVersion;
    r.server.faults.hangWatches();
    r.server.deletePod("default", "b");
    r.server.createPod(makePod({ name: "d", app: "app" }));
    r.server.faults.compact();
    r.server.faults.dropWatches();
    await until(() => kinds(r).includes("watch-event"), "in-stream ERROR 410");
    const err = r.errors.find((e) => (e as WatchError).kind === "watch-event") as WatchError;
    assert.match(err.message, /410/);
    await r.clock.advance(1_300);
    await until(inSync(r), "in sync after relist");
    assert.deepEqual(changes.sort(), ["added:d", "deleted:b"]);
    assert.equal(lists(r.server).at(-1)!.query["resourceVersion"], rv);
  });

  it("expired continue token: one full LIST at the original RV, never the inconsistent token", async () => {
    const r = rig();
    rigs.push(r);
    for (const n of ["a", "b", "c", "d", "e"]) r.server.createPod(makePod({ name: n, app: "app" }));
    // The first LIST (RV 0) fails Expired: the reflector retries at once with RV "" and pages of 2.
    r.server.faults.failNext(1, { status: 410, match: { watch: false } });
    const compactAfterPage1: FetchLike = async (req) => {
      const res = await r.server.fetch(req);
      const q = new URL(req.url).searchParams;
      if (!q.has("watch") && q.has("limit") && !q.has("continue") && res.ok) {
        r.server.createPod(makePod({ name: "f", app: "app" }));
        r.server.faults.compact();
      }
      return res;
    };
    const { cache, errors, close } = await cacheOver(r, compactAfterPage1, { pageSize: 2 });
    cache.start();
    await cache.ready();
    const q = lists(r.server).map((x) => x.query);
    assert.deepEqual(q.map((x) => [x["resourceVersion"], x["limit"], x["continue"] === undefined ? "-" : "token"]), [
      ["0", "2", "-"], // 410 Expired
      [undefined, "2", "-"], // page 1 at RV ""
      [undefined, "2", "token"], // page 2: 410 Expired (compacted)
      [undefined, undefined, "-"], // one full LIST at the original RV
    ]);
    assert.deepEqual([...cache.values()].map((p) => p.name).sort(), ["a", "b", "c", "d", "e", "f"]);
    assert.deepEqual(errors, [], "recovered without reporting");
    await close();
  });

  it("429 with a text/plain body and Retry-After: waits at least Retry-After, then re-watches the same RV (no LIST)", async () => {
    const r = await started();
    await r.clock.advance(2_000);
    const rv = r.server.resourceVersion;
    r.server.faults.failNext(1, { status: 429, body: "Too many requests, please try again later.\n", contentType: "text/plain", retryAfter: 7, match: { watch: true } });
    r.server.faults.dropWatches();
    await until(() => kinds(r).length === 2, "429 reported");
    const e = r.errors[1] as WatchError & { cause: { status: number; retryAfterSeconds: number } };
    assert.equal(e.kind, "watch-start");
    assert.equal(e.cause.status, 429);
    assert.equal(e.cause.retryAfterSeconds, 7);
    const w = watches(r.server).length;
    await r.clock.advance(6_990);
    assert.equal(watches(r.server).length, w, "still waiting out Retry-After");
    await r.clock.advance(20);
    await until(() => r.server.openWatches === 1, "re-watched");
    assert.equal(watches(r.server).at(-1)?.query["resourceVersion"], rv);
    assert.equal(lists(r.server).length, 1, "no LIST");
  });

  it("500s: each is reported and retried with growing backoff until the server recovers", async () => {
    const r = rig();
    rigs.push(r);
    r.server.createPod(makePod({ name: "a", app: "app" }));
    r.server.faults.failNext(3, { status: 500, match: { watch: false } });
    r.cache.start();
    await until(() => r.errors.length === 1, "first 500");
    await r.clock.advance(1_200); // 800 × 1.5
    await until(() => r.errors.length === 2, "second 500");
    await r.clock.advance(2_399);
    assert.equal(r.errors.length, 2, "second delay is 2400 ms");
    await r.clock.advance(1);
    await until(() => r.errors.length === 3, "third 500");
    await r.clock.advance(4_800);
    await r.cache.ready();
    assert.deepEqual(kinds(r), ["list", "list", "list"]);
    assert.match(r.errors[0]!.message, /500/);
    assert.deepEqual(cachedNames(r.cache), ["default/a"]);
  });

  it("401 after the token rotated: the client re-reads the token file and the loop carries on", async () => {
    const { mkdtempSync, writeFileSync, rmSync } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    const { join } = await import("node:path");
    const dir = mkdtempSync(join(tmpdir(), "kratos-kube-token-"));
    try {
      const file = join(dir, "token");
      writeFileSync(file, "token-one");
      const r = rig({ server: { tokens: { "token-one": { user: "sa" } } } });
      rigs.push(r);
      const { KubeConfig } = await import("../../src/kube/config.ts");
      const config = KubeConfig.fromOptions({ server: "http://127.0.0.1:6443", tokenFile: file, namespace: "default" });
      const { cache, errors, close } = await cacheOver(r, r.server.fetch, {}, config);
      r.server.createPod(makePod({ name: "a", app: "app" }));
      cache.start();
      await cache.ready();
      await until(() => r.server.openWatches === 1, "watching");
      await r.clock.advance(2_000);
      writeFileSync(file, "token-two");
      r.server.setTokens({ "token-two": { user: "sa" } });
      r.server.faults.dropWatches();
      r.server.createPod(makePod({ name: "b", app: "app" }));
      await until(() => cache.get("default", "b") !== undefined, "b after re-auth");
      assert.deepEqual(errors.map((e) => (e as WatchError).kind), ["stream"], "only the dropped stream; the 401 was absorbed by the client");
      assert.equal(lists(r.server).length, 1, "no relist");
      assert.ok(errors.every((e) => (e as WatchError).kind !== "list"), "no relist needed");
      await close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** Wraps a fetch so that `silence()` turns every open watch body into a half-open connection. */
function halfOpen(inner: FetchLike): { fetch: FetchLike; silence(): void; cancelled: number } {
  const open = new Set<{ silent: boolean }>();
  const net = {
    cancelled: 0,
    silence() {
      for (const s of open) s.silent = true;
    },
    fetch: (async (req) => {
      const res = await inner(req);
      if (!new URL(req.url).searchParams.has("watch") || res.body === null) return res;
      const reader = res.body.getReader();
      const state = { silent: false };
      open.add(state);
      let wake: (() => void) | undefined;
      const body = new ReadableStream<Uint8Array>({
        async pull(c) {
          if (!state.silent) {
            const { done, value } = await reader.read();
            if (!state.silent) {
              if (done) c.close();
              else c.enqueue(value);
              return;
            }
          }
          await new Promise<void>((resolve) => (wake = resolve)); // never delivers again
        },
        cancel(reason) {
          net.cancelled++;
          open.delete(state);
          wake?.();
          return reader.cancel(reason);
        },
      });
      return new Response(body, { status: res.status, headers: res.headers });
    }) as FetchLike,
  };
  return net;
}

/** A pod cache over `fetch` (wrapping the rig's server) on the rig's clock. */
async function cacheOver(r: Rig, fetch: FetchLike, o: { pageSize?: number } = {}, config = r.client.config) {
  const { createKubeClient } = await import("../../src/kube/client.ts");
  const { createPodCache } = await import("../../src/registry/pod-cache.ts");
  const client = createKubeClient({ config, fetch, clock: r.clock });
  const errors: Error[] = [];
  const cache = createPodCache({ api: client, clock: r.clock, random: () => 0.5, onError: (e) => errors.push(e), ...o });
  return {
    cache,
    errors,
    client,
    async close() {
      await cache.close();
      await client.close();
    },
  };
}
