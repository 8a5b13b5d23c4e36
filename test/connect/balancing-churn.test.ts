/**
 * The balancing transport under churn, against in-process connect-node
 * servers: endpoints added and removed during load, a server killed with
 * calls in flight, graceful rolling restarts, a closed port, a silent peer,
 * a refused stream, and p2c steering away from a slow endpoint. Tests wait
 * on endpoint events (onEvent) and call counts, never on time.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createDiscoveryTransport, createManualDiscovery, isUnsentError, type DiscoveryTransportOptions } from "../../src/connect/index.ts";
import { Echo } from "../../proto/gen/echo_pb.ts";
import { closedPort, instance, silentPeer, startServer, type TestServer } from "./support/servers.ts";
import { createWaiter, denoPrematureClose, seededRandom, startLoad, WAIT_LIMIT_MS, watchdog, within, type Load } from "./support/load.ts";

const realTimeout = (fn: () => void, ms: number): { cancel(): void } => {
  const h = setTimeout(fn, ms);
  (h as { unref?: () => void }).unref?.();
  return { cancel: () => clearTimeout(h) };
};

function setup(o: Partial<DiscoveryTransportOptions> = {}) {
  const discovery = createManualDiscovery();
  const dump = (): string => `endpoints: ${JSON.stringify(transport.endpoints())}`;
  const waiter = createWaiter(dump);
  const loads: Load[] = [];
  const transport = createDiscoveryTransport({
    discovery,
    target: "discovery:///echo.service",
    ...o,
    onEvent: () => waiter.notify(),
  });
  const client = createClient(Echo, transport);
  const state = (address: string): string | undefined => transport.endpoints().find((e) => e.address === address)?.state;
  const until = (pred: () => boolean): Promise<void> => waiter.until(pred);
  const set = (addresses: string[]): void => discovery.set("echo.service", addresses.map((a) => instance(a)));
  const ready = (count = 1): Promise<void> => within(transport.ready({ count }), WAIT_LIMIT_MS, () => `${count} ready endpoint(s) (${dump()})`);
  const held = (s: TestServer, n: number): Promise<void> => within(s.waitHeld(n), WAIT_LIMIT_MS, () => `${n} held call(s) on ${s.address} (${dump()})`);
  const load = (call: () => Promise<unknown>, concurrency: number): Load => {
    const l = startLoad(call, concurrency);
    loads.push(l);
    return l;
  };
  /** Stops every load (a failed test may not have), then closes the transport. */
  const close = async (): Promise<void> => {
    for (const l of loads) l.halt();
    await transport.close();
  };
  return { discovery, transport, client, state, until, set, ready, held, load, close };
}

describe("churn", () => {
  // Runs on Deno too: Deno 2.9's node:http2 client segfaulted here behind
  // connect-node's transport; behind kratos-kube's own call path it passed 16
  // runs out of 16.
  it("survives a GOAWAY on an idle connection and keeps serving through a new one", watchdog, async () => {
    const a = await startServer();
    const t = setup();
    try {
      t.set([a.address]);
      assert.equal((await t.client.say({ text: "before" })).text, "before");
      // No stream is open: connect-node turns this GOAWAY into a session
      // 'error' event, which would crash the process without a listener.
      a.dropSessions();
      await t.until(() => t.state(a.address) !== "ready");
      await t.until(() => t.state(a.address) === "ready");
      assert.equal((await t.client.say({ text: "after" })).text, "after");
    } finally {
      await t.close();
      await a.close();
    }
  });

  it("follows endpoints added and removed while calls run (no errors, removed never picked again)", watchdog, async () => {
    const [a, b, c] = await Promise.all([startServer(), startServer(), startServer()]);
    const t = setup();
    try {
      t.set([a.address, b.address]);
      await t.ready(2);
      const load = t.load(() => t.client.say({ text: "x" }), 8);
      await load.completed(50);
      t.set([b.address, c.address]);
      await t.until(() => t.state(c.address) === "ready" && t.state(a.address) === undefined);
      const aCalls = a.calls.total;
      await load.completed(100);
      await load.stop();
      assert.deepEqual(load.errors, []);
      assert.equal(a.calls.total, aCalls, "a removed endpoint got calls");
      assert.ok(c.calls.total > 0);
    } finally {
      await t.close();
      await Promise.all([a.close(), b.close(), c.close()]);
    }
  });

  it("scales from 1 to 12 endpoints and back to 1 without leaving endpoints behind", watchdog, async () => {
    const servers = await Promise.all(Array.from({ length: 12 }, () => startServer()));
    const t = setup();
    try {
      t.set([servers[0]!.address]);
      await t.ready();
      const load = t.load(() => t.client.say({ text: "x" }), 4);
      t.set(servers.map((s) => s.address));
      await t.ready(12);
      await load.completed(60);
      t.set([servers[11]!.address]);
      await t.until(() => t.transport.endpoints().length === 1);
      await load.completed(20);
      await load.stop();
      assert.deepEqual(load.errors, []);
      assert.deepEqual(t.transport.endpoints().map((e) => [e.address, e.state]), [[servers[11]!.address, "ready"]]);
    } finally {
      await t.close();
      await Promise.all(servers.map((s) => s.close()));
    }
  });

  it("a removed endpoint finishes its open stream before its session closes", watchdog, async () => {
    const [a, b] = await Promise.all([startServer(), startServer()]);
    const t = setup();
    try {
      t.set([a.address]);
      await t.ready();
      const got: string[] = [];
      const reading = (async () => {
        for await (const r of t.client.repeat({ text: "hold", count: 3 })) got.push(r.text);
      })();
      await t.held(a, 1);
      t.set([b.address]); // a leaves discovery while its stream is open
      await t.until(() => t.state(b.address) === "ready");
      assert.equal(t.state(a.address), "draining");
      assert.equal(t.transport.endpoints().find((e) => e.address === a.address)?.inflight, 1);
      const res = await t.client.say({ text: "new" });
      assert.equal(res.server, b.address, "a draining endpoint is not picked");
      a.release();
      await reading;
      assert.deepEqual(got, ["hold-0", "hold-1", "hold-2"]);
      await t.until(() => t.state(a.address) === undefined); // closed once the stream ended
    } finally {
      await t.close();
      await Promise.all([a.close(), b.close()]);
    }
  });

  it("a server killed abruptly fails only its in-flight calls", watchdog, async () => {
    const [a, b, c] = await Promise.all([startServer(), startServer(), startServer()]);
    const t = setup();
    try {
      t.set([a.address, b.address, c.address]);
      await t.ready(3);
      const held = [0, 1, 2].map(() => t.client.say({ text: "hold" }).then(() => "ok", (e: unknown) => e));
      await Promise.all([t.held(a, 1), t.held(b, 1), t.held(c, 1)]);
      await a.kill();
      await t.until(() => t.state(a.address) !== "ready");
      b.release();
      c.release();
      const outcomes = await Promise.all(held);
      const failures = outcomes.filter((x) => x !== "ok");
      assert.equal(failures.length, 1, String(failures));
      assert.ok(failures[0] instanceof ConnectError);
      const res = await Promise.all(Array.from({ length: 30 }, () => t.client.say({ text: "after" })));
      assert.ok(res.every((r) => r.server !== a.address));
      await t.until(() => t.state(a.address) === "backoff"); // ejected: its port refuses connections
    } finally {
      await t.close();
      await Promise.all([a.close(), b.close(), c.close()]);
    }
  });

  it("a graceful rolling restart fails no call (Kratos order: deregister, drain, stop)", watchdog, async () => {
    const olds = await Promise.all([startServer(), startServer(), startServer()]);
    const t = setup();
    const current = olds.map((s) => s.address);
    const spares: TestServer[] = [];
    try {
      t.set(current);
      await t.ready(3);
      const load = t.load(() => t.client.say({ text: "x" }), 8);
      await load.completed(30);
      for (const old of olds) {
        const fresh = await startServer();
        spares.push(fresh);
        current.push(fresh.address);
        t.set(current);
        await t.until(() => t.state(fresh.address) === "ready");
        current.splice(current.indexOf(old.address), 1);
        t.set(current);
        // in-flight calls on the removed endpoint finish, then its session closes
        await t.until(() => t.state(old.address) === undefined);
        await old.gracefulStop();
        await load.completed(30);
      }
      await load.stop();
      assert.deepEqual(load.errors, []);
      assert.ok(load.ok >= 120);
    } finally {
      await t.close();
      await Promise.all([...olds, ...spares].map((s) => s.close()));
    }
  });

  it("a graceful restart before discovery catches up fails no call (GOAWAY, then refused connections)", watchdog, async () => {
    const olds = await Promise.all([startServer(), startServer(), startServer()]);
    const t = setup();
    const current = olds.map((s) => s.address);
    const spares: TestServer[] = [];
    try {
      t.set(current);
      await t.ready(3);
      const load = t.load(() => t.client.say({ text: "x" }), 8);
      await load.completed(30);
      for (const old of olds) {
        const fresh = await startServer();
        spares.push(fresh);
        current.push(fresh.address);
        t.set(current);
        await t.until(() => t.state(fresh.address) === "ready");
        await old.gracefulStop(); // GOAWAY while calls run; the port closes
        await load.completed(30);
        current.splice(current.indexOf(old.address), 1);
        t.set(current);
        await load.completed(30);
      }
      await load.stop();
      assert.deepEqual(load.errors.filter((e) => !denoPrematureClose(e)), []);
      assert.ok(load.ok >= 200);
    } finally {
      await t.close();
      await Promise.all([...olds, ...spares].map((s) => s.close()));
    }
  });

  it("a closed port costs no call and is ejected", watchdog, async () => {
    const [a, b] = await Promise.all([startServer(), startServer()]);
    const port = await closedPort();
    const closed = `127.0.0.1:${port}`;
    const t = setup();
    try {
      t.set([closed, a.address, b.address]);
      await t.until(() => t.state(closed) === "backoff" && t.state(a.address) === "ready" && t.state(b.address) === "ready");
      const res = await Promise.all(Array.from({ length: 60 }, () => t.client.say({ text: "x" })));
      assert.equal(res.filter((r) => r.server === a.address).length, 30);
      assert.equal(res.filter((r) => r.server === b.address).length, 30);
      const ep = t.transport.endpoints().find((e) => e.address === closed)!;
      assert.equal(ep.failures, 1);
      assert.match(ep.lastError ?? "", /ECONNREFUSED|refused|connect/i);
    } finally {
      await t.close();
      await Promise.all([a.close(), b.close()]);
    }
  });

  const resets: { name: string; refuseEcho: true | number; protocol?: "connect" | "grpc-web" }[] = [
    { name: "a call whose stream was refused (REFUSED_STREAM)", refuseEcho: true },
    { name: "a refused stream with protocol connect (the stream is tied to its attempt)", refuseEcho: true, protocol: "connect" },
    { name: "a refused stream with protocol grpc-web (the stream is tied to its attempt)", refuseEcho: true, protocol: "grpc-web" },
    // connect-node alone would leave such a call pending
    { name: "a stream reset with NO_ERROR before its headers", refuseEcho: 0 },
  ];
  for (const c of resets) {
    it(`retries ${c.name} on another endpoint`, watchdog, async () => {
      const [refuser, good] = await Promise.all([startServer({ refuseEcho: c.refuseEcho }), startServer()]);
      const t = setup(c.protocol === undefined ? {} : { protocol: c.protocol });
      try {
        t.set([refuser.address, good.address]);
        await t.ready(2);
        const res = await Promise.all(Array.from({ length: 16 }, () => t.client.say({ text: "x" }, { timeoutMs: 20_000 })));
        assert.ok(res.every((r) => r.server === good.address));
        assert.ok(refuser.refused.count >= 4, `refused ${refuser.refused.count}`);
      } finally {
        await t.close();
        await Promise.all([refuser.close(), good.close()]);
      }
    });
  }

  it("a retry gets only the remaining deadline", watchdog, async () => {
    const [refuser, good] = await Promise.all([startServer({ refuseEcho: true }), startServer()]);
    let t0 = 0;
    // time advances 50 ms whenever the transport looks at it
    const clock = { now: () => (t0 += 50), setTimeout: realTimeout };
    const timeouts: string[] = [];
    const t = setup({
      clock,
      attemptInterceptors: [(next) => async (req) => {
        timeouts.push(req.header.get("grpc-timeout") ?? "none");
        return next(req);
      }],
    });
    try {
      t.set([refuser.address, good.address]);
      await t.ready(2);
      timeouts.length = 0;
      const res = await t.client.say({ text: "x" }, { timeoutMs: 1000 });
      assert.equal(res.server, good.address);
      assert.equal(timeouts.length, 2);
      const [first, second] = timeouts.map((x) => Number(/^(\d+)m$/.exec(x)?.[1]));
      assert.ok(first! <= 1000 && second! < first!, `grpc-timeout per attempt: ${timeouts.join(", ")}`);
    } finally {
      await t.close();
      await Promise.all([refuser.close(), good.close()]);
    }
  });

  it("marks the error of a refused call that ran out of attempts as unsent", watchdog, async () => {
    const refuser = await startServer({ refuseEcho: true });
    const t = setup({ maxAttempts: 1 });
    try {
      t.set([refuser.address]);
      await t.ready();
      const err = await t.client.say({ text: "x" }).catch((e: unknown) => e);
      assert.ok(err instanceof ConnectError, String(err));
      assert.equal(isUnsentError(err), true);
      assert.equal(isUnsentError(new Error("x")), false);
    } finally {
      await t.close();
      await refuser.close();
    }
  });
});

describe("silent peer (accepts TCP, never answers)", () => {
  it("the call's deadline fires and the endpoint is ejected", watchdog, async () => {
    const peer = await silentPeer();
    const t = setup({ connectTimeoutMs: 300 });
    try {
      t.set([peer.address]);
      const err = await t.client.say({ text: "x" }, { timeoutMs: 150 }).catch((e: unknown) => e);
      assert.ok(err instanceof ConnectError);
      assert.equal(err.code, Code.DeadlineExceeded);
      await t.until(() => t.state(peer.address) === "backoff");
      // on a loaded host the client's timers can run before this process accepts the connection
      await within(peer.waitConnections(1), WAIT_LIMIT_MS, () => "the silent peer to accept a connection");
      const ep = t.transport.endpoints()[0]!;
      assert.equal(ep.failures, 1);
    } finally {
      await t.close();
      await peer.close();
    }
  });

  it("calls go to the healthy endpoint while the silent one is ejected", watchdog, async () => {
    const peer = await silentPeer();
    const good = await startServer();
    const t = setup({ connectTimeoutMs: 200 });
    try {
      t.set([peer.address, good.address]);
      const res = await Promise.all(Array.from({ length: 20 }, () => t.client.say({ text: "x" }, { timeoutMs: 5000 })));
      assert.ok(res.every((r) => r.server === good.address));
      await t.until(() => t.state(peer.address) === "backoff");
    } finally {
      await t.close();
      await Promise.all([peer.close(), good.close()]);
    }
  });

  it("without health checks, a deadline without response re-verifies and ejects the peer", watchdog, async () => {
    const peer = await silentPeer();
    const t = setup({ connectTimeoutMs: 200, healthCheck: false });
    try {
      t.set([peer.address]);
      await t.until(() => t.state(peer.address) === "ready");
      const err = await t.client.say({ text: "x" }, { timeoutMs: 150 }).catch((e: unknown) => e);
      assert.ok(err instanceof ConnectError);
      assert.equal(err.code, Code.DeadlineExceeded);
      await t.until(() => t.state(peer.address) === "backoff");
    } finally {
      await t.close();
      await peer.close();
    }
  });
});

describe("p2c", () => {
  it("moves traffic away from a slow endpoint", watchdog, async () => {
    const [f1, f2, slow] = await Promise.all([startServer(), startServer(), startServer({ slowMs: 250 })]);
    const t = setup({ balancer: "p2c", random: seededRandom(42) });
    try {
      t.set([f1.address, f2.address, slow.address]);
      await t.ready(3);
      const load = t.load(() => t.client.say({ text: "x" }), 4);
      await load.completed(400);
      await load.stop();
      assert.deepEqual(load.errors, []);
      const total = f1.calls.total + f2.calls.total + slow.calls.total;
      assert.ok(slow.calls.total / total < 0.1, `slow got ${slow.calls.total} of ${total}`);
    } finally {
      await t.close();
      await Promise.all([f1.close(), f2.close(), slow.close()]);
    }
  });
});
