/**
 * The zone-aware picking policy, pure: options and defaults, which
 * endpoints serve the local zone (zone metadata, EndpointSlice hints only
 * when every endpoint has them), the local-or-spill choice, and the
 * reports when it changes.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { EndpointConfigError } from "../../src/connect/index.ts";
import { localMembers, preferLocal, zoneConfig, ZonePreference, type ZoneChoice, type ZoneMember } from "../../src/connect/policy/zone.ts";

const member = (address: string, metadata: Record<string, string>): ZoneMember => ({ address, instance: { metadata } });
const nodes = (...keys: string[]): { key: string }[] => keys.map((key) => ({ key }));
const keys = (ns: readonly { key: string }[]): string[] => ns.map((n) => n.key);

describe("zone options", () => {
  it("is off without a local zone, or when false", () => {
    assert.equal(zoneConfig(undefined, undefined), undefined);
    assert.equal(zoneConfig({}, undefined), undefined);
    assert.equal(zoneConfig(false, "a"), undefined);
  });

  it("fills in the defaults; the environment's zone is the fallback, the option wins", () => {
    assert.deepEqual(zoneConfig({ local: "eu-west-1a" }, undefined), { local: "eu-west-1a", minLocalPercent: 50, key: "zone" });
    assert.deepEqual(zoneConfig({}, "eu-west-1b"), { local: "eu-west-1b", minLocalPercent: 50, key: "zone" });
    assert.deepEqual(zoneConfig({ local: "a", minLocalPercent: 0, key: "topology" }, "b"), { local: "a", minLocalPercent: 0, key: "topology" });
  });

  it("refuses bad values, naming the field", () => {
    const bad: [unknown, RegExp][] = [
      [{ local: "" }, /zone\.local must be a non-empty string/],
      [{ local: 7 }, /zone\.local/],
      [{ local: "a", minLocalPercent: 101 }, /zone\.minLocalPercent must be a number in \[0, 100\]/],
      [{ local: "a", minLocalPercent: Number.NaN }, /zone\.minLocalPercent/],
      [{ local: "a", key: "" }, /zone\.key must be a non-empty string/],
      ["a", /zone must be an object or false/],
    ];
    for (const [o, re] of bad) {
      assert.throws(() => zoneConfig(o as never, undefined), (e: unknown) => e instanceof EndpointConfigError && e.code === "BAD_OPTION" && re.test(e.message), JSON.stringify(o));
    }
  });
});

describe("local endpoints", () => {
  const c = zoneConfig({ local: "a" }, undefined)!;

  it("are the ones whose zone metadata is the local zone (under the configured key)", () => {
    const ms = [member("1", { zone: "a" }), member("2", { zone: "b" }), member("3", {}), member("4", { zone: "a" })];
    assert.deepEqual([...localMembers(c, ms)], ["1", "4"]);
    const byLabel = zoneConfig({ local: "a", key: "topology.kubernetes.io/zone" }, undefined)!;
    assert.deepEqual([...localMembers(byLabel, [member("1", { "topology.kubernetes.io/zone": "a" }), member("2", { zone: "a" })])], ["1"]);
  });

  it("follow EndpointSlice hints when every endpoint has them, whatever their own zone", () => {
    const ms = [member("1", { zone: "a", "hints.forZones": "a" }), member("2", { zone: "b", "hints.forZones": "a,c" }), member("3", { zone: "a", "hints.forZones": "b" })];
    assert.deepEqual([...localMembers(c, ms)], ["1", "2"]);
  });

  it("ignore hints when any endpoint lacks them (Kubernetes topology-aware routing)", () => {
    const ms = [member("1", { zone: "a", "hints.forZones": "b" }), member("2", { zone: "b", "hints.forZones": "a" }), member("3", { zone: "a" })];
    assert.deepEqual([...localMembers(c, ms)], ["1", "3"]);
  });
});

describe("local or spill over", () => {
  const c = zoneConfig({ local: "a" }, undefined)!;
  const local = new Set(["a1", "a2", "a3", "a4"]);

  it("picks the healthy local endpoints while at least minLocalPercent of them are healthy", () => {
    const all = nodes("a1", "a2", "a3", "a4", "b1", "b2");
    assert.deepEqual(keys(preferLocal(c, all, local).nodes), ["a1", "a2", "a3", "a4"]);
    const half = nodes("a1", "a2", "b1", "b2");
    assert.deepEqual(preferLocal(c, half, local), { nodes: half.slice(0, 2), local: true, healthyLocal: 2, totalLocal: 4 });
  });

  it("spills over to every healthy endpoint below it, or with no healthy local one", () => {
    const few = nodes("a1", "b1", "b2");
    assert.deepEqual(preferLocal(c, few, local), { nodes: few, local: false, healthyLocal: 1, totalLocal: 4 });
    const zero = zoneConfig({ local: "a", minLocalPercent: 0 }, undefined)!;
    assert.deepEqual(keys(preferLocal(zero, few, local).nodes), ["a1"], "0 %: local while one is healthy");
    assert.deepEqual(keys(preferLocal(zero, nodes("b1"), local).nodes), ["b1"]);
  });

  it("uses every endpoint when none is local", () => {
    const all = nodes("b1", "b2");
    assert.equal(preferLocal(c, all, new Set()).nodes, all);
  });
});

describe("ZonePreference", () => {
  it("reports a spill over and the return to the local zone, not the expected start nor an empty set", () => {
    const reports: ZoneChoice<unknown>[] = [];
    const z = new ZonePreference(zoneConfig({ local: "a" }, undefined)!, (r) => reports.push(r));
    z.update([member("a1", { zone: "a" }), member("a2", { zone: "a" }), member("b1", { zone: "b" })]);
    assert.ok(z.isLocal("a1") && !z.isLocal("b1"));
    assert.deepEqual(keys(z.filter([])), [], "nothing healthy yet");
    assert.deepEqual(keys(z.filter(nodes("a1", "a2", "b1"))), ["a1", "a2"]);
    assert.equal(reports.length, 0, "starting local is not news");
    assert.deepEqual(keys(z.filter(nodes("a2", "b1"))), ["a2"], "one of two local is 50 %");
    assert.deepEqual(keys(z.filter(nodes("b1"))), ["b1"]);
    assert.deepEqual(reports.map((r) => [r.local, r.healthyLocal, r.totalLocal]), [[false, 0, 2]]);
    assert.deepEqual(keys(z.filter(nodes("a1", "b1"))), ["a1"]);
    assert.deepEqual(reports.map((r) => r.local), [false, true]);
  });

  it("passes every node through while no endpoint is local", () => {
    const z = new ZonePreference(zoneConfig({ local: "a" }, undefined)!);
    z.update([member("b1", { zone: "b" })]);
    const all = nodes("b1");
    assert.equal(z.filter(all), all);
  });
});
