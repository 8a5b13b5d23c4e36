import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createBackoff, MAX_RETRY_AFTER_MS } from "../../src/kube/reflector/backoff.ts";
import type { Clock } from "../../src/kube/clock.ts";

function clockAt(): Clock & { t: number } {
  const c = { t: 0, now: () => c.t, setTimeout: () => ({ cancel() {} }) };
  return c;
}

describe("backoff", () => {
  it("starts at 800 ms and doubles to a 30 s cap (random 0 gives the lower bound d)", () => {
    const clock = clockAt();
    const b = createBackoff({ clock, random: () => 0 });
    const got: number[] = [];
    for (let i = 0; i < 9; i++) {
      got.push(b.next());
      clock.t += 1000;
    }
    assert.deepEqual(got, [800, 1600, 3200, 6400, 12800, 25600, 30000, 30000, 30000]);
  });

  it("jitters each delay within [d, 2d)", () => {
    const clock = clockAt();
    const b = createBackoff({ clock, random: () => 0.999999 });
    assert.equal(b.next(), 1600);
    assert.equal(b.next(), 3200);
    const half = createBackoff({ clock, random: () => 0.5 });
    assert.equal(half.next(), 1200);
    assert.equal(half.next(), 2400);
  });

  it("resets to 800 ms after more than 2 min without a failure, not before", () => {
    const clock = clockAt();
    const b = createBackoff({ clock, random: () => 0 });
    b.next();
    b.next();
    clock.t += 120_000;
    assert.equal(b.next(), 3200, "exactly 2 min is not enough");
    clock.t += 120_001;
    assert.equal(b.next(), 800);
    assert.equal(b.next(), 1600);
    b.reset();
    assert.equal(b.next(), 800);
  });

  it("honours Retry-After as a lower bound, clamped to 10 min", () => {
    const clock = clockAt();
    const b = createBackoff({ clock, random: () => 0 });
    assert.equal(b.next(5), 5000);
    assert.equal(b.next(1), 1600);
    assert.equal(b.next(0), 3200);
    assert.equal(b.next(Number.NaN), 6400);
    assert.equal(b.next(86_400), MAX_RETRY_AFTER_MS);
  });

  it("accepts custom parameters", () => {
    const clock = clockAt();
    const b = createBackoff({ clock, random: () => 0, initialMs: 10, factor: 3, maxMs: 50, jitter: 0 });
    assert.deepEqual([b.next(), b.next(), b.next(), b.next()], [10, 30, 50, 50]);
  });
});
