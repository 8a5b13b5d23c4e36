/**
 * A TypeScript service built with `kratos-kube/app` next to a Go Kratos
 * client (Kratos v2 with its own `contrib/registry/kubernetes`,
 * test/peers/kratos) through a real kube-apiserver: the Go client sees the
 * App's instance appear on `run()` and disappear on `stop()`, and a rolling
 * restart of three App-based Pods under continuous Go calls through
 * `discovery:///` fails no call.
 *
 * Go Kratos keeps a terminating Pod in its view while its phase is Running;
 * what takes it out is the App's stop order: NOT_SERVING, deregister (the
 * labels go, the Go informer drops the Pod), keep serving for the shutdown
 * delay, drain, GOAWAY, close.
 */
import { before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { randomInt } from "node:crypto";
import type { ConnectRouter } from "@connectrpc/connect";
import { KubeConfig } from "../../src/kube/config.ts";
import { KubernetesRegistry } from "../../src/index.ts";
import { createApp, grpcServer, type App } from "../../src/app/index.ts";
import { Greeter } from "../../proto/gen/helloworld_pb.ts";
import { newNamespace, realSkip, sharedCluster, type Cluster } from "../support/real-cluster.ts";
import { finishTermination, runPod, setStatus, terminate } from "../support/kubelet.ts";
import { cleanups } from "../support/real-watch.ts";
import { KratosPeers, kratosPeerMissing, type GoInstance, type KratosClient } from "../peers/kratos/peer.ts";
import { WAIT_LIMIT_MS, within } from "../connect/support/load.ts";

// In CI nothing skips: a missing toolchain or mount namespace fails the suite.
const skip = realSkip() ?? (process.env.CI === "true" ? undefined : kratosPeerMissing());

/** One loopback /24 per run, so parallel runs on a machine do not share addresses. */
const NET = `127.0.${randomInt(10, 99)}`;
let nextHost = 10;
const PORT = 9000;
const SERVICE = "tsapp";

const closers = cleanups();
let cluster: Cluster;
let peers: KratosPeers;

function goWatch(client: KratosClient, pred: (set: GoInstance[]) => boolean, what: string): Promise<GoInstance[]> {
  return within(
    new Promise<GoInstance[]>((resolve, reject) => {
      client.watch(SERVICE, (set) => pred(set) && resolve(set)).catch(reject);
    }),
    WAIT_LIMIT_MS,
    () => `Go Watch(${SERVICE}): ${what}`,
  );
}

interface AppPod {
  readonly name: string;
  readonly app: App;
  readonly done: Promise<unknown>;
}

/**
 * An App-based service in a Pod of its own, started the way a Deployment
 * starts it: the Pod exists (Pending, no IP), the App runs and registers,
 * then the kubelet reports it Running and Ready with its IP.
 */
async function appPod(ns: string, name: string): Promise<AppPod> {
  const ip = `${NET}.${nextHost++}`;
  await runPod(cluster, { namespace: ns, name, ip: null, ports: [{ name: "grpc", containerPort: PORT }] }, null);
  const registry = new KubernetesRegistry({
    config: KubeConfig.fromOptions({ server: cluster.url, caPem: cluster.caPem, token: cluster.adminToken, namespace: ns }),
    podName: name,
    podNamespace: ns,
  });
  closers.push(() => registry.close());
  const routes = (router: ConnectRouter): void => {
    router.service(Greeter, { sayHello: (req) => ({ message: `Hello ${req.name} from ${name}` }) });
  };
  let started!: () => void;
  const running = new Promise<void>((resolve) => (started = resolve));
  const app = createApp({
    id: name,
    name: SERVICE,
    version: "v1.0.0",
    metadata: { lang: "typescript" },
    registrar: registry,
    servers: [grpcServer({ port: PORT, host: ip, routes })],
    signals: false,
    logger: false,
    afterStart: () => started(),
  });
  const done = app.run();
  closers.push(async () => {
    await app.stop();
    await done.catch(() => {});
  });
  await within(running, WAIT_LIMIT_MS, () => `App ${name} running`);
  await setStatus(cluster, ns, name, { ips: [ip], ready: true });
  return { name, app, done };
}

describe("kratos-kube/app services called by a Go Kratos client through a real kube-apiserver", { skip }, () => {
  before(async () => {
    cluster = await sharedCluster();
    peers = new KratosPeers();
    closers.push(() => peers.close());
  });

  it("the Go client sees the App appear on run() and disappear on stop(); a rolling restart under continuous Go calls fails none", { timeout: 150_000 }, async () => {
    const ns = await newNamespace(cluster, "app-go");
    const go = await peers.client({ kubeconfig: cluster.kubeconfig(undefined, ns), namespace: ns });
    closers.push(() => go.close());

    const appeared = goWatch(go, (s) => s.some((i) => i.id === "a-0"), "a-0 registered");
    const first = await appPod(ns, "a-0");
    const seen = await appeared;
    assert.deepEqual(seen.find((i) => i.id === "a-0")?.endpoints, [`grpc://${NET}.10:${PORT}`]);
    assert.deepEqual(await go.call(SERVICE), { reply: "Hello kratos-go from a-0" });

    const pods = [first, await appPod(ns, "a-1"), await appPod(ns, "a-2")];
    await goWatch(go, (s) => s.length === 3, "three instances");

    // Continuous calls from Go, one after the other, while the Pods roll.
    let stop = false;
    const results: string[] = [];
    const failures: string[] = [];
    const caller = (async () => {
      while (!stop) {
        const r = await go.call(SERVICE);
        if ("reply" in r) results.push(r.reply.replace(/^Hello kratos-go from /, ""));
        else failures.push(`${r.code}: ${r.message}`);
      }
    })();
    const callsSoFar = async (n: number): Promise<void> => {
      const target = results.length + n;
      while (results.length < target && failures.length === 0) await new Promise((r) => setTimeout(r, 20));
    };
    // Until each of `ids` answered a call (the Go client picks at random: a fixed count of calls may miss one).
    const answered = async (ids: string[]): Promise<void> => {
      while (!ids.every((id) => results.includes(id)) && failures.length === 0) await new Promise((r) => setTimeout(r, 20));
    };
    await answered(["a-0", "a-1", "a-2"]);

    for (const [i, old] of pods.entries()) {
      const fresh = `a-${i + 3}`;
      const added = goWatch(go, (s) => s.some((x) => x.id === fresh), `${fresh} registered`);
      await appPod(ns, fresh);
      await added;
      // The kubelet: deletionTimestamp first, then SIGTERM (the App's stop).
      await terminate(cluster, ns, old.name, 30);
      const gone = goWatch(go, (s) => !s.some((x) => x.id === old.name), `${old.name} deregistered`);
      const stopped = old.app.stop();
      await gone;
      await stopped;
      await old.done;
      await finishTermination(cluster, ns, old.name);
      await callsSoFar(10);
    }
    await answered(["a-3", "a-4", "a-5"]);
    stop = true;
    await caller;
    assert.deepEqual(failures, [], "no Go call failed during the rolling restart");
    assert.ok(results.length >= 30, `${results.length} calls`);
    assert.deepEqual([...new Set(results)].sort(), ["a-0", "a-1", "a-2", "a-3", "a-4", "a-5"], "every old and new App answered");
    assert.deepEqual((await go.getService(SERVICE)).map((i) => i.id).sort(), ["a-3", "a-4", "a-5"]);
  });
});
