/**
 * The HTTP/2 connections of an endpoint: a second connection once the first
 * reached the server's SETTINGS_MAX_CONCURRENT_STREAMS, and
 * `maxConnectionAgeMs` moving calls onto a new connection while the old one
 * finishes its call (time on a fake clock; the server counts connections).
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import * as http2 from "node:http2";
import * as net from "node:net";
import type { AddressInfo } from "node:net";
import { createClient } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { Code, ConnectError } from "@connectrpc/connect";
import { createDiscoveryTransport, createManualDiscovery } from "../../src/connect/index.ts";
import { generateTlsMaterial } from "../../src/testing/index.ts";
import { Echo } from "../../proto/gen/echo_pb.ts";
import { createFakeClock } from "./support/fake-clock.ts";
import { createWaiter, watchdog, within, WAIT_LIMIT_MS } from "./support/load.ts";
import { instance } from "./support/servers.ts";

/** An Echo server that counts its connections and holds "hold" calls until released. */
async function countingServer(settings: http2.Settings = {}, tls?: { cert: string; key: string }) {
  const waiter = createWaiter();
  const held: (() => void)[] = [];
  const sessions = new Set<http2.ServerHttp2Session>();
  /** Every session in the order they connected; the session of the last call. */
  const order: http2.Http2Session[] = [];
  let last: http2.Http2Session | undefined;
  let connections = 0;
  const handler = connectNodeAdapter({
    routes: (r) =>
      r.service(Echo, {
        async say(req) {
          if (req.text === "hold") {
            await new Promise<void>((resolve) => {
              held.push(resolve);
              waiter.notify();
            });
          }
          return { text: req.text, server: "" };
        },
      }),
  });
  const onRequest = (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse): void => {
    last = req.stream.session;
    handler(req, res);
  };
  const server = tls === undefined ? http2.createServer({ settings }, onRequest) : http2.createSecureServer({ settings, ...tls }, onRequest);
  server.on("session", (s) => {
    connections++;
    order.push(s);
    sessions.add(s);
    s.on("close", () => {
      sessions.delete(s);
      waiter.notify();
    });
    s.on("error", () => {});
    waiter.notify();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    address,
    get connections() {
      return connections;
    },
    get open() {
      return sessions.size;
    },
    /** 1-based number of the connection that served the last call. */
    lastConnection: () => (last === undefined ? 0 : order.indexOf(last) + 1),
    held: () => held.length,
    until: (pred: () => boolean) => waiter.until(pred),
    release: () => {
      for (const r of held.splice(0)) r();
    },
    close: async () => {
      for (const r of held.splice(0)) r();
      for (const s of sessions) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A TCP front that forwards its first connection to `target` and keeps every later one silent. */
async function firstOnly(target: string) {
  const [host, port] = [target.slice(0, target.lastIndexOf(":")), Number(target.slice(target.lastIndexOf(":") + 1))];
  const sockets = new Set<net.Socket>();
  let n = 0;
  const server = net.createServer((client) => {
    sockets.add(client);
    client.on("error", () => {});
    if (n++ > 0) return; // silent: accepted, never answered
    const upstream = net.connect(port, host);
    sockets.add(upstream);
    upstream.on("error", () => client.destroy());
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    address: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe("connections of an endpoint", () => {
  it("opens a second connection when the first reaches MAX_CONCURRENT_STREAMS", watchdog, async () => {
    const server = await countingServer({ maxConcurrentStreams: 1 });
    const transport = createDiscoveryTransport({
      discovery: createManualDiscovery({ "echo.service": [instance(server.address)] }),
      target: "discovery:///echo.service",
      healthCheck: false,
    });
    try {
      await within(transport.ready(), WAIT_LIMIT_MS, () => "the endpoint");
      const client = createClient(Echo, transport);
      const a = client.say({ text: "hold" });
      await server.until(() => server.held() === 1);
      const b = client.say({ text: "hold" });
      await server.until(() => server.held() === 2);
      assert.equal(server.connections, 2, "the second call got a connection of its own");
      server.release();
      assert.deepEqual((await Promise.all([a, b])).map((r) => r.text), ["hold", "hold"]);
    } finally {
      await transport.close();
      await server.close();
    }
  });

  it("a call waiting for a new connection ends at its own deadline, not the connect timeout", watchdog, async () => {
    const material = await generateTlsMaterial();
    const server = await countingServer({ maxConcurrentStreams: 1 }, { cert: material.certPem, key: material.keyPem });
    const front = await firstOnly(server.address);
    const transport = createDiscoveryTransport({
      discovery: createManualDiscovery({ "echo.service": [{ ...instance(front.address), endpoints: [`grpcs://${front.address}`] }] }),
      target: "discovery:///echo.service",
      secure: { ca: material.caPem },
      healthCheck: false,
      connectTimeoutMs: 30_000,
    });
    try {
      await within(transport.ready(), WAIT_LIMIT_MS, () => "the endpoint");
      const client = createClient(Echo, transport);
      const a = client.say({ text: "hold" });
      await server.until(() => server.held() === 1);
      // The first connection is full; the second one's TLS handshake never completes.
      const t0 = performance.now();
      const err = await client.say({ text: "late" }, { timeoutMs: 300 }).catch((e: unknown) => e);
      const took = performance.now() - t0;
      assert.ok(err instanceof ConnectError && err.code === Code.DeadlineExceeded, String(err));
      assert.ok(took < 20_000, `took ${Math.round(took)} ms: the 30 s connect timeout, not the 300 ms deadline`);
      server.release();
      assert.equal((await a).text, "hold");
    } finally {
      await transport.close();
      await front.close();
      await server.close();
    }
  });

  it("maxConnectionAgeMs moves new calls to a new connection; the old one finishes its call, then closes", watchdog, async () => {
    const server = await countingServer();
    const clock = createFakeClock();
    const transport = createDiscoveryTransport({
      discovery: createManualDiscovery({ "echo.service": [instance(server.address)] }),
      target: "discovery:///echo.service",
      healthCheck: false,
      clock,
      random: () => 0.5, // no jitter: exactly the age
      maxConnectionAgeMs: 60_000,
    });
    try {
      await within(transport.ready(), WAIT_LIMIT_MS, () => "the endpoint");
      const client = createClient(Echo, transport);
      const old = client.say({ text: "hold" });
      await server.until(() => server.held() === 1);
      assert.equal(server.connections, 1);
      clock.advance(59_999);
      assert.equal(server.connections, 1, "not before its age");
      clock.advance(1);
      await server.until(() => server.connections === 2);
      // Once the new connection is up on the client too, calls go there.
      let calls = 0;
      for (; calls < 200; calls++) {
        await client.say({ text: "new" });
        if (server.lastConnection() === 2) break;
      }
      assert.equal(server.lastConnection(), 2, `calls still on the old connection after ${calls} calls`);
      for (let i = 0; i < 5; i++) {
        await client.say({ text: "new" });
        assert.equal(server.lastConnection(), 2);
      }
      assert.equal(server.open, 2, "the old connection stays while its call runs");
      server.release();
      assert.equal((await old).text, "hold");
      await server.until(() => server.open === 1);
      assert.equal((await client.say({ text: "after" })).text, "after");
      assert.equal(server.connections, 2, "no further connection was needed");
    } finally {
      await transport.close();
      await server.close();
    }
  });
});
