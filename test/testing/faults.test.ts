import { describe, it, after } from "node:test";
import assert from "node:assert/strict";
import { createManualClock, FakeKubeApiServer, makePod } from "../../src/testing/index.ts";
import { call, getJson, watch } from "./helpers.ts";

const servers: FakeKubeApiServer[] = [];
function setup(): { s: FakeKubeApiServer; clock: ReturnType<typeof createManualClock> } {
  const clock = createManualClock();
  const s = new FakeKubeApiServer({ clock });
  servers.push(s);
  s.createPod(makePod({ name: "a" }));
  return { s, clock };
}
after(async () => {
  for (const s of servers) await s.close();
});

describe("faults", () => {
  it("dropWatches ends every open watch with a stream error", async () => {
    const { s } = setup();
    const w1 = await watch(s, "");
    const w2 = await watch(s, "", "");
    await w1.events.take(1);
    assert.equal(s.openWatches, 2);
    s.faults.dropWatches();
    assert.ok((await w1.events.error()) instanceof Error);
    assert.ok((await w2.events.error()) instanceof Error);
    assert.equal(s.openWatches, 0);
  });

  it("hangWatches keeps watches open but silent until dropWatches", async () => {
    const { s, clock } = setup();
    const { events } = await watch(s, `resourceVersion=${s.resourceVersion}&allowWatchBookmarks=true`);
    s.faults.hangWatches();
    s.createPod(makePod({ name: "b" }));
    await clock.advance(120_000); // no bookmarks either
    assert.equal(s.openWatches, 1);
    s.faults.dropWatches();
    assert.ok((await events.error()) instanceof Error);
    assert.deepEqual(events.chunks, []);
  });

  it("hung watches outlive their timeoutSeconds and send no bookmark; only dropWatches/close/abort end them", async () => {
    const { s, clock } = setup();
    const a = await watch(s, `resourceVersion=${s.resourceVersion}&allowWatchBookmarks=true&timeoutSeconds=10`);
    const b = await watch(s, `resourceVersion=${s.resourceVersion}&allowWatchBookmarks=true&timeoutSeconds=10`);
    const c = await watch(s, `resourceVersion=${s.resourceVersion}&timeoutSeconds=10`);
    s.faults.hangWatches();
    s.createPod(makePod({ name: "b" }));
    await clock.advance(600_000); // far past the 10 s timeout and several bookmark periods
    assert.equal(s.openWatches, 3, "a half-open connection does not end at the server's timeout");
    s.faults.dropWatches();
    assert.ok((await a.events.error()) instanceof Error);
    assert.ok((await b.events.error()) instanceof Error);
    assert.ok((await c.events.error()) instanceof Error);
    assert.equal(s.openWatches, 0);
    assert.deepEqual(a.events.chunks, [], "not one byte after the hang");
    // close() ends a hung watch too, and a client abort (cancel) releases it.
    const d = await watch(s, `resourceVersion=${s.resourceVersion}&timeoutSeconds=10`);
    const e = await watch(s, `resourceVersion=${s.resourceVersion}&timeoutSeconds=10`);
    s.faults.hangWatches();
    await clock.advance(60_000);
    await e.events.cancel();
    assert.equal(s.openWatches, 1);
    await s.close();
    assert.deepEqual(await d.events.rest(), []);
    assert.equal(s.openWatches, 0);
    assert.equal(clock.pending, 0, "no timer left behind");
  });

  it("compact makes every older RV expire", async () => {
    const { s } = setup();
    const rv = s.resourceVersion;
    s.createPod(makePod({ name: "b" }));
    s.faults.compact();
    const { events } = await watch(s, `resourceVersion=${rv}`);
    const [e] = await events.rest();
    assert.equal((e!.object as any).code, 410);
    // the current RV still works
    const ok = await watch(s, `resourceVersion=${s.resourceVersion}`);
    s.createPod(makePod({ name: "c" }));
    assert.equal((await ok.events.take(1))[0]!.object.metadata.name, "c");
    await ok.events.cancel();
  });

  it("failNext fails the next N requests with a JSON Status and Retry-After, then recovers", async () => {
    const { s } = setup();
    s.faults.failNext(2, { status: 429, retryAfter: 3 });
    for (let i = 0; i < 2; i++) {
      const res = await call(s, "GET", "/api/v1/pods");
      assert.equal(res.status, 429);
      assert.equal(res.headers.get("retry-after"), "3");
      const body = (await res.json()) as any;
      assert.equal(body.kind, "Status");
      assert.equal(body.reason, "TooManyRequests");
      assert.equal(body.details.retryAfterSeconds, 3);
    }
    assert.equal((await call(s, "GET", "/api/v1/pods")).status, 200);
  });

  it("failNext with a text/plain body (APF 429) and a match on watches only", async () => {
    const { s } = setup();
    s.faults.failNext(1, { status: 429, body: "Too many requests, please try again later.\n", retryAfter: 1, match: { watch: true } });
    assert.equal((await call(s, "GET", "/api/v1/pods")).status, 200, "a LIST does not match");
    const res = await call(s, "GET", "/api/v1/pods?watch=true");
    assert.equal(res.status, 429);
    assert.match(res.headers.get("content-type") ?? "", /^text\/plain/);
    assert.equal(await res.text(), "Too many requests, please try again later.\n");
    const again = await call(s, "GET", "/api/v1/pods?watch=true&timeoutSeconds=1");
    assert.equal(again.status, 200);
    await again.body?.cancel();
  });

  it("failNext matches on method and path", async () => {
    const { s } = setup();
    s.faults.failNext(1, { status: 500, match: { method: "PATCH", path: /\/pods\/a$/ } });
    assert.equal((await call(s, "GET", "/api/v1/namespaces/default/pods/a")).status, 200);
    const res = await call(s, "PATCH", "/api/v1/namespaces/default/pods/a", { body: {}, contentType: "application/merge-patch+json" });
    assert.equal(res.status, 500);
    assert.equal(((await res.json()) as any).reason, "InternalError");
  });

  it("delay holds each response for ms on the server clock", async () => {
    const { s, clock } = setup();
    s.faults.delay(1000);
    let done = false;
    const p = call(s, "GET", "/api/v1/pods").then((r) => {
      done = true;
      return r;
    });
    await clock.advance(999);
    assert.equal(done, false);
    await clock.advance(1);
    assert.equal((await p).status, 200);
    s.faults.delay(0);
    assert.equal((await call(s, "GET", "/api/v1/pods")).status, 200);
  });

  it("cacheNotReady answers LIST and WATCH with 429 and Retry-After clamp(e^(0.06·downtime), 1, 30)", async () => {
    const { s } = setup();
    s.faults.cacheNotReady(0);
    const list = await call(s, "GET", "/api/v1/pods");
    assert.equal(list.status, 429);
    assert.equal(list.headers.get("retry-after"), "1");
    const body = (await list.json()) as any;
    assert.equal(body.reason, "TooManyRequests");
    assert.equal(body.message, "Too many requests: storage is (re)initializing");
    s.faults.cacheNotReady(40); // e^2.4 ≈ 11
    const w = await call(s, "GET", "/api/v1/namespaces/default/pods?watch=true");
    assert.equal(w.status, 429);
    assert.equal(w.headers.get("retry-after"), "11");
    await w.text();
    s.faults.cacheNotReady(600);
    const capped = await call(s, "GET", "/api/v1/pods");
    assert.equal(capped.headers.get("retry-after"), "30");
    await capped.text();
    assert.equal((await call(s, "GET", "/api/v1/namespaces/default/pods/a")).status, 200, "GET of one object is not served from the cache");
    s.faults.cacheNotReady(false);
    assert.equal((await call(s, "GET", "/api/v1/pods")).status, 200);
  });

  it("logs every request (method, path, query, watch)", async () => {
    const { s } = setup();
    await getJson(s, "/api/v1/namespaces/default/pods?limit=5&labelSelector=app%3Dx");
    const w = await watch(s, "resourceVersion=0");
    await w.events.cancel();
    assert.deepEqual(s.requests.slice(-2), [
      { method: "GET", path: "/api/v1/namespaces/default/pods", query: { limit: "5", labelSelector: "app=x" }, watch: false },
      { method: "GET", path: "/api/v1/namespaces/default/pods", query: { watch: "true", resourceVersion: "0" }, watch: true },
    ]);
  });

  it("keeps the request log bounded (requestLogLimit) and counts every request", async () => {
    const s = new FakeKubeApiServer({ requestLogLimit: 20 });
    after(() => s.close());
    for (let i = 0; i < 45; i++) await getJson(s, `/api/v1/namespaces/default/pods?limit=${i + 1}`);
    assert.equal(s.requestCount, 45);
    assert.ok(s.requests.length <= 20, `kept ${s.requests.length}`);
    assert.equal(s.requests.at(-1)?.query["limit"], "45", "the newest request is kept");
    assert.equal(s.requests[0]?.query["limit"], String(45 - s.requests.length + 1), "the oldest ones were dropped, in order");
  });

  it("close() ends open watches cleanly and leaves no timers", async () => {
    const { s, clock } = setup();
    const { events } = await watch(s, "allowWatchBookmarks=true");
    await call(s, "DELETE", "/api/v1/namespaces/default/pods/a");
    assert.ok(clock.pending > 0);
    await s.close();
    await events.rest();
    assert.equal(s.openWatches, 0);
    assert.equal(clock.pending, 0);
    assert.equal((await call(s, "GET", "/api/v1/pods")).status, 503);
  });
});
