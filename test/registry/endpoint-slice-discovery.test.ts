/**
 * Discovery of Kubernetes Services through EndpointSlices, end to end against
 * the fake API server (its `fetch` injected): `kubernetes:///svc.ns:port`
 * targets on KubernetesDiscovery and KubernetesRegistry, cross-namespace
 * targets for both sources with one shared informer per namespace and
 * resource (started on first use, stopped with the last target), the
 * watchers' state, RBAC errors, and calls through createDiscoveryTransport
 * to real servers behind slices (loopback, through the fake's documented
 * `allowLoopbackEndpoints` relaxation).
 */
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createClient } from "@connectrpc/connect";
import { KubeConfig } from "../../src/kube/config.ts";
import { FakeKubeApiServer, makeEndpointSlice, makePod, createManualClock, type FakeKubeApiServerOptions, type ManualClock } from "../../src/testing/index.ts";
import { KubernetesDiscovery, KubernetesRegistry, RegistryError, type ServiceInstance, type ServiceWatcher } from "../../src/index.ts";
import { createDiscoveryTransport } from "../../src/connect/index.ts";
import { Echo } from "../../proto/gen/echo_pb.ts";
import { startServer, type TestServer } from "../connect/support/servers.ts";
import { watchdog } from "../connect/support/load.ts";

const open: { close(): Promise<void> }[] = [];
after(async () => {
  for (const o of open.reverse()) await o.close();
});

function setup(o: { clock?: ManualClock; token?: string; tokens?: FakeKubeApiServerOptions["tokens"]; loopback?: boolean; namespace?: string } = {}) {
  const clock = o.clock ?? createManualClock();
  const fake = new FakeKubeApiServer({ clock, rechunk: 3, ...(o.tokens ? { tokens: o.tokens } : {}), allowLoopbackEndpoints: o.loopback ?? false });
  const config = KubeConfig.fromOptions({ server: "http://127.0.0.1:6443", namespace: "shop", ...(o.token ? { token: o.token } : {}) });
  const errors: Error[] = [];
  const common = { config, fetch: fake.fetch, clock, onError: (e: Error) => errors.push(e), podNamespace: "shop", ...(o.namespace ? { namespace: o.namespace } : {}) };
  const discovery = new KubernetesDiscovery(common);
  const registry = new KubernetesRegistry({ ...common, podName: "me" });
  open.push(fake, discovery, registry);
  return { clock, fake, discovery, registry, errors };
}

const view = (set: ServiceInstance[]): string[] => set.map((i) => `${i.id}=${i.endpoints.join(",")}`);

/** Pulls sets until `pred` holds; each pull waits for a real change. */
async function until(w: ServiceWatcher, pred: (set: ServiceInstance[]) => boolean): Promise<ServiceInstance[]> {
  for (;;) {
    const set = await w.next();
    if (pred(set)) return set;
  }
}

/** Macrotask turns until `pred` holds (no wall-clock waits). */
async function turns(pred: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 2000; i++) {
    if (pred()) return;
    await new Promise((r) => setTimeout(r, 0));
  }
  assert.fail(`timed out waiting until ${what}`);
}

/** Advances `clock` a second at a time (letting in-process requests run between steps) until `p` settles. */
async function advanceUntil<T>(clock: ManualClock, p: Promise<T>): Promise<T> {
  let done = false;
  void p.then(() => (done = true), () => (done = true));
  for (let i = 0; i < 600 && !done; i++) {
    await clock.advance(1000);
    for (let j = 0; j < 5; j++) await new Promise((r) => setTimeout(r, 0));
  }
  return p;
}

const sliceWatches = (fake: FakeKubeApiServer, ns: string) =>
  fake.requests.filter((r) => r.watch && r.path === `/apis/discovery.k8s.io/v1/namespaces/${ns}/endpointslices`).length;

const greeterPod = (name: string, ns: string, ip: string, ready = true) =>
  makePod({ name, namespace: ns, labels: { app: "greeter" }, ip, ready, ports: [{ name: "grpc", containerPort: 9000 }] });

describe("EndpointSlice discovery", () => {
  it("kubernetes:///svc.ns:port yields the ready endpoints of every slice and follows the pods; a Service without slices is [] at once", async () => {
    const { fake, discovery, registry } = setup();
    fake.createPod(greeterPod("g1", "shop", "10.0.0.1"));
    fake.createPod(greeterPod("g2", "shop", "10.0.0.2", false));
    const mirror = fake.endpointSlices.mirror({ namespace: "shop", name: "greeter", selector: { app: "greeter" }, ports: [{ name: "grpc", targetPort: "grpc" }] });
    const w = await discovery.watch("kubernetes:///greeter.shop:grpc");
    assert.equal(w.state, "synced");
    assert.deepEqual(view(await w.next()), ["g1=grpc://10.0.0.1:9000"]);
    fake.setReady("shop", "g2", true);
    assert.deepEqual(view(await w.next()), ["g1=grpc://10.0.0.1:9000", "g2=grpc://10.0.0.2:9000"]);
    fake.startGracefulDeletion("shop", "g1", 30);
    assert.deepEqual(view(await w.next()), ["g2=grpc://10.0.0.2:9000"], "terminating leaves at once");
    assert.deepEqual(view(await discovery.getService("greeter:grpc")), ["g2=grpc://10.0.0.2:9000"], "bare targets: the own namespace, kuberesolver's syntax");
    assert.deepEqual(view(await registry.getService("kubernetes:///greeter.shop:grpc")), ["g2=grpc://10.0.0.2:9000"], "KubernetesRegistry serves the same targets");
    assert.deepEqual(await discovery.getService("kubernetes:///nothing.shop:grpc"), []);
    assert.deepEqual(await registry.getService("kubernetes:///greeter.shop:http"), [], "a port no slice has");
    await w.stop();
    mirror.stop();
  });

  it("shares one informer per namespace and resource across targets, and stops it with the last target", async () => {
    const { fake, discovery } = setup();
    fake.endpointSlices.create(makeEndpointSlice({ name: "a", namespace: "shop", service: "a", endpoints: [{ ip: "10.0.0.1", pod: "a1" }], ports: [{ name: "grpc", port: 9000 }] }));
    fake.endpointSlices.create(makeEndpointSlice({ name: "b", namespace: "shop", service: "b", endpoints: [{ ip: "10.0.0.2", pod: "b1" }], ports: [{ name: "grpc", port: 9000 }] }));
    fake.endpointSlices.create(makeEndpointSlice({ name: "c", namespace: "other", service: "c", endpoints: [{ ip: "10.0.1.1", pod: "c1" }], ports: [{ name: "grpc", port: 9000 }] }));
    const wa = await discovery.watch("kubernetes:///a.shop:grpc");
    const wa2 = await discovery.watch("kubernetes:///a.shop:9000");
    const wb = await discovery.watch("kubernetes:///b:grpc");
    const wc = await discovery.watch("kubernetes://other/c:grpc");
    assert.deepEqual([view(await wa.next()), view(await wa2.next()), view(await wb.next()), view(await wc.next())], [
      ["a1=grpc://10.0.0.1:9000"],
      ["a1=grpc://10.0.0.1:9000"],
      ["b1=grpc://10.0.0.2:9000"],
      ["c1=grpc://10.0.1.1:9000"],
    ]);
    assert.equal(sliceWatches(fake, "shop"), 1, "one watch for three targets in shop");
    assert.equal(sliceWatches(fake, "other"), 1);
    assert.equal(fake.openWatches, 2);
    await wc.stop();
    await turns(() => fake.openWatches === 1, "the watch of other stopped with its last target");
    await wa.stop();
    await wa2.stop();
    assert.equal(fake.openWatches, 1, "b still holds shop");
    await wb.stop();
    await turns(() => fake.openWatches === 0, "no target left");
    const again = await discovery.watch("kubernetes://other/c:grpc");
    assert.deepEqual(view(await again.next()), ["c1=grpc://10.0.1.1:9000"], "started again on first use");
    await again.stop();
  });

  it("discovery://namespace/name watches that namespace's Kratos pods beside the watched ones", async () => {
    const { fake, registry } = setup();
    fake.createPod(makePod({ name: "mine", namespace: "shop", app: "s", ip: "10.0.0.1", ports: [{ name: "grpc", containerPort: 9000 }] }));
    fake.createPod(makePod({ name: "theirs", namespace: "other", app: "s", ip: "10.0.1.1", ports: [{ name: "grpc", containerPort: 9000 }] }));
    assert.deepEqual((await registry.getService("s")).map((i) => i.id), ["mine"]);
    const w = await registry.watch("discovery://other/s");
    assert.deepEqual((await w.next()).map((i) => i.id), ["theirs"]);
    assert.deepEqual((await registry.getService("discovery://shop/s")).map((i) => i.id), ["mine"]);
    const podWatches = (ns: string) => fake.requests.filter((r) => r.watch && r.path === `/api/v1/namespaces/${ns}/pods`).length;
    assert.equal(podWatches("other"), 1);
    await w.stop();
    await turns(() => fake.openWatches === 1, "the pod watch of other stopped; the watched namespace's stays");
    assert.equal(podWatches("shop"), 1);
  });

  it("says where a set comes from: synced, failing while the watch fails, synced again", async () => {
    const { fake, discovery, clock } = setup();
    fake.endpointSlices.create(makeEndpointSlice({ name: "a", namespace: "shop", service: "a", endpoints: [{ ip: "10.0.0.1", pod: "a1" }], ports: [{ name: "grpc", port: 9000 }] }));
    const w = await discovery.watch("kubernetes:///a:grpc");
    assert.equal(w.state, "synced");
    assert.deepEqual(view(await w.next()), ["a1=grpc://10.0.0.1:9000"]);
    fake.faults.failNext(1, { status: 500, body: "boom", contentType: "text/plain" });
    fake.faults.dropWatches();
    await turns(() => w.state === "failing", "the failed re-watch marks the set failing");
    fake.endpointSlices.update("shop", "a", (s) => s.endpoints!.push({ addresses: ["10.0.0.2"], targetRef: { kind: "Pod", namespace: "shop", name: "a2" } }));
    // Time moves until the loop's backoff ends and its relist brings the change.
    const set = await advanceUntil(clock, w.next());
    assert.deepEqual(view(set), ["a1=grpc://10.0.0.1:9000", "a2=grpc://10.0.0.2:9000"]);
    await turns(() => w.state === "synced", "synced again after the relist");
    await w.stop();
  });

  it("names a missing endpointslices grant (FORBIDDEN) and rejects bad targets with INVALID_TARGET", async () => {
    const { discovery } = setup({
      token: "t",
      tokens: { t: { user: "system:serviceaccount:shop:client", resources: ["pods"], verbs: ["list", "watch"] } },
    });
    await assert.rejects(discovery.watch("kubernetes:///greeter.shop:grpc"), (e: unknown) =>
      e instanceof RegistryError && e.code === "FORBIDDEN" &&
      e.message.startsWith('cannot list endpointslices in namespace shop as system:serviceaccount:shop:client; grant it "list" on endpointslices'));
    await assert.rejects(discovery.watch("kubernetes:///Greeter"), (e: unknown) => e instanceof RegistryError && e.code === "INVALID_TARGET");
  });
});

describe("createDiscoveryTransport over EndpointSlices", () => {
  it("calls real servers through kubernetes:///svc.ns:grpc, the named port resolved per slice", watchdog, async () => {
    const servers: TestServer[] = await Promise.all([startServer(), startServer(), startServer()]);
    open.push({ close: async () => void (await Promise.all(servers.map((s) => s.close()))) });
    const { fake, discovery, clock } = setup({ loopback: true });
    servers.forEach((s, i) =>
      fake.endpointSlices.create(makeEndpointSlice({ name: `echo-${i}`, namespace: "shop", service: "echo", endpoints: [{ ip: "127.0.0.1", pod: `echo-${i}` }], ports: [{ name: "grpc", port: s.port }, { name: "http", port: 1 }] }))
    );
    const transport = createDiscoveryTransport({ discovery, target: "kubernetes:///echo.shop:grpc" });
    open.push(transport);
    await transport.ready({ count: 3 });
    const client = createClient(Echo, transport);
    const seen = new Set<string>();
    for (let i = 0; i < 30; i++) seen.add((await client.say({ text: `n${i}` })).server);
    assert.deepEqual([...seen].sort(), servers.map((s) => s.address).sort());
    // The slice goes; its endpoint stays through the grace window (a move would have kept it), then leaves.
    const w = await discovery.watch("kubernetes:///echo.shop:grpc");
    assert.equal((await w.next()).length, 3);
    const next = w.next();
    let changed = false;
    void next.then(() => (changed = true));
    fake.endpointSlices.delete("shop", "echo-0");
    let waited = 0;
    while (!changed) {
      assert.ok(waited < 2_000 || transport.endpoints().some((e) => e.address === servers[0]!.address && e.state === "ready"), "kept through the grace window");
      await clock.advance(250);
      await new Promise((r) => setTimeout(r, 0));
      waited += 250;
    }
    assert.ok(waited >= 2_000, `removed after the grace window, not before (${waited} ms)`);
    assert.equal((await next).length, 2);
    await turns(() => !transport.endpoints().some((e) => e.address === servers[0]!.address && e.state === "ready"), "echo-0 left the picker");
    await w.stop();
  });
});
