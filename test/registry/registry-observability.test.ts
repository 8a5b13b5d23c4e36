/**
 * The registry's telemetry and logger against the fake API server (its
 * `fetch` injected, a manual clock): relists, a watch reconnect after a
 * dropped watch, events and their lag, cache size, skipped pods in the log.
 */
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Clock, TimerHandle } from "../../src/kube/clock.ts";
import { KubeConfig } from "../../src/kube/config.ts";
import { FakeKubeApiServer, makePod } from "../../src/testing/index.ts";
import { KubernetesRegistry, type LogRecord, type ServiceInstance, type ServiceWatcher } from "../../src/index.ts";
import { countOf, createTestOtel, sumOf, type TestOtel } from "../connect/support/otel.ts";

class ManualClock implements Clock {
  t = 0;
  #timers = new Set<{ at: number; fn: () => void }>();
  #onSet = new Set<(ms: number) => void>();
  now(): number {
    return this.t;
  }
  setTimeout(fn: () => void, ms: number): TimerHandle {
    const timer = { at: this.t + ms, fn };
    this.#timers.add(timer);
    for (const l of [...this.#onSet]) l(ms);
    return { cancel: () => void this.#timers.delete(timer) };
  }
  /** Resolves with the delay of the next timer set. */
  timerSet(): Promise<number> {
    return new Promise((resolve) => {
      const l = (m: number): void => {
        this.#onSet.delete(l);
        resolve(m);
      };
      this.#onSet.add(l);
    });
  }
  advance(ms: number): void {
    this.t += ms;
    for (const timer of [...this.#timers].sort((a, b) => a.at - b.at)) {
      if (timer.at > this.t) continue;
      this.#timers.delete(timer);
      timer.fn();
    }
  }
}

const open: { close(): Promise<void> }[] = [];
after(async () => {
  for (const o of open.reverse()) await o.close();
});

async function until(w: ServiceWatcher, pred: (set: ServiceInstance[]) => boolean): Promise<ServiceInstance[]> {
  for (;;) {
    const set = await w.next();
    if (pred(set)) return set;
  }
}

const HOUR = 3_600_000;
const PODS = { "kratos_kube.k8s.resource": "pods", "k8s.namespace.name": "shop" };

describe("registry observability", () => {
  it("counts relists, reconnects and events, observes the cache size and the event lag, logs what it skipped", async () => {
    const clock = new ManualClock();
    const fake = new FakeKubeApiServer({ clock });
    const t: TestOtel = createTestOtel();
    const records: LogRecord[] = [];
    const registry = new KubernetesRegistry({
      config: KubeConfig.fromOptions({ server: "http://127.0.0.1:6443", namespace: "shop", token: "s3cr3t-token" }),
      fetch: fake.fetch,
      clock,
      podName: "me",
      podNamespace: "shop",
      telemetry: t.options,
      logger: (r) => records.push(r),
    });
    open.push(fake, registry, t);
    const old = new Date(Date.now() - HOUR);
    fake.createPod(makePod({ name: "a", namespace: "shop", app: "s", creationTimestamp: old }));
    const w = await registry.watch("s");
    assert.deepEqual((await w.next()).map((i) => i.id), ["a"]);
    assert.equal(sumOf(await t.points("kratos_kube.k8s.relists"), PODS), 1);
    assert.equal(sumOf(await t.points("kratos_kube.k8s.cache.objects"), PODS), 1);
    assert.ok(records.some((r) => r.level === "info" && r.message === "relisted" && r.fields.objects === 1 && r.fields.namespace === "shop"), JSON.stringify(records));

    const sentAt = Date.now();
    fake.createPod(makePod({ name: "b", namespace: "shop", app: "s", creationTimestamp: old }));
    await until(w, (s) => s.length === 2);
    assert.equal(sumOf(await t.points("kratos_kube.k8s.watch.events"), { ...PODS, "kratos_kube.k8s.event.type": "ADDED" }), 1);
    const lag = await t.points("kratos_kube.k8s.watch.event.lag");
    assert.equal(countOf(lag, PODS), 1);
    const lagSeconds = (lag[0]!.value as { sum: number }).sum;
    const floor = (sentAt - Math.floor(old.getTime() / 1000) * 1000) / 1000;
    assert.ok(lagSeconds >= floor && lagSeconds < floor + 60, `lag ${lagSeconds} s, written ${floor} s before the event`);
    assert.equal(sumOf(await t.points("kratos_kube.k8s.cache.objects"), PODS), 2);

    const backoff = clock.timerSet();
    fake.faults.dropWatches();
    const ms = await backoff;
    fake.createPod(makePod({ name: "c", namespace: "shop", app: "s", metadata: "{not json" }));
    fake.createPod(makePod({ name: "d", namespace: "shop", app: "s" }));
    const next = until(w, (s) => s.length === 3);
    clock.advance(ms);
    assert.deepEqual((await next).map((i) => i.id), ["a", "b", "d"]);
    const reconnects = sumOf(await t.points("kratos_kube.k8s.watch.reconnects"), PODS);
    const relists = sumOf(await t.points("kratos_kube.k8s.relists"), PODS);
    assert.equal(reconnects + relists, 2, `reconnects ${reconnects}, relists ${relists}: the dropped watch was followed by one new watch`);
    assert.equal(reconnects, 1, "resumed from the last resourceVersion");
    assert.ok(records.some((r) => r.message === "watch reconnected" && r.fields.resource === "pods"));
    assert.ok(records.some((r) => r.message === "watch failed, retrying" && r.level === "warn"));
    const skipped = records.find((r) => r.message === "pod skipped");
    assert.ok(skipped !== undefined && skipped.fields.pod === "c" && skipped.fields.namespace === "shop" && typeof skipped.fields.reason === "string");
    assert.ok(!JSON.stringify(records).includes("s3cr3t"), "no token in any record");
    await w.stop();
  });
});
