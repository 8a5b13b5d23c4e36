import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  createNodeStats,
  p2c,
  P2C_FORCE_PICK_MS,
  p2cWeight,
  randomPicker,
  roundRobin,
  weightedRoundRobin,
  type PickerNode,
} from "../../src/connect/picker.ts";

const node = (key: string, weight = 100, now = 0): PickerNode<string> => ({ key, value: key, weight, stats: createNodeStats(now) });
const count = (keys: string[]): Record<string, number> => {
  const out: Record<string, number> = {};
  for (const k of keys) out[k] = (out[k] ?? 0) + 1;
  return out;
};

/** A deterministic sequence for `random`. */
function seq(values: number[]): () => number {
  let i = 0;
  return () => values[i++ % values.length]!;
}

describe("round robin", () => {
  it("is exactly even and in order", () => {
    const p = roundRobin().build(["a", "b", "c"].map((k) => node(k)));
    const picks = Array.from({ length: 300 }, () => p.pick()!.key);
    assert.deepEqual(picks.slice(0, 6), ["a", "b", "c", "a", "b", "c"]);
    assert.deepEqual(count(picks), { a: 100, b: 100, c: 100 });
  });

  it("returns undefined when empty", () => {
    assert.equal(roundRobin().build([]).pick(), undefined);
  });

  it("keeps its position across updates", () => {
    const [a, b, c, d] = ["a", "b", "c", "d"].map((k) => node(k)) as [PickerNode<string>, PickerNode<string>, PickerNode<string>, PickerNode<string>];
    const policy = roundRobin();
    const p1 = policy.build([a, b, c]);
    assert.equal(p1.pick(), a);
    assert.equal(p1.pick(), b);
    // c is next; adding d must not restart at a
    const p2 = policy.build([a, b, c, d], p1);
    assert.deepEqual([p2.pick(), p2.pick(), p2.pick()].map((x) => x!.key), ["c", "d", "a"]);
    // b is next; removing b resumes at the same index (c)
    const p3 = policy.build([a, c, d], p2);
    assert.equal(p3.pick()!.key, "c");
  });
});

describe("random", () => {
  it("maps the injected random number onto the node list", () => {
    const p = randomPicker({ random: seq([0, 0.5, 0.99]) }).build(["a", "b", "c"].map((k) => node(k)));
    assert.deepEqual([p.pick(), p.pick(), p.pick()].map((x) => x!.key), ["a", "b", "c"]);
    assert.equal(randomPicker().build([]).pick(), undefined);
  });
});

describe("smooth weighted round robin", () => {
  it("is smooth: weights 5,1,1 give a a b a c a a (nginx)", () => {
    const p = weightedRoundRobin().build([node("a", 5), node("b", 1), node("c", 1)]);
    const picks = Array.from({ length: 14 }, () => p.pick()!.key).join("");
    assert.equal(picks, "aabacaaaabacaa");
  });

  it("keeps the proportions of the weights (default 100 = equal)", () => {
    const p = weightedRoundRobin().build([node("a", 300), node("b", 100), node("c", 100), node("d", 0.5)]);
    const c = count(Array.from({ length: 5005 }, () => p.pick()!.key));
    assert.deepEqual(c, { a: 3000, b: 1000, c: 1000, d: 5 });
  });

  it("uses the O(N) step for huge periods and still keeps proportions", () => {
    const p = weightedRoundRobin().build([node("a", 1_000_003), node("b", 1_000_033)]);
    const c = count(Array.from({ length: 1000 }, () => p.pick()!.key));
    assert.ok(Math.abs(c["a"]! - c["b"]!) <= 1, JSON.stringify(c));
    assert.equal(weightedRoundRobin().build([]).pick(), undefined);
  });
});

describe("p2c (EWMA, Kratos constants)", () => {
  it("prefers the node with the lower latency EWMA", () => {
    let now = 10_000;
    const clock = { now: () => now };
    const fast = node("fast", 100, now);
    const slow = node("slow", 100, now);
    const picker = p2c({ clock, random: seq([0, 0]) }).build([fast, slow]);
    // teach it: fast answers in 2 ms, slow in 200 ms
    for (let i = 0; i < 5; i++) {
      fast.stats.inflight++;
      slow.stats.inflight++;
      picker.done(fast, now - 2, false);
      picker.done(slow, now - 200, false);
      now += 100;
    }
    assert.ok(p2cWeight(fast.stats) > p2cWeight(slow.stats));
    const c = count(Array.from({ length: 100 }, () => {
      const n = picker.pick()!;
      picker.done(n, now - (n === fast ? 2 : 200), false);
      now += 10;
      return n.key;
    }));
    assert.equal(c["slow"] ?? 0, 0);
    assert.equal(c["fast"], 100);
  });

  it("forces a pick of the loser not picked for 3 s, once", () => {
    let now = 0;
    const clock = { now: () => now };
    const fast = node("fast", 100, 0);
    const slow = node("slow", 100, 0);
    const picker = p2c({ clock, random: seq([0, 0]) }).build([fast, slow]);
    slow.stats.inflight++;
    picker.done(slow, -500, false); // slow has a 500 ms sample
    fast.stats.inflight++;
    picker.done(fast, -2, false); // fast has a 2 ms sample (a cold node has a 100 µs/call penalty)
    now = 1000;
    assert.equal(picker.pick(), fast);
    picker.done(fast, now, false);
    now = 1000 + P2C_FORCE_PICK_MS; // slow was last picked at 0 → 4000 ms ago
    assert.equal(picker.pick(), slow);
    picker.done(slow, now - 500, false);
    assert.equal(picker.pick(), fast);
  });

  it("counts failures: a failing node loses even when it is faster", () => {
    let now = 0;
    const clock = { now: () => now };
    const ok = node("ok", 100, 0);
    const bad = node("bad", 100, 0);
    const picker = p2c({ clock, random: seq([0.99, 0]) }).build([ok, bad]);
    ok.stats.inflight++;
    picker.done(ok, now - 50, false);
    bad.stats.inflight++;
    picker.done(bad, now - 5, true);
    assert.equal(bad.stats.success, 0);
    now += 10;
    assert.equal(picker.pick(), ok);
  });

  it("decays with τ = 600 ms", () => {
    let now = 0;
    const s = node("n", 100, 0);
    const picker = p2c({ clock: { now: () => now } }).build([s]);
    picker.pick();
    now = 100;
    picker.done(s, 0, false); // first sample: 100 ms
    assert.equal(s.stats.lag, 100);
    picker.pick();
    now = 700;
    picker.done(s, 690, false); // 10 ms sample, 600 ms later: w = e^-1
    assert.ok(Math.abs(s.stats.lag - (100 * Math.exp(-1) + 10 * (1 - Math.exp(-1)))) < 1e-9);
    assert.equal(s.stats.inflight, 1);
  });

  it("picks the only node and counts in-flight streams", () => {
    const s = node("n", 100, 0);
    const picker = p2c({ clock: { now: () => 0 } }).build([s]);
    assert.equal(picker.pick(), s);
    assert.equal(s.stats.inflight, 2);
    picker.release(s);
    assert.equal(s.stats.inflight, 1);
    assert.equal(p2c({ clock: { now: () => 0 } }).build([]).pick(), undefined);
  });
});
