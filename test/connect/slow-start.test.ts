/**
 * Slow start (src/connect/policy/slow-start.ts): Envoy's weight factor over
 * the window, aggression and the minimum weight, and option errors.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { EndpointConfigError } from "../../src/connect/endpoint-source.ts";
import { slowStartConfig, slowStartFactor } from "../../src/connect/policy/slow-start.ts";

describe("slow start", () => {
  it("defaults: aggression 1, minimum weight 10 %", () => {
    assert.deepEqual(slowStartConfig({ windowMs: 10_000 }), { windowMs: 10_000, aggression: 1, minWeightPercent: 10 });
  });

  it("ramps linearly over the window with aggression 1, floored at the minimum weight", () => {
    const c = slowStartConfig({ windowMs: 10_000 });
    assert.equal(slowStartFactor(c, 0), 0.1);
    assert.equal(slowStartFactor(c, 500), 0.1);
    assert.equal(slowStartFactor(c, 2_500), 0.25);
    assert.equal(slowStartFactor(c, 5_000), 0.5);
    assert.equal(slowStartFactor(c, 9_999), 0.9999);
    assert.equal(slowStartFactor(c, 10_000), 1);
    assert.equal(slowStartFactor(c, 1e9), 1);
  });

  it("aggression > 1 grows faster early: (t / window) ^ (1 / aggression)", () => {
    const c = slowStartConfig({ windowMs: 10_000, aggression: 2, minWeightPercent: 0 });
    assert.equal(slowStartFactor(c, 2_500), 0.5);
    assert.ok(Math.abs(slowStartFactor(c, 100) - 0.1) < 1e-12);
    assert.ok(slowStartFactor(c, 0) > 0, "never zero: a new endpoint still gets some calls");
  });

  it("is monotonic in time", () => {
    const c = slowStartConfig({ windowMs: 3_000, aggression: 1.7, minWeightPercent: 5 });
    let prev = 0;
    for (let t = 0; t <= 3_100; t += 50) {
      const f = slowStartFactor(c, t);
      assert.ok(f >= prev && f <= 1, `factor at ${t} ms`);
      prev = f;
    }
  });

  it("rejects unusable options with an error naming the field", () => {
    assert.throws(() => slowStartConfig({ windowMs: 0 }), (e: unknown) => e instanceof EndpointConfigError && /slowStart\.windowMs/.test(e.message));
    assert.throws(() => slowStartConfig({ windowMs: 1000, aggression: -1 }), /slowStart\.aggression/);
    assert.throws(() => slowStartConfig({ windowMs: 1000, minWeightPercent: 101 }), /slowStart\.minWeightPercent/);
  });
});
