/**
 * The balancing transport against in-process connect-node servers: exact
 * round robin, every call kind, waiting for discovery, the Unavailable
 * message, version filter and close().
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createDiscoveryTransport, createManualDiscovery, isUnsentError, type DiscoveryTransport } from "../../src/connect/index.ts";
import { Echo } from "../../proto/gen/echo_pb.ts";
import { Greeter } from "../../proto/gen/helloworld_pb.ts";
import { instance, startServer, type TestServer } from "./support/servers.ts";
import { createFakeClock } from "./support/fake-clock.ts";
import { watchdog } from "./support/load.ts";

async function* items<T>(xs: T[]): AsyncIterable<T> {
  for (const x of xs) yield x;
}

describe("createDiscoveryTransport with three servers", () => {
  let servers: TestServer[] = [];
  let transport: DiscoveryTransport;
  const discovery = createManualDiscovery();

  before(async () => {
    servers = await Promise.all([startServer(), startServer(), startServer({ health: false })]);
    discovery.set("echo.service", servers.map((s) => instance(s.address)));
    transport = createDiscoveryTransport({ discovery, target: "discovery:///echo.service" });
    await transport.ready({ count: 3 });
  });
  after(async () => {
    await transport.close();
    await Promise.all(servers.map((s) => s.close()));
  });

  it("round robin is exactly even over 3 endpoints", watchdog, async () => {
    const client = createClient(Echo, transport);
    const counts = new Map<string, number>();
    for (let i = 0; i < 300; i++) {
      const res = await client.say({ text: `n${i}` });
      counts.set(res.server, (counts.get(res.server) ?? 0) + 1);
    }
    assert.deepEqual([...counts.values()], [100, 100, 100]);
    assert.deepEqual(new Set(counts.keys()), new Set(servers.map((s) => s.address)));
  });

  it("is exactly even under concurrency too", watchdog, async () => {
    const client = createClient(Echo, transport);
    const res = await Promise.all(Array.from({ length: 90 }, (_, i) => client.say({ text: `c${i}` })));
    const counts = new Map<string, number>();
    for (const r of res) counts.set(r.server, (counts.get(r.server) ?? 0) + 1);
    assert.deepEqual([...counts.values()], [30, 30, 30]);
  });

  it("serves server-, client- and bidi-streaming calls", watchdog, async () => {
    const client = createClient(Echo, transport);
    const got: string[] = [];
    for await (const r of client.repeat({ text: "r", count: 3 })) got.push(r.text);
    assert.deepEqual(got, ["r-0", "r-1", "r-2"]);
    const c = await client.collect(items([{ text: "a" }, { text: "b" }]));
    assert.equal(c.text, "a,b");
    const chat: string[] = [];
    for await (const r of client.chat(items([{ text: "x" }, { text: "y" }]))) chat.push(r.text);
    assert.deepEqual(chat, ["X", "Y"]);
    const g = await createClient(Greeter, transport).sayHello({ name: "kratos" });
    assert.equal(g.message, "Hello kratos");
  });

  it("passes server errors through unchanged, without retrying them", watchdog, async () => {
    const before = servers.reduce((n, s) => n + s.calls.total, 0);
    const err = await createClient(Echo, transport).say({ text: "fail" }).catch((e: unknown) => e);
    assert.ok(err instanceof ConnectError);
    assert.equal(err.code, Code.FailedPrecondition);
    assert.equal(isUnsentError(err), false);
    assert.equal(servers.reduce((n, s) => n + s.calls.total, 0), before + 1);
  });

  it("propagates the caller's abort", watchdog, async () => {
    const ac = new AbortController();
    const client = createClient(Echo, transport);
    const p = client.say({ text: "hold" }, { signal: ac.signal });
    await Promise.race(servers.map((s) => s.waitHeld(1)));
    ac.abort();
    const err = await p.catch((e: unknown) => e);
    assert.ok(err instanceof ConnectError);
    assert.equal(err.code, Code.Canceled);
  });

  it("reports every endpoint ready", () => {
    const eps = transport.endpoints();
    assert.equal(eps.length, 3);
    assert.deepEqual(eps.map((e) => e.state), ["ready", "ready", "ready"]);
  });
});

describe("waiting for discovery", () => {
  it("a call waits until an endpoint appears", watchdog, async () => {
    const server = await startServer();
    const discovery = createManualDiscovery();
    const transport = createDiscoveryTransport({ discovery, target: "discovery:///echo.service" });
    try {
      const p = createClient(Echo, transport).say({ text: "early" });
      discovery.set("echo.service", [instance(server.address)]);
      const res = await p;
      assert.equal(res.server, server.address);
    } finally {
      await transport.close();
      await server.close();
    }
  });

  it("fails with Unavailable naming the service and what discovery saw after resolveTimeoutMs", watchdog, async () => {
    const clock = createFakeClock();
    const discovery = createManualDiscovery({
      "echo.service": [{ id: "a", name: "echo.service", version: "v1", metadata: {}, endpoints: ["http://10.0.0.1:8000"] }],
    });
    const transport = createDiscoveryTransport({ discovery, target: "discovery:///echo.service", clock, resolveTimeoutMs: 10_000 });
    try {
      const p = createClient(Echo, transport).say({ text: "x" }).catch((e: unknown) => e);
      await clock.whenPending(1);
      clock.advance(10_000);
      const err = await p;
      assert.ok(err instanceof ConnectError, String(err));
      assert.equal(err.code, Code.Unavailable);
      assert.match(err.message, /echo\.service/);
      assert.match(err.message, /discovery returned 1 instance\(s\), 0 with a grpc endpoint/);
      assert.match(err.message, /resolveTimeoutMs/);
    } finally {
      await transport.close();
    }
  });

  it("ends the wait with DeadlineExceeded when the call's deadline comes first", watchdog, async () => {
    const clock = createFakeClock();
    const discovery = createManualDiscovery();
    const transport = createDiscoveryTransport({ discovery, target: "discovery:///echo.service", clock });
    try {
      const p = createClient(Echo, transport).say({ text: "x" }, { timeoutMs: 2000 }).catch((e: unknown) => e);
      await clock.whenPending(1);
      clock.advance(2000);
      const err = await p;
      assert.ok(err instanceof ConnectError);
      assert.equal(err.code, Code.DeadlineExceeded);
      assert.match(err.message, /discovery returned 0 instance/);
    } finally {
      await transport.close();
    }
  });

  it("a caller's abort ends the wait with Canceled", watchdog, async () => {
    const discovery = createManualDiscovery();
    const transport = createDiscoveryTransport({ discovery, target: "discovery:///echo.service" });
    try {
      const ac = new AbortController();
      const p = createClient(Echo, transport).say({ text: "x" }, { signal: ac.signal }).catch((e: unknown) => e);
      ac.abort();
      const err = await p;
      assert.ok(err instanceof ConnectError);
      assert.equal(err.code, Code.Canceled);
    } finally {
      await transport.close();
    }
  });

  it("applies the version filter and rejects a bad target", watchdog, async () => {
    const [v1, v2] = await Promise.all([startServer(), startServer()]);
    const discovery = createManualDiscovery({
      "echo.service": [instance(v1.address, { version: "v1" }), instance(v2.address, { version: "v2" })],
    });
    const transport = createDiscoveryTransport({ discovery, target: "discovery:///echo.service", version: "v2" });
    try {
      const client = createClient(Echo, transport);
      for (let i = 0; i < 4; i++) assert.equal((await client.say({ text: "v" })).server, v2.address);
      assert.throws(() => createDiscoveryTransport({ discovery, target: "http://x/y" }), /discovery:\/\/\/<service-name>/);
    } finally {
      await transport.close();
      await Promise.all([v1.close(), v2.close()]);
    }
  });

  it("close() fails waiting calls and later calls with Unavailable", watchdog, async () => {
    const discovery = createManualDiscovery();
    const transport = createDiscoveryTransport({ discovery, target: "discovery:///echo.service" });
    const p = createClient(Echo, transport).say({ text: "x" }).catch((e: unknown) => e);
    await transport.close();
    const err = await p;
    assert.ok(err instanceof ConnectError);
    assert.equal(err.code, Code.Unavailable);
    assert.equal(discovery.watchers, 0);
    const later = await createClient(Echo, transport).say({ text: "y" }).catch((e: unknown) => e);
    assert.ok(later instanceof ConnectError && later.code === Code.Unavailable);
  });
});
