/**
 * The watch deadlines (src/kube/reflector/watchdog.ts): the pure choice of
 * the next deadline, and the timer that fires it once on a manual clock.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { deadlineError, watchDeadline, Watchdog, type WatchLimits, type WatchProgress } from "../../src/kube/reflector/watchdog.ts";
import { createManualClock } from "../../src/testing/manual-clock.ts";

const limits: WatchLimits = { silenceMs: 305_000, bookmarkSilenceMs: 120_000, initialSilenceMs: 60_000, initialTimeoutMs: 180_000 };
const at0: WatchProgress = { started: 0, lastByte: 0, lastEvent: 0, bookmarks: false, initialEvents: false };

describe("watch deadlines (pure)", () => {
  it("a plain watch: silence after timeoutSeconds + grace, counted from the last byte", () => {
    assert.deepEqual(watchDeadline(limits, { ...at0, lastByte: 1_000 }), { kind: "silence", at: 306_000, limitMs: 305_000 });
  });
  it("once bookmarks flow the shorter bookmark silence applies", () => {
    assert.deepEqual(watchDeadline(limits, { ...at0, bookmarks: true, lastByte: 5_000 }), { kind: "silence", at: 125_000, limitMs: 120_000 });
    // …but never longer than the request's own timeout plus grace.
    assert.equal(watchDeadline({ ...limits, silenceMs: 60_000 }, { ...at0, bookmarks: true }).at, 60_000);
  });
  it("a streaming list: the gap between initial events, then the end bookmark's bound", () => {
    assert.deepEqual(watchDeadline(limits, { ...at0, initialEvents: true, lastEvent: 10_000, lastByte: 10_000 }), { kind: "initial-silence", at: 70_000 });
    assert.deepEqual(watchDeadline(limits, { ...at0, initialEvents: true, lastEvent: 150_000, lastByte: 150_000 }), { kind: "initial-end", at: 180_000 });
  });
  it("names what fell in the error", () => {
    const p = { ...at0, initialEvents: true, lastEvent: 10_000, lastByte: 20_000 };
    assert.match(deadlineError({ kind: "silence", at: 0, limitMs: 1 }, p, 325_000).message, /no bytes for 305000 ms/);
    assert.match(deadlineError({ kind: "initial-silence", at: 70_000 }, p, 70_000).message, /no initial event for 60000 ms/);
    assert.match(deadlineError({ kind: "initial-end", at: 180_000 }, p, 180_000).message, /within 180000 ms/);
    assert.equal(deadlineError({ kind: "initial-end", at: 0 }, p, 0).kind, "idle-timeout");
  });
});

describe("Watchdog (timer on a manual clock)", () => {
  it("fires the silence deadline once, moved on by every byte", async () => {
    const clock = createManualClock();
    const fired: string[] = [];
    const w = new Watchdog({ clock, limits, initialEvents: () => false, onExpired: (e, kind) => fired.push(`${kind}: ${e.message}`) });
    await clock.advance(300_000);
    w.byte();
    await clock.advance(300_000);
    assert.deepEqual(fired, []);
    await clock.advance(5_000);
    assert.equal(fired.length, 1);
    assert.match(fired[0]!, /^idle: the watch received no bytes for 305000 ms/);
    await clock.advance(1_000_000);
    assert.equal(fired.length, 1);
    assert.equal(clock.pending, 0);
  });
  it("a bookmark re-arms for the shorter limit at once", async () => {
    const clock = createManualClock();
    const fired: string[] = [];
    const w = new Watchdog({ clock, limits, initialEvents: () => false, onExpired: (_e, kind) => fired.push(kind) });
    await clock.advance(10_000);
    w.byte();
    w.event();
    w.bookmark();
    await clock.advance(119_999);
    assert.deepEqual(fired, []);
    await clock.advance(1);
    assert.deepEqual(fired, ["idle"]);
  });
  it("a streaming list stalls when its initial events stop, and not once they are over", async () => {
    const clock = createManualClock();
    let initial = true;
    const fired: string[] = [];
    const w = new Watchdog({ clock, limits, initialEvents: () => initial, onExpired: (_e, kind) => fired.push(kind) });
    await clock.advance(59_000);
    w.byte();
    w.event();
    await clock.advance(59_000);
    assert.deepEqual(fired, []);
    initial = false; // the initial-events-end bookmark arrived
    w.byte();
    w.event();
    await clock.advance(200_000);
    assert.deepEqual(fired, []);
    w.cancel();
    assert.equal(clock.pending, 0);
    // Another one whose initial events stop: it stalls 60 s after the last one.
    const stalled: string[] = [];
    const v = new Watchdog({ clock, limits, initialEvents: () => true, onExpired: (e, kind) => stalled.push(`${kind}: ${e.message}`) });
    await clock.advance(30_000);
    v.byte();
    v.event();
    await clock.advance(59_999);
    assert.deepEqual(stalled, []);
    await clock.advance(1);
    assert.deepEqual(stalled, ["stalled: the streaming list received no initial event for 60000 ms and no initial-events-end bookmark"]);
  });
  it("cancel() stops it for good", async () => {
    const clock = createManualClock();
    let fired = 0;
    const w = new Watchdog({ clock, limits, initialEvents: () => true, onExpired: () => fired++ });
    w.cancel();
    await clock.advance(1_000_000);
    assert.equal(fired, 0);
    assert.equal(clock.pending, 0);
  });
});
