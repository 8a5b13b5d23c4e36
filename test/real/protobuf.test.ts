/**
 * Protobuf on the wire against a real kube-apiserver (the reference): the
 * same pods and EndpointSlices listed and watched in protobuf and in JSON
 * project to the same records; an informer over protobuf follows creates,
 * updates and deletes through a streaming list, and relists after a 410 on
 * a private control plane; protobuf error bodies are the same KubeApiError.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { KubeConfig } from "../../src/kube/config.ts";
import { createKubeClient, type KubeClient } from "../../src/kube/client.ts";
import type { Encoding } from "../../src/kube/protobuf/negotiation.ts";
import { protobufWatchOf } from "../../src/kube/protobuf/negotiation.ts";
import { createProtobufWatchDecoder } from "../../src/kube/protobuf/watch-decoder.ts";
import { createWatchDecoder, WatchDecodeError, type WatchDecodeResult } from "../../src/kube/watch-decoder.ts";
import { createInformer, type Informer } from "../../src/kube/informer.ts";
import { podResource } from "../../src/kube/pod-resource.ts";
import { endpointSliceResource } from "../../src/kube/endpoint-slice-record.ts";
import { KubeApiError, WatchError } from "../../src/kube/errors.ts";
import { POD_RESOURCE, type ObjectRecord, type ResourceDescriptor } from "../../src/kube/resource.ts";
import type { ListWatchApi } from "../../src/kube/list-watch-api.ts";
import type { KubeObject } from "../../src/kube/wire.ts";
import { BinaryReader, WireType } from "@bufbuild/protobuf/wire";
import { encodeProtobuf } from "../../src/testing/protobuf-encoder.ts";
import { FakeKubeApiServer, makeEndpointSlice, makePod, type MakeEndpointOptions, type MakePodOptions } from "../../src/testing/index.ts";
import { expectOk, newNamespace, privateControlPlane, realSkip, sharedCluster, type Cluster } from "../support/real-cluster.ts";
import { finishTermination, patchLabels, runPod, setStatus, terminate } from "../support/kubelet.ts";
import { cleanups } from "../support/real-watch.ts";

const skip = realSkip();
const closers = cleanups();
let cluster: Cluster;
const KEEP = ["kratos-service-metadata", "kratos-service-protocols"];

function client(c: Pick<Cluster, "url" | "caPem" | "adminToken">, encoding: Encoding): KubeClient {
  const k = createKubeClient({ config: KubeConfig.fromOptions({ server: c.url, caPem: c.caPem, token: c.adminToken }), encoding });
  closers.push(() => k.close());
  return k;
}

/** The API with a log of the encoding of each answer (a protobuf-decoded object has no creationTimestamp). */
function logged(api: ListWatchApi): { api: ListWatchApi; log: string[] } {
  const log: string[] = [];
  return {
    log,
    api: {
      async listObjects(r, o) {
        const l = await api.listObjects(r, o);
        log.push(`list ${l.items[0] === undefined ? "empty" : "creationTimestamp" in l.items[0].metadata ? "json" : "protobuf"}`);
        return l;
      },
      async watchObjects(r, o) {
        const body = await api.watchObjects(r, o);
        log.push(`watch ${protobufWatchOf(body) ? "protobuf" : "json"}${o.sendInitialEvents ? " sendInitialEvents" : ""}`);
        return body;
      },
    },
  };
}

const records = <R extends ObjectRecord>(d: ResourceDescriptor<R>, items: readonly KubeObject[]) =>
  items.map((o) => d.project(o)).sort((a, b) => (typeof a === "string" || typeof b === "string" ? 0 : a.name.localeCompare(b.name)));

/** Reads a watch body until `done` holds for the events so far (the server closes it after 30 s at the latest). */
async function readWatch(body: ReadableStream<Uint8Array>, done: (events: WatchDecodeResult[]) => boolean): Promise<WatchDecodeResult[]> {
  const projection = protobufWatchOf(body);
  const decoder = projection ? createProtobufWatchDecoder(projection) : createWatchDecoder();
  const reader = body.getReader();
  const out: WatchDecodeResult[] = [];
  try {
    while (!done(out)) {
      const c = await reader.read();
      if (c.done) break;
      out.push(...decoder.push(c.value));
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
  return out;
}

const view = (d: { project(o: KubeObject): unknown }, events: WatchDecodeResult[]) =>
  events.map((e) => (e instanceof WatchDecodeError ? `error ${e.reason}` : e.type === "ERROR" || e.type === "BOOKMARK" ? e.type : { type: e.type, record: d.project(e.object) }));

function until<R extends ObjectRecord>(inf: Informer<R>, pred: () => boolean, what: string, ms = 30_000): Promise<void> {
  if (pred()) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => (off(), reject(new Error(`timed out waiting for ${what}`))), ms);
    const off = inf.subscribe(() => {
      if (pred()) (clearTimeout(timer), off(), resolve());
    });
  });
}

describe("protobuf against a real kube-apiserver", { skip }, () => {
  before(async () => {
    cluster = await sharedCluster();
  });

  it("pods and EndpointSlices listed in protobuf project as listed in JSON; auto picks protobuf, JSON for a resource without a protobuf reader", async () => {
    const ns = await newNamespace(cluster, "pb-list");
    await runPod(cluster, { namespace: ns, name: "a", app: "pb", ips: ["10.251.1.1", "fd00::1"], metadata: '{"zone":"z1"}', protocols: '{"9000":"grpc"}' });
    await runPod(cluster, { namespace: ns, name: "b", app: "pb", ip: null, ready: false }, { phase: "Pending", ips: [], ready: false });
    await runPod(cluster, { namespace: ns, name: "c", app: "pb", ip: "10.251.1.3" });
    await terminate(cluster, ns, "c");
    for (const [name, ip] of [["s1", "10.251.1.1"], ["s2", "10.251.1.9"]] as const) {
      const body = makeEndpointSlice({ name, namespace: ns, service: "pb", endpoints: [{ ip, pod: name, zone: "z1" }, { ip: `${ip}0`, ready: false }], ports: [{ name: "grpc", port: 9000 }], managedBy: "test" });
      await expectOk(cluster.request({ method: "POST", path: `/apis/discovery.k8s.io/v1/namespaces/${ns}/endpointslices`, body }), "create slice");
    }
    const results: Record<string, unknown> = {};
    for (const encoding of ["protobuf", "json", "auto"] as const) {
      const { api, log } = logged(client(cluster, encoding));
      const pods = await api.listObjects(podResource({ annotations: KEEP }), { namespace: ns });
      const slices = await api.listObjects(endpointSliceResource(), { namespace: ns });
      assert.deepEqual(log, encoding === "json" ? ["list json", "list json"] : ["list protobuf", "list protobuf"], encoding);
      results[encoding] = { pods: records(podResource({ annotations: KEEP }), pods.items), slices: records(endpointSliceResource(), slices.items), rv: typeof pods.metadata.resourceVersion };
      const plain = await api.listObjects(POD_RESOURCE, { namespace: ns });
      assert.equal(log.at(-1), "list json", "a plain ResourceType has no protobuf reader");
      assert.equal(plain.items.length, 3);
    }
    assert.deepEqual(results["protobuf"], results["json"]);
    assert.deepEqual(results["auto"], results["json"]);
    const pods = (results["json"] as { pods: { name: string; ready: boolean; terminating: boolean; podIPs: string[] }[] }).pods;
    assert.deepEqual(pods.map((p) => [p.name, p.ready, p.terminating, p.podIPs.length]), [["a", true, false, 2], ["b", false, false, 0], ["c", true, true, 1]]);
  });

  it("a watch in protobuf sees the same events as in JSON: creates, updates, a graceful delete, a delete", async () => {
    const ns = await newNamespace(cluster, "pb-watch");
    await runPod(cluster, { namespace: ns, name: "w0", app: "pb" });
    const pb = client(cluster, "protobuf");
    const js = client(cluster, "json");
    const d = podResource({ annotations: KEEP });
    const rv = (await js.listObjects(d, { namespace: ns })).metadata.resourceVersion;
    const o = { namespace: ns, resourceVersion: rv, allowWatchBookmarks: true, timeoutSeconds: 30 };
    const [pbBody, jsBody] = [await pb.watchObjects(d, o), await js.watchObjects(d, o)];
    assert.ok(protobufWatchOf(pbBody), "the protobuf client's watch is marked protobuf");
    assert.equal(protobufWatchOf(jsBody), undefined);
    const sawDelete = (es: WatchDecodeResult[]) => es.some((e) => !(e instanceof WatchDecodeError) && e.type === "DELETED");
    const reading = Promise.all([readWatch(pbBody, sawDelete), readWatch(jsBody, sawDelete)]);
    await runPod(cluster, { namespace: ns, name: "w1", app: "pb", ips: ["10.251.2.1", "fd00::21"], metadata: '{"a":"1"}' });
    await patchLabels(cluster, ns, "w0", { extra: "x" });
    await setStatus(cluster, ns, "w0", { ready: false, ips: ["10.251.2.2"] });
    await terminate(cluster, ns, "w1");
    await runPod(cluster, { namespace: ns, name: "gone", app: "pb", nodeName: null }, null);
    await finishTermination(cluster, ns, "gone");
    const [pbEvents, jsEvents] = await reading;
    const withoutBookmarks = (es: WatchDecodeResult[]) => view(d, es).filter((e) => e !== "BOOKMARK");
    assert.deepEqual(withoutBookmarks(pbEvents), withoutBookmarks(jsEvents));
    assert.ok(pbEvents.length >= 6, `events: ${JSON.stringify(view(d, pbEvents))}`);
  });

  it("an informer over protobuf (streaming list) keeps the same records as one over JSON through creates, updates and deletes", async () => {
    const ns = await newNamespace(cluster, "pb-informer");
    await runPod(cluster, { namespace: ns, name: "i0", app: "pb", metadata: '{"z":"1"}' });
    const informers: Informer<ObjectRecord>[] = [];
    const logs: string[][] = [];
    for (const encoding of ["protobuf", "json"] as const) {
      const { api, log } = logged(client(cluster, encoding));
      const errors: Error[] = [];
      const inf = createInformer({ api, resource: podResource({ annotations: KEEP }), namespace: ns, streamingList: true, onError: (e) => errors.push(e) });
      closers.push(() => inf.close());
      inf.start();
      await inf.ready();
      informers.push(inf as unknown as Informer<ObjectRecord>);
      logs.push(log);
    }
    const same = () => JSON.stringify([...informers[0]!.values()].sort((a, b) => a.name.localeCompare(b.name))) === JSON.stringify([...informers[1]!.values()].sort((a, b) => a.name.localeCompare(b.name)));
    const step = async (what: string, pred: (inf: Informer<ObjectRecord>) => boolean) => {
      for (const inf of informers) await until(inf, () => pred(inf), `${what} (${inf === informers[0] ? "protobuf" : "json"})`);
      assert.ok(same(), `${what}: the protobuf informer's records equal the JSON one's`);
    };
    await step("the initial pod", (inf) => inf.size === 1);
    await runPod(cluster, { namespace: ns, name: "i1", app: "pb", ip: "10.251.3.1" });
    await step("a create", (inf) => inf.get(ns, "i1")?.resourceVersion !== undefined && (inf.get(ns, "i1") as unknown as { ready: boolean }).ready);
    await patchLabels(cluster, ns, "i1", { tier: "x" });
    await step("a label change", (inf) => (inf.get(ns, "i1") as unknown as { labels: Record<string, string> } | undefined)?.labels["tier"] === "x");
    await runPod(cluster, { namespace: ns, name: "i2", app: "pb", nodeName: null }, null);
    await step("an unscheduled pod", (inf) => inf.get(ns, "i2") !== undefined);
    await finishTermination(cluster, ns, "i2");
    await step("a delete", (inf) => inf.get(ns, "i2") === undefined && inf.size === 2);
    assert.deepEqual(logs[0], ["watch protobuf sendInitialEvents"]);
    assert.deepEqual(logs[1], ["watch json sendInitialEvents"]);
  });

  it("a protobuf error body is the same KubeApiError as the JSON one", async () => {
    const errors: KubeApiError[] = [];
    for (const accept of ["application/vnd.kubernetes.protobuf", "application/json"]) {
      const k = client(cluster, "auto");
      await assert.rejects(k.request("GET", "/api/v1/namespaces/default/pods/nobody-here", { accept }), (e: unknown) => {
        assert.ok(e instanceof KubeApiError);
        errors.push(e);
        return true;
      });
    }
    const [pb, js] = errors.map((e) => ({ status: e.status, reason: e.reason, message: e.message, details: e.details, isNotFound: e.isNotFound() }));
    assert.deepEqual(pb, js);
    assert.equal(pb!.status, 404);
  });
});

describe("the fake API server's protobuf against the real kube-apiserver's", { skip }, () => {
  it("the same pods and EndpointSlices, listed and watched in protobuf from both, decode to the same projections", async () => {
    const real = await sharedCluster();
    const ns = await newNamespace(real, "pb-fake");
    await using fake = new FakeKubeApiServer({ kubelet: false });
    const pods: (MakePodOptions & { namespace: string })[] = [
      { namespace: ns, name: "f1", app: "pb", ips: ["10.251.5.1", "fd00::51"], metadata: '{"zone":"z1"}', protocols: '{"9000":"grpc"}' },
      { namespace: ns, name: "f2", app: "pb", ip: "10.251.5.2", ready: false, ports: [{ name: "h", containerPort: 8080, protocol: "UDP" }] },
    ];
    for (const p of pods) {
      await runPod(real, p, { ready: p.ready ?? true });
      fake.createPod(makePod(p));
    }
    const slice = (name: string, endpoints: MakeEndpointOptions[]) =>
      makeEndpointSlice({ name, namespace: ns, service: "pb", endpoints, ports: [{ name: "grpc", port: 9000 }, { port: 80, protocol: "UDP" }], managedBy: "test" });
    const slices = [slice("s1", [{ ip: "10.251.5.1", pod: "f1", zone: "z1" }, { ip: "10.251.5.2", ready: false, terminating: true }]), slice("s2", [])];
    for (const sl of slices) {
      await expectOk(real.request({ method: "POST", path: `/apis/discovery.k8s.io/v1/namespaces/${ns}/endpointslices`, body: sl }), "create slice");
      fake.endpointSlices.create(sl);
    }
    const fakeClient = createKubeClient({ config: KubeConfig.fromOptions({ server: "https://fake.example", token: "t" }), fetch: fake.fetch, encoding: "protobuf" });
    closers.push(() => fakeClient.close());
    const clients = [logged(client(real, "protobuf")), logged(fakeClient)];
    const anonymous = (rs: unknown[]) => rs.map((r) => ({ ...(r as object), uid: "", resourceVersion: "" }));
    const views: unknown[] = [];
    for (const { api, log } of clients) {
      const p = await api.listObjects(podResource({ annotations: KEEP }), { namespace: ns });
      const s = await api.listObjects(endpointSliceResource(), { namespace: ns });
      const body = await api.watchObjects(podResource({ annotations: KEEP }), { namespace: ns, resourceVersion: "0", timeoutSeconds: 5 });
      const events = await readWatch(body, (es) => es.length >= pods.length);
      assert.deepEqual(log, ["list protobuf", "list protobuf", "watch protobuf"]);
      views.push({
        pods: anonymous(records(podResource({ annotations: KEEP }), p.items)),
        slices: anonymous(records(endpointSliceResource(), s.items)),
        watched: anonymous(events.map((e) => (e instanceof WatchDecodeError || e.type === "ERROR" || e.type === "BOOKMARK" ? e : podResource({ annotations: KEEP }).project(e.object)))),
      });
    }
    assert.deepEqual(views[1], views[0]);
    assert.equal((views[0] as { pods: unknown[] }).pods.length, 2);
  });
});

/**
 * A protobuf message as leaves `path=value` (`path` of field numbers and
 * repeat indexes); a length-delimited field is read as a message when its
 * bytes parse as one, else kept as bytes. Both sides are read alike, so the
 * guess cannot make equal bytes differ.
 */
function leaves(bytes: Uint8Array, prefix = "", out: string[] = []): string[] {
  const r = new BinaryReader(bytes);
  const seen = new Map<number, number>();
  while (r.pos < r.len) {
    const [f, t] = r.tag();
    const i = seen.get(f) ?? 0;
    seen.set(f, i + 1);
    const path = `${prefix}/${f}[${i}]`;
    if (t === WireType.Varint) out.push(`${path}=${r.uint64()}`);
    else if (t === WireType.LengthDelimited) {
      const b = r.bytes();
      const nested: string[] = [];
      try {
        leaves(b, path, nested);
        if (nested.length === 0) out.push(`${path}={}`);
        else out.push(...nested);
      } catch {
        out.push(`${path}=${Buffer.from(b).toString("hex")}`);
      }
    } else {
      r.skip(t);
      out.push(`${path}=?${t}`);
    }
  }
  return out;
}

describe("the fake API server's protobuf encoder against the real kube-apiserver's bytes", { skip }, () => {
  it("a real Pod's JSON encoded by the fake gives the real protobuf's value for every field it writes, at about the real size", async () => {
    const real = await sharedCluster();
    const ns = await newNamespace(real, "pb-bytes");
    await runPod(real, { namespace: ns, name: "b1", app: "pb", ip: "10.251.6.1", metadata: '{"zone":"z1"}', protocols: '{"9000":"grpc"}' });
    const c = client(real, "json");
    const path = `/api/v1/namespaces/${ns}/pods/b1`;
    const json = (await (await c.request("GET", path)).json()) as Record<string, unknown>;
    const pb = new Uint8Array(await (await c.request("GET", path, { accept: "application/vnd.kubernetes.protobuf" })).arrayBuffer());
    const ours = encodeProtobuf(json, "Pod")!;
    // Skip `k8s\0` and compare the objects inside the runtime.Unknown envelope (field 2, raw).
    const realLeaves = new Set(leaves(pb.subarray(4)));
    const ourLeaves = leaves(ours.subarray(4));
    const missing = ourLeaves.filter((l) => !realLeaves.has(l));
    assert.deepEqual(missing, [], "every field the fake writes has the real value at the same place");
    assert.ok(ourLeaves.some((l) => l.startsWith("/2[0]/2[0]/1[0]")), "the volumes are encoded");
    assert.ok(ours.length >= 0.85 * pb.length && ours.length <= pb.length, `fake ${ours.length} B, real ${pb.length} B`);
  });
});

describe("protobuf informer across an apiserver restart (private control plane)", { skip }, () => {
  it("resuming from a resourceVersion older than the new watch cache: an ERROR 410 in protobuf, one relist in protobuf, nothing lost", async () => {
    const cp = await privateControlPlane();
    after(() => cp.close());
    const ns = await newNamespace(cp, "pb-restart");
    const busy = await newNamespace(cp, "pb-restart-busy");
    await runPod(cp, { namespace: ns, name: "before", app: "pb", ip: "10.251.4.1" });
    const { api, log } = logged(client(cp, "protobuf"));
    const errors: Error[] = [];
    const inf = createInformer({ api, resource: podResource(), namespace: ns, onError: (e) => errors.push(e) });
    closers.push(() => inf.close());
    inf.start();
    await inf.ready();
    for (let i = 0; i < 3; i++) await runPod(cp, { namespace: busy, name: `b${i}`, app: "busy" }, null);
    await cp.restartApiserver();
    await runPod(cp, { namespace: ns, name: "after", app: "pb", ip: "10.251.4.2" });
    await until(inf, () => inf.get(ns, "after") !== undefined, "the pod created after the restart", 60_000);
    assert.deepEqual([...inf.values()].map((p) => p.name).sort(), ["after", "before"]);
    const gone = errors.filter((e) => e instanceof WatchError && e.cause instanceof KubeApiError && e.cause.isGone());
    assert.ok(gone.length > 0, `a 410 among: ${errors.map((e) => e.message).join("; ")}`);
    assert.deepEqual(log.filter((l) => l.startsWith("list")), ["list protobuf", "list protobuf"], log.join("\n"));
    assert.ok(log.filter((l) => l.startsWith("watch")).every((l) => l === "watch protobuf"), log.join("\n"));
  });
});
