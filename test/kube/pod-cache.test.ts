import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { makePod } from "../../src/testing/pods.ts";
import type { PodChange } from "../../src/registry/pod-cache.ts";
import { createPodCache } from "../../src/registry/pod-cache.ts";
import type { PodApi } from "../../src/kube/pod-api.ts";
import type { Pod, PodList } from "../../src/kube/wire.ts";
import type { WatchError } from "../../src/kube/errors.ts";
import { cachedNames, ManualClock, rig, settle, until } from "./reflector-harness.ts";
import type { Rig } from "./reflector-harness.ts";

const rigs: Rig[] = [];
function track(r: Rig): Rig {
  rigs.push(r);
  return r;
}
after(async () => {
  for (const r of rigs) await r.close();
});

describe("pod cache", () => {
  it("syncs, indexes by kratos-service-app, and filters server-side on the label by default", async () => {
    const r = track(rig());
    r.server.createPod(makePod({ name: "a1", app: "a" }));
    r.server.createPod(makePod({ name: "a2", app: "a" }));
    r.server.createPod(makePod({ name: "b1", app: "b" }));
    r.server.createPod(makePod({ name: "other" }));
    r.server.createPod(makePod({ name: "elsewhere", namespace: "kube-system", app: "a" }));
    assert.equal(r.cache.synced, false);
    r.cache.start();
    r.cache.start();
    await r.cache.ready();
    assert.equal(r.cache.synced, true);
    assert.deepEqual(cachedNames(r.cache), ["default/a1", "default/a2", "default/b1"]);
    assert.deepEqual(r.cache.byApp("a").map((p) => p.name).sort(), ["a1", "a2"]);
    assert.deepEqual(r.cache.byApp("nope"), []);
    assert.equal(r.cache.size, 3);
    assert.equal(r.cache.get("default", "b1")?.labels["kratos-service-app"], "b");
    const list = r.server.requests.find((q) => !q.watch);
    assert.equal(list?.path, "/api/v1/namespaces/default/pods");
    assert.equal(list?.query["labelSelector"], "kratos-service-app");
    assert.equal(list?.query["resourceVersion"], "0");
    assert.equal(list?.query["limit"], "500");
    assert.ok(Object.isFrozen(r.cache.byApp("a")));
    assert.deepEqual(r.errors, []);
  });

  it("emits added / modified / deleted for watch events, including label removal and graceful deletion", async () => {
    const r = track(rig());
    r.cache.start();
    await r.cache.ready();
    const seen: string[] = [];
    const unsubscribe = r.cache.subscribe((changes: readonly PodChange[]) => {
      for (const c of changes) seen.push(`${c.type}:${c.pod.name}${c.type === "modified" ? `:${c.old.ready}->${c.pod.ready}` : ""}${c.pod.terminating ? ":terminating" : ""}`);
    });
    r.server.createPod(makePod({ name: "p", app: "a", ready: false }));
    await until(() => seen.length === 1, "added");
    r.server.setReady("default", "p", true);
    await until(() => seen.length === 2, "modified");
    assert.deepEqual(r.cache.byApp("a").map((p) => p.ready), [true]);
    r.server.updatePod("default", "p", (pod) => {
      delete pod.metadata.labels!["kratos-service-app"];
    });
    await until(() => seen.length === 3, "deleted by label removal");
    assert.deepEqual(r.cache.byApp("a"), []);
    r.server.createPod(makePod({ name: "q", app: "a" }));
    r.server.deletePod("default", "q", { gracePeriodSeconds: 30 });
    await until(() => seen.length === 5, "graceful deletion starts");
    r.server.finishDeletion("default", "q");
    await until(() => seen.length === 6, "deletion finishes");
    assert.deepEqual(seen, ["added:p", "modified:p:false->true", "deleted:p", "added:q", "modified:q:true->true:terminating", "deleted:q:terminating"]);
    unsubscribe();
    r.server.createPod(makePod({ name: "z", app: "a" }));
    await until(() => r.cache.get("default", "z") !== undefined, "z cached");
    assert.equal(seen.length, 6);
  });

  it("watches several namespaces with one reflector each, and all namespaces with \"*\"", async () => {
    const r = track(rig({ cache: { namespaces: ["ns1", "ns2"] } }));
    r.server.createPod(makePod({ name: "x", namespace: "ns1", app: "a" }));
    r.server.createPod(makePod({ name: "y", namespace: "ns2", app: "a" }));
    r.server.createPod(makePod({ name: "z", namespace: "ns3", app: "a" }));
    r.cache.start();
    await r.cache.ready();
    assert.deepEqual(cachedNames(r.cache), ["ns1/x", "ns2/y"]);
    assert.equal(r.cache.byApp("a").length, 2);
    const paths = new Set(r.server.requests.map((q) => q.path));
    assert.deepEqual([...paths].sort(), ["/api/v1/namespaces/ns1/pods", "/api/v1/namespaces/ns2/pods"]);

    const all = track(rig({ cache: { namespaces: "*", labelSelector: "" } }));
    all.server.createPod(makePod({ name: "x", namespace: "ns1", app: "a" }));
    all.server.createPod(makePod({ name: "nolabel", namespace: "ns3" }));
    all.cache.start();
    await all.cache.ready();
    assert.deepEqual(cachedNames(all.cache), ["ns1/x", "ns3/nolabel"]);
    assert.equal(all.server.requests[0]?.path, "/api/v1/pods");
    assert.equal(all.server.requests[0]?.query["labelSelector"], undefined);
    all.server.createPod(makePod({ name: "late", namespace: "ns9", app: "b" }));
    await until(() => all.cache.get("ns9", "late") !== undefined, "late pod in ns9");
    assert.deepEqual(all.cache.byApp("b").map((p) => p.namespace), ["ns9"]);
  });

  it("keeps a small, shared projection (no raw JSON, frozen shared values)", async () => {
    const r = track(rig());
    const kratos = { protocols: '{"9000":"grpc"}', metadata: '{"region":"eu"}', annotations: { "other.example/keep-out": "x" } };
    r.server.createPod(makePod({ name: "a1", app: "a", ports: [{ name: "grpc", containerPort: 9000 }], ...kratos }));
    r.server.createPod(makePod({ name: "a2", app: "a", ports: [{ name: "grpc", containerPort: 9000 }], ...kratos }));
    r.cache.start();
    await r.cache.ready();
    const [p1, p2] = r.cache.byApp("a");
    assert.ok(p1 && p2);
    assert.ok(Object.isFrozen(p1));
    assert.equal(p1.ports, p2.ports, "identical port lists are shared");
    assert.equal(p1.annotations, p2.annotations, "identical annotation maps are shared");
    assert.deepEqual(Object.keys(p1.annotations).sort(), ["kratos-service-metadata", "kratos-service-protocols"], "only the Kratos annotations are kept");
    assert.deepEqual(Object.keys(p1).sort(), ["annotations", "labels", "name", "namespace", "phase", "podIPs", "ports", "ready", "resourceVersion", "terminating", "uid"]);
  });

  it("ready() rejects on abort and on close; close() stops everything", async () => {
    const r = track(rig());
    r.server.faults.failNext(100, { status: 500, body: "boom", contentType: "text/plain" });
    r.cache.start();
    const ac = new AbortController();
    const aborted = r.cache.ready(ac.signal);
    ac.abort(new Error("gave up"));
    await assert.rejects(aborted, /gave up/);
    const pending = r.cache.ready();
    await until(() => r.errors.length > 0, "first LIST error reported");
    await r.cache.close();
    await assert.rejects(pending, (e: Error & { code?: string }) => e.code === "WATCH_ERROR");
    await assert.rejects(r.cache.ready(), /closed/);
    assert.equal(r.clock.pending, 0, "no timer left behind");
    await settle();
    assert.equal(r.server.openWatches, 0);
  });

  it("a listener that throws is reported and does not stop the cache", async () => {
    const r = track(rig());
    r.cache.start();
    await r.cache.ready();
    r.cache.subscribe(() => {
      throw new Error("listener bug");
    });
    r.server.createPod(makePod({ name: "p", app: "a" }));
    r.server.createPod(makePod({ name: "q", app: "a" }));
    await until(() => r.cache.size === 2, "both pods cached");
    assert.deepEqual(r.errors.map((e) => e.message), ["listener bug", "listener bug"]);
  });

  it("reports pods that fail projection with namespace/name and keeps going; a non-JSON line reconnects via relist", async () => {
    const clock = new ManualClock();
    const enc = new TextEncoder();
    const good = (name: string, rv: string): Pod => ({ metadata: { name, namespace: "default", resourceVersion: rv, labels: { "kratos-service-app": "a" } } });
    const lists: PodList[] = [
      { metadata: { resourceVersion: "10" }, items: [good("ok", "9"), { metadata: { name: "nameless-ns", resourceVersion: "8" } } as Pod] },
      { metadata: { resourceVersion: "20" }, items: [good("ok", "9"), good("fresh", "19")] },
    ];
    const streams = [
      [
        JSON.stringify({ type: "MODIFIED", object: { metadata: { name: "broken", resourceVersion: "11" } } }),
        JSON.stringify({ type: "ADDED", object: good("two", "12") }),
        "<html>proxy error</html>",
        JSON.stringify({ type: "ADDED", object: good("never", "13") }),
      ],
    ];
    const requests: string[] = [];
    const api: PodApi = {
      listPods: async (o) => {
        requests.push(`list:${o.resourceVersion}`);
        return lists.shift() ?? { metadata: { resourceVersion: "20" }, items: [] };
      },
      watchPods: async (o) => {
        requests.push(`watch:${o.resourceVersion}`);
        const lines = streams.shift();
        if (lines === undefined) return new ReadableStream<Uint8Array>({ cancel() {} });
        return new ReadableStream<Uint8Array>({
          start(c) {
            c.enqueue(enc.encode(lines.map((l) => l + "\n").join("")));
          },
        });
      },
      getPod: () => Promise.reject(new Error("unused")),
      patchPod: () => Promise.reject(new Error("unused")),
    };
    const errors: WatchError[] = [];
    const cache = createPodCache({ api, clock, random: () => 0, onError: (e) => errors.push(e as WatchError) });
    cache.start();
    await cache.ready();
    await until(() => errors.length === 3, "three errors");
    assert.deepEqual(errors.map((e) => e.kind), ["list", "watch-event", "decode"]);
    assert.match(errors[0]!.message, /\?\/nameless-ns.*metadata.namespace is missing/);
    assert.match(errors[1]!.message, /\?\/broken/);
    assert.match(errors[2]!.message, /not valid JSON/);
    assert.deepEqual(cachedNames(cache), ["default/ok", "default/two"], "the event after the bad line was not applied");
    await clock.advance(800); // backoff, then a relist at the last RV
    await until(() => cache.get("default", "fresh") !== undefined, "relisted");
    assert.deepEqual(cachedNames(cache), ["default/fresh", "default/ok"]);
    assert.deepEqual(requests, ["list:0", "watch:10", "list:12", "watch:20"]);
    await cache.close();
    assert.equal(clock.pending, 0);
  });
});
