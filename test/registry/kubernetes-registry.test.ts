/**
 * KubernetesRegistry end to end against the fake API server (its `fetch`
 * handler injected, no sockets), with a manual clock: timers fire only when a
 * test advances time, and every wait is on a watcher's next set.
 */
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Clock, TimerHandle } from "../../src/kube/clock.ts";
import { KubeConfig } from "../../src/kube/config.ts";
import { FakeKubeApiServer, makePod } from "../../src/testing/index.ts";
import { KubernetesRegistry, RegistryError, registerPatchBody, type KubernetesRegistryOptions, type ServiceInstance, type ServiceWatcher } from "../../src/index.ts";

/** A clock whose timers fire only on {@link ManualClock.advance}. */
class ManualClock implements Clock {
  t = 0;
  #timers = new Set<{ at: number; fn: () => void }>();
  now(): number {
    return this.t;
  }
  #onSet = new Set<(ms: number) => void>();
  setTimeout(fn: () => void, ms: number): TimerHandle {
    const timer = { at: this.t + ms, fn };
    this.#timers.add(timer);
    for (const l of this.#onSet) l(ms);
    return { cancel: () => void this.#timers.delete(timer) };
  }
  /** Resolves with the delay of the next timer set (of exactly `ms`, when given). */
  timerSet(ms?: number): Promise<number> {
    return new Promise((resolve) => {
      const l = (m: number): void => {
        if (ms !== undefined && m !== ms) return;
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

function setup(o: Partial<KubernetesRegistryOptions> & { fake?: FakeKubeApiServer; token?: string } = {}) {
  const clock = new ManualClock();
  const fake = o.fake ?? new FakeKubeApiServer({ clock, rechunk: 7 });
  const config = KubeConfig.fromOptions({
    server: "http://127.0.0.1:6443",
    namespace: "shop",
    ...(o.token ? { token: o.token } : {}),
  });
  const errors: Error[] = [];
  const skipped: string[] = [];
  const registry = new KubernetesRegistry({
    config,
    fetch: fake.fetch,
    clock,
    podName: "sayhello-1",
    podNamespace: "shop",
    onError: (e) => errors.push(e),
    onSkippedPod: (p, reason) => skipped.push(`${p.namespace}/${p.name}: ${reason}`),
    ...o,
  });
  open.push(fake, registry);
  return { clock, fake, registry, errors, skipped };
}

const names = (set: ServiceInstance[]): string[] => set.map((i) => i.id);

/** Pulls sets until `pred` holds; each pull waits for a real change. */
async function until(w: ServiceWatcher, pred: (set: ServiceInstance[]) => boolean): Promise<ServiceInstance[]> {
  for (;;) {
    const set = await w.next();
    if (pred(set)) return set;
  }
}

describe("KubernetesRegistry against the fake API server", () => {
  it("needs no start(): an empty service yields [] at once, then scale up and down", async () => {
    const { fake, registry } = setup();
    const w = await registry.watch("sayhello.service");
    assert.deepEqual(await w.next(), []);
    for (const n of ["p1", "p2", "p3"]) fake.createPod(makePod({ name: n, namespace: "shop", app: "sayhello.service" }));
    const three = await until(w, (s) => s.length === 3);
    assert.deepEqual(names(three), ["p1", "p2", "p3"]);
    assert.deepEqual(three[0]!.endpoints.map((e) => e.replace(/\/\/[^:]+:/, "//IP:")), ["http://IP:8000", "grpc://IP:9000"]);
    fake.deletePod("shop", "p2");
    assert.deepEqual(names(await until(w, (s) => s.length === 2)), ["p1", "p3"]);
    assert.deepEqual(names(await registry.getService("sayhello.service")), ["p1", "p3"]);
    await w.stop();
  });

  it("follows readiness flips, and drops a pod at the MODIFIED that starts its graceful deletion", async () => {
    const { fake, registry } = setup();
    fake.createPod(makePod({ name: "a", namespace: "shop", app: "s" }));
    fake.createPod(makePod({ name: "b", namespace: "shop", app: "s" }));
    await registry.start();
    const w = await registry.watch("s");
    assert.deepEqual(names(await w.next()), ["a", "b"]);
    fake.setReady("shop", "a", false);
    assert.deepEqual(names(await w.next()), ["b"]);
    fake.setReady("shop", "a", true);
    assert.deepEqual(names(await w.next()), ["a", "b"]);
    fake.startGracefulDeletion("shop", "b", 30);
    assert.deepEqual(names(await w.next()), ["a"]);
    assert.ok(fake.getPod("shop", "b"), "the pod still exists: it left at the MODIFIED event");
    await w.stop();
  });

  it("keeps terminating and unready pods with selection 'kratos' (Go Kratos's rule)", async () => {
    const { fake, registry } = setup({ selection: "kratos" });
    fake.createPod(makePod({ name: "a", namespace: "shop", app: "s", ready: false }));
    fake.createPod(makePod({ name: "b", namespace: "shop", app: "s", phase: "Pending", ip: null }));
    assert.deepEqual(names(await registry.getService("s")), ["a"]);
  });

  it("moves a pod between services when its label changes", async () => {
    const { fake, registry } = setup();
    fake.createPod(makePod({ name: "p", namespace: "shop", app: "old" }));
    const wOld = await registry.watch("old");
    const wNew = await registry.watch("new");
    assert.deepEqual(names(await wOld.next()), ["p"]);
    assert.deepEqual(await wNew.next(), []);
    fake.updatePod("shop", "p", (pod) => {
      pod.metadata.labels!["kratos-service-app"] = "new";
    });
    assert.deepEqual(await wOld.next(), []);
    const moved = await wNew.next();
    assert.deepEqual([moved[0]?.name, moved[0]?.id], ["new", "p"]);
    await wOld.stop();
    await wNew.stop();
  });

  it("drops a pod deregistered by Go Kratos (labels blanked to \"\", annotations {})", async () => {
    const { fake, registry } = setup();
    fake.createPod(makePod({ name: "go-1", namespace: "shop", app: "s", metadata: '{"region":"sh"}', protocols: '{"9000":"grpc"}' }));
    const w = await registry.watch("s");
    assert.deepEqual(names(await w.next()), ["go-1"]);
    fake.updatePod("shop", "go-1", (pod) => {
      Object.assign(pod.metadata.labels!, { "kratos-service-app": "", "kratos-service-id": "", "kratos-service-version": "" });
      Object.assign(pod.metadata.annotations!, { "kratos-service-metadata": "{}", "kratos-service-protocols": "{}" });
    });
    assert.deepEqual(await w.next(), []);
    await assert.rejects(registry.getService(""), (e: unknown) => e instanceof RegistryError && e.code === "INVALID_TARGET");
    await w.stop();
  });

  it("watches only its own namespace by default; a list or '*' on request", async () => {
    const fake = new FakeKubeApiServer({ rechunk: false });
    fake.createPod(makePod({ name: "mine", namespace: "shop", app: "s" }));
    fake.createPod(makePod({ name: "theirs", namespace: "other", app: "s" }));
    fake.createPod(makePod({ name: "far", namespace: "far", app: "s" }));
    const own = setup({ fake });
    assert.deepEqual(names(await own.registry.getService("s")), ["mine"]);
    const listed = setup({ fake, namespace: ["shop", "other"] });
    assert.deepEqual(names(await listed.registry.getService("s")), ["theirs", "mine"]);
    const all = setup({ fake, namespace: "*" });
    assert.deepEqual(names(await all.registry.getService("s")), ["far", "theirs", "mine"]);
    assert.ok(fake.requests.some((r) => r.path === "/api/v1/pods"), "'*' lists at the cluster scope");
  });

  it("skips and reports a malformed pod beside healthy ones", async () => {
    const { fake, registry, skipped } = setup();
    fake.createPod(makePod({ name: "good", namespace: "shop", app: "s" }));
    fake.createPod(makePod({ name: "bad-json", namespace: "shop", app: "s", metadata: "{not json" }));
    fake.createPod(makePod({ name: "bad-value", namespace: "shop", app: "s", metadata: '{"weight":100}' }));
    fake.createPod(makePod({ name: "bad-protocols", namespace: "shop", app: "s", protocols: '["grpc"]' }));
    assert.deepEqual(names(await registry.getService("s")), ["good"]);
    assert.deepEqual(skipped.map((s) => s.split(":")[0]).sort(), ["shop/bad-json", "shop/bad-protocols", "shop/bad-value"]);
    assert.ok(skipped.every((s) => /annotation kratos-service-(metadata|protocols)/.test(s)));
  });

  it("registers with one patch that Go Kratos and our own discovery read back; deregister removes it", async () => {
    const clock = new ManualClock();
    const fake = new FakeKubeApiServer({ clock, rechunk: 3 });
    const sent: { contentType: string | null; body: string }[] = [];
    const recording = async (req: Request): Promise<Response> => {
      if (req.method === "PATCH") sent.push({ contentType: req.headers.get("content-type"), body: await req.clone().text() });
      return fake.fetch(req);
    };
    const { registry } = setup({ fake, clock, fetch: recording });
    fake.createPod(makePod({ name: "sayhello-1", namespace: "shop", ports: [{ name: "grpc", containerPort: 9000 }] }));
    const w = await registry.watch("sayhello.service");
    assert.deepEqual(await w.next(), []);
    const before = fake.requests.length;
    const instance = { id: "sayhello-1", name: "sayhello.service", version: "v2", metadata: { region: "sh" }, endpoints: ["grpc://0.0.0.0:9000"] };
    await registry.register(instance);
    const patches = fake.requests.slice(before).filter((r) => r.method === "PATCH");
    assert.equal(patches.length, 1);
    assert.deepEqual(sent, [{ contentType: "application/strategic-merge-patch+json", body: registerPatchBody(instance) }]);
    assert.equal(patches[0]!.path, "/api/v1/namespaces/shop/pods/sayhello-1");
    const pod = fake.getPod("shop", "sayhello-1")!;
    assert.equal(pod.metadata.labels?.["kratos-service-app"], "sayhello.service");
    assert.equal(pod.metadata.annotations?.["kratos-service-metadata"], '{"region":"sh"}');
    assert.equal(pod.metadata.annotations?.["kratos-service-protocols"], '{"9000":"grpc"}');
    const [seen] = await w.next();
    assert.deepEqual({ ...seen, endpoints: seen!.endpoints.length }, { ...instance, endpoints: 1 });
    await registry.deregister(instance);
    assert.deepEqual(await w.next(), []);
    const after = fake.getPod("shop", "sayhello-1")!;
    assert.equal(after.metadata.labels?.["kratos-service-app"], undefined);
    assert.equal(after.metadata.annotations?.["kratos-service-metadata"], undefined);
    await w.stop();
  });

  it("register succeeds when the labels are already static in the Deployment", async () => {
    const { fake, registry } = setup();
    fake.createPod(makePod({ name: "sayhello-1", namespace: "shop", app: "sayhello.service", id: "sayhello-1", version: "v1" }));
    const w = await registry.watch("sayhello.service");
    assert.deepEqual(names(await w.next()), ["sayhello-1"], "discovery works before any patch");
    await registry.register({ id: "sayhello-1", name: "sayhello.service", version: "v1", metadata: {}, endpoints: ["grpc://0.0.0.0:9000"] });
    await registry.register({ id: "sayhello-1", name: "sayhello.service", version: "v1", metadata: {}, endpoints: ["grpc://0.0.0.0:9000"] });
    assert.equal(fake.getPod("shop", "sayhello-1")!.metadata.labels?.["kratos-service-version"], "v1");
    await w.stop();
  });

  it("finds its own Pod from POD_NAME, else HOSTNAME, and POD_NAMESPACE, else the config's namespace", async () => {
    const fake = new FakeKubeApiServer({ rechunk: false });
    for (const [ns, name] of [["shop", "from-hostname"], ["shop", "from-pod-name"], ["prod", "p"]] as const) {
      fake.createPod(makePod({ name, namespace: ns }));
    }
    const instance = { id: "i", name: "s", version: "v", metadata: {}, endpoints: [] };
    const patched = (): string[] => fake.requests.filter((r) => r.method === "PATCH").map((r) => r.path);
    await setup({ fake, podName: undefined, podNamespace: undefined, env: { HOSTNAME: "from-hostname" } }).registry.register(instance);
    await setup({ fake, podName: undefined, podNamespace: undefined, env: { HOSTNAME: "h", POD_NAME: "from-pod-name" } }).registry.register(instance);
    const inProd = setup({ fake, podName: undefined, podNamespace: undefined, env: { POD_NAME: "p", POD_NAMESPACE: "prod" } }).registry;
    await inProd.register(instance);
    assert.deepEqual(patched(), [
      "/api/v1/namespaces/shop/pods/from-hostname",
      "/api/v1/namespaces/shop/pods/from-pod-name",
      "/api/v1/namespaces/prod/pods/p",
    ]);
    assert.deepEqual(names(await inProd.getService("s")), ["i"], "POD_NAMESPACE is also the watched namespace");
    await assert.rejects(
      setup({ fake, podName: undefined, podNamespace: undefined, env: {} }).registry.register(instance),
      (e: unknown) => e instanceof RegistryError && e.code === "NO_POD_IDENTITY",
    );
  });

  it("names verb, namespace and identity on RBAC refusals: patch on register, list on start (failing early)", async () => {
    const clock = new ManualClock();
    const fake = new FakeKubeApiServer({
      clock,
      tokens: { t: { user: "system:serviceaccount:shop:sayhello", verbs: ["get"] } },
    });
    fake.createPod(makePod({ name: "sayhello-1", namespace: "shop" }));
    const { registry, errors } = setup({ fake, token: "t", clock });
    await assert.rejects(
      registry.register({ id: "x", name: "s", version: "v", metadata: {}, endpoints: [] }),
      (e: unknown) => e instanceof RegistryError && e.code === "FORBIDDEN" && e.message.startsWith("cannot patch pods in namespace shop as system:serviceaccount:shop:sayhello"),
    );
    await assert.rejects(
      registry.start(),
      (e: unknown) => e instanceof RegistryError && e.code === "FORBIDDEN" && e.message.startsWith("cannot list pods in namespace shop as system:serviceaccount:shop:sayhello"),
    );
    assert.ok(errors.length >= 1 && errors.every((e) => e instanceof RegistryError && e.code === "FORBIDDEN"));
  });

  it("fails early with UNAUTHORIZED when the API rejects the credentials", async () => {
    const clock = new ManualClock();
    const fake = new FakeKubeApiServer({ clock, tokens: { good: { user: "alice" } } });
    fake.createPod(makePod({ name: "sayhello-1", namespace: "shop" }));
    const { registry, errors } = setup({ fake, token: "stale", clock });
    await assert.rejects(registry.start(), (e: unknown) => e instanceof RegistryError && e.code === "UNAUTHORIZED" && /401/.test(e.message));
    await assert.rejects(
      registry.register({ id: "x", name: "s", version: "v", metadata: {}, endpoints: [] }),
      (e: unknown) => e instanceof RegistryError && e.code === "UNAUTHORIZED",
    );
    assert.ok(errors.length >= 1 && errors.every((e) => e instanceof RegistryError && e.code === "UNAUTHORIZED"));
    assert.ok(!errors.some((e) => e.message.includes("stale")), "the token never appears in messages");
  });

  it("bounds the wait for the first sync with a timeout and with the signal", async () => {
    const { fake, registry, clock } = setup({ syncTimeoutMs: 1000 });
    fake.faults.delay(3_600_000);
    const armed = clock.timerSet(1000);
    const pending = registry.getService("s");
    const ac = new AbortController();
    const aborted = registry.getService("s", { signal: ac.signal });
    ac.abort(new Error("caller gave up"));
    await assert.rejects(aborted, /caller gave up/);
    await armed;
    clock.advance(1000);
    await assert.rejects(pending, (e: unknown) => e instanceof RegistryError && e.code === "SYNC_TIMEOUT" && /1000 ms/.test(e.message));
  });

  it("reports watch-loop errors to onError and keeps following changes after the backoff", async () => {
    const { fake, registry, errors, clock } = setup();
    const w = await registry.watch("s");
    assert.deepEqual(await w.next(), []);
    const backoff = clock.timerSet(); // the reflector's retry timer, set right after the report
    fake.faults.dropWatches();
    const ms = await backoff;
    assert.equal(errors.length, 1);
    assert.match(errors[0]!.message, /dropWatches/);
    fake.createPod(makePod({ name: "after", namespace: "shop", app: "s" }));
    const next = w.next();
    clock.advance(ms);
    assert.deepEqual(names(await next), ["after"]);
    await w.stop();
  });

  it("close() ends watchers and later calls reject with CLOSED", async () => {
    const { registry } = setup();
    const w = await registry.watch("s");
    assert.deepEqual(await w.next(), []);
    const ended = (async () => {
      let n = 0;
      for await (const _ of w) n++;
      return n;
    })();
    await registry.close();
    assert.equal(await ended, 0);
    await assert.rejects(registry.getService("s"), (e: unknown) => e instanceof RegistryError && e.code === "CLOSED");
    await assert.rejects(registry.register({ id: "", name: "s", version: "", metadata: {}, endpoints: [] }), (e: unknown) => e instanceof RegistryError && e.code === "CLOSED");
  });
});
