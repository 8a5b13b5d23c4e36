/**
 * An endpoint that left discovery drains: no new calls, the running ones
 * finish on its connection; `drainTimeoutMs` bounds how long (a fake clock
 * drives it).
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createDiscoveryTransport, createManualDiscovery, type DiscoveryTransportOptions } from "../../src/connect/index.ts";
import { Echo } from "../../proto/gen/echo_pb.ts";
import { createFakeClock } from "./support/fake-clock.ts";
import { createWaiter, watchdog, within, WAIT_LIMIT_MS } from "./support/load.ts";
import { instance, startServer } from "./support/servers.ts";

async function drainScenario(o: Partial<DiscoveryTransportOptions>, act: (ctx: { advance(ms: number): void; release(): void }) => void) {
  const [old, next] = await Promise.all([startServer(), startServer()]);
  const clock = createFakeClock();
  const discovery = createManualDiscovery({ "echo.service": [instance(old.address)] });
  const transport = createDiscoveryTransport({ discovery, target: "discovery:///echo.service", clock, ...o, onEvent: () => waiter.notify() });
  const waiter = createWaiter(() => JSON.stringify(transport.endpoints()));
  const state = (address: string): string => transport.endpoints().find((e) => e.address === address)?.state ?? "gone";
  try {
    await within(transport.ready(), WAIT_LIMIT_MS, () => "the first endpoint");
    const client = createClient(Echo, transport);
    // A server stream that sends one message, then waits (held) before the next.
    const got: string[] = [];
    const stream = (async () => {
      for await (const m of client.repeat({ text: "hold", count: 3 })) got.push(m.text);
    })().then(() => undefined, (e: unknown) => e);
    await within(old.waitHeld(1), WAIT_LIMIT_MS, () => "the stream to be held");
    discovery.set("echo.service", [instance(next.address)]);
    await waiter.until(() => state(old.address) === "draining" && state(next.address) === "ready");
    assert.equal((await client.say({ text: "new" })).server, next.address, "new calls go to the endpoint that stays");
    act({ advance: (ms) => clock.advance(ms), release: () => old.release() });
    const outcome = await within(stream, WAIT_LIMIT_MS, () => "the stream to end");
    await waiter.until(() => state(old.address) === "gone");
    return { outcome, got };
  } finally {
    old.release();
    await transport.close();
    await Promise.all([old.close(), next.close()]);
  }
}

describe("draining a removed endpoint", () => {
  it("lets a running stream finish on its connection (no limit by default)", watchdog, async () => {
    const { outcome, got } = await drainScenario({}, ({ advance, release }) => {
      advance(3_600_000); // an hour later, still draining
      release();
    });
    assert.equal(outcome, undefined, String(outcome));
    assert.deepEqual(got, ["hold-0", "hold-1", "hold-2"]);
  });

  it("drainTimeoutMs closes the connection and fails what still runs with Unavailable", watchdog, async () => {
    const { outcome, got } = await drainScenario({ drainTimeoutMs: 30_000 }, ({ advance }) => {
      advance(29_999);
      advance(1);
    });
    assert.ok(outcome instanceof ConnectError, String(outcome));
    assert.equal(outcome.code, Code.Unavailable);
    assert.match(outcome.message, /left discovery/);
    assert.deepEqual(got, ["hold-0"]);
  });
});
