/**
 * Outlier detection (src/connect/policy/outlier-detection.ts) on an injected
 * clock: consecutive failures, success rate and failure percentage per
 * interval, the maximum ejection percentage, ejection time growing with
 * repeats (capped) and shrinking again, failure codes, option errors.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Code } from "@connectrpc/connect";
import { EndpointConfigError } from "../../src/connect/endpoint-source.ts";
import { DEFAULT_FAILURE_CODES, OutlierDetector, outlierConfig, type OutlierDetectionOptions } from "../../src/connect/policy/outlier-detection.ts";

const T0 = 1_000_000;
const hosts = (n: number): string[] => Array.from({ length: n }, (_, i) => `10.0.0.${i + 1}:9000`);

function detector(o: OutlierDetectionOptions, keys: string[], random: () => number = () => 0): OutlierDetector {
  const d = new OutlierDetector(outlierConfig(o), T0, random);
  for (const k of keys) d.add(k);
  return d;
}

/** `calls` calls on `key` at `now`, every `failEvery`-th failing with Unavailable (0 = none fail). */
function traffic(d: OutlierDetector, key: string, calls: number, failEvery: number, now: number): void {
  for (let i = 1; i <= calls; i++) d.record(key, failEvery > 0 && i % failEvery === 0 ? Code.Unavailable : undefined, now);
}

describe("outlier detection: defaults", () => {
  it("are gRPC's and Envoy's", () => {
    const c = outlierConfig();
    assert.equal(c.intervalMs, 10_000);
    assert.equal(c.baseEjectionTimeMs, 30_000);
    assert.equal(c.maxEjectionTimeMs, 300_000);
    assert.equal(c.maxEjectionPercent, 10);
    assert.equal(c.consecutiveFailures, 5);
    assert.deepEqual(c.successRate, { stdevFactor: 1900, enforcementPercent: 100, minimumHosts: 5, requestVolume: 100 });
    assert.equal(c.failurePercentage, undefined);
    assert.deepEqual([...c.failureCodes].sort(), [...DEFAULT_FAILURE_CODES].sort());
    assert.deepEqual(new Set(DEFAULT_FAILURE_CODES), new Set([Code.Unavailable, Code.DeadlineExceeded, Code.Internal, Code.Unknown, Code.ResourceExhausted]));
    assert.equal(c.panicThresholdPercent, 50);
  });

  it("rejects unusable options with an error naming the field", () => {
    assert.throws(() => outlierConfig({ maxEjectionPercent: 120 }), (e: unknown) => e instanceof EndpointConfigError && e.code === "BAD_OPTION" && /maxEjectionPercent/.test(e.message));
    assert.throws(() => outlierConfig({ intervalMs: 0 }), /outlierDetection\.intervalMs/);
    assert.throws(() => outlierConfig({ successRate: { stdevFactor: Number.NaN } }), /successRate\.stdevFactor/);
    assert.throws(() => outlierConfig({ failureCodes: [99 as Code] }), /failureCodes/);
  });
});

describe("outlier detection: consecutive failures", () => {
  it("ejects at once after N failures in a row; a success resets the count", () => {
    const [a, b] = hosts(2) as [string, string];
    const d = detector({ consecutiveFailures: 3, maxEjectionPercent: 50 }, [a, b]);
    d.record(a, Code.Unavailable, T0);
    d.record(a, Code.Unavailable, T0);
    d.record(a, undefined, T0);
    d.record(a, Code.Unavailable, T0);
    assert.deepEqual(d.record(a, Code.Unavailable, T0), []);
    assert.deepEqual(d.record(a, Code.Unavailable, T0), [{ key: a, ejected: "consecutive-failures" }]);
    assert.equal(d.ejected(a), "consecutive-failures");
    assert.equal(d.ejected(b), undefined);
    assert.equal(d.ejectedCount, 1);
  });

  it("counts only the configured failure codes", () => {
    const [a] = hosts(1) as [string];
    const d = detector({ consecutiveFailures: 2 }, [a]);
    for (let i = 0; i < 10; i++) d.record(a, Code.NotFound, T0); // an application answer, not a sick endpoint
    assert.equal(d.ejected(a), undefined);
    const custom = detector({ consecutiveFailures: 2, failureCodes: [Code.NotFound] }, [a]);
    custom.record(a, Code.NotFound, T0);
    custom.record(a, Code.NotFound, T0);
    assert.equal(custom.ejected(a), "consecutive-failures");
  });

  it("un-ejects after base × times ejected, the time growing per repeat up to the maximum and shrinking per healthy interval", () => {
    const [a, b] = hosts(2) as [string, string];
    const d = detector({ consecutiveFailures: 1, maxEjectionPercent: 50, intervalMs: 1000, baseEjectionTimeMs: 4000, maxEjectionTimeMs: 10_000 }, [a, b]);
    let now = T0;
    const ejectedFor = (): number => {
      d.record(a, Code.Unavailable, now);
      assert.equal(d.ejected(a), "consecutive-failures");
      const from = now;
      while (d.ejected(a) !== undefined) {
        now += 1000;
        d.record(b, undefined, now); // traffic elsewhere drives the evaluation
      }
      return now - from;
    };
    assert.equal(ejectedFor(), 4000); // 1 × base
    assert.equal(ejectedFor(), 8000); // 2 × base
    assert.equal(ejectedFor(), 10_000); // 3 × base, capped at max
    // Healthy intervals bring the multiplier down by one each: after 2 it is 1, so the next ejection is 2 × base.
    now += 2000;
    d.record(b, undefined, now);
    assert.equal(ejectedFor(), 8000);
  });
});

describe("outlier detection: per interval", () => {
  it("success rate: ejects the endpoint below mean − 1.9 stdev once the interval ends (the issue's 20 % failing server)", () => {
    const ks = hosts(5);
    const d = detector({}, ks);
    for (const k of ks.slice(0, 4)) traffic(d, k, 100, 0, T0 + 1);
    traffic(d, ks[4]!, 100, 5, T0 + 1); // 80 % success
    assert.equal(d.ejected(ks[4]!), undefined, "not before the interval ends");
    const changes = d.record(ks[0]!, undefined, T0 + 10_000);
    assert.deepEqual(changes, [{ key: ks[4], ejected: "success-rate" }]);
    assert.equal(d.ejectedCount, 1);
  });

  it("success rate: needs minimumHosts endpoints with requestVolume calls", () => {
    const ks = hosts(5);
    const d = detector({}, ks);
    for (const k of ks.slice(0, 3)) traffic(d, k, 100, 0, T0);
    traffic(d, ks[3]!, 99, 0, T0); // one call short
    traffic(d, ks[4]!, 100, 2, T0);
    d.record(ks[0]!, undefined, T0 + 10_000);
    assert.equal(d.ejectedCount, 0);
  });

  it("success rate: counts are per interval", () => {
    const ks = hosts(5);
    const d = detector({}, ks);
    traffic(d, ks[4]!, 100, 2, T0);
    d.evaluate(T0 + 10_000); // the others had no calls: nothing to compare
    for (const k of ks.slice(0, 4)) traffic(d, k, 100, 0, T0 + 10_001);
    traffic(d, ks[4]!, 100, 0, T0 + 10_001);
    d.evaluate(T0 + 20_000);
    assert.equal(d.ejectedCount, 0, "the failures of the previous interval were forgotten");
  });

  it("failure percentage: off by default, ejects above the threshold when on", () => {
    const ks = hosts(5);
    const off = detector({ successRate: false, consecutiveFailures: false }, ks);
    const on = detector({ successRate: false, consecutiveFailures: false, failurePercentage: { threshold: 10 } }, ks);
    for (const d of [off, on]) {
      for (const k of ks.slice(0, 4)) traffic(d, k, 50, 0, T0);
      traffic(d, ks[4]!, 50, 5, T0); // 20 % failures
      d.evaluate(T0 + 10_000);
    }
    assert.equal(off.ejectedCount, 0);
    assert.equal(on.ejected(ks[4]!), "failure-percentage");
  });

  it("enforcement percent is a chance, drawn from the injected randomness", () => {
    const ks = hosts(5);
    const run = (r: number): number => {
      const d = detector({ successRate: false, failurePercentage: { threshold: 10, enforcementPercent: 30 } }, ks, () => r);
      for (const k of ks.slice(0, 4)) traffic(d, k, 50, 0, T0);
      traffic(d, ks[4]!, 50, 5, T0);
      d.evaluate(T0 + 10_000);
      return d.ejectedCount;
    };
    assert.equal(run(0.29), 1);
    assert.equal(run(0.3), 0);
  });

  it("max ejection percent: one endpoint may always go, no more than the percentage", () => {
    const ks = hosts(10);
    const d = detector({ successRate: false, failurePercentage: { threshold: 10 }, maxEjectionPercent: 20 }, ks);
    for (const k of ks.slice(0, 6)) traffic(d, k, 50, 0, T0);
    for (const k of ks.slice(6)) traffic(d, k, 50, 2, T0); // four bad ones
    d.evaluate(T0 + 10_000);
    assert.equal(d.ejectedCount, 2, "20 % of 10");
    const one = detector({ consecutiveFailures: 1, maxEjectionPercent: 1 }, hosts(3));
    one.record(hosts(3)[0]!, Code.Unavailable, T0);
    one.record(hosts(3)[1]!, Code.Unavailable, T0);
    assert.equal(one.ejectedCount, 1, "1 % of 3 still allows one");
    const none = detector({ consecutiveFailures: 1, maxEjectionPercent: 0 }, hosts(3));
    none.record(hosts(3)[0]!, Code.Unavailable, T0);
    assert.equal(none.ejectedCount, 0, "0 % turns ejection off");
  });

  it("forgets removed endpoints, ejected ones included", () => {
    const [a, b] = hosts(2) as [string, string];
    const d = detector({ consecutiveFailures: 1, maxEjectionPercent: 50 }, [a, b]);
    d.record(a, Code.Internal, T0);
    assert.equal(d.ejectedCount, 1);
    d.remove(a);
    assert.equal(d.ejectedCount, 0);
    assert.equal(d.ejected(a), undefined);
    d.record(b, Code.Internal, T0);
    assert.equal(d.ejected(b), "consecutive-failures");
  });

  it("tick evaluates only when the interval is due", () => {
    const [a] = hosts(1) as [string];
    const d = detector({ consecutiveFailures: 1, intervalMs: 1000, baseEjectionTimeMs: 1000 }, [a]);
    d.record(a, Code.Unavailable, T0);
    assert.deepEqual(d.tick(T0 + 999), []);
    assert.deepEqual(d.tick(T0 + 1000), [{ key: a, ejected: undefined }]);
  });
});
