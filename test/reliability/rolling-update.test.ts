/**
 * Rolling update under load (issue 8, item 1): three replicas of a service
 * (connect-node servers on 127.0.0.1, their Pods in the fake API server) are
 * replaced one at a time with a graceful termination — MODIFIED with a
 * deletionTimestamp, then the server drains, then DELETED — while a client
 * calls through `KubernetesRegistry` + `createDiscoveryTransport` at 300
 * RPC/s.
 *
 * Every step waits on a signal, never on time: the new replica is ready in
 * the transport; an independent pod cache (and, with "ready", the transport)
 * has observed the deletionTimestamp; the old server's calls have drained;
 * the DELETED event has reached the transport. The drain window ("the
 * terminationGracePeriod") is measured in calls, not seconds: it ends as soon
 * as the client stopped sending to the pod, or after the server turned away
 * GRACE_REFUSALS new calls — which only happens when the client keeps picking
 * a terminating pod.
 *
 * With selection "ready" the client drops a pod at the MODIFIED event, before
 * the server drains: 0 failed calls. With selection "kratos" (Go Kratos's
 * rule, phase Running only) it keeps picking the terminating pod until
 * DELETED, and the calls it sends there during the drain fail UNAVAILABLE.
 */
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { Code, createClient } from "@connectrpc/connect";
import { createDiscoveryTransport, type DiscoveryTransport } from "../../src/connect/index.ts";
import { createKubeClient } from "../../src/kube/client.ts";
import { KubeConfig } from "../../src/kube/config.ts";
import { createPodCache } from "../../src/registry/pod-cache.ts";
import { KubernetesRegistry } from "../../src/index.ts";
import { FakeKubeApiServer, makePod } from "../../src/testing/index.ts";
import { Greeter } from "../../proto/gen/helloworld_pb.ts";
import { startReplica, type Replica } from "./support/drain-server.ts";
import { createWaiter, startRateLoad, type RateLoad } from "./support/load.ts";

const NS = "default";
const APP = "sayhello.service";
const RATE = 300;
/** Calls a draining server turns away before its "grace period" ends (only reached when the client keeps picking it). */
const GRACE_REFUSALS = 3;
/** Completed calls between steps, so every phase runs under load. */
const CALLS_PER_PHASE = 60;

const closers: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of closers.reverse()) await c().catch(() => {});
});

interface RunResult {
  load: RateLoad;
  replicas: Replica[];
  transport: DiscoveryTransport;
}

async function rollingUpdate(selection: "ready" | "kratos"): Promise<RunResult> {
  const fake = new FakeKubeApiServer({ rechunk: 11 });
  closers.push(() => fake.close());
  const config = KubeConfig.fromOptions({ server: "http://127.0.0.1:6443", namespace: NS });
  const waiter = createWaiter();
  const registry = new KubernetesRegistry({ config, fetch: fake.fetch, namespace: NS, selection });
  closers.push(() => registry.close());
  // An independent watcher: the signal that a pod change was observed even when the registry's output does not change.
  const observerClient = createKubeClient({ config, fetch: fake.fetch });
  const observer = createPodCache({ api: observerClient, namespaces: [NS] });
  closers.push(async () => {
    await observer.close();
    await observerClient.close();
  });
  observer.subscribe(() => waiter.notify());
  observer.start();
  const transport = createDiscoveryTransport({ discovery: registry, target: `discovery:///${APP}`, onEvent: () => waiter.notify() });
  closers.push(() => transport.close());
  const client = createClient(Greeter, transport);
  const replicas: Replica[] = [];
  closers.push(async () => {
    for (const r of replicas) r.kill();
  });
  let serial = 0;
  const stateOf = (r: Replica): string | undefined => transport.endpoints().find((e) => e.address === r.address)?.state;

  const launch = async (): Promise<Replica> => {
    const name = `sayhello-${selection}-${serial++}`;
    const r = await startReplica(name);
    replicas.push(r);
    fake.createPod(makePod({ name, namespace: NS, app: APP, ip: "127.0.0.1", ports: [{ name: "grpc", containerPort: r.port }], ready: false }));
    fake.setReady(NS, name, true);
    await waiter.until(() => stateOf(r) === "ready");
    return r;
  };

  const replace = async (old: Replica): Promise<void> => {
    fake.deletePod(NS, old.name, { gracePeriodSeconds: 30 }); // MODIFIED with deletionTimestamp
    await waiter.until(() => observer.get(NS, old.name)?.terminating === true);
    if (selection === "ready") await waiter.until(() => stateOf(old) === undefined);
    // preStop done: SIGTERM, the server drains until the client stopped sending or its grace ran out.
    old.beginDrain();
    const clientDropped = waiter.until(() => stateOf(old) === undefined);
    await Promise.race([clientDropped, old.refusedAtLeast(GRACE_REFUSALS)]);
    await old.stop();
    fake.finishDeletion(NS, old.name); // DELETED
    await waiter.until(() => observer.get(NS, old.name) === undefined && stateOf(old) === undefined);
  };

  const initial = [await launch(), await launch(), await launch()];
  await transport.ready({ count: 3 });
  const load = startRateLoad({ call: () => client.sayHello({ name: "rolling" }, { timeoutMs: 5000 }), rate: RATE });
  closers.push(() => load.stop());
  await load.completed(CALLS_PER_PHASE);
  for (const old of initial) {
    await launch();
    await load.completed(CALLS_PER_PHASE);
    await replace(old);
    await load.completed(CALLS_PER_PHASE);
  }
  await load.stop();
  return { load, replicas, transport };
}

describe("rolling update of 3 replicas under load", () => {
  it('selection "ready": 0 failed calls, no draining server is sent a call', async () => {
    const { load, replicas } = await rollingUpdate("ready");
    const rate = load.sent / (load.elapsedMs / 1000);
    console.log(`# rolling update (ready): ${load.sent} calls in ${(load.elapsedMs / 1000).toFixed(2)} s (${rate.toFixed(0)}/s), ${load.failures.length} failed, ${load.shed} shed`);
    assert.deepEqual(load.failures, []);
    assert.equal(load.ok, load.sent);
    assert.ok(rate >= 200, `load rate ${rate.toFixed(0)}/s < 200/s (${load.shed} calls shed: this machine could not keep ${RATE}/s with 128 in flight)`);
    assert.equal(replicas.length, 6);
    for (const r of replicas.slice(0, 3)) {
      assert.equal(r.refused, 0, `${r.name} was sent calls while draining`);
      assert.ok(r.served > 0, `${r.name} served nothing before its replacement`);
    }
    for (const r of replicas.slice(3)) assert.ok(r.served > 0, `${r.name} served nothing`);
  });

  it('selection "kratos": terminating pods keep being picked, the calls they turn away fail UNAVAILABLE', async () => {
    const { load, replicas } = await rollingUpdate("kratos");
    const refused = replicas.reduce((n, r) => n + r.refused, 0);
    console.log(`# rolling update (kratos): ${load.sent} calls, ${load.failures.length} failed (${refused} refused by draining servers)`);
    // Each old replica's grace period ended by refusals: the client kept picking it after its deletionTimestamp.
    for (const r of replicas.slice(0, 3)) assert.ok(r.refused >= GRACE_REFUSALS, `${r.name} refused ${r.refused}`);
    assert.ok(load.failures.length >= 3 * GRACE_REFUSALS, `only ${load.failures.length} failed calls`);
    for (const f of load.failures) assert.equal(f.code, Code.Unavailable, f.message);
    assert.equal(load.failures.filter((f) => f.message.includes("shutting down")).length, refused, "every refused call is a failed call (not retried: it was sent)");
  });
});
