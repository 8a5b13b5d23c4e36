/**
 * End to end on loopback: ring-hash affinity (the same key lands on the
 * same server, only the keys of a server that leaves move, a key leaves a
 * NOT_SERVING server and comes back), and an
 * aperture subset positioned by the client's own service in discovery.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createClient } from "@connectrpc/connect";
import {
  apertureSubset,
  createDiscoveryTransport,
  createManualDiscovery,
  ringHash,
  subsetMemberKey,
  type EndpointEvent,
} from "../../src/connect/index.ts";
import { Echo } from "../../proto/gen/echo_pb.ts";
import { instance, startServer, type TestServer } from "./support/servers.ts";
import { watchdog, within, WAIT_LIMIT_MS } from "./support/load.ts";

/** Resolves once `test()` holds, checked at each endpoint event. */
function eventWaiter(): { onEvent: (e: EndpointEvent) => void; until(test: () => boolean, what: string): Promise<void> } {
  let waiters: { test: () => boolean; resolve: () => void }[] = [];
  return {
    onEvent: () => {
      // After the pool applied the change that caused the event.
      queueMicrotask(() => (waiters = waiters.filter((w) => (w.test() ? (w.resolve(), false) : true))));
    },
    until: (test, what) => (test() ? Promise.resolve() : within(new Promise<void>((resolve) => waiters.push({ test, resolve })), WAIT_LIMIT_MS, () => what)),
  };
}

describe("affinity and subsetting end to end", () => {
  it("ringHash: calls with the same key land on the same server; when it leaves, only its keys move", watchdog, async () => {
    const servers = await Promise.all([0, 1, 2, 3].map(() => startServer()));
    const discovery = createManualDiscovery({ "echo.service": servers.map((s, i) => instance(s.address, { id: `pod-${i}` })) });
    const w = eventWaiter();
    const transport = createDiscoveryTransport({
      discovery,
      target: "discovery:///echo.service",
      balancer: ringHash({ header: "x-user" }),
      onEvent: w.onEvent,
    });
    const client = createClient(Echo, transport);
    const serverOf = async (key: string): Promise<string> => (await client.say({ text: key }, { headers: { "x-user": key } })).server;
    try {
      await transport.ready({ count: 4 });
      const keys = Array.from({ length: 24 }, (_, i) => `user-${i}`);
      const home = new Map<string, string>();
      for (const k of keys) home.set(k, await serverOf(k));
      for (const k of keys) for (let r = 0; r < 3; r++) assert.equal(await serverOf(k), home.get(k), `${k} stays`);
      assert.ok(new Set(home.values()).size >= 3, "keys spread over the servers");

      // The server of user-0 leaves discovery.
      const gone = home.get("user-0")!;
      const left = servers.filter((s) => s.address !== gone);
      discovery.set("echo.service", left.map((s) => instance(s.address, { id: `pod-${servers.indexOf(s)}` })));
      await w.until(() => !transport.endpoints().some((e) => e.address === gone && e.state !== "draining" && e.state !== "closed"), `${gone} to leave`);
      for (const k of keys) {
        const now = await serverOf(k);
        if (home.get(k) === gone) assert.notEqual(now, gone, `${k} moved`);
        else assert.equal(now, home.get(k), `${k} did not move`);
      }
    } finally {
      await transport.close();
      await Promise.all(servers.map((s: TestServer) => s.close()));
    }
  });

  it("ringHash: a key leaves its server while it is NOT_SERVING and comes back when it serves again", watchdog, async () => {
    const servers = await Promise.all([0, 1, 2].map(() => startServer()));
    const discovery = createManualDiscovery({ "echo.service": servers.map((s, i) => instance(s.address, { id: `pod-${i}` })) });
    const w = eventWaiter();
    const transport = createDiscoveryTransport({ discovery, target: "discovery:///echo.service", balancer: ringHash({ header: "x-user" }), onEvent: w.onEvent });
    const client = createClient(Echo, transport);
    const serverOf = async (key: string): Promise<string> => (await client.say({ text: key }, { headers: { "x-user": key } })).server;
    const state = (address: string): string | undefined => transport.endpoints().find((e) => e.address === address)?.state;
    try {
      await transport.ready({ count: 3 });
      const home = await serverOf("session-7");
      const server = servers.find((s) => s.address === home)!;
      server.serving = false;
      await w.until(() => state(home) === "not-serving", `${home} to be not-serving`);
      const elsewhere = await serverOf("session-7");
      assert.notEqual(elsewhere, home);
      assert.equal(await serverOf("session-7"), elsewhere, "the key stays on its second home");
      server.serving = true;
      await w.until(() => state(home) === "ready", `${home} to serve again`);
      assert.equal(await serverOf("session-7"), home, "the key is back home");
    } finally {
      await transport.close();
      await Promise.all(servers.map((s) => s.close()));
    }
  });

  it("aperture: the client's position comes from its own service in discovery, and follows it", watchdog, async () => {
    const servers = await Promise.all([0, 1, 2, 3, 4, 5].map(() => startServer()));
    const echo = servers.map((s, i) => instance(s.address, { id: `pod-${i}` }));
    const peer = (id: string): ReturnType<typeof instance> => ({ ...instance("127.0.0.1:1", { id }), name: "frontend" });
    const discovery = createManualDiscovery({ "echo.service": echo, frontend: [peer("fe-a"), peer("fe-b"), peer("fe-c")] });
    const w = eventWaiter();
    const transport = createDiscoveryTransport({
      discovery,
      target: "discovery:///echo.service",
      subset: { algorithm: "aperture", size: 2, self: { service: "frontend", id: "fe-b" } },
      onEvent: w.onEvent,
    });
    const expected = (index: number, count: number): Set<string> =>
      new Set(apertureSubset({ index, count }, echo, 2, subsetMemberKey).map((i) => i.endpoints[1]!.slice("grpc://".length)));
    const connected = (): Set<string> => new Set(transport.endpoints().filter((e) => e.state === "ready").map((e) => e.address));
    const same = (a: Set<string>, b: Set<string>): boolean => a.size === b.size && [...a].every((x) => b.has(x));
    try {
      // fe-b is 2nd of 3: servers 2 and 3 of 6 (sorted by member).
      const first = expected(1, 3);
      assert.equal(first.size, 2);
      await w.until(() => same(connected(), first), `the aperture of peer 1 of 3 (${[...first]})`);
      // Two peers join before fe-b: it becomes 4th of 5, and its aperture moves with it.
      discovery.set("frontend", [peer("fe-a"), peer("fe-b"), peer("fe-c"), peer("fe-0"), peer("fe-1")]);
      const second = expected(3, 5);
      assert.ok(!same(first, second));
      await w.until(() => same(connected(), second), `the aperture of peer 3 of 5 (${[...second]})`);
      const client = createClient(Echo, transport);
      for (let i = 0; i < 6; i++) assert.ok(second.has((await client.say({ text: "x" })).server));
    } finally {
      await transport.close();
      await Promise.all(servers.map((s) => s.close()));
    }
  });
});
