import { describe, it, after } from "node:test";
import assert from "node:assert/strict";
import { createManualClock, FakeKubeApiServer, makePod, type ManualClock } from "../../src/testing/index.ts";
import { EventReader, getJson, watch } from "./helpers.ts";

const servers: FakeKubeApiServer[] = [];
function setup(n = 0, o: ConstructorParameters<typeof FakeKubeApiServer>[0] = {}): { s: FakeKubeApiServer; clock: ManualClock } {
  const clock = createManualClock();
  const s = new FakeKubeApiServer({ clock, rechunk: 42, ...o });
  servers.push(s);
  for (let i = n - 1; i >= 0; i--) s.createPod(makePod({ name: `p${i}`, app: "greeter" }));
  return { s, clock };
}
after(async () => {
  for (const s of servers) await s.close();
});

describe("WATCH", () => {
  it("answers 200 with Content-Type application/json; objects carry kind/apiVersion", async () => {
    const { s } = setup(1);
    const { res, events } = await watch(s, "");
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-type"), "application/json");
    const [e] = await events.take(1);
    assert.equal(e!.object.kind, "Pod");
    assert.equal(e!.object.apiVersion, "v1");
    await events.cancel();
  });

  for (const rv of ["", "0"]) {
    it(`RV=${JSON.stringify(rv)} sends a synthetic ADDED per pod in key order, then live changes`, async () => {
      const { s } = setup(3);
      const { events } = await watch(s, rv === "" ? "" : `resourceVersion=${rv}`);
      const init = await events.take(3);
      assert.deepEqual(init.map((e) => [e.type, e.object.metadata.name]), [["ADDED", "p0"], ["ADDED", "p1"], ["ADDED", "p2"]]);
      // each keeps its own RV (not the list RV)
      assert.notEqual(init[0]!.object.metadata.resourceVersion, init[1]!.object.metadata.resourceVersion);
      s.setReady("default", "p1", false);
      const [m] = await events.take(1);
      assert.equal(m!.type, "MODIFIED");
      assert.equal(m!.object.metadata.resourceVersion, s.resourceVersion);
      await events.cancel();
    });
  }

  it("RV unset with allowWatchBookmarks ends the initial events with the k8s.io/initial-events-end bookmark (WatchList default)", async () => {
    const { s } = setup(2);
    const { events } = await watch(s, "allowWatchBookmarks=true");
    const evs = await events.take(3);
    assert.deepEqual(evs.map((e) => e.type), ["ADDED", "ADDED", "BOOKMARK"]);
    assert.deepEqual(evs[2]!.object.metadata.annotations, { "k8s.io/initial-events-end": "true" });
    assert.equal(evs[2]!.object.metadata.resourceVersion, s.resourceVersion);
    await events.cancel();
  });

  it("RV=N sends only events newer than N, no synthetic ADDED", async () => {
    const { s } = setup(2);
    const rv = s.resourceVersion;
    s.createPod(makePod({ name: "late" }));
    s.setReady("default", "p0", false);
    const { events } = await watch(s, `resourceVersion=${rv}`);
    const evs = await events.take(2);
    assert.deepEqual(evs.map((e) => [e.type, e.object.metadata.name]), [["ADDED", "late"], ["MODIFIED", "p0"]]);
    await events.cancel();
  });

  it("a too old RV gets HTTP 200, one ERROR 410 Expired event, then the stream closes", async () => {
    const { s } = setup(3, { historyLimit: 2 });
    const { res, events } = await watch(s, "resourceVersion=1000");
    assert.equal(res.status, 200);
    const evs = await events.rest();
    assert.equal(evs.length, 1);
    assert.equal(evs[0]!.type, "ERROR");
    assert.deepEqual(evs[0]!.object, {
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Failure",
      message: "too old resource version: 1000 (1001)",
      reason: "Expired",
      code: 410,
    });
    assert.equal(s.openWatches, 0);
  });

  it("a watch from a compacted RV gets the in-stream 410", async () => {
    const { s } = setup(2);
    const rv = s.resourceVersion;
    s.createPod(makePod({ name: "x" }));
    s.faults.compact();
    const { events } = await watch(s, `resourceVersion=${rv}`);
    const [e] = await events.rest();
    assert.equal((e!.object as any).code, 410);
    assert.equal((e!.object as any).message, `too old resource version: ${rv} (${s.resourceVersion})`);
  });

  it("a future RV waits: only events after it are sent", async () => {
    const { s } = setup(0);
    const future = Number(s.resourceVersion) + 2;
    const { events } = await watch(s, `resourceVersion=${future}`);
    s.createPod(makePod({ name: "a" }));
    s.createPod(makePod({ name: "b" }));
    s.createPod(makePod({ name: "c" }));
    const [e] = await events.take(1);
    assert.equal(e!.object.metadata.name, "c");
    await events.cancel();
  });

  it("selector transitions: label cleared → DELETED with the previous object and the new RV; set again → ADDED", async () => {
    const { s } = setup(2);
    const rv = s.resourceVersion;
    const { events } = await watch(s, `resourceVersion=${rv}&labelSelector=kratos-service-app%3Dgreeter`);
    s.updatePod("default", "p0", (p) => void (p.metadata.labels!["kratos-service-app"] = ""));
    const [d] = await events.take(1);
    assert.equal(d!.type, "DELETED");
    assert.equal(d!.object.metadata.name, "p0");
    assert.equal((d!.object.metadata as any).labels["kratos-service-app"], "greeter", "carries the previous object");
    assert.equal(d!.object.metadata.resourceVersion, s.resourceVersion, "with the new RV");
    s.updatePod("default", "p1", (p) => void (p.metadata.labels!["other"] = "x")); // match → match
    s.updatePod("default", "p0", (p) => void (p.metadata.labels!["kratos-service-app"] = "greeter"));
    const evs = await events.take(2);
    assert.deepEqual(evs.map((e) => [e.type, e.object.metadata.name]), [["MODIFIED", "p1"], ["ADDED", "p0"]]);
    await events.cancel();
  });

  it("field selector transitions: under status.phase=Running a pod that becomes Succeeded gives DELETED", async () => {
    const { s } = setup(1);
    const { events } = await watch(s, `resourceVersion=${s.resourceVersion}&fieldSelector=status.phase%3DRunning`);
    s.updatePod("default", "p0", (p) => void (p.status!.phase = "Succeeded"));
    const [d] = await events.take(1);
    assert.equal(d!.type, "DELETED");
    assert.equal((d!.object as any).status.phase, "Running");
    await events.cancel();
  });

  it("DELETED carries the last state with the delete's RV", async () => {
    const { s } = setup(1);
    const before = s.getPod("default", "p0")!;
    const { events } = await watch(s, `resourceVersion=${s.resourceVersion}`);
    s.deletePod("default", "p0");
    const [d] = await events.take(1);
    assert.equal(d!.type, "DELETED");
    assert.equal(d!.object.metadata.resourceVersion, s.resourceVersion);
    assert.notEqual(d!.object.metadata.resourceVersion, before.metadata.resourceVersion);
    assert.deepEqual({ ...d!.object, metadata: { ...d!.object.metadata, resourceVersion: "" } }, { ...before, metadata: { ...before.metadata, resourceVersion: "" } });
    await events.cancel();
  });

  it("namespace scoping: a namespaced watch does not see other namespaces; /api/v1/pods sees all", async () => {
    const { s } = setup(0);
    const rv = s.resourceVersion;
    const ns = await watch(s, `resourceVersion=${rv}`, "default");
    const all = await watch(s, `resourceVersion=${rv}`, "");
    s.createPod(makePod({ name: "o", namespace: "other" }));
    s.createPod(makePod({ name: "d" }));
    assert.deepEqual((await ns.events.take(1)).map((e) => e.object.metadata.name), ["d"]);
    assert.deepEqual((await all.events.take(2)).map((e) => e.object.metadata.name), ["o", "d"]);
    await ns.events.cancel();
    await all.events.cancel();
  });

  it("sends no bookmarks without allowWatchBookmarks=true", async () => {
    const { s, clock } = setup(1, { bookmarkIntervalMs: 1000 });
    const { events } = await watch(s, `resourceVersion=${s.resourceVersion}&timeoutSeconds=30`);
    await clock.advance(30_000);
    assert.deepEqual(await events.rest(), []);
  });

  it("sends bookmarks about every bookmarkIntervalMs and ~2 s before the timeout, once the store moved past the watch's start", async () => {
    const { s, clock } = setup(1, { bookmarkIntervalMs: 10_000 });
    const { events } = await watch(s, `resourceVersion=${s.resourceVersion}&allowWatchBookmarks=true&timeoutSeconds=25`);
    await clock.advance(10_000); // t=10 s: nothing newer than the start, so no bookmark (apiserver cache_watcher.go process)
    s.createPod(makePod({ name: "q" }));
    await clock.advance(10_000); // t=20 s
    await clock.advance(3_000); // t=23 s: 2 s before the 25 s deadline
    await clock.advance(2_000);
    const all = await events.rest();
    assert.deepEqual(all.map((e) => e.type), ["ADDED", "BOOKMARK", "BOOKMARK"]);
    for (const b of all.slice(1)) {
      // The shape a real v1.34 kube-apiserver sends for pods.
      assert.deepEqual(b.object, { kind: "Pod", apiVersion: "v1", metadata: { resourceVersion: s.resourceVersion }, spec: { containers: null }, status: {} });
    }
  });

  it("legacyBookmarkShapes alternates the empty Pod of older releases and the metadata-only shape", async () => {
    const { s, clock } = setup(1, { bookmarkIntervalMs: 10_000, legacyBookmarkShapes: true });
    const { events } = await watch(s, `resourceVersion=${s.resourceVersion}&allowWatchBookmarks=true&timeoutSeconds=21`);
    s.createPod(makePod({ name: "q" }));
    await clock.advance(10_000);
    await clock.advance(10_000);
    await clock.advance(1_000);
    const [, b1, b2] = await events.rest();
    const shapes = [b1!.object, b2!.object];
    const emptyPod = shapes.find((o) => "spec" in o)!;
    const metaOnly = shapes.find((o) => !("spec" in o))!;
    assert.deepEqual(emptyPod, { kind: "Pod", apiVersion: "v1", metadata: { resourceVersion: s.resourceVersion, creationTimestamp: null }, spec: { containers: null }, status: {} });
    assert.deepEqual(metaOnly, { kind: "Pod", apiVersion: "v1", metadata: { resourceVersion: s.resourceVersion } });
  });

  it("timeoutSeconds ends the stream cleanly (no ERROR)", async () => {
    const { s, clock } = setup(1);
    const { events } = await watch(s, "timeoutSeconds=5");
    await events.take(1);
    await clock.advance(4_999);
    assert.equal(s.openWatches, 1);
    await clock.advance(1);
    assert.deepEqual(await events.rest(), []);
    assert.equal(s.openWatches, 0);
  });

  it("without timeoutSeconds the server picks one in [1800 s, 3600 s)", async () => {
    const { s, clock } = setup(0);
    const { events } = await watch(s, `resourceVersion=${s.resourceVersion}`);
    await clock.advance(1_799_999);
    assert.equal(s.openWatches, 1);
    await clock.advance(1_800_001);
    assert.deepEqual(await events.rest(), []);
  });

  describe("sendInitialEvents (streaming list)", () => {
    it("requires resourceVersionMatch=NotOlderThan (else 422)", async () => {
      const { s } = setup(0);
      const { status, body } = await getJson(s, "/api/v1/namespaces/default/pods?watch=true&sendInitialEvents=true");
      assert.equal(status, 422);
      assert.match(body.message, /sendInitialEvents requires setting resourceVersionMatch to NotOlderThan/);
      const m = await getJson(s, "/api/v1/namespaces/default/pods?watch=true&resourceVersionMatch=NotOlderThan");
      assert.equal(m.status, 422);
      assert.match(m.body.message, /resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided/);
    });

    it("sends the initial ADDED events then the initial-events-end bookmark at the cache RV", async () => {
      const { s } = setup(2);
      const rv = Number(s.resourceVersion) - 1;
      const { events } = await watch(s, `sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true&resourceVersion=${rv}`);
      const evs = await events.take(3);
      assert.deepEqual(evs.map((e) => e.type), ["ADDED", "ADDED", "BOOKMARK"]);
      assert.deepEqual(evs[2]!.object, {
        kind: "Pod",
        apiVersion: "v1",
        metadata: { resourceVersion: s.resourceVersion, annotations: { "k8s.io/initial-events-end": "true" } },
        spec: { containers: null },
        status: {},
      });
      s.createPod(makePod({ name: "z" }));
      assert.equal((await events.take(1))[0]!.object.metadata.name, "z");
      await events.cancel();
    });

    it("without allowWatchBookmarks there is no end bookmark", async () => {
      const { s, clock } = setup(1);
      const { events } = await watch(s, "sendInitialEvents=true&resourceVersionMatch=NotOlderThan&timeoutSeconds=1");
      await events.take(1);
      await clock.advance(1000);
      assert.deepEqual(await events.rest(), []);
    });

    for (const rv of ["0", ""]) {
      it(`sendInitialEvents=false with RV=${JSON.stringify(rv)} starts from now: no initial events, no 410 (watch_cache getAllEventsSinceLocked)`, async () => {
        const { s } = setup(2, { historyLimit: 1 });
        s.createPod(makePod({ name: "old" })); // history no longer reaches back to the start
        const { events } = await watch(s, `sendInitialEvents=false&resourceVersionMatch=NotOlderThan&resourceVersion=${rv}`);
        s.createPod(makePod({ name: "new" }));
        const [e] = await events.take(1);
        assert.equal(e!.type, "ADDED");
        assert.equal(e!.object.metadata.name, "new");
        await events.cancel();
      });
    }

    it("with a future RV waits 3 s, then sends ERROR 504 ResourceVersionTooLarge", async () => {
      const { s, clock } = setup(1);
      const future = Number(s.resourceVersion) + 10;
      const { res, events } = await watch(s, `sendInitialEvents=true&resourceVersionMatch=NotOlderThan&resourceVersion=${future}`);
      assert.equal(res.status, 200);
      await clock.advance(3000);
      const evs = await events.rest();
      assert.equal(evs.length, 1);
      assert.equal(evs[0]!.type, "ERROR");
      assert.equal((evs[0]!.object as any).code, 504);
      assert.equal((evs[0]!.object as any).details.causes[0].reason, "ResourceVersionTooLarge");
    });
  });

  it("re-chunks output at random byte boundaries (chunks holding parts of events), deterministically per seed", async () => {
    const { s } = setup(30);
    const { events } = await watch(s, "");
    const evs = await events.take(30);
    assert.equal(evs.length, 30);
    await events.cancel();
    assert.ok(events.chunks.length > 1);
    const { s: s2 } = setup(0, { rechunk: false });
    for (let i = 0; i < 30; i++) s2.createPod(makePod({ name: `p${i}` }));
    const plain = await watch(s2, "");
    await plain.events.take(30);
    await plain.events.cancel();
    assert.equal(plain.events.chunks.length, 1, "without re-chunking a batch is one chunk");
  });

  it("a chunk boundary can split an event (the reader must buffer)", async () => {
    const { s } = setup(0, { rechunk: 1 });
    const body: number[] = [];
    for (let round = 0; round < 5; round++) {
      s.createPod(makePod({ name: `r${round}` }));
    }
    const res = await s.fetch(new Request("http://x/api/v1/namespaces/default/pods?watch=true"));
    const reader = res.body!.getReader();
    let text = "";
    let splitInside = false;
    while ((text.match(/\n/g) ?? []).length < 5) {
      const { value } = await reader.read();
      const chunk = new TextDecoder().decode(value);
      body.push(value!.length);
      if (!chunk.endsWith("\n")) splitInside = true;
      text += chunk;
    }
    await reader.cancel();
    assert.ok(splitInside, `chunks ${body.join(",")} all ended on a line boundary`);
  });

  it("serves the legacy /api/v1/watch/namespaces/NS/pods path as a watch", async () => {
    const { s } = setup(1);
    const res = await s.fetch(new Request("http://x/api/v1/watch/namespaces/default/pods"));
    const events = new EventReader(res.body);
    assert.equal((await events.take(1))[0]!.type, "ADDED");
    await events.cancel();
    assert.equal(s.requests.at(-1)!.watch, true);
  });

  it("the watch ends when the reader cancels (openWatches drops)", async () => {
    const { s } = setup(0);
    const { events } = await watch(s, "");
    assert.equal(s.openWatches, 1);
    await events.cancel();
    assert.equal(s.openWatches, 0);
  });
});
