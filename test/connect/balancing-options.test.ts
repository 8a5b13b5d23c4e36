/**
 * Options of createDiscoveryTransport: TLS (grpcs), wrr weights from
 * metadata, Kratos subsetting, empty updates, discovery errors, interceptors.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createClient, type Interceptor } from "@connectrpc/connect";
import {
  createDiscoveryTransport,
  createManualDiscovery,
  subset,
  subsetMemberKey,
  type EndpointInstance,
  type EndpointSource,
} from "../../src/connect/index.ts";
import { generateTlsMaterial } from "../../src/testing/index.ts";
import { Echo } from "../../proto/gen/echo_pb.ts";
import { instance, startServer } from "./support/servers.ts";
import { createFakeClock } from "./support/fake-clock.ts";
import { watchdog } from "./support/load.ts";

const tally = (xs: string[]): Map<string, number> => {
  const m = new Map<string, number>();
  for (const x of xs) m.set(x, (m.get(x) ?? 0) + 1);
  return m;
};

describe("options", () => {
  it("secure: calls grpcs endpoints over TLS with the given CA", watchdog, async () => {
    const tls = await generateTlsMaterial();
    const [a, b] = await Promise.all([startServer({ tls }), startServer({ tls })]);
    const discovery = createManualDiscovery({
      "echo.service": [
        { ...instance(a.address), endpoints: [`grpcs://${a.address}`] },
        { ...instance(b.address), endpoints: [`grpc://${b.address}?isSecure=true`] }, // legacy form
      ],
    });
    const transport = createDiscoveryTransport({ discovery, target: "discovery:///echo.service", secure: { ca: tls.caPem } });
    try {
      await transport.ready({ count: 2 });
      const client = createClient(Echo, transport);
      const got = await Promise.all([0, 1, 2, 3].map(() => client.say({ text: "tls" })));
      assert.deepEqual(tally(got.map((r) => r.server)), new Map([[a.address, 2], [b.address, 2]]));
    } finally {
      await transport.close();
      await Promise.all([a.close(), b.close()]);
    }
  });

  it("protocol connect: calls the http endpoints with the Connect protocol", watchdog, async () => {
    const a = await startServer();
    const discovery = createManualDiscovery({ "echo.service": [instance(a.address)] }); // has http:// and grpc://
    const transport = createDiscoveryTransport({ discovery, target: "discovery:///echo.service", protocol: "connect" });
    try {
      const res = await createClient(Echo, transport).say({ text: "connect" });
      assert.equal(res.server, a.address);
      assert.equal(res.text, "connect");
    } finally {
      await transport.close();
      await a.close();
    }
  });

  it("wrr: follows the weight metadata exactly", watchdog, async () => {
    const [a, b] = await Promise.all([startServer(), startServer()]);
    const discovery = createManualDiscovery({
      "echo.service": [instance(a.address, { metadata: { weight: "300" } }), instance(b.address)],
    });
    const transport = createDiscoveryTransport({ discovery, target: "discovery:///echo.service", balancer: "wrr" });
    try {
      await transport.ready({ count: 2 });
      const client = createClient(Echo, transport);
      const got: string[] = [];
      for (let i = 0; i < 400; i++) got.push((await client.say({ text: "w" })).server);
      assert.deepEqual(tally(got), new Map([[a.address, 300], [b.address, 100]]));
    } finally {
      await transport.close();
      await Promise.all([a.close(), b.close()]);
    }
  });

  it("subset: connects only to the Kratos subset for its key", watchdog, async () => {
    const servers = await Promise.all([0, 1, 2, 3, 4].map(() => startServer()));
    const instances = servers.map((s, i) => instance(s.address, { id: `pod-${i}` }));
    const discovery = createManualDiscovery({ "echo.service": instances });
    const transport = createDiscoveryTransport({ discovery, target: "discovery:///echo.service", subset: 2, subsetKey: "client-a" });
    try {
      await transport.ready({ count: 2 });
      const want = subset("client-a", instances, 2, subsetMemberKey).map((i) => i.id);
      const got = transport.endpoints().map((e) => instances.find((i) => i.endpoints.includes(`grpc://${e.address}`))!.id);
      assert.deepEqual(new Set(got), new Set(want));
      assert.equal(got.length, 2);
    } finally {
      await transport.close();
      await Promise.all(servers.map((s) => s.close()));
    }
  });

  it("keeps the last endpoints on an empty update from a source that does not report its state (as Kratos)", watchdog, async () => {
    const a = await startServer();
    const discovery = createManualDiscovery({ "echo.service": [instance(a.address)] });
    // Manual discovery says its lists are synced (authoritative); a custom source may say nothing.
    const stateless: EndpointSource = {
      async watch(name, o) {
        const w = await discovery.watch(name, o);
        return { next: () => w.next(), stop: () => w.stop() };
      },
    };
    const transport = createDiscoveryTransport({ discovery: stateless, target: "discovery:///echo.service" });
    try {
      await transport.ready();
      discovery.set("echo.service", []);
      const res = await createClient(Echo, transport).say({ text: "still" });
      assert.equal(res.server, a.address);
      assert.equal(transport.endpoints().length, 1);
    } finally {
      await transport.close();
      await a.close();
    }
  });

  it("reports discovery errors to onError and watches again after a second", watchdog, async () => {
    const a = await startServer();
    const clock = createFakeClock();
    const errors: Error[] = [];
    let watches = 0;
    let nexts = 0;
    let stops = 0;
    const discovery: EndpointSource = {
      async watch() {
        if (++watches === 1) throw new Error("apiserver unreachable");
        return {
          async next(): Promise<readonly EndpointInstance[]> {
            if (++nexts === 1) throw new Error("watch stream broke");
            if (nexts === 2) return [instance(a.address)];
            return new Promise(() => {}); // no further changes
          },
          stop() {
            stops++;
          },
        };
      },
    };
    const transport = createDiscoveryTransport({ discovery, target: "discovery:///echo.service", clock, onError: (e) => errors.push(e) });
    try {
      await clock.whenPending(1);
      clock.advance(1000);
      await clock.whenPending(1);
      clock.advance(1000);
      await transport.ready();
      assert.equal(errors.length, 2);
      assert.match(errors[0]!.message, /discovery watch for service "echo\.service" failed: apiserver unreachable/);
      assert.match(errors[1]!.message, /watch stream broke/);
      assert.equal(watches, 3, "a failed watcher is replaced by a new watch");
      assert.equal(stops, 1);
      assert.equal((await createClient(Echo, transport).say({ text: "ok" })).server, a.address);
    } finally {
      await transport.close();
      await a.close();
    }
  });

  it("runs interceptors once per call", watchdog, async () => {
    const a = await startServer();
    const seen: string[] = [];
    const tag: Interceptor = (next) => async (req) => {
      seen.push(req.method.name);
      req.header.set("x-tag", "1");
      return next(req);
    };
    const discovery = createManualDiscovery({ "echo.service": [instance(a.address)] });
    const transport = createDiscoveryTransport({ discovery, target: "discovery:///echo.service", interceptors: [tag], healthCheck: false });
    try {
      await createClient(Echo, transport).say({ text: "i" });
      assert.deepEqual(seen, ["Say"]);
    } finally {
      await transport.close();
      await a.close();
    }
  });
});
