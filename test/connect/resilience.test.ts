/**
 * The resilience policies of createDiscoveryTransport end to end, with real
 * servers on loopback and the transport on a manual clock: outlier detection
 * ejects a server failing 20 % of its calls with Unavailable and calls stop
 * going there until the ejection ends; slow start gives a server that joins
 * a small, growing share; an empty list from a synced source drops the
 * endpoints (calls fail Unavailable naming the service), one from a failing
 * source keeps them until the source is synced again.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createDiscoveryTransport, createManualDiscovery, type EndpointInstance, type EndpointSource, type InstanceWatcherState } from "../../src/connect/index.ts";
import { Echo } from "../../proto/gen/echo_pb.ts";
import { instance, startServer, type TestServer } from "./support/servers.ts";
import { createFakeClock } from "./support/fake-clock.ts";
import { KubeConfig } from "../../src/kube/config.ts";
import { KubernetesDiscovery } from "../../src/index.ts";
import { createManualClock, FakeKubeApiServer, makeEndpointSlice } from "../../src/testing/index.ts";
import { seededRandom, watchdog, within, WAIT_LIMIT_MS } from "./support/load.ts";

/** `n` calls, `batch` at a time; returns the servers that answered and the failures. */
async function calls(client: { say(r: { text: string }): Promise<{ server: string }> }, n: number, batch = 10): Promise<{ servers: string[]; failed: ConnectError[] }> {
  const servers: string[] = [];
  const failed: ConnectError[] = [];
  for (let done = 0; done < n; done += batch) {
    const rs = await Promise.allSettled(Array.from({ length: Math.min(batch, n - done) }, () => client.say({ text: "hi" })));
    for (const r of rs) {
      if (r.status === "fulfilled") servers.push(r.value.server);
      else failed.push(ConnectError.from(r.reason));
    }
  }
  return { servers, failed };
}

const count = (xs: string[], x: string): number => xs.filter((y) => y === x).length;

describe("outlier detection (defaults)", () => {
  it("ejects a server failing 20 % of calls with Unavailable, then calls stop going to it until the ejection ends", watchdog, async () => {
    let n = 0;
    const bad = await startServer({
      gate: () => (++n % 5 === 0 ? Promise.reject(new ConnectError("flaky Pod", Code.Unavailable)) : Promise.resolve()),
    });
    const good = await Promise.all([0, 1, 2, 3].map(() => startServer()));
    const all: TestServer[] = [...good, bad];
    const clock = createFakeClock();
    const discovery = createManualDiscovery({ "echo.service": all.map((s) => instance(s.address)) });
    const transport = createDiscoveryTransport({ discovery, target: "discovery:///echo.service", clock });
    try {
      await transport.ready({ count: 5 });
      const client = createClient(Echo, transport);
      // One interval's worth of calls: round robin gives each server 100, the bad one fails 20 of them.
      const before = await calls(client, 500);
      assert.equal(count(before.servers, bad.address), 80);
      assert.equal(before.failed.length, 20);
      assert.ok(before.failed.every((e) => e.code === Code.Unavailable));
      assert.equal(transport.endpoints().find((e) => e.address === bad.address)?.ejected, undefined, "not before the interval ends");

      clock.advance(10_000); // the interval ends; the next completed call runs the evaluation
      await calls(client, 1, 1);
      assert.equal(transport.endpoints().find((e) => e.address === bad.address)?.ejected, "success-rate");
      const badCalls = bad.calls.total;
      const during = await calls(client, 200);
      assert.equal(during.failed.length, 0);
      assert.equal(bad.calls.total, badCalls, "no call reached the ejected server");
      for (const s of good) assert.equal(count(during.servers, s.address), 50);

      clock.advance(30_000); // base ejection time × 1
      await calls(client, 1, 1);
      assert.equal(transport.endpoints().find((e) => e.address === bad.address)?.ejected, undefined, "un-ejected");
      const after = await calls(client, 50);
      assert.ok(count(after.servers, bad.address) + after.failed.length >= 9, "calls reach it again");
    } finally {
      await transport.close();
      await Promise.all(all.map((s) => s.close()));
    }
  });

  it("is off with outlierDetection: false", watchdog, async () => {
    const bad = await startServer({ gate: () => Promise.reject(new ConnectError("down", Code.Unavailable)) });
    const good = await startServer();
    const discovery = createManualDiscovery({ "echo.service": [instance(good.address), instance(bad.address)] });
    const transport = createDiscoveryTransport({ discovery, target: "discovery:///echo.service", outlierDetection: false });
    const on = createDiscoveryTransport({ discovery, target: "discovery:///echo.service", outlierDetection: { maxEjectionPercent: 50 } });
    try {
      await Promise.all([transport.ready({ count: 2 }), on.ready({ count: 2 })]);
      assert.equal((await calls(createClient(Echo, transport), 40, 1)).failed.length, 20);
      // With it on, five failures in a row eject the server: 5 failed calls, then none.
      assert.equal((await calls(createClient(Echo, on), 40, 1)).failed.length, 5);
      assert.equal(on.endpoints().find((e) => e.address === bad.address)?.ejected, "consecutive-failures");
    } finally {
      await Promise.all([transport.close(), on.close()]);
      await Promise.all([good.close(), bad.close()]);
    }
  });
});

describe("outlier detection: panic threshold", () => {
  it("with every endpoint ejected, calls spread over all of them again; with a threshold of 0 they find none", watchdog, async () => {
    const servers = await Promise.all([0, 1].map(() => startServer({ gate: () => Promise.reject(new ConnectError("down", Code.Unavailable)) })));
    const discovery = createManualDiscovery({ "echo.service": servers.map((s) => instance(s.address)) });
    const od = { maxEjectionPercent: 100, consecutiveFailures: 2 };
    const panic = createDiscoveryTransport({ discovery, target: "discovery:///echo.service", outlierDetection: od });
    const strict = createDiscoveryTransport({ discovery, target: "discovery:///echo.service", resolveTimeoutMs: 20, outlierDetection: { ...od, panicThresholdPercent: 0 } });
    try {
      await Promise.all([panic.ready({ count: 2 }), strict.ready({ count: 2 })]);
      for (const t of [panic, strict]) await calls(createClient(Echo, t), 4, 1); // two failures in a row on each
      assert.deepEqual(panic.endpoints().map((e) => e.ejected), ["consecutive-failures", "consecutive-failures"]);
      assert.deepEqual(strict.endpoints().map((e) => e.ejected), ["consecutive-failures", "consecutive-failures"]);
      const before = servers.map((s) => s.calls.total);
      const p = await calls(createClient(Echo, panic), 4, 1);
      assert.deepEqual(p.failed.map((e) => e.message), Array(4).fill("[unavailable] down"), "the servers answered");
      assert.deepEqual(servers.map((s, i) => s.calls.total - before[i]!), [2, 2], "spread over both");
      const s = await calls(createClient(Echo, strict), 1, 1);
      assert.match(s.failed[0]?.message ?? "", /no endpoint of service "echo\.service" became ready/);
    } finally {
      await Promise.all([panic.close(), strict.close()]);
      await Promise.all(servers.map((s) => s.close()));
    }
  });
});

describe("slow start", () => {
  for (const balancer of ["round_robin", "wrr"] as const) it(`${balancer}: gives a server that joins a small share that grows to its full share over the window`, watchdog, async () => {
    const [a, b, c] = await Promise.all([startServer(), startServer(), startServer()]);
    const clock = createFakeClock();
    const discovery = createManualDiscovery({ "echo.service": [instance(a.address), instance(b.address)] });
    const transport = createDiscoveryTransport({
      discovery,
      target: "discovery:///echo.service",
      clock,
      random: seededRandom(7),
      balancer,
      slowStart: { windowMs: 10_000 },
    });
    try {
      await transport.ready({ count: 2 });
      assert.equal(transport.endpoints().some((e) => e.slowStartWeight !== undefined), false, "the first endpoints start at full weight");
      discovery.set("echo.service", [a, b, c].map((s) => instance(s.address)));
      await transport.ready({ count: 3 });
      const client = createClient(Echo, transport);
      assert.equal(transport.endpoints().find((e) => e.address === c.address)?.slowStartWeight, 0.1);
      const early = await calls(client, 600);
      // Weight 0.1 beside two at 1: an expected share of 0.1 / 2.1 ≈ 4.8 % (29 of 600).
      const cEarly = count(early.servers, c.address);
      assert.ok(cEarly > 5 && cEarly < 60, `share of the new server right after it joined: ${cEarly} of 600`);
      clock.advance(5_000);
      assert.equal(transport.endpoints().find((e) => e.address === c.address)?.slowStartWeight, 0.5);
      clock.advance(5_000);
      const late = await calls(client, 600);
      assert.equal(transport.endpoints().find((e) => e.address === c.address)?.slowStartWeight, undefined);
      assert.equal(count(late.servers, c.address), 200, "full round-robin share after the window");
    } finally {
      await transport.close();
      await Promise.all([a, b, c].map((s) => s.close()));
    }
  });
});

describe("empty sets", () => {
  it("an empty list from a synced source (manual discovery) drops the endpoints: calls fail Unavailable naming the service; keep-last keeps them", watchdog, async () => {
    const a = await startServer();
    const discovery = createManualDiscovery({ "echo.service": [instance(a.address)] });
    let drop!: () => void;
    const dropped = new Promise<void>((resolve) => (drop = resolve));
    const transport = createDiscoveryTransport({
      discovery,
      target: "discovery:///echo.service",
      resolveTimeoutMs: 50,
      onEvent: (e) => {
        if (e.state === "draining" || e.state === "closed") drop();
      },
    });
    const keep = createDiscoveryTransport({ discovery, target: "discovery:///echo.service", emptySet: "keep-last" });
    try {
      await Promise.all([transport.ready(), keep.ready()]);
      discovery.set("echo.service", []);
      await within(dropped, WAIT_LIMIT_MS, () => "the endpoint to be dropped");
      const err = await createClient(Echo, transport).say({ text: "gone" }).then(() => undefined, (e: unknown) => ConnectError.from(e));
      assert.equal(err?.code, Code.Unavailable);
      assert.match(err.message, /"echo\.service"/);
      assert.match(err.message, /discovery returned 0 instance/);
      // The failed call waited 50 ms on a timer: the keep-last transport has long seen the empty list.
      assert.equal((await createClient(Echo, keep).say({ text: "still" })).server, a.address);
      assert.equal(keep.endpoints().length, 1);
      discovery.set("echo.service", [instance(a.address)]); // scaled up again
      await transport.ready();
      assert.equal((await createClient(Echo, transport).say({ text: "back" })).server, a.address);
    } finally {
      await Promise.all([transport.close(), keep.close()]);
      await a.close();
    }
  });

  it("keeps the endpoints while the source is failing and drops them once it is synced again", watchdog, async () => {
    const a = await startServer();
    const clock = createFakeClock();
    let state: InstanceWatcherState = "synced";
    let nexts = 0;
    let polling!: () => void;
    const pollingStarted = new Promise<void>((resolve) => (polling = resolve));
    let sendEmpty!: () => void;
    const emptySent = new Promise<void>((resolve) => (sendEmpty = resolve));
    const discovery: EndpointSource = {
      async watch() {
        return {
          get state() {
            return state;
          },
          async next(): Promise<readonly EndpointInstance[]> {
            nexts++;
            if (nexts === 1) return [instance(a.address)];
            if (nexts === 2) {
              await emptySent;
              return [];
            }
            polling(); // the loop waits for the next list and looks at the state meanwhile
            return new Promise(() => {});
          },
          stop() {},
        };
      },
    };
    let dropped!: () => void;
    const droppedP = new Promise<void>((resolve) => (dropped = resolve));
    const transport = createDiscoveryTransport({
      discovery,
      target: "discovery:///echo.service",
      clock,
      onEvent: (e) => {
        if (e.state === "draining" || e.state === "closed") dropped();
      },
    });
    try {
      await transport.ready();
      state = "failing"; // the empty list comes from a failing watch
      sendEmpty();
      await within(pollingStarted, WAIT_LIMIT_MS, () => "the watch loop to wait for a list");
      assert.equal((await createClient(Echo, transport).say({ text: "kept" })).server, a.address);
      state = "synced";
      clock.advance(1000);
      await within(droppedP, WAIT_LIMIT_MS, () => "the endpoint to be dropped");
      assert.deepEqual(transport.endpoints().filter((e) => e.state === "ready"), []);
    } finally {
      await transport.close();
      await a.close();
    }
  });

  it("a Service scaled to zero behind a synced Kubernetes watch (EndpointSlices): the endpoints go, calls fail Unavailable naming the service", watchdog, async () => {
    const server = await startServer();
    const clock = createManualClock();
    const fake = new FakeKubeApiServer({ clock, rechunk: 3, allowLoopbackEndpoints: true });
    const config = KubeConfig.fromOptions({ server: "http://127.0.0.1:6443", namespace: "shop" });
    const discovery = new KubernetesDiscovery({ config, fetch: fake.fetch, clock, podNamespace: "shop" });
    fake.endpointSlices.create(makeEndpointSlice({ name: "echo-0", namespace: "shop", service: "echo", endpoints: [{ ip: "127.0.0.1", pod: "echo-0" }], ports: [{ name: "grpc", port: server.port }] }));
    let gone = false;
    const transport = createDiscoveryTransport({
      discovery,
      target: "kubernetes:///echo.shop:grpc",
      resolveTimeoutMs: 50,
      onEvent: (e) => void (gone ||= e.state === "draining" || e.state === "closed"),
    });
    const keep = createDiscoveryTransport({ discovery, target: "kubernetes:///echo.shop:grpc", emptySet: "keep-last" });
    try {
      await Promise.all([transport.ready(), keep.ready()]);
      fake.endpointSlices.delete("shop", "echo-0");
      // The slice's endpoint leaves after the registry's grace window, on the registry's manual clock.
      for (let i = 0; i < 400 && !gone; i++) {
        await clock.advance(250);
        await new Promise((r) => setTimeout(r, 0));
      }
      assert.ok(gone, "the endpoint left the transport");
      const err = await createClient(Echo, transport).say({ text: "gone" }).then(() => undefined, (e: unknown) => ConnectError.from(e));
      assert.equal(err?.code, Code.Unavailable);
      assert.match(err.message, /"echo"/);
      assert.equal((await createClient(Echo, keep).say({ text: "kept" })).server, server.address);
    } finally {
      await Promise.all([transport.close(), keep.close()]);
      await discovery.close();
      await fake.close();
      await server.close();
    }
  });
});
