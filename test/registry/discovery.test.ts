/**
 * Discovery and service watchers over a scripted pod cache view (no I/O).
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import type { PodRecord } from "../../src/kube/pod-record.ts";
import { projectKratosPod as projectPod } from "../../src/registry/kratos-pods.ts";
import type { Pod } from "../../src/kube/wire.ts";
import { createDiscovery } from "../../src/registry/discovery.ts";
import type { PodCacheView, PodChange } from "../../src/registry/pod-cache-view.ts";
import { RegistryError } from "../../src/registry/errors.ts";

function record(o: { name: string; ns?: string; app?: string; ip?: string; ready?: boolean; rv?: string; metadata?: string; port?: number }): PodRecord {
  const pod: Pod = {
    metadata: {
      name: o.name,
      namespace: o.ns ?? "shop",
      uid: `uid-${o.name}`,
      resourceVersion: o.rv ?? "1",
      labels: o.app === undefined ? {} : { "kratos-service-app": o.app, "kratos-service-id": o.name, "kratos-service-version": "v1" },
      annotations: o.metadata === undefined ? {} : { "kratos-service-metadata": o.metadata },
    },
    spec: { containers: [{ name: "app", ports: [{ name: "grpc", containerPort: o.port ?? 9000 }] }] },
    status: { phase: "Running", podIP: o.ip ?? "10.0.0.1", conditions: [{ type: "Ready", status: o.ready === false ? "False" : "True" }] },
  };
  const r = projectPod(pod);
  assert.ok(typeof r !== "string");
  return r;
}

/** A pod cache view driven by the test. */
class ScriptedView implements PodCacheView {
  synced = false;
  readonly pods = new Map<string, PodRecord>();
  readonly listeners = new Set<(c: readonly PodChange[]) => void>();
  byAppCalls = 0;
  #resolve: () => void = () => {};
  #ready: Promise<void> = new Promise((resolve) => (this.#resolve = resolve));

  ready(signal?: AbortSignal): Promise<void> {
    if (this.synced) return Promise.resolve();
    if (signal === undefined) return this.#ready;
    signal.throwIfAborted();
    return Promise.race([
      this.#ready,
      new Promise<void>((_, reject) => signal.addEventListener("abort", () => reject(signal.reason), { once: true })),
    ]);
  }
  sync(): void {
    this.synced = true;
    this.#resolve();
  }
  byApp(app: string): readonly PodRecord[] {
    this.byAppCalls++;
    return [...this.pods.values()].filter((p) => p.labels["kratos-service-app"] === app);
  }
  subscribe(listener: (c: readonly PodChange[]) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  /** Applies records (upserts) and deletions as one batch. */
  apply(upserts: PodRecord[], deletes: string[] = []): void {
    const changes: PodChange[] = [];
    for (const p of upserts) {
      const k = `${p.namespace}/${p.name}`;
      const old = this.pods.get(k);
      this.pods.set(k, p);
      changes.push(old ? { type: "modified", pod: p, old } : { type: "added", pod: p });
    }
    for (const k of deletes) {
      const old = this.pods.get(k);
      if (!old) continue;
      this.pods.delete(k);
      changes.push({ type: "deleted", pod: old });
    }
    for (const l of this.listeners) l(changes);
  }
}

function setup(o: { onSkippedPod?: (p: { namespace: string; name: string }, reason: string) => void; selection?: "ready" | "kratos" } = {}) {
  const view = new ScriptedView();
  const discovery = createDiscovery({
    synced: async (signal) => {
      await view.ready(signal);
      return view;
    },
    selection: o.selection,
    onSkippedPod: o.onSkippedPod,
  });
  return { view, discovery };
}

const ids = (list: { id: string }[]): string[] => list.map((i) => i.id);

describe("discovery", () => {
  it("getService waits for the first sync, then answers from byApp, sorted by namespace/name", async () => {
    const { view, discovery } = setup();
    view.apply([record({ name: "b", app: "s" }), record({ name: "a", ns: "z", app: "s" }), record({ name: "c", app: "other" })]);
    const pending = discovery.getService("s");
    view.sync();
    assert.deepEqual(ids(await pending), ["b", "a"]);
    assert.deepEqual(await discovery.getService("nobody"), []);
  });

  it("getService rejects with the signal's reason when aborted before the sync", async () => {
    const { discovery } = setup();
    const ac = new AbortController();
    const p = discovery.getService("s", { signal: ac.signal });
    ac.abort(new Error("gave up"));
    await assert.rejects(p, /gave up/);
  });

  it("watch yields [] at once for an empty service, then the first instance", async () => {
    const { view, discovery } = setup();
    view.sync();
    const w = await discovery.watch("s");
    assert.deepEqual(await w.next(), []);
    const next = w.next();
    view.apply([record({ name: "p1", app: "s" })]);
    assert.deepEqual(ids(await next), ["p1"]);
    await w.stop();
  });

  it("coalesces a burst: a slow consumer gets only the latest state, with no rebuild from byApp", async () => {
    const { view, discovery } = setup();
    view.sync();
    const w = await discovery.watch("s");
    assert.deepEqual(await w.next(), []);
    const before = view.byAppCalls;
    for (let i = 0; i < 100; i++) view.apply([record({ name: `p${i}`, app: "s", ip: `10.0.1.${i}` })]);
    view.apply([], ["shop/p0"]);
    const latest = await w.next();
    assert.equal(latest.length, 99);
    assert.equal(latest[0]?.id, "p1");
    assert.equal(view.byAppCalls, before, "events update the set incrementally");
    const next = w.next();
    view.apply([record({ name: "p0", app: "s", ip: "10.0.2.1" })]);
    assert.equal((await next).length, 100);
    await w.stop();
  });

  it("does not yield a set identical to the last one (resourceVersion-only changes)", async () => {
    const { view, discovery } = setup();
    view.apply([record({ name: "p1", app: "s" })]);
    view.sync();
    const w = await discovery.watch("s");
    assert.deepEqual(ids(await w.next()), ["p1"]);
    const next = w.next();
    view.apply([record({ name: "p1", app: "s", rv: "2" })]); // same instance
    view.apply([record({ name: "p1", app: "s", rv: "3", port: 9001 })]); // a real change
    const got = await next;
    assert.deepEqual(got[0]?.endpoints, ["grpc://10.0.0.1:9001"]);
    await w.stop();
  });

  it("coalesces changes between two pulls: a change and its reversal yield the unchanged set once", async () => {
    const { view, discovery } = setup();
    view.apply([record({ name: "p1", app: "s" })]);
    view.sync();
    const w = await discovery.watch("s");
    assert.deepEqual((await w.next())[0]?.endpoints, ["grpc://10.0.0.1:9000"]);
    view.apply([record({ name: "p1", app: "s", rv: "2", port: 9001 })]);
    view.apply([record({ name: "p1", app: "s", rv: "3" })]); // back to port 9000 before the pull
    assert.deepEqual((await w.next())[0]?.endpoints, ["grpc://10.0.0.1:9000"]);
    const next = w.next();
    view.apply([record({ name: "p1", app: "s", rv: "4", port: 9002 })]);
    assert.deepEqual((await next)[0]?.endpoints, ["grpc://10.0.0.1:9002"]);
    await w.stop();
  });

  it("notifies both services when a label change moves a pod", async () => {
    const { view, discovery } = setup();
    view.apply([record({ name: "p1", app: "a" })]);
    view.sync();
    const wa = await discovery.watch("a");
    const wb = await discovery.watch("b");
    assert.deepEqual(ids(await wa.next()), ["p1"]);
    assert.deepEqual(await wb.next(), []);
    view.apply([record({ name: "p1", app: "b", rv: "2" })]);
    assert.deepEqual(await wa.next(), []);
    assert.deepEqual(ids(await wb.next()), ["p1"]);
    await wa.stop();
    await wb.stop();
  });

  it("skips and reports a malformed pod once, beside healthy ones", async () => {
    const skipped: string[] = [];
    const { view, discovery } = setup({ onSkippedPod: (p, reason) => skipped.push(`${p.namespace}/${p.name}: ${reason}`) });
    view.apply([record({ name: "good", app: "s" }), record({ name: "bad", app: "s", metadata: '{"weight":1}' })]);
    view.sync();
    assert.deepEqual(ids(await discovery.getService("s")), ["good"]);
    assert.deepEqual(ids(await discovery.getService("s")), ["good"]);
    assert.equal(skipped.length, 1);
    assert.match(skipped[0]!, /^shop\/bad: annotation kratos-service-metadata: value of "weight" is a number/);
  });

  it("applies the selection: unready pods leave the set with 'ready', stay with 'kratos'", async () => {
    for (const selection of ["ready", "kratos"] as const) {
      const { view, discovery } = setup({ selection });
      view.apply([record({ name: "p1", app: "s" }), record({ name: "p2", app: "s", ready: false })]);
      view.sync();
      assert.deepEqual(ids(await discovery.getService("s")), selection === "ready" ? ["p1"] : ["p1", "p2"]);
    }
  });

  it("stop() ends for-await iteration and pending next(); next() after stop rejects CLOSED", async () => {
    const { view, discovery } = setup();
    view.sync();
    const w = await discovery.watch("s");
    const seen: number[] = [];
    const loop = (async () => {
      for await (const set of w) {
        seen.push(set.length);
        if (seen.length === 1) void w.stop();
      }
    })();
    await loop;
    assert.deepEqual(seen, [0]);
    await assert.rejects(w.next(), (e: unknown) => e instanceof RegistryError && e.code === "CLOSED");
    assert.equal(view.listeners.size, 0, "the last watcher's stop ends the subscription");
  });

  it("an aborted signal stops the watcher; close() stops all and rejects later calls", async () => {
    const { view, discovery } = setup();
    view.sync();
    const ac = new AbortController();
    const w1 = await discovery.watch("s", { signal: ac.signal });
    const w2 = await discovery.watch("s");
    await w1.next();
    await w2.next();
    const p1 = w1.next();
    ac.abort();
    await assert.rejects(p1, (e: unknown) => e instanceof RegistryError && e.code === "CLOSED");
    const p2 = w2.next();
    await discovery.close();
    await assert.rejects(p2, (e: unknown) => e instanceof RegistryError && e.code === "CLOSED");
    await assert.rejects(discovery.getService("s"), (e: unknown) => e instanceof RegistryError && e.code === "CLOSED");
    assert.equal(view.listeners.size, 0);
  });

  it("returns frozen instances, so a consumer cannot corrupt the cache (endpoint arrays too, except on Bun: src/runtime/immutable.ts)", async () => {
    const { view, discovery } = setup();
    view.apply([record({ name: "p1", app: "s" })]);
    view.sync();
    const [i] = await discovery.getService("s");
    assert.ok(i && Object.isFrozen(i) && Object.isFrozen(i.metadata));
    assert.ok(Object.isFrozen(i.endpoints));
  });
});
