/**
 * The fake API server in protobuf: its answers decode (with kratos-kube's
 * decoder) to the same projections as its JSON; an informer over protobuf
 * follows changes and relists after a 410 ERROR event; error bodies are
 * protobuf Status objects.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { KubeConfig } from "../../src/kube/config.ts";
import { createKubeClient } from "../../src/kube/client.ts";
import { KubeApiError, WatchError } from "../../src/kube/errors.ts";
import { createInformer } from "../../src/kube/informer.ts";
import { podResource } from "../../src/kube/pod-resource.ts";
import { endpointSliceResource } from "../../src/kube/endpoint-slice-record.ts";
import { createProtobufWatchDecoder } from "../../src/kube/protobuf/watch-decoder.ts";
import { protobufWatchOf } from "../../src/kube/protobuf/negotiation.ts";
import { lastWrite } from "../../src/kube/informer-observer.ts";
import { WatchDecodeError, type WatchDecodeResult } from "../../src/kube/watch-decoder.ts";
import type { ListWatchApi } from "../../src/kube/list-watch-api.ts";
import type { EndpointSlice } from "../../src/kube/wire.ts";
import { createManualClock, FakeKubeApiServer, makeEndpointSlice, makePod } from "../../src/testing/index.ts";
import { encodeWatchFrame } from "../../src/testing/protobuf-encoder.ts";

const config = KubeConfig.fromOptions({ server: "https://fake.example", token: "t" });

function seeded(): FakeKubeApiServer {
  const fake = new FakeKubeApiServer();
  fake.createPod(makePod({ name: "a", namespace: "ns", app: "x", ips: ["10.0.0.1", "fd00::1"], metadata: '{"k":"v"}' }));
  fake.createPod(makePod({ name: "b", namespace: "ns", app: "x", ip: null, ready: false, phase: "Pending" }));
  fake.endpointSlices.create(makeEndpointSlice({ name: "s", namespace: "ns", service: "x", endpoints: [{ ip: "10.0.0.1", pod: "a", zone: "z" }, { ip: "10.0.0.2", ready: false }], ports: [{ name: "grpc", port: 9000 }] }));
  return fake;
}

describe("the fake API server in protobuf", () => {
  it("lists and watches decode to the projections of its JSON", async () => {
    await using fake = seeded();
    const KEEP = ["kratos-service-metadata"];
    const views = [];
    for (const encoding of ["protobuf", "json"] as const) {
      const c = createKubeClient({ config, fetch: fake.fetch, encoding });
      const pods = await c.listObjects(podResource({ annotations: KEEP }), { namespace: "ns" });
      const slices = await c.listObjects(endpointSliceResource(), { namespace: "ns" });
      const body = await c.watchObjects(podResource({ annotations: KEEP }), { namespace: "ns", resourceVersion: "0" });
      assert.equal(protobufWatchOf(body) !== undefined, encoding === "protobuf");
      await body.cancel();
      views.push({
        encoding: "creationTimestamp" in pods.items[0]!.metadata ? "json" : "protobuf",
        pods: pods.items.map((p) => podResource({ annotations: KEEP }).project(p)),
        // The event-lag metric's input, read from managedFields in both encodings.
        written: pods.items.map((p) => lastWrite(p)),
        slices: slices.items.map((s) => endpointSliceResource().project(s as EndpointSlice)),
        rv: pods.metadata.resourceVersion,
      });
    }
    assert.equal(views[0]!.encoding, "protobuf");
    assert.ok(views[1]!.written.every((t) => typeof t === "number"), "makePod's pods carry managedFields");
    assert.deepEqual({ ...views[0], encoding: "" }, { ...views[1], encoding: "" });
  });

  it("a protobuf watch is batched as its JSON one: the events of one tick in one chunk, each frame the JSON event's object encoded", async () => {
    await using fake = new FakeKubeApiServer({ rechunk: false });
    const rv = fake.resourceVersion;
    const bodies = ["application/vnd.kubernetes.protobuf;stream=watch", "application/json"].map(async (accept) => {
      const res = await fake.fetch(new Request(`https://fake.example/api/v1/namespaces/ns/pods?watch=true&resourceVersion=${rv}`, { headers: { accept, authorization: "Bearer t" } }));
      assert.equal(res.headers.get("content-type"), accept);
      return res.body!.getReader();
    });
    const readers = await Promise.all(bodies);
    for (const name of ["a", "b", "c"]) fake.createPod(makePod({ name, namespace: "ns", app: "x" }));
    const [pb, json] = await Promise.all(readers.map(async (r) => {
      const first = await r.read();
      await r.cancel();
      return first.value!;
    }));
    const events = new TextDecoder().decode(json).trim().split("\n").map((l) => JSON.parse(l) as unknown);
    // All three events in the first chunk, in both encodings.
    assert.equal(events.length, 3);
    const frames = events.map((e) => encodeWatchFrame(e, "Pod")!);
    assert.deepEqual(pb, new Uint8Array(Buffer.concat(frames)));
  });

  it("an expired resourceVersion is an ERROR event with a 410 Status in a protobuf stream; a missing pod a protobuf 404", async () => {
    await using fake = seeded();
    const rv = fake.resourceVersion;
    fake.createPod(makePod({ name: "c", namespace: "ns" }));
    fake.faults.compact();
    const c = createKubeClient({ config, fetch: fake.fetch, encoding: "protobuf" });
    const d = podResource();
    const body = await c.watchObjects(d, { namespace: "ns", resourceVersion: rv });
    const decoder = createProtobufWatchDecoder(protobufWatchOf(body)!);
    const reader = body.getReader();
    const out: WatchDecodeResult[] = [];
    while (out.length === 0) {
      const r = await reader.read();
      if (r.done) break;
      out.push(...decoder.push(r.value));
    }
    await reader.cancel();
    assert.equal(out.length, 1);
    const e = out[0]!;
    assert.ok(!(e instanceof WatchDecodeError) && e.type === "ERROR", JSON.stringify(e));
    assert.equal(e.status.code, 410);
    assert.equal(e.status.reason, "Expired");
    const res = await fake.fetch(new Request("https://fake.example/api/v1/namespaces/ns/pods/nobody", { headers: { accept: "application/vnd.kubernetes.protobuf", authorization: "Bearer t" } }));
    assert.equal(res.headers.get("content-type"), "application/vnd.kubernetes.protobuf");
    await assert.rejects(c.request("GET", "/api/v1/namespaces/ns/pods/nobody", { accept: "application/vnd.kubernetes.protobuf" }), (err: unknown) => err instanceof KubeApiError && err.isNotFound());
    await res.body?.cancel();
  });

  it("an informer over protobuf follows changes, and after a compaction and a dropped watch gets 410 and relists, all in protobuf", async () => {
    await using fake = seeded();
    const client = createKubeClient({ config, fetch: fake.fetch, encoding: "protobuf" });
    const log: string[] = [];
    const api: ListWatchApi = {
      async listObjects(r, o) {
        const l = await client.listObjects(r, o);
        log.push(`list ${"creationTimestamp" in (l.items[0]?.metadata ?? {}) ? "json" : "protobuf"}`);
        return l;
      },
      async watchObjects(r, o) {
        const b = await client.watchObjects(r, o);
        log.push(`watch ${protobufWatchOf(b) ? "protobuf" : "json"}`);
        return b;
      },
    };
    const errors: Error[] = [];
    // Backoff and watchdog timers run on a manual clock, moved on while waiting.
    const clock = createManualClock(Date.now());
    await using inf = createInformer({ api, resource: podResource(), namespace: "ns", clock, random: () => 0, onError: (e) => errors.push(e) });
    const until = async (pred: () => boolean): Promise<void> => {
      for (let i = 0; i < 600 && !pred(); i++) await clock.advance(100);
      assert.ok(pred(), `the informer got there within 60 s of its clock: ${log.join(", ")}`);
    };
    inf.start();
    await inf.ready();
    assert.equal(inf.size, 2);
    fake.setReady("ns", "b", true);
    await until(() => inf.get("ns", "b")?.ready === true);
    fake.deletePod("ns", "a", { gracePeriodSeconds: 0 });
    await until(() => inf.get("ns", "a") === undefined);
    // c is written while the watch hangs, then history is compacted past it:
    // resuming from the informer's resourceVersion is 410.
    fake.faults.hangWatches();
    fake.createPod(makePod({ name: "c", namespace: "ns" }));
    fake.faults.compact();
    fake.faults.dropWatches();
    fake.createPod(makePod({ name: "d", namespace: "ns" }));
    await until(() => inf.get("ns", "d") !== undefined);
    assert.deepEqual([...inf.values()].map((p) => p.name).sort(), ["b", "c", "d"]);
    assert.ok(errors.some((e) => e instanceof WatchError && e.cause instanceof KubeApiError && e.cause.isGone()), errors.map((e) => e.message).join("; "));
    assert.ok(log.filter((l) => l.startsWith("list")).length >= 2, log.join(", "));
    assert.ok(log.every((l) => l.endsWith("protobuf")), log.join(", "));
  });
});
