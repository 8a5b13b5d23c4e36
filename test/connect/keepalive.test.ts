/**
 * Connection keepalive on a fake clock: PINGs only after an interval
 * without data while calls are open, an unacknowledged PING closes the
 * connection, idle connections close after the idle timeout.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Keepalive, type KeepaliveTarget } from "../../src/connect/channel/keepalive.ts";
import { createFakeClock } from "./support/fake-clock.ts";

function target(answer: boolean) {
  const log: string[] = [];
  const t: KeepaliveTarget & { activity: number; log: string[] } = {
    activity: 0,
    log,
    ping(ms) {
      log.push(`ping ${ms}`);
      return Promise.resolve(answer);
    },
    unresponsive(ms) {
      log.push(`unresponsive ${ms}`);
    },
    idle() {
      log.push("idle");
    },
  };
  return t;
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

describe("keepalive", () => {
  it("sends no PING by default and closes an idle connection after 15 min", () => {
    const clock = createFakeClock();
    const t = target(true);
    new Keepalive(t, clock, undefined);
    clock.advance(15 * 60_000 - 1);
    assert.deepEqual(t.log, []);
    clock.advance(1);
    assert.deepEqual(t.log, ["idle"]);
  });

  it("PINGs after the interval without data while calls are open", async () => {
    const clock = createFakeClock();
    const t = target(true);
    const k = new Keepalive(t, clock, { pingIntervalMs: 1000, pingTimeoutMs: 200 });
    clock.advance(5000);
    assert.deepEqual(t.log, [], "no PING on a connection without calls");
    k.streams(1);
    t.activity++; // data arrives within the first interval
    clock.advance(1000);
    await tick();
    assert.deepEqual(t.log, [], "data within the interval makes a PING unnecessary");
    clock.advance(1000);
    await tick();
    assert.deepEqual(t.log, ["ping 200"]);
    k.streams(0);
    clock.advance(10_000);
    await tick();
    assert.deepEqual(t.log, ["ping 200"], "PINGs stop with the last call");
    k.stop();
  });

  it("reports a PING that is not acknowledged", async () => {
    const clock = createFakeClock();
    const t = target(false);
    const k = new Keepalive(t, clock, { pingIntervalMs: 1000, pingTimeoutMs: 300 });
    k.streams(2);
    clock.advance(1000);
    await tick();
    assert.deepEqual(t.log, ["ping 300", "unresponsive 300"]);
    k.stop();
  });

  it("pingIdleConnection PINGs without calls; a call cancels the idle timeout", async () => {
    const clock = createFakeClock();
    const t = target(true);
    const k = new Keepalive(t, clock, { pingIntervalMs: 1000, pingIdleConnection: true, idleConnectionTimeoutMs: 5000 });
    k.streams(1);
    clock.advance(4000);
    await tick();
    clock.advance(10_000);
    await tick();
    assert.ok(!t.log.includes("idle"), t.log.join(", "));
    assert.ok(t.log.filter((l) => l.startsWith("ping")).length >= 1);
    k.stop();
    const before = t.log.length;
    clock.advance(60_000);
    await tick();
    assert.equal(t.log.length, before, "stop() cancels every timer");
  });
});
