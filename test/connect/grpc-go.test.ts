/**
 * The balancing transport against real grpc-go servers (test/peers/grpc-go),
 * the kind of server a Go Kratos service runs: exact round robin, a graceful
 * rolling restart (SIGTERM: NOT_SERVING + GracefulStop) with no failed call,
 * and SIGKILL failing at most the calls in flight on the killed server.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createClient } from "@connectrpc/connect";
import { createDiscoveryTransport, createManualDiscovery } from "../../src/connect/index.ts";
import { Greeter } from "../../proto/gen/helloworld_pb.ts";
import { buildPeer, goMissing, startPeer, type GoPeer } from "../peers/grpc-go/peer.ts";
import { createWaiter, denoPrematureClose, startLoad, WAIT_LIMIT_MS, watchdog, within, type Load } from "./support/load.ts";

const missing = goMissing();

function greeterInstance(address: string) {
  return { id: address, name: "helloworld", version: "v1", metadata: {}, endpoints: [`grpc://${address}`] };
}

function setup() {
  const discovery = createManualDiscovery();
  const dump = (): string => `endpoints: ${JSON.stringify(transport.endpoints())}`;
  const waiter = createWaiter(dump);
  const transport = createDiscoveryTransport({ discovery, target: "discovery:///helloworld", onEvent: () => waiter.notify() });
  const client = createClient(Greeter, transport);
  const loads: Load[] = [];
  return {
    transport,
    client,
    ready: (count: number): Promise<void> => within(transport.ready({ count }), WAIT_LIMIT_MS, () => `${count} ready endpoint(s) (${dump()})`),
    load: (call: () => Promise<unknown>, concurrency: number): Load => {
      const l = startLoad(call, concurrency);
      loads.push(l);
      return l;
    },
    /** Stops every load (a failed test may not have), then closes the transport. */
    close: async (): Promise<void> => {
      for (const l of loads) l.halt();
      await transport.close();
    },
    set: (addresses: string[]) => discovery.set("helloworld", addresses.map(greeterInstance)),
    state: (a: string) => transport.endpoints().find((e) => e.address === a)?.state,
    until: (pred: () => boolean) => waiter.until(pred),
  };
}

describe("grpc-go peers", { skip: missing }, () => {
  const peers: GoPeer[] = [];
  const start = async (): Promise<GoPeer> => {
    const p = await startPeer();
    peers.push(p);
    return p;
  };
  before(() => {
    buildPeer();
  });
  after(async () => {
    await Promise.all(peers.map((p) => p.kill()));
  });

  it("round robin is exactly even over 3 grpc-go servers", watchdog, async () => {
    const ps = await Promise.all([start(), start(), start()]);
    const t = setup();
    try {
      t.set(ps.map((p) => p.address));
      await t.ready(3);
      const counts = new Map<string, number>();
      for (let i = 0; i < 150; i++) {
        const { message } = await t.client.sayHello({ name: "kratos" });
        const from = /^Hello kratos from (\S+)$/.exec(message)?.[1] ?? message;
        counts.set(from, (counts.get(from) ?? 0) + 1);
      }
      assert.deepEqual([...counts.values()], [50, 50, 50]);
      assert.deepEqual(new Set(counts.keys()), new Set(ps.map((p) => p.address)));
    } finally {
      await t.close();
      await Promise.all(ps.map((p) => p.kill()));
    }
  });

  it("a graceful rolling restart (SIGTERM → GracefulStop) fails no call", watchdog, async () => {
    const olds = await Promise.all([start(), start(), start()]);
    const t = setup();
    const current = olds.map((p) => p.address);
    try {
      t.set(current);
      await t.ready(3);
      const load = t.load(() => t.client.sayHello({ name: "x" }), 8);
      await load.completed(30);
      for (const [i, old] of olds.entries()) {
        const fresh = await start();
        current.push(fresh.address);
        t.set(current);
        await t.until(() => t.state(fresh.address) === "ready");
        const drop = (): void => {
          current.splice(current.indexOf(old.address), 1);
          t.set(current);
        };
        if (i === 1) {
          await old.stop(); // the server stops before discovery notices
          await load.completed(30);
          drop();
        } else {
          drop(); // Kratos order: deregister, drain, stop
          await t.until(() => t.state(old.address) === undefined);
          await old.stop();
        }
        await load.completed(30);
      }
      await load.stop();
      assert.deepEqual(load.errors.filter((e) => !denoPrematureClose(e)), []);
      assert.ok(load.ok >= 200);
    } finally {
      await t.close();
    }
  });

  it("SIGKILL fails at most the calls in flight on the killed server", watchdog, async () => {
    const ps = await Promise.all([start(), start(), start()]);
    const t = setup();
    try {
      t.set(ps.map((p) => p.address));
      await t.ready(3);
      const concurrency = 8;
      let ejected = false;
      const lateFailures: unknown[] = [];
      const load = t.load(async () => {
        const startedAfterEjection = ejected;
        try {
          return await t.client.sayHello({ name: "x" });
        } catch (e) {
          if (startedAfterEjection) lateFailures.push(e);
          throw e;
        }
      }, concurrency);
      await load.completed(60);
      await ps[0]!.kill();
      await t.until(() => t.state(ps[0]!.address) === "backoff");
      ejected = true;
      await load.completed(200);
      // Calls stranded on the dead connection settle too (Deno closes their
      // streams without an error; the transport fails them after a grace period).
      await within(load.stop(), WAIT_LIMIT_MS, () => `every call to settle (endpoints: ${JSON.stringify(t.transport.endpoints())})`);
      assert.ok(load.failed <= concurrency, `failed ${load.failed}: more than the calls in flight on the killed server`);
      assert.deepEqual(lateFailures, [], "calls started after the endpoint was ejected failed");
    } finally {
      await t.close();
      await Promise.all(ps.map((p) => p.kill()));
    }
  });
});
