/**
 * Ejection and recovery with gRPC connection backoff (1 s, ×1.6, ±20 %,
 * max 120 s), driven by a fake clock.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createClient } from "@connectrpc/connect";
import { backoffDelay, createDiscoveryTransport, createManualDiscovery, DEFAULT_BACKOFF } from "../../src/connect/index.ts";
import { Echo } from "../../proto/gen/echo_pb.ts";
import { closedPort, instance, startServer, type TestServer } from "./support/servers.ts";
import { createFakeClock } from "./support/fake-clock.ts";
import { createWaiter, watchdog } from "./support/load.ts";

describe("backoff", () => {
  it("follows gRPC's connection backoff: 1 s ×1.6 ±20 %, at most 120 s", () => {
    const mid = (): number => 0.5;
    assert.equal(backoffDelay(DEFAULT_BACKOFF, 1, mid), 1000);
    assert.equal(backoffDelay(DEFAULT_BACKOFF, 2, mid), 1600);
    assert.ok(Math.abs(backoffDelay(DEFAULT_BACKOFF, 3, mid) - 2560) < 1e-9);
    assert.equal(backoffDelay(DEFAULT_BACKOFF, 30, mid), 120_000);
    assert.equal(backoffDelay(DEFAULT_BACKOFF, 1, () => 0), 800);
    assert.equal(backoffDelay(DEFAULT_BACKOFF, 1, () => 1), 1200);
  });

  it("re-probes an ejected endpoint on schedule and picks it again once it recovers", watchdog, async () => {
    const port = await closedPort();
    const address = `127.0.0.1:${port}`;
    const clock = createFakeClock();
    const waiter = createWaiter();
    const discovery = createManualDiscovery({ "echo.service": [instance(address)] });
    const transport = createDiscoveryTransport({
      discovery,
      target: "discovery:///echo.service",
      clock,
      random: () => 0.5,
      onEvent: () => waiter.notify(),
    });
    const ep = () => transport.endpoints()[0] ?? { state: "unknown", failures: -1 };
    let server: TestServer | undefined;
    try {
      await waiter.until(() => ep().state === "backoff");
      assert.equal(ep().failures, 1);
      clock.advance(999);
      assert.equal(ep().state, "backoff");
      clock.advance(1); // 1 s: second probe, refused again
      await waiter.until(() => ep().state === "backoff" && ep().failures === 2);
      clock.advance(1599);
      assert.equal(ep().state, "backoff");
      server = await startServer({ port });
      clock.advance(1); // 1.6 s: third probe succeeds
      await waiter.until(() => ep().state === "ready");
      assert.equal(ep().failures, 0);
      const res = await createClient(Echo, transport).say({ text: "back" });
      assert.equal(res.server, address);
    } finally {
      await transport.close();
      await server?.close();
    }
  });
});
