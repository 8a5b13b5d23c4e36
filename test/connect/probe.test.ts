/**
 * Health probes of ready endpoints: a probe that times out while the
 * connection keeps delivering responses means a slow peer (or a client
 * starved of CPU), not a dead one, so the endpoint stays ready and the calls
 * in flight on its connection finish. A probe that times out in silence
 * still ejects it (see the silent-peer test in balancing-churn.test.ts).
 * The probe's deadline runs on a fake clock; everything else waits on events.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createDiscoveryTransport, createManualDiscovery } from "../../src/connect/index.ts";
import { Echo } from "../../proto/gen/echo_pb.ts";
import { createFakeClock } from "./support/fake-clock.ts";
import { createWaiter, watchdog, within, WAIT_LIMIT_MS } from "./support/load.ts";
import { instance, startServer } from "./support/servers.ts";

describe("health probes of a ready endpoint", () => {
  it("a probe timing out while other streams still receive data keeps the endpoint and its calls", watchdog, async () => {
    let healthOpen = true;
    let probeArrived!: () => void;
    const arrived = new Promise<void>((r) => (probeArrived = r));
    let unblockHealth!: () => void;
    const healthBlocked = new Promise<void>((r) => (unblockHealth = r));
    const server = await startServer({
      healthGate: () => {
        if (healthOpen) return Promise.resolve();
        probeArrived();
        return healthBlocked;
      },
    });
    const clock = createFakeClock();
    const waiter = createWaiter(() => JSON.stringify(transport.endpoints()));
    const states: string[] = [];
    const transport = createDiscoveryTransport({
      discovery: createManualDiscovery({ "echo.service": [instance(server.address)] }),
      target: "discovery:///echo.service",
      clock,
      connectTimeoutMs: 1000,
      onEvent: (e) => {
        states.push(e.state);
        waiter.notify();
      },
    });
    const client = createClient(Echo, transport);
    const state = (): string => transport.endpoints()[0]?.state ?? "none";
    try {
      await within(transport.ready(), WAIT_LIMIT_MS, () => "the endpoint to be ready");
      const a = client.say({ text: "hold" });
      const c = client.say({ text: "hold" });
      await within(server.waitHeld(2), WAIT_LIMIT_MS, () => "two held calls");
      healthOpen = false;
      // A call that gets no answer before its deadline makes the transport re-probe the endpoint.
      const b = await client.say({ text: "hold" }, { timeoutMs: 50 }).catch((e: unknown) => e);
      assert.ok(b instanceof ConnectError && b.code === Code.DeadlineExceeded, String(b));
      await within(arrived, WAIT_LIMIT_MS, () => "the health probe to reach the server");
      assert.equal(state(), "connecting");
      server.releaseOne(); // the oldest held call (a) answers while the probe hangs
      assert.equal((await a).text, "hold");
      clock.advance(1000); // the probe's deadline
      await waiter.until(() => state() !== "connecting");
      assert.equal(state(), "ready", `states: ${states.join(" → ")}`);
      server.release();
      const res = await c;
      assert.equal(res.server, server.address, "the call in flight during the probe finished on its connection");
      assert.ok(!states.includes("backoff"), `states: ${states.join(" → ")}`);
    } finally {
      unblockHealth();
      server.release();
      await transport.close();
      await server.close();
    }
  });
});
