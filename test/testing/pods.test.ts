import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { projectKratosPod as projectPod } from "../../src/registry/kratos-pods.ts";
import { unknownPodFields } from "../../src/testing/pod-schema.ts";
import { createManualClock, FakeKubeApiServer, makePod, setPodReady } from "../../src/testing/index.ts";

describe("makePod", () => {
  it("builds a realistic pod of about 5 KB with managedFields, ownerReferences, volumes and conditions", () => {
    const p = makePod({ name: "greeter-7d9c-abcde", app: "greeter", protocols: '{"9000":"grpc"}', metadata: '{"region":"eu"}' });
    const size = JSON.stringify(p).length;
    assert.ok(size > 4500 && size < 7000, `size ${size}`);
    assert.ok(Array.isArray(p.metadata["managedFields"]));
    assert.equal((p.metadata["ownerReferences"] as any[])[0].kind, "ReplicaSet");
    assert.ok(Array.isArray(p.spec!["volumes"]));
    assert.deepEqual(unknownPodFields(p), [], "only real core/v1 fields");
  });

  it("sets the kratos labels and annotations and projects to the expected record", () => {
    const p = makePod({ name: "g-1", namespace: "shop", app: "greeter", version: "v2", id: "inst-1", ports: [{ name: "grpc", containerPort: 9000 }], ips: ["10.1.2.3", "fd00::3"], protocols: '{"9000":"grpc"}' });
    const r = projectPod(p);
    assert.ok(typeof r !== "string");
    assert.equal(r.labels["kratos-service-app"], "greeter");
    assert.equal(r.labels["kratos-service-id"], "inst-1");
    assert.equal(r.labels["kratos-service-version"], "v2");
    assert.equal(r.annotations["kratos-service-protocols"], '{"9000":"grpc"}');
    assert.deepEqual(r.podIPs, ["10.1.2.3", "fd00::3"]);
    assert.deepEqual(r.ports, [{ name: "grpc", port: 9000, protocol: "TCP" }]);
    assert.equal(r.phase, "Running");
    assert.equal(r.ready, true);
    assert.equal(r.namespace, "shop");
  });

  it("honours ready, phase, ip: null, labels and annotations; is deterministic", () => {
    const p = makePod({ name: "x", ready: false, phase: "Pending", ip: null, labels: { a: "b" }, annotations: { c: "d" } });
    const r = projectPod(p);
    assert.ok(typeof r !== "string");
    assert.equal(r.ready, false);
    assert.equal(r.phase, "Pending");
    assert.deepEqual(r.podIPs, []);
    assert.equal(r.labels["a"], "b");
    assert.equal(p.metadata.annotations!["c"], "d");
    assert.deepEqual(makePod({ name: "x" }), makePod({ name: "x" }));
    assert.notEqual(makePod({ name: "x" }).status!.podIP, makePod({ name: "y" }).status!.podIP);
  });

  it("setPodReady flips Ready and ContainersReady", () => {
    const p = makePod({ name: "x" });
    setPodReady(p, false);
    assert.equal(p.status!.conditions!.find((c) => c.type === "Ready")!.status, "False");
    assert.equal(p.status!.conditions!.find((c) => c.type === "ContainersReady")!.status, "False");
  });
});

describe("makePod timestamps", () => {
  const WALL = Date.parse("2030-03-04T05:06:07Z");
  it("an explicit creationTimestamp (string or Date) stamps creation, start, conditions and managedFields", () => {
    const p = makePod({ name: "a", creationTimestamp: new Date(WALL) });
    assert.equal(p.metadata.creationTimestamp, "2030-03-04T05:06:07Z");
    assert.equal(p.status!.startTime, "2030-03-04T05:06:07Z");
    assert.ok(p.status!.conditions!.every((c) => c.lastTransitionTime === "2030-03-04T05:06:07Z"));
    assert.ok((p.metadata["managedFields"] as { time: string }[]).every((f) => f.time === "2030-03-04T05:06:07Z"));
    assert.deepEqual(makePod({ name: "a", creationTimestamp: "2030-03-04T05:06:07Z" }), p);
  });

  it("createPod stamps a default makePod pod with the server's clock; an explicit stamp wins", async () => {
    const clock = createManualClock();
    const s = new FakeKubeApiServer({ clock, wallTime: WALL });
    after(() => s.close());
    await clock.advance(90_000);
    const a = s.createPod(makePod({ name: "a" }));
    assert.equal(a.metadata.creationTimestamp, "2030-03-04T05:07:37Z");
    assert.equal(a.status!.startTime, "2030-03-04T05:07:37Z");
    const b = s.createPod(makePod({ name: "b", creationTimestamp: "2020-01-01T00:00:00Z" }));
    assert.equal(b.metadata.creationTimestamp, "2020-01-01T00:00:00Z");
    assert.equal(makePod({ name: "c" }).metadata.creationTimestamp, makePod({ name: "c" }).metadata.creationTimestamp, "makePod alone stays deterministic");
    await clock.advance(10_000);
    const flipped = s.setReady("default", "a", false);
    const ready = flipped.status!.conditions!.find((c) => c.type === "Ready")!;
    assert.equal(ready.status, "False");
    assert.equal(ready.lastTransitionTime, "2030-03-04T05:07:47Z", "a flip moves lastTransitionTime to the server's now");
    const scheduled = flipped.status!.conditions!.find((c) => c.type === "PodScheduled")!;
    assert.equal(scheduled.lastTransitionTime, "2030-03-04T05:07:37Z", "unchanged conditions keep theirs");
  });
});

describe("wire format against real apiserver captures (client-go golden files in test/testing/fixtures)", () => {
  it("LIST: kind PodList, apiVersion v1, metadata.resourceVersion, items without kind/apiVersion (like list-response.http)", async () => {
    const s = new FakeKubeApiServer();
    s.createPod(makePod({ name: "a" }));
    const res = await s.fetch(new Request("http://x/api/v1/namespaces/default/pods"));
    const body = (await res.json()) as any;
    assert.deepEqual(Object.keys(body), ["kind", "apiVersion", "metadata", "items"]);
    assert.deepEqual(Object.keys(body.items[0]).slice(0, 3), ["metadata", "spec", "status"]);
    const golden = readFileSync(new URL("./fixtures/list-response.http", import.meta.url), "utf8");
    const g = JSON.parse(golden.slice(golden.indexOf("{")));
    assert.deepEqual(Object.keys(g), Object.keys(body));
    assert.equal("kind" in g.items[0], false);
    assert.equal(res.headers.get("content-type"), "application/json");
    await s.close();
  });

  it("WATCH (sendInitialEvents): ADDED then the annotated BOOKMARK shaped like watchlist-response.http", async () => {
    const golden = readFileSync(new URL("./fixtures/watchlist-response.http", import.meta.url), "utf8");
    const s = new FakeKubeApiServer({ rechunk: false });
    s.createPod(makePod({ name: "a" }));
    const res = await s.fetch(new Request("http://x/api/v1/namespaces/default/pods?watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true"));
    const reader = res.body!.getReader();
    const { value } = await reader.read();
    await reader.cancel();
    const lines = new TextDecoder().decode(value).trim().split("\n").map((l) => JSON.parse(l));
    assert.deepEqual(lines.map((l) => l.type), ["ADDED", "BOOKMARK"]);
    // A Pod bookmark carries the empty Pod's spec and status (a real v1.34 answer; the golden file's ServiceAccount has neither).
    assert.deepEqual(Object.keys(lines[1].object), ["kind", "apiVersion", "metadata", "spec", "status"]);
    assert.deepEqual([lines[1].object.spec, lines[1].object.status], [{ containers: null }, {}]);
    assert.deepEqual(Object.keys(lines[1].object.metadata), ["resourceVersion", "annotations"]);
    {
      const g = golden.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l));
      assert.deepEqual(g.map((e) => e.type), ["ADDED", "BOOKMARK"]);
      assert.deepEqual(Object.keys(g[1].object.metadata), Object.keys(lines[1].object.metadata));
      assert.deepEqual(g[1].object.metadata.annotations, lines[1].object.metadata.annotations);
    }
    await s.close();
  });
});
