/**
 * The empty-set rule (src/connect/policy/empty-set.ts) and how the
 * transport checks the resilience options at construction.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createDiscoveryTransport, createManualDiscovery, EndpointConfigError } from "../../src/connect/index.ts";
import { emptySetPolicy, keepLastReason } from "../../src/connect/policy/empty-set.ts";

describe("empty sets", () => {
  it("an empty list replaces the endpoints only from a synced watch with emptySet \"fail\"", () => {
    assert.equal(keepLastReason("fail", "synced"), undefined);
    assert.equal(keepLastReason("fail", "unsynced"), "discovery is unsynced");
    assert.equal(keepLastReason("fail", "failing"), "discovery is failing");
    assert.equal(keepLastReason("fail", undefined), "the discovery source does not report whether it is synced");
    for (const s of ["synced", "unsynced", "failing", undefined] as const) assert.equal(keepLastReason("keep-last", s), "emptySet is \"keep-last\"");
  });

  it("emptySet defaults to \"fail\" and rejects other values", () => {
    assert.equal(emptySetPolicy(undefined), "fail");
    assert.equal(emptySetPolicy("keep-last"), "keep-last");
    assert.throws(() => emptySetPolicy("keep"), (e: unknown) => e instanceof EndpointConfigError && e.code === "BAD_OPTION" && /emptySet/.test(e.message));
  });
});

describe("resilience options of createDiscoveryTransport", () => {
  const discovery = createManualDiscovery();
  const target = "discovery:///echo.service";
  it("bad values throw EndpointConfigError naming the option, before anything starts", () => {
    const bad = (o: object, re: RegExp): void =>
      assert.throws(() => createDiscoveryTransport({ discovery, target, ...o }), (e: unknown) => e instanceof EndpointConfigError && e.code === "BAD_OPTION" && re.test(e.message));
    bad({ outlierDetection: { maxEjectionPercent: 200 } }, /outlierDetection\.maxEjectionPercent/);
    bad({ outlierDetection: { failurePercentage: { threshold: -1 } } }, /outlierDetection\.failurePercentage\.threshold/);
    bad({ slowStart: { windowMs: -5 } }, /slowStart\.windowMs/);
    bad({ emptySet: "drop" }, /emptySet/);
    assert.equal(discovery.watchers, 0, "no watch was started");
  });
});
