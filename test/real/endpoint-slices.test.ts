/**
 * Discovery through EndpointSlices against a real kube-apiserver, as service
 * accounts with real RBAC. The apiserver runs no endpointslice controller, so
 * the tests write the slices themselves, with non-loopback addresses (the
 * apiserver refuses loopback ones). For calls, grpc-go servers listen in a
 * network namespace the test creates (see test/support/netns.ts), reached
 * over a veth pair; without root that one test skips and the fake's
 * documented loopback relaxation covers the call path
 * (test/registry/endpoint-slice-discovery.test.ts).
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createClient } from "@connectrpc/connect";
import { KubeConfig } from "../../src/kube/config.ts";
import type { EndpointSlice } from "../../src/kube/wire.ts";
import { KubernetesDiscovery, KubernetesRegistry, RegistryError, type ServiceInstance } from "../../src/index.ts";
import { createDiscoveryTransport } from "../../src/connect/index.ts";
import { makeEndpointSlice, type MakeEndpointOptions } from "../../src/testing/index.ts";
import { Greeter } from "../../proto/gen/helloworld_pb.ts";
import { cleanups, nextMatching } from "../support/real-watch.ts";
import { expectOk, newNamespace, realSkip, sharedCluster, type Cluster } from "../support/real-cluster.ts";
import { grant, runPod, serviceAccountToken } from "../support/kubelet.ts";
import { createNetns, firstLine, netnsMissing, type Netns } from "../support/netns.ts";
import { buildPeer, goMissing } from "../peers/grpc-go/peer.ts";

const skip = realSkip();
const closers = cleanups();
let cluster: Cluster;

const slicesPath = (ns: string, name?: string) => `/apis/discovery.k8s.io/v1/namespaces/${ns}/endpointslices${name ? `/${name}` : ""}`;

async function putSlice(ns: string, name: string, endpoints: MakeEndpointOptions[], o: { service?: string; port?: number; type?: "IPv4" | "IPv6" } = {}): Promise<void> {
  const body = makeEndpointSlice({ name, namespace: ns, service: o.service ?? "greeter", endpoints, ports: [{ name: "grpc", port: o.port ?? 9000 }], managedBy: "kratos-kube-test", ...(o.type ? { addressType: o.type } : {}) });
  const existing = await cluster.request({ path: slicesPath(ns, name) });
  if (existing.status === 200) {
    body.metadata.resourceVersion = (existing.json as EndpointSlice).metadata.resourceVersion!;
    await expectOk(cluster.request({ method: "PUT", path: slicesPath(ns, name), body }), `update slice ${name}`);
  } else await expectOk(cluster.request({ method: "POST", path: slicesPath(ns), body }), `create slice ${name}`);
}

async function deleteSlice(ns: string, name: string): Promise<void> {
  await expectOk(cluster.request({ method: "DELETE", path: slicesPath(ns, name) }), `delete slice ${name}`);
}

/** A service account of `ns` allowed `verbs` on endpointslices in each of `where` (default `ns`). */
async function sliceReader(ns: string, name: string, where: string[] = [ns]): Promise<string> {
  const token = await serviceAccountToken(cluster, ns, name);
  for (const w of where) await grant(cluster, w, { kind: "ServiceAccount", name, namespace: ns }, ["list", "watch"], ["endpointslices"], "discovery.k8s.io");
  return token;
}

function discoveryAs(ns: string, token: string, extra: Partial<ConstructorParameters<typeof KubernetesDiscovery>[0]> = {}) {
  const errors: Error[] = [];
  const discovery = new KubernetesDiscovery({
    config: KubeConfig.fromOptions({ server: cluster.url, caPem: cluster.caPem, token, namespace: ns }),
    podNamespace: ns,
    moveGraceMs: 300,
    onError: (e) => errors.push(e),
    ...extra,
  });
  closers.push(() => discovery.close());
  return { discovery, errors };
}

const view = (set: ServiceInstance[]): string[] => set.map((i) => `${i.id}=${i.endpoints.join(",")}`);

describe("EndpointSlice discovery against a real kube-apiserver", { skip }, () => {
  before(async () => {
    cluster = await sharedCluster();
  });

  it("merges the Service's slices, follows readiness, keeps a moving endpoint, dual-stack, and an emptied Service", async () => {
    const ns = await newNamespace(cluster, "slices");
    const token = await sliceReader(ns, "client");
    await putSlice(ns, "greeter-a", [{ ip: "10.251.200.1", pod: "p1", zone: "z1" }, { ip: "10.251.200.2", pod: "p2", ready: false }]);
    const { discovery } = discoveryAs(ns, token);
    const w = await discovery.watch(`kubernetes:///greeter.${ns}:grpc`);
    assert.equal(w.state, "synced");
    assert.deepEqual(view(await w.next()), ["p1=grpc://10.251.200.1:9000"]);
    assert.deepEqual((await discovery.getService(`greeter.${ns}:grpc`))[0]!.metadata, { zone: "z1" });
    await putSlice(ns, "greeter-a", [{ ip: "10.251.200.1", pod: "p1", zone: "z1" }, { ip: "10.251.200.2", pod: "p2" }]);
    assert.deepEqual(view(await nextMatching(w, (s) => s.length === 2, "p2 ready")), ["p1=grpc://10.251.200.1:9000", "p2=grpc://10.251.200.2:9000"]);
    // p2 moves to a new slice, removed first: the next set the watcher sees is the sentinel change, never one without p2.
    const pending = w.next();
    await putSlice(ns, "greeter-a", [{ ip: "10.251.200.1", pod: "p1", zone: "z1" }]);
    await putSlice(ns, "greeter-b", [{ ip: "10.251.200.2", pod: "p2" }, { ip: "10.251.200.3", pod: "p3" }]);
    assert.deepEqual(view(await pending), ["p1=grpc://10.251.200.1:9000", "p2=grpc://10.251.200.2:9000", "p3=grpc://10.251.200.3:9000"]);
    await putSlice(ns, "greeter-v6", [{ ip: "fd6b:6b00:ff::1", pod: "p1" }], { type: "IPv6" });
    const dual = await nextMatching(w, (s) => s[0]!.endpoints.length === 2, "p1 dual-stack");
    assert.deepEqual(dual[0]!.endpoints, ["grpc://10.251.200.1:9000", "grpc://[fd6b:6b00:ff::1]:9000"]);
    for (const name of ["greeter-a", "greeter-b", "greeter-v6"]) await deleteSlice(ns, name);
    assert.deepEqual(await nextMatching(w, (s) => s.length === 0, "the Service emptied"), []);
    assert.equal(w.state, "synced", "an empty set from a synced watch");
    assert.deepEqual(await discovery.getService(`kubernetes:///nothing.${ns}:grpc`), [], "no slices: [] at once");
    await w.stop();
  });

  it("names the missing endpointslices grant with the real 403, also in another namespace", async () => {
    const ns = await newNamespace(cluster, "slices-rbac");
    const other = await newNamespace(cluster, "slices-rbac2");
    const token = await serviceAccountToken(cluster, ns, "podsonly");
    await grant(cluster, ns, { kind: "ServiceAccount", name: "podsonly", namespace: ns }, ["list", "watch"]);
    const { discovery } = discoveryAs(ns, token, { syncTimeoutMs: 20_000 });
    await assert.rejects(discovery.watch("kubernetes:///greeter:grpc"), (e: unknown) =>
      e instanceof RegistryError && e.code === "FORBIDDEN" &&
      e.message.startsWith(`cannot list endpointslices in namespace ${ns} as system:serviceaccount:${ns}:podsonly`));
    await assert.rejects(discovery.watch(`kubernetes://${other}/greeter:grpc`), (e: unknown) =>
      e instanceof RegistryError && e.code === "FORBIDDEN" && e.message.includes(`in namespace ${other} as system:serviceaccount:${ns}:podsonly`));
  });

  it("cross-namespace targets for both sources with namespaced grants there", async () => {
    const ns = await newNamespace(cluster, "home");
    const other = await newNamespace(cluster, "away");
    const token = await sliceReader(ns, "client", [other]);
    // Pods too (the verbs in another order name a second Role beside the endpointslices one).
    await grant(cluster, other, { kind: "ServiceAccount", name: "client", namespace: ns }, ["watch", "list"]);
    await grant(cluster, ns, { kind: "ServiceAccount", name: "client", namespace: ns }, ["watch", "list"]);
    await putSlice(other, "greeter-x", [{ ip: "10.251.201.1", pod: "x1" }]);
    await runPod(cluster, { namespace: other, name: "kratos-1", app: "sayhello.service", ip: "10.251.201.9", ports: [{ name: "grpc", containerPort: 9000 }] });
    const registry = new KubernetesRegistry({ config: KubeConfig.fromOptions({ server: cluster.url, caPem: cluster.caPem, token, namespace: ns }), podNamespace: ns });
    closers.push(() => registry.close());
    assert.deepEqual(view(await registry.getService(`kubernetes://${other}/greeter:grpc`)), ["x1=grpc://10.251.201.1:9000"]);
    const w = await registry.watch(`discovery://${other}/sayhello.service`);
    assert.deepEqual((await w.next()).map((i) => i.id), ["kratos-1"]);
    assert.deepEqual(await registry.getService("sayhello.service"), [], "the own namespace has none");
    await w.stop();
  });
});

describe("calls through real EndpointSlices to grpc-go servers in a network namespace", { skip: skip ?? goMissing() ?? netnsMissing() }, () => {
  let netns: Netns;
  before(async () => {
    cluster = await sharedCluster();
    netns = createNetns();
    closers.push(() => netns.close());
  });
  after(async () => {
    await netns?.close();
  });

  it("createDiscoveryTransport with kubernetes:///greeter.ns:grpc reaches each server behind its slice", async () => {
    const ns = await newNamespace(cluster, "slices-calls");
    const token = await sliceReader(ns, "client");
    const peers = [netns.spawn(buildPeer(), ["-addr", `${netns.ipv4}:0`]), netns.spawn(buildPeer(), ["-addr", `${netns.ipv4}:0`])];
    closers.push(async () => {
      for (const p of peers) p.kill("SIGKILL");
    });
    const ports = await Promise.all(peers.map(async (p) => Number((await firstLine(p, /^LISTENING \S+:(\d+)$/))[1])));
    // One slice per server, the named port with its own number in each.
    await putSlice(ns, "greeter-0", [{ ip: netns.ipv4, pod: "g0" }], { port: ports[0]! });
    await putSlice(ns, "greeter-1", [{ ip: netns.ipv4, pod: "g1" }], { port: ports[1]! });
    const { discovery } = discoveryAs(ns, token);
    const transport = createDiscoveryTransport({ discovery, target: `kubernetes:///greeter.${ns}:grpc` });
    closers.push(() => transport.close());
    await transport.ready({ count: 2 });
    const client = createClient(Greeter, transport);
    const from = new Set<string>();
    for (let i = 0; i < 10; i++) from.add((await client.sayHello({ name: "k8s" })).message.replace(/^Hello k8s from /, ""));
    assert.deepEqual([...from].sort(), ports.map((p) => `${netns.ipv4}:${p}`).sort());
  });
});
