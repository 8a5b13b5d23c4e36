/**
 * kratos-kube next to real Go Kratos services (Kratos v2 with its own
 * `contrib/registry/kubernetes`, test/peers/kratos) through a real
 * kube-apiserver, both ways:
 *
 * - a Go Kratos server registers its Pod; KubernetesRegistry sees the same
 *   instance as Go's GetService, and the balancing transport calls it;
 * - a kratos-kube server registers through KubernetesRegistry; Go's
 *   GetService returns what it wrote and a Go Kratos client calls it through
 *   `discovery:///name`;
 * - a rolling restart of three Go Kratos Pods (surge one, Ready, then the old
 *   one terminating, then SIGTERM: Kratos deregisters and stops gracefully)
 *   under continuous kratos-kube calls fails no call with the default
 *   `ready` selection.
 *
 * The test plays the kubelet (test/support/kubelet.ts): Pods get loopback
 * IPs (127.0.x.y, one x per run) and container port 9000 named `grpc`, where
 * the servers listen.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import * as http2 from "node:http2";
import { randomInt } from "node:crypto";
import { createClient, type ConnectRouter } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { KubeConfig } from "../../src/kube/config.ts";
import { KubernetesRegistry, type ServiceInstance, type ServiceWatcher } from "../../src/index.ts";
import { createDiscoveryTransport } from "../../src/connect/index.ts";
import { HealthState } from "../../src/app/health.ts";
import { registerHealthService } from "../../src/app/health-service.ts";
import { Greeter } from "../../proto/gen/helloworld_pb.ts";
import { newNamespace, realSkip, releaseSharedCluster, sharedCluster, type Cluster } from "../support/real-cluster.ts";
import { finishTermination, runPod, setStatus, terminate } from "../support/kubelet.ts";
import { KratosPeers, kratosPeerMissing, type GoInstance, type KratosClient, type KratosServer } from "../peers/kratos/peer.ts";
import { createWaiter, denoPrematureClose, startLoad, WAIT_LIMIT_MS, within } from "../connect/support/load.ts";

// In CI nothing skips: a missing toolchain or mount namespace fails the suite.
const skip = realSkip() ?? (process.env.CI === "true" ? undefined : kratosPeerMissing());

/** One loopback /24 per run, so parallel runs on a machine do not share addresses. */
const NET = `127.0.${randomInt(100, 250)}`;
let nextHost = 10;
const newIp = (): string => `${NET}.${nextHost++}`;
const PORT = 9000;
const grpcPort = [{ name: "grpc", containerPort: PORT }];

const closers: (() => Promise<unknown>)[] = [];
let cluster: Cluster;
let peers: KratosPeers;

after(async () => {
  for (const c of closers.reverse()) await c().catch(() => {});
  await peers?.close();
  await releaseSharedCluster();
});

/** Go's instance with nil maps/slices as kratos-kube's empty ones. */
const normalise = (i: GoInstance): ServiceInstance => ({ ...i, metadata: i.metadata ?? {}, endpoints: i.endpoints ?? [] });
const byId = <T extends { id: string }>(xs: T[]): T[] => [...xs].sort((a, b) => a.id.localeCompare(b.id));

function registry(ns: string, podName?: string): KubernetesRegistry {
  const r = new KubernetesRegistry({
    config: KubeConfig.fromOptions({ server: cluster.url, caPem: cluster.caPem, token: cluster.adminToken, namespace: ns }),
    namespace: ns,
    podNamespace: ns,
    ...(podName === undefined ? {} : { podName }),
  });
  closers.push(() => r.close());
  return r;
}

async function until(w: ServiceWatcher, pred: (set: ServiceInstance[]) => boolean, what: string): Promise<ServiceInstance[]> {
  for (;;) {
    const set = await within(w.next(), WAIT_LIMIT_MS, () => what);
    if (pred(set)) return set;
  }
}

/** Resolves with Go's Watch update once `pred` holds for it. */
function goWatch(client: KratosClient, service: string, pred: (set: GoInstance[]) => boolean, what: string): Promise<GoInstance[]> {
  return within(
    new Promise<GoInstance[]>((resolve, reject) => {
      client.watch(service, (set) => pred(set) && resolve(set)).catch(reject);
    }),
    WAIT_LIMIT_MS,
    () => `Go Watch(${service}): ${what}`,
  );
}

/** A Go Kratos server in a Running, Ready Pod of its own. */
async function goServerPod(ns: string, pod: string, o: { ip?: string; version?: string; metadata?: Record<string, string> } = {}): Promise<{ server: KratosServer; address: string }> {
  const ip = o.ip ?? newIp();
  await runPod(cluster, { namespace: ns, name: pod, ip, ports: grpcPort });
  const server = await peers.server({
    kubeconfig: cluster.kubeconfig(undefined, ns),
    namespace: ns,
    podName: pod,
    addr: `${ip}:${PORT}`,
    id: pod,
    name: "helloworld",
    version: o.version ?? "v1.0.0",
    ...(o.metadata === undefined ? {} : { metadata: o.metadata }),
  });
  closers.push(() => server.kill());
  return { server, address: `${ip}:${PORT}` };
}

/** A kratos-kube gRPC server (connect-node on node:http2, h2c) answering Greeter and grpc.health.v1. */
async function tsGreeter(ip: string): Promise<{ close(): Promise<void> }> {
  const health = new HealthState();
  health.set(true);
  const routes = (router: ConnectRouter): void => {
    router.service(Greeter, { sayHello: (req) => ({ message: `Hello ${req.name} from kratos-kube` }) });
    registerHealthService(router, health, new Set([Greeter.typeName]));
  };
  const server = http2.createServer(connectNodeAdapter({ routes }));
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on("session", (s) => {
    sessions.add(s);
    s.on("close", () => sessions.delete(s));
    s.on("error", () => {});
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(PORT, ip, () => resolve());
  });
  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    health.set(false);
    for (const s of sessions) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  closers.push(close);
  return { close };
}

function transportFor(r: KubernetesRegistry, service: string) {
  const waiter = createWaiter(() => JSON.stringify(transport.endpoints()));
  const transport = createDiscoveryTransport({ discovery: r, target: `discovery:///${service}`, onEvent: () => waiter.notify() });
  closers.push(() => transport.close());
  return {
    transport,
    client: createClient(Greeter, transport),
    state: (address: string) => transport.endpoints().find((e) => e.address === address)?.state,
    until: (pred: () => boolean) => waiter.until(pred),
  };
}

describe("Go Kratos interop through a real kube-apiserver", { skip }, () => {
  before(async () => {
    cluster = await sharedCluster();
    peers = new KratosPeers();
  });

  it("a Go Kratos server registers its Pod; kratos-kube sees what Go sees and calls it", { timeout: 110_000 }, async () => {
    const ns = await newNamespace(cluster, "kratos-go");
    const metadata = { region: "eu-west-1", zone: "eu-west-1a", weight: "100" };
    const { server, address } = await goServerPod(ns, "go-1", { version: "v1.2.3", metadata });
    assert.deepEqual(server.endpoints, [`grpc://${address}`], "Kratos's endpoint is the listen address");

    const pod = (await cluster.request({ path: `/api/v1/namespaces/${ns}/pods/go-1` })).json;
    assert.equal(pod.metadata.labels["kratos-service-app"], "helloworld");
    assert.deepEqual(JSON.parse(pod.metadata.annotations["kratos-service-protocols"]), { [String(PORT)]: "grpc" });

    const expected: ServiceInstance = { id: "go-1", name: "helloworld", version: "v1.2.3", metadata, endpoints: [`grpc://${address}`] };
    const go = await peers.client({ kubeconfig: cluster.kubeconfig(undefined, ns), namespace: ns });
    const goSees = (await go.getService("helloworld")).map(normalise);
    assert.deepEqual(goSees, [expected], "Go's GetService");
    const r = registry(ns);
    assert.deepEqual(await r.getService("helloworld"), goSees, "KubernetesRegistry sees the instance Go sees");

    const t = transportFor(r, "helloworld");
    await t.until(() => t.state(address) === "ready");
    const { message } = await t.client.sayHello({ name: "kratos-kube" });
    assert.equal(message, "Hello kratos-kube from go-1");
    assert.deepEqual(await go.call("helloworld"), { reply: "Hello kratos-go from go-1" }, "and so does the Go client");

    // Done calling. (Deno 2.9 crashes, SIGSEGV, when a grpc-go server's GracefulStop
    // reaches an idle connect-node HTTP/2 session, with or without kratos-kube's transport.)
    await t.transport.close();
    // SIGTERM: Kratos deregisters (its labels and annotations emptied), then stops.
    const w = await r.watch("helloworld");
    closers.push(() => w.stop());
    assert.equal(await server.stop(), true, `a clean Kratos stop:\n${server.log()}`);
    await until(w, (s) => s.length === 0, "go-1 deregistered");
    const gone = (await cluster.request({ path: `/api/v1/namespaces/${ns}/pods/go-1` })).json;
    assert.equal(gone.metadata.labels["kratos-service-app"], "", "Kratos deregisters by writing empty labels");
    assert.deepEqual(await go.getService("helloworld"), []);
    await go.close();
  });

  it("a kratos-kube server registers through KubernetesRegistry; a Go Kratos client discovers and calls it", { timeout: 110_000 }, async () => {
    const ns = await newNamespace(cluster, "kratos-ts");
    const ip = newIp();
    await tsGreeter(ip);
    await runPod(cluster, { namespace: ns, name: "ts-1", ip, ports: grpcPort, labels: { app: "tsgreeter" } });
    const go = await peers.client({ kubeconfig: cluster.kubeconfig(undefined, ns), namespace: ns });
    const registered = goWatch(go, "tsgreeter", (s) => s.length === 1, "ts-1 registered");

    const r = registry(ns, "ts-1");
    const instance: ServiceInstance = {
      id: "ts-1",
      name: "tsgreeter",
      version: "v2.0.0",
      metadata: { lang: "typescript", region: "eu-west-1" },
      endpoints: [`grpc://0.0.0.0:${PORT}`],
    };
    await r.register(instance);
    const written: ServiceInstance = { ...instance, endpoints: [`grpc://${ip}:${PORT}`] };
    assert.deepEqual((await registered).map(normalise), [written], "Go's Watch");
    assert.deepEqual((await go.getService("tsgreeter")).map(normalise), [written], "Go's GetService returns the instance kratos-kube wrote");
    assert.deepEqual(await r.getService("tsgreeter"), [written], "and kratos-kube reads the same back");

    assert.deepEqual(await go.call("tsgreeter"), { reply: "Hello kratos-go from kratos-kube" });

    const deregistered = goWatch(go, "tsgreeter", (s) => s.length === 0, "ts-1 deregistered");
    await r.deregister(instance);
    assert.deepEqual(await deregistered, []);
    await go.close();
  });

  it("a rolling restart of three Go Kratos Pods under continuous kratos-kube calls fails no call (selection ready)", { timeout: 110_000 }, async () => {
    const ns = await newNamespace(cluster, "kratos-roll");
    const pods = await Promise.all(["r-0", "r-1", "r-2"].map((name) => goServerPod(ns, name).then((p) => ({ name, ...p }))));
    const r = registry(ns);
    const t = transportFor(r, "helloworld");
    await within(t.transport.ready({ count: 3 }), WAIT_LIMIT_MS, () => "3 ready endpoints");
    const answered = new Set<string>();
    const load = startLoad(async () => {
      const { message } = await t.client.sayHello({ name: "roll" });
      answered.add(/^Hello roll from (\S+)$/.exec(message)?.[1] ?? message);
    }, 4);
    closers.push(async () => load.halt());
    await load.completed(30);

    const current = [...pods];
    for (const [i, old] of pods.entries()) {
      // Surge: the new Pod starts (Pending, no IP), its Kratos server registers, then the kubelet reports it Running and Ready.
      const name = `r-${i + 3}`;
      const ip = newIp();
      await runPod(cluster, { namespace: ns, name, ports: grpcPort, ip: null }, null);
      const server = await peers.server({ kubeconfig: cluster.kubeconfig(undefined, ns), namespace: ns, podName: name, addr: `${ip}:${PORT}`, id: name, name: "helloworld", version: "v1.0.1" });
      closers.push(() => server.kill());
      await setStatus(cluster, ns, name, { ips: [ip], ready: true });
      const address = `${ip}:${PORT}`;
      await t.until(() => t.state(address) === "ready");
      current.push({ name, server, address });
      // The old Pod: deleted gracefully (terminating), dropped by selection "ready", then SIGTERM and gone.
      await terminate(cluster, ns, old.name, 30);
      await t.until(() => t.state(old.address) === undefined);
      assert.equal(await old.server.stop(), true, `a clean Kratos stop:\n${old.server.log()}`);
      await finishTermination(cluster, ns, old.name);
      current.splice(current.indexOf(old), 1);
      await load.completed(30);
    }
    await load.stop();
    // Deno's node:http2 client alone fails calls whose answer had started when a server closes after its GOAWAY drain (see load.ts).
    assert.deepEqual(load.errors.filter((e) => !denoPrematureClose(e)), []);
    assert.ok(load.ok >= 120, `${load.ok} calls`);
    assert.deepEqual([...answered].sort(), ["r-0", "r-1", "r-2", "r-3", "r-4", "r-5"], "every old and new server answered");
    assert.deepEqual(
      t.transport.endpoints().map((e) => e.address).sort(),
      current.map((p) => p.address).sort(),
    );
    assert.deepEqual(byId(await r.getService("helloworld")).map((s) => s.id), ["r-3", "r-4", "r-5"]);
  });
});
