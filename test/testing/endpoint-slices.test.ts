/**
 * EndpointSlices in the fake API server: the same list/watch semantics as
 * pods (one resourceVersion counter, paging, selectors, history, bookmarks),
 * writes with the answers a real kube-apiserver v1.34 gives (defaults,
 * validation texts, generation, conflicts), RBAC per resource, and the
 * Service mirror that plays the endpointslice controller.
 */
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { FakeKubeApiServer, makeEndpointSlice, makePod } from "../../src/testing/index.ts";
import type { EndpointSlice } from "../../src/kube/wire.ts";
import { call, EventReader, getJson } from "./helpers.ts";

const servers: FakeKubeApiServer[] = [];
function fake(o: ConstructorParameters<typeof FakeKubeApiServer>[0] = {}): FakeKubeApiServer {
  const s = new FakeKubeApiServer({ rechunk: false, ...o });
  servers.push(s);
  return s;
}
after(async () => {
  for (const s of servers) await s.close();
});

const BASE = "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices";

function slice(name: string, ips: string[], o: { service?: string; ready?: boolean } = {}): EndpointSlice {
  return makeEndpointSlice({
    name,
    service: o.service ?? "greeter",
    endpoints: ips.map((ip, i) => ({ ip, pod: `${name}-pod-${i}`, ready: o.ready ?? true })),
    ports: [{ name: "grpc", port: 9000 }],
  });
}

describe("fake API server: EndpointSlices", () => {
  it("creates with the apiserver's defaults and shares one resourceVersion counter with pods", async () => {
    const s = fake();
    s.createPod(makePod({ name: "p", app: "a" }));
    const rvPod = Number(s.resourceVersion);
    const res = await call(s, "POST", BASE, {
      body: { metadata: { name: "s1", labels: { "kubernetes.io/service-name": "svc" } }, addressType: "IPv4", endpoints: [{ addresses: ["10.1.2.3"] }], ports: [{ port: 80 }] },
    });
    assert.equal(res.status, 201);
    const created = await res.json();
    assert.equal(created.kind, "EndpointSlice");
    assert.equal(created.apiVersion, "discovery.k8s.io/v1");
    assert.equal(created.metadata.generation, 1);
    assert.equal(Number(created.metadata.resourceVersion), rvPod + 1);
    assert.deepEqual(created.endpoints, [{ addresses: ["10.1.2.3"], conditions: {} }], "conditions default to {}");
    assert.deepEqual(created.ports, [{ name: "", protocol: "TCP", port: 80 }], "port name and protocol defaulted");
    const bare = await (await call(s, "POST", BASE, { body: { metadata: { name: "s6" }, addressType: "IPv4" } })).json();
    assert.equal(bare.endpoints, null);
    assert.equal(bare.ports, null);
    const list = await getJson(s, BASE);
    assert.equal(list.body.kind, "EndpointSliceList");
    assert.equal(list.body.apiVersion, "discovery.k8s.io/v1");
    assert.equal(list.body.metadata.resourceVersion, s.resourceVersion);
    assert.deepEqual(list.body.items.map((i: EndpointSlice) => [i.metadata.name, i.kind]), [["s1", undefined], ["s6", undefined]]);
  });

  it("refuses addresses as ValidateEndpointIP does; allowLoopbackEndpoints lifts only the loopback rule", async () => {
    const strict = fake();
    const res = await call(strict, "POST", BASE, {
      body: { metadata: { name: "s2" }, addressType: "IPv4", endpoints: ["127.0.0.1", "169.254.1.1", "0.0.0.0", "224.0.0.1", "fe80::1"].map((a) => ({ addresses: [a] })) },
    });
    assert.equal(res.status, 422);
    const body = await res.json();
    assert.equal(
      body.message,
      'EndpointSlice.discovery.k8s.io "s2" is invalid: [endpoints[0].addresses[0]: Invalid value: "127.0.0.1": may not be in the loopback range (127.0.0.0/8, ::1/128), endpoints[1].addresses[0]: Invalid value: "169.254.1.1": may not be in the link-local range (169.254.0.0/16, fe80::/10), endpoints[2].addresses[0]: Invalid value: "0.0.0.0": may not be unspecified (0.0.0.0), endpoints[3].addresses[0]: Invalid value: "224.0.0.1": may not be in the link-local multicast range (224.0.0.0/24, ff02::/10), endpoints[4].addresses: Invalid value: "fe80::1": must be an IPv4 address, endpoints[4].addresses[0]: Invalid value: "fe80::1": may not be in the link-local range (169.254.0.0/16, fe80::/10)]',
    );
    assert.deepEqual(body.details, { ...body.details, name: "s2", group: "discovery.k8s.io", kind: "EndpointSlice" });
    const v6 = await (await call(strict, "POST", BASE, { body: { metadata: { name: "s3" }, addressType: "IPv6", endpoints: [{ addresses: ["::1"] }, { addresses: ["10.0.0.1"] }] } })).json();
    assert.match(v6.message, /endpoints\[0\]\.addresses\[0\]: Invalid value: "::1": may not be in the loopback range .*endpoints\[1\]\.addresses: Invalid value: "10\.0\.0\.1": must be an IPv6 address/);
    const ports = await (await call(strict, "POST", BASE, { body: { metadata: { name: "s4" }, addressType: "IPv4", endpoints: [], ports: [{ name: "a", port: 1 }, { name: "a", port: 2, protocol: "FOO" }, { name: "Bad_Name", port: 3 }] } })).json();
    assert.match(ports.message, /ports\[1\]\.name: Duplicate value: "a", ports\[1\]\.protocol: Unsupported value: "FOO": supported values: "SCTP", "TCP", "UDP", ports\[2\]\.name: Invalid value: "Bad_Name": a lowercase RFC 1123 label/);
    const type = await (await call(strict, "POST", BASE, { body: { metadata: { name: "s5" }, addressType: "IPv5", endpoints: [{ addresses: [] }] } })).json();
    assert.match(type.message, /addressType: Unsupported value: "IPv5": supported values: "FQDN", "IPv4", "IPv6", endpoints\[0\]\.addresses: Required value: must contain at least 1 address/);
    assert.throws(() => strict.endpointSlices.create(slice("lo", ["127.0.0.1"])), /may not be in the loopback range/);

    const relaxed = fake({ allowLoopbackEndpoints: true });
    assert.equal(relaxed.endpointSlices.create(slice("lo", ["127.0.0.1"])).endpoints![0]!.addresses[0], "127.0.0.1");
    assert.equal(relaxed.endpointSlices.create(makeEndpointSlice({ name: "lo6", service: "x", endpoints: [{ ip: "::1" }] })).addressType, "IPv6");
    assert.throws(() => relaxed.endpointSlices.create(slice("ll", ["169.254.0.9"])), /link-local range/);
  });

  it("pages, selects by label, and selects by metadata fields only (the real 400 for others)", async () => {
    const s = fake();
    for (let i = 0; i < 5; i++) s.endpointSlices.create(slice(`a-${i}`, [`10.0.0.${i + 1}`], { service: i % 2 === 0 ? "even" : "odd" }));
    const page1 = await getJson(s, `${BASE}?limit=2`);
    assert.deepEqual(page1.body.items.map((i: EndpointSlice) => i.metadata.name), ["a-0", "a-1"]);
    assert.equal(page1.body.metadata.remainingItemCount, 3);
    const page2 = await getJson(s, `${BASE}?limit=2&continue=${encodeURIComponent(page1.body.metadata.continue)}`);
    assert.deepEqual(page2.body.items.map((i: EndpointSlice) => i.metadata.name), ["a-2", "a-3"]);
    const even = await getJson(s, `${BASE}?labelSelector=${encodeURIComponent("kubernetes.io/service-name=even")}`);
    assert.deepEqual(even.body.items.map((i: EndpointSlice) => i.metadata.name), ["a-0", "a-2", "a-4"]);
    const byName = await getJson(s, `${BASE}?fieldSelector=metadata.name%3Da-3`);
    assert.deepEqual(byName.body.items.map((i: EndpointSlice) => i.metadata.name), ["a-3"]);
    const bad = await getJson(s, `${BASE}?fieldSelector=addressType%3DIPv4`);
    assert.equal(bad.status, 400);
    assert.equal(bad.body.message, '"addressType" is not a known field selector: only "metadata.name", "metadata.namespace"');
    const all = await getJson(s, "/apis/discovery.k8s.io/v1/endpointslices");
    assert.equal(all.body.items.length, 5);
  });

  it("watches with initial events, the v1.34 end bookmark, history replay and 410 after compaction", async () => {
    const s = fake();
    s.endpointSlices.create(slice("w1", ["10.0.0.1"]));
    const res = await call(s, "GET", `${BASE}?watch=1&allowWatchBookmarks=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan`);
    const events = new EventReader(res.body);
    const [added, end] = await events.take(2);
    assert.equal(added!.type, "ADDED");
    assert.equal(added!.object.kind, "EndpointSlice");
    assert.deepEqual(end, {
      type: "BOOKMARK",
      object: { kind: "EndpointSlice", apiVersion: "discovery.k8s.io/v1", metadata: { resourceVersion: s.resourceVersion, annotations: { "k8s.io/initial-events-end": "true" } }, addressType: "", endpoints: null, ports: null },
    });
    const from = s.resourceVersion;
    s.createPod(makePod({ name: "unrelated", app: "a" }));
    s.endpointSlices.update("default", "w1", (x) => {
      x.endpoints![0]!.conditions = { ready: false, serving: true, terminating: true };
    });
    s.endpointSlices.delete("default", "w1");
    const [modified, deleted] = await events.take(2);
    assert.equal(modified!.type, "MODIFIED");
    assert.equal((modified!.object as unknown as EndpointSlice).metadata.generation, 2);
    assert.equal(deleted!.type, "DELETED");
    await events.cancel();
    const replay = new EventReader((await call(s, "GET", `${BASE}?watch=1&resourceVersion=${from}&timeoutSeconds=1`)).body);
    assert.deepEqual((await replay.take(2)).map((e) => e.type), ["MODIFIED", "DELETED"], "pod writes in between are not slice events");
    await replay.cancel();
    s.faults.compact();
    const gone = new EventReader((await call(s, "GET", `${BASE}?watch=1&resourceVersion=${from}`)).body);
    const [err] = await gone.take(1);
    assert.equal(err!.type, "ERROR");
    assert.equal((err!.object as unknown as { code: number }).code, 410);
  });

  it("updates and patches with generation, conflicts and an immutable addressType; deletes with the real Status", async () => {
    const s = fake();
    const created = s.endpointSlices.create(slice("u", ["10.0.0.1"]));
    const stale = await call(s, "PUT", `${BASE}/u`, { body: { ...created, metadata: { ...created.metadata, resourceVersion: "1" } } });
    assert.equal(stale.status, 409);
    assert.match((await stale.json()).message, /^Operation cannot be fulfilled on endpointslices\.discovery\.k8s\.io "u": the object has been modified/);
    const immutable = await call(s, "PUT", `${BASE}/u`, { body: { ...created, addressType: "IPv6", endpoints: [] } });
    assert.equal(immutable.status, 422);
    assert.match((await immutable.json()).message, /addressType: Invalid value: "IPv6": field is immutable/);
    const merge = await call(s, "PATCH", `${BASE}/u`, { contentType: "application/merge-patch+json", body: { endpoints: [{ addresses: ["10.1.2.9"], conditions: { ready: false } }] } });
    const merged = await merge.json();
    assert.equal(merged.metadata.generation, 2);
    assert.deepEqual(merged.endpoints, [{ addresses: ["10.1.2.9"], conditions: { ready: false } }]);
    const strategic = await (await call(s, "PATCH", `${BASE}/u`, { contentType: "application/strategic-merge-patch+json", body: { endpoints: [{ addresses: ["10.1.2.10"] }] } })).json();
    assert.deepEqual(strategic.endpoints, [{ addresses: ["10.1.2.10"], conditions: {} }], "lists are atomic: replaced");
    assert.equal(strategic.metadata.generation, 3);
    const annotated = await (await call(s, "PATCH", `${BASE}/u`, { contentType: "application/json-patch+json", body: [{ op: "add", path: "/metadata/annotations", value: { x: "y" } }] })).json();
    assert.equal(annotated.metadata.generation, 3, "an annotation change keeps the generation");
    const labelled = await (await call(s, "PATCH", `${BASE}/u`, { contentType: "application/json-patch+json", body: [{ op: "add", path: "/metadata/labels/x", value: "y" }] })).json();
    assert.equal(labelled.metadata.generation, 4, "a label change grows it (labels say the Service)");
    const before = s.resourceVersion;
    await call(s, "PATCH", `${BASE}/u`, { contentType: "application/merge-patch+json", body: {} });
    assert.equal(s.resourceVersion, before, "a patch that changes nothing is not written");
    const del = await call(s, "DELETE", `${BASE}/u`);
    assert.deepEqual(await del.json(), { kind: "Status", apiVersion: "v1", metadata: {}, status: "Success", details: { name: "u", group: "discovery.k8s.io", kind: "endpointslices", uid: created.metadata.uid } });
    assert.equal((await call(s, "GET", `${BASE}/u`)).status, 404);
    s.endpointSlices.create(slice("c1", ["10.0.0.1"]));
    s.endpointSlices.create(slice("c2", ["10.0.0.2"], { service: "other" }));
    const coll = await (await call(s, "DELETE", `${BASE}?labelSelector=${encodeURIComponent("kubernetes.io/service-name=greeter")}`)).json();
    assert.deepEqual(coll.items.map((i: EndpointSlice) => i.metadata.name), ["c1"]);
    assert.deepEqual(s.endpointSlices.list().map((x) => x.metadata.name), ["c2"]);
  });

  it("hands out copies from update(), and does not write an update that only reorders keys (the apiserver compares decoded objects)", () => {
    const s = fake();
    s.endpointSlices.create(slice("k", ["10.0.0.1"]));
    const out = s.endpointSlices.update("default", "k", (x) => {
      x.endpoints![0]!.conditions = { ready: false, serving: true, terminating: false };
    });
    assert.equal(out.metadata.generation, 2);
    out.endpoints![0]!.addresses[0] = "10.9.9.9";
    out.metadata.labels!["x"] = "y";
    const stored = s.endpointSlices.get("default", "k")!;
    assert.deepEqual(stored.endpoints![0]!.addresses, ["10.0.0.1"], "changing the answer changes nothing stored");
    assert.equal(stored.metadata.labels!["x"], undefined);
    const rv = s.resourceVersion;
    s.endpointSlices.update("default", "k", (x) => {
      const c = x.endpoints![0]!.conditions!;
      x.endpoints![0]!.conditions = Object.fromEntries(Object.entries(c).reverse());
      x.metadata.labels = Object.fromEntries(Object.entries(x.metadata.labels!).reverse());
    });
    assert.equal(s.resourceVersion, rv, "same object, other key order: no write");
    assert.equal(s.endpointSlices.get("default", "k")!.metadata.generation, 2);
  });

  it("authorizes per resource: a token granted pods only gets the real 403 for endpointslices", async () => {
    const s = fake({ tokens: { pods: { user: "system:serviceaccount:shop:app", resources: ["pods"], verbs: ["list", "watch"] } } });
    const podsOk = await call(s, "GET", "/api/v1/namespaces/shop/pods", { token: "pods" });
    assert.equal(podsOk.status, 200);
    const refused = await call(s, "GET", "/apis/discovery.k8s.io/v1/namespaces/shop/endpointslices", { token: "pods" });
    assert.equal(refused.status, 403);
    const body = await refused.json();
    assert.equal(body.message, 'endpointslices.discovery.k8s.io is forbidden: User "system:serviceaccount:shop:app" cannot list resource "endpointslices" in API group "discovery.k8s.io" in the namespace "shop"');
    assert.deepEqual(body.details, { group: "discovery.k8s.io", kind: "endpointslices" });
    const review = (resource: string) =>
      call(s, "POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", {
        token: "pods",
        body: { apiVersion: "authorization.k8s.io/v1", kind: "SelfSubjectAccessReview", spec: { resourceAttributes: { verb: "list", resource, namespace: "shop", group: resource === "pods" ? "" : "discovery.k8s.io" } } },
      }).then((r) => r.json());
    assert.equal((await review("pods")).status.allowed, true);
    assert.equal((await review("endpointslices")).status.allowed, false, "SelfSubjectAccessReview answers per resource too");
    const disc = await getJson(s, "/apis/discovery.k8s.io/v1", "pods");
    assert.deepEqual(disc.body.resources.map((r: { name: string }) => r.name), ["endpointslices"]);
  });
});

describe("fake API server: Service mirror (the endpointslice controller)", () => {
  const spec = { name: "greeter", selector: { app: "greeter" }, ports: [{ name: "grpc", targetPort: "grpc" }] };
  const grpcPod = (name: string, ip: string, o: { ready?: boolean; port?: number; ips?: string[] } = {}) =>
    makePod({ name, app: "greeter", ip, ...(o.ips ? { ips: o.ips } : {}), ready: o.ready ?? true, ports: [{ name: "grpc", containerPort: o.port ?? 9000 }] });
  const endpointsOf = (slices: EndpointSlice[]) =>
    slices.flatMap((x) => (x.endpoints ?? []).map((e) => `${e.targetRef?.name}:${e.conditions?.ready}/${e.conditions?.serving}/${e.conditions?.terminating}`)).sort();

  it("puts at most 100 endpoints in a slice, follows readiness and termination, and deletes empty slices", () => {
    const s = fake();
    for (let i = 0; i < 250; i++) s.createPod(grpcPod(`g-${String(i).padStart(3, "0")}`, `10.1.${i >> 8}.${(i & 255) + 1}`));
    const m = s.endpointSlices.mirror(spec);
    assert.deepEqual(m.slices.map((x) => x.endpoints!.length).sort((a, b) => a - b), [50, 100, 100]);
    for (const x of m.slices) {
      assert.equal(x.metadata.labels!["kubernetes.io/service-name"], "greeter");
      assert.equal(x.metadata.labels!["endpointslice.kubernetes.io/managed-by"], "endpointslice-controller.k8s.io");
      assert.deepEqual(x.ports, [{ name: "grpc", protocol: "TCP", port: 9000 }]);
    }
    const owner = (pod: string) => m.slices.find((x) => x.endpoints!.some((e) => e.targetRef?.name === pod))!.metadata.name;
    const home = owner("g-007");
    s.setReady("default", "g-007", false);
    assert.equal(owner("g-007"), home, "an endpoint stays in its slice");
    assert.ok(endpointsOf(m.slices).includes("g-007:false/false/false"));
    s.setReady("default", "g-007", true);
    s.startGracefulDeletion("default", "g-007", 30);
    assert.ok(endpointsOf(m.slices).includes("g-007:false/true/true"), "terminating and still serving");
    s.finishDeletion("default", "g-007");
    assert.equal(endpointsOf(m.slices).length, 249);
    for (let i = 0; i < 250; i++) if (i !== 7) s.finishDeletion("default", `g-${String(i).padStart(3, "0")}`);
    assert.deepEqual(m.slices, []);
    assert.deepEqual(m.errors, []);
    m.stop();
  });

  it("resolves a named target port per pod (one slice per port number) and splits address families", () => {
    const s = fake();
    s.createPod(grpcPod("a", "10.0.0.1", { port: 9000 }));
    s.createPod(grpcPod("b", "10.0.0.2", { port: 9001 }));
    s.createPod(grpcPod("c", "10.0.0.3", { port: 9000, ips: ["10.0.0.3", "fd00::3"] }));
    const m = s.endpointSlices.mirror(spec);
    const shape = m.slices.map((x) => `${x.addressType}:${x.ports![0]!.port}:${(x.endpoints ?? []).map((e) => e.addresses[0]).sort().join(",")}`).sort();
    assert.deepEqual(shape, ["IPv4:9000:10.0.0.1,10.0.0.3", "IPv4:9001:10.0.0.2", "IPv6:9000:fd00::3"]);
    m.stop();
  });

  it("refuses loopback pods as the real apiserver would (errors kept), unless allowLoopbackEndpoints", () => {
    const strict = fake();
    strict.createPod(grpcPod("lo", "127.0.0.5"));
    assert.throws(() => strict.endpointSlices.mirror(spec), /loopback range/);
    const relaxed = fake({ allowLoopbackEndpoints: true });
    const m = relaxed.endpointSlices.mirror({ ...spec, manual: true });
    relaxed.createPod(grpcPod("lo", "127.0.0.5"));
    assert.deepEqual(endpointsOf(m.slices), [], "manual: nothing until reconcile()");
    m.reconcile();
    assert.deepEqual(endpointsOf(m.slices), ["lo:true/true/false"]);
    m.stop();
  });
});
