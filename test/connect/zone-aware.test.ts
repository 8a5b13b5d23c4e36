/**
 * Zone-aware picking end to end, with real servers on loopback: endpoints
 * found through EndpointSlices (zones from the slices) take calls only in
 * the caller's zone while enough of them are healthy, and calls spill over
 * to the other zone when the local servers report NOT_SERVING or are
 * ejected by outlier detection; EndpointSlice hints decide which endpoints
 * serve the zone when every endpoint has them.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createDiscoveryTransport, createManualDiscovery, type DiscoveryTransport, type LogRecord } from "../../src/connect/index.ts";
import { Echo } from "../../proto/gen/echo_pb.ts";
import { KubeConfig } from "../../src/kube/config.ts";
import { KubernetesDiscovery } from "../../src/index.ts";
import { createManualClock, FakeKubeApiServer, makeEndpointSlice } from "../../src/testing/index.ts";
import { createFakeClock } from "./support/fake-clock.ts";
import { createWaiter, watchdog } from "./support/load.ts";
import { instance, startServer, type TestServer } from "./support/servers.ts";

async function answeredBy(transport: DiscoveryTransport, n: number): Promise<Set<string>> {
  const client = createClient(Echo, transport);
  return new Set((await Promise.all(Array.from({ length: n }, () => client.say({ text: "hi" })))).map((r) => r.server));
}

const set = (...servers: TestServer[]): Set<string> => new Set(servers.map((s) => s.address));

describe("zone-aware picking", () => {
  it("EndpointSlice zones: calls stay in the local zone while half its endpoints serve, spill over below, and come back", watchdog, async () => {
    const [a1, a2, b1, b2] = (await Promise.all([0, 1, 2, 3].map(() => startServer()))) as [TestServer, TestServer, TestServer, TestServer];
    const zones: [TestServer, string, string][] = [[a1, "a1", "zone-a"], [a2, "a2", "zone-a"], [b1, "b1", "zone-b"], [b2, "b2", "zone-b"]];
    const fake = new FakeKubeApiServer({ clock: createManualClock(), allowLoopbackEndpoints: true });
    for (const [s, pod, zone] of zones) {
      // One slice per server: each listens on its own port of 127.0.0.1.
      fake.endpointSlices.create(makeEndpointSlice({ name: `echo-${pod}`, namespace: "shop", service: "echo", endpoints: [{ ip: "127.0.0.1", pod, zone }], ports: [{ name: "grpc", port: s.port }] }));
    }
    const config = KubeConfig.fromOptions({ server: "http://127.0.0.1:6443", namespace: "shop" });
    const discovery = new KubernetesDiscovery({ config, fetch: fake.fetch, clock: createManualClock(), podNamespace: "shop" });
    const logs: LogRecord[] = [];
    const waiter = createWaiter(() => JSON.stringify(transport.endpoints()));
    const transport = createDiscoveryTransport({
      discovery,
      target: "kubernetes:///echo.shop:grpc",
      clock: createFakeClock(),
      zone: { local: "zone-a" },
      logger: (r) => logs.push(r),
      onEvent: () => waiter.notify(),
    });
    const state = (s: TestServer): string | undefined => transport.endpoints().find((e) => e.address === s.address)?.state;
    try {
      await waiter.until(() => transport.endpoints().length === 4 && transport.endpoints().every((e) => e.state === "ready"));
      assert.deepEqual(await answeredBy(transport, 40), set(a1, a2), "only the local zone");
      assert.equal(b1.calls.total + b2.calls.total, 0);

      a1.serving = false;
      await waiter.until(() => state(a1) === "not-serving");
      assert.deepEqual(await answeredBy(transport, 20), set(a2), "one of two local endpoints is enough (50 %)");

      a2.serving = false;
      await waiter.until(() => state(a2) === "not-serving");
      assert.deepEqual(await answeredBy(transport, 40), set(b1, b2), "no healthy local endpoint: spill over");

      a1.serving = true;
      await waiter.until(() => state(a1) === "ready");
      assert.deepEqual(await answeredBy(transport, 20), set(a1), "back to the local zone");
      const messages = logs.map((r) => r.message).filter((m) => m.startsWith("zone-aware"));
      assert.deepEqual(messages, [
        "zone-aware picking: too few healthy endpoints in the local zone, spilling over to every zone",
        "zone-aware picking: back to the local zone",
      ]);
    } finally {
      await transport.close();
      await discovery.close();
      await fake.close();
      await Promise.all([a1, a2, b1, b2].map((s) => s.close()));
    }
  });

  it("spills over when outlier detection ejects the local endpoint", watchdog, async () => {
    const a = await startServer({ gate: () => Promise.reject(new ConnectError("broken Pod", Code.Unavailable)) });
    const [b1, b2] = (await Promise.all([0, 1].map(() => startServer()))) as [TestServer, TestServer];
    const transport = createDiscoveryTransport({
      discovery: createManualDiscovery({
        "echo.service": [instance(a.address, { metadata: { zone: "a" } }), instance(b1.address, { metadata: { zone: "b" } }), instance(b2.address, { metadata: { zone: "b" } })],
      }),
      target: "discovery:///echo.service",
      clock: createFakeClock(),
      zone: { local: "a" },
      retry: false,
    });
    const client = createClient(Echo, transport);
    try {
      await transport.ready({ count: 3 });
      for (let i = 0; i < 5; i++) {
        const e = await client.say({ text: "hi" }).then(() => undefined, (err: unknown) => ConnectError.from(err));
        assert.equal(e?.code, Code.Unavailable, "the only local endpoint takes every call until it is ejected");
      }
      assert.equal(transport.endpoints().find((e) => e.address === a.address)?.ejected, "consecutive-failures");
      assert.deepEqual(await answeredBy(transport, 20), set(b1, b2));
    } finally {
      await transport.close();
      await Promise.all([a, b1, b2].map((s) => s.close()));
    }
  });

  it("EndpointSlice hints: when every endpoint has them, the endpoints hinted for the zone serve it", watchdog, async () => {
    const [a, b, c] = (await Promise.all([0, 1, 2].map(() => startServer()))) as [TestServer, TestServer, TestServer];
    const md = (zone: string, hint: string): { metadata: Record<string, string> } => ({ metadata: { zone, "hints.forZones": hint } });
    const transport = createDiscoveryTransport({
      discovery: createManualDiscovery({ "echo.service": [instance(a.address, md("a", "a")), instance(b.address, md("b", "a")), instance(c.address, md("b", "b"))] }),
      target: "discovery:///echo.service",
      clock: createFakeClock(),
      zone: { local: "a" },
    });
    try {
      await transport.ready({ count: 3 });
      assert.deepEqual(await answeredBy(transport, 20), set(a, b));
    } finally {
      await transport.close();
      await Promise.all([a, b, c].map((s) => s.close()));
    }
  });
});
