/**
 * The endpoint lifecycle as a transition table: every state × event, the
 * next state and the effects the driver must carry out (as
 * test/kube/reflector-state.test.ts does for the reflector).
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { INITIAL, transition, type Lifecycle, type LifecycleEffect, type LifecycleEvent } from "../../src/connect/channel/lifecycle.ts";

const err = new Error("boom");
const delay = (n: number): number => 1000 * n;
const S = {
  connecting: { s: "connecting", failures: 2 } as Lifecycle,
  ready: { s: "ready" } as Lifecycle,
  "not-serving": { s: "not-serving" } as Lifecycle,
  backoff: { s: "backoff", failures: 2 } as Lifecycle,
  draining: { s: "draining" } as Lifecycle,
  closed: { s: "closed" } as Lifecycle,
};
const E: Record<string, LifecycleEvent> = {
  "probe-ok": { ev: "probe-ok" },
  "probe-failed": { ev: "probe-failed", error: err, delayMs: delay },
  "dial-failed": { ev: "dial-failed", error: err, delayMs: delay },
  "backoff-elapsed": { ev: "backoff-elapsed" },
  "connection-lost": { ev: "connection-lost", error: err },
  suspect: { ev: "suspect" },
  "health NOT_SERVING": { ev: "health", serving: false, error: err },
  "health SERVING": { ev: "health", serving: true },
  "drain (calls running)": { ev: "drain", inflight: 2, timeoutMs: 30_000 },
  "drain (no limit)": { ev: "drain", inflight: 2, timeoutMs: undefined },
  "drain (idle)": { ev: "drain", inflight: 0, timeoutMs: 30_000 },
  idle: { ev: "idle" },
  "drain-timeout": { ev: "drain-timeout", timeoutMs: 30_000 },
  close: { ev: "close" },
};

/** Effects as short strings: `probe`, `timer:1000:backoff-elapsed`, `cancel`, `close`, `close:30000`, `emit`, `emit!`. */
function fx(effects: readonly LifecycleEffect[]): string[] {
  return effects.map((e) => {
    switch (e.fx) {
      case "probe":
        return "probe";
      case "timer":
        return `timer:${e.ms}:${e.then}`;
      case "cancel-timer":
        return "cancel";
      case "close-connections":
        return e.drainTimeoutMs === undefined ? "close" : `close:${e.drainTimeoutMs}`;
      case "emit":
        return e.error === undefined ? "emit" : "emit!";
    }
  });
}

const name = (l: Lifecycle): string => (l.s === "connecting" || l.s === "backoff" ? `${l.s}/${l.failures}` : l.s);
const CLOSE = ["cancel", "close", "emit"];

/** [state, event] → [next state, effects]; `=` = unchanged, no effects. */
const table: [keyof typeof S, string, string, string[]][] = [
  ["connecting", "probe-ok", "ready", ["emit"]],
  ["connecting", "probe-failed", "backoff/3", ["timer:3000:backoff-elapsed", "emit!"]],
  ["connecting", "dial-failed", "=", []],
  ["connecting", "backoff-elapsed", "=", []],
  ["connecting", "connection-lost", "=", []],
  ["connecting", "suspect", "=", []],
  ["connecting", "health NOT_SERVING", "=", []],
  ["connecting", "health SERVING", "=", []],
  ["connecting", "drain (calls running)", "draining", ["cancel", "timer:30000:drain-timeout", "emit"]],
  ["connecting", "drain (idle)", "closed", CLOSE],
  ["connecting", "idle", "=", []],
  ["connecting", "drain-timeout", "=", []],
  ["connecting", "close", "closed", CLOSE],
  ["ready", "probe-ok", "=", []],
  ["ready", "probe-failed", "=", []],
  ["ready", "dial-failed", "backoff/1", ["timer:1000:backoff-elapsed", "emit!"]],
  ["ready", "backoff-elapsed", "=", []],
  ["ready", "connection-lost", "connecting/0", ["emit!", "probe"]],
  ["ready", "suspect", "connecting/0", ["emit", "probe"]],
  ["ready", "health NOT_SERVING", "not-serving", ["emit!"]],
  ["ready", "health SERVING", "=", []],
  ["ready", "drain (calls running)", "draining", ["cancel", "timer:30000:drain-timeout", "emit"]],
  ["ready", "drain (no limit)", "draining", ["cancel", "emit"]],
  ["ready", "drain (idle)", "closed", CLOSE],
  ["ready", "idle", "=", []],
  ["ready", "close", "closed", CLOSE],
  ["not-serving", "health SERVING", "ready", ["emit"]],
  ["not-serving", "health NOT_SERVING", "=", []],
  ["not-serving", "probe-ok", "=", []],
  ["not-serving", "probe-failed", "=", []],
  ["not-serving", "dial-failed", "=", []],
  ["not-serving", "backoff-elapsed", "=", []],
  ["not-serving", "connection-lost", "connecting/0", ["emit!", "probe"]],
  ["not-serving", "suspect", "=", []],
  ["not-serving", "drain (calls running)", "draining", ["cancel", "timer:30000:drain-timeout", "emit"]],
  ["not-serving", "drain (idle)", "closed", CLOSE],
  ["not-serving", "close", "closed", CLOSE],
  ["backoff", "probe-ok", "=", []],
  ["backoff", "probe-failed", "=", []],
  ["backoff", "dial-failed", "=", []],
  ["backoff", "backoff-elapsed", "connecting/2", ["emit", "probe"]],
  ["backoff", "connection-lost", "=", []],
  ["backoff", "suspect", "=", []],
  ["backoff", "drain (calls running)", "draining", ["cancel", "timer:30000:drain-timeout", "emit"]],
  ["backoff", "drain (idle)", "closed", CLOSE],
  ["backoff", "close", "closed", CLOSE],
  ["draining", "probe-ok", "=", []],
  ["draining", "probe-failed", "=", []],
  ["draining", "connection-lost", "=", []],
  ["draining", "suspect", "=", []],
  ["draining", "health SERVING", "=", []],
  ["draining", "drain (calls running)", "=", []],
  ["draining", "idle", "closed", CLOSE],
  ["draining", "drain-timeout", "closed", ["close:30000", "emit"]],
  ["draining", "close", "closed", CLOSE],
  ...Object.keys(E).map((ev): [keyof typeof S, string, string, string[]] => ["closed", ev, "=", []]),
];

describe("endpoint lifecycle", () => {
  it("starts connecting with a probe", () => {
    assert.equal(name(INITIAL.state), "connecting/0");
    assert.deepEqual(fx(INITIAL.effects), ["probe"]);
  });

  for (const [from, ev, to, effects] of table) {
    it(`${from} + ${ev} → ${to === "=" ? from : to}`, () => {
      const state = S[from];
      const step = transition(state, E[ev]!);
      if (to === "=") {
        assert.equal(step.state, state, "the state object is kept when nothing changes");
        assert.deepEqual(step.effects, []);
        return;
      }
      assert.equal(name(step.state), to);
      assert.deepEqual(fx(step.effects), effects);
    });
  }

  it("covers every state and event", () => {
    for (const s of Object.keys(S)) {
      const events = new Set(table.filter(([f]) => f === s).map(([, e]) => e));
      assert.ok(events.size >= 8, `${s}: ${[...events].join(", ")}`);
    }
  });

  it("counts failures through probe, backoff and retry", () => {
    let state: Lifecycle = INITIAL.state;
    const failed = E["probe-failed"]!;
    for (let i = 1; i <= 3; i++) {
      const a = transition(state, failed);
      assert.deepEqual(a.state, { s: "backoff", failures: i });
      assert.deepEqual(fx(a.effects)[0], `timer:${1000 * i}:backoff-elapsed`);
      state = transition(a.state, E["backoff-elapsed"]!).state;
    }
    assert.deepEqual(transition(state, E["probe-ok"]!).state, { s: "ready" });
  });
});
