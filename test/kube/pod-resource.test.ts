/**
 * Pod records' label maps: plain frozen objects (as `{}` would be), equal to
 * the pod's string labels, whatever their number, while the interner shares
 * values between pods and never mixes two pods' labels.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { podResource } from "../../src/kube/pod-resource.ts";
import type { PodRecord } from "../../src/kube/pod-record.ts";
import type { Pod } from "../../src/kube/wire.ts";

function pod(name: string, labels: Record<string, string>): Pod {
  return { metadata: { namespace: "ns", name, uid: `u-${name}`, resourceVersion: "1", labels }, status: { phase: "Running", podIP: "10.0.0.1" } };
}

describe("pod resource: label maps", () => {
  it("are plain frozen objects equal to the pod's labels, for few and many labels", () => {
    const resource = podResource();
    for (const n of [1, 4, 5, 9, 20]) {
      const labels: Record<string, string> = {};
      for (let i = 0; i < n; i++) labels[`k${i}`] = `v${i}`;
      const r = resource.project(pod(`p${n}`, labels)) as PodRecord;
      assert.equal(Object.getPrototypeOf(r.labels), Object.prototype, `${n} labels`);
      assert.ok(Object.isFrozen(r.labels));
      assert.deepStrictEqual(r.labels, labels);
      assert.deepEqual(Object.keys(r.labels), Object.keys(labels));
    }
  });

  it("keeps a __proto__ label as an own property of that pod only", () => {
    const resource = podResource();
    const a = resource.project(pod("a", { ["__proto__"]: "x", app: "s" } as Record<string, string>)) as PodRecord;
    const b = resource.project(pod("b", { app: "s", team: "t", zone: "z", tier: "1", env: "e" })) as PodRecord;
    assert.ok(Object.hasOwn(a.labels, "__proto__"));
    assert.equal(Object.getPrototypeOf(a.labels), Object.prototype);
    assert.equal(Object.hasOwn(b.labels, "__proto__"), false);
    assert.deepStrictEqual(b.labels, { app: "s", team: "t", zone: "z", tier: "1", env: "e" });
    const all = podResource({ annotations: "all" });
    const c = all.project({ ...pod("c", {}), metadata: { ...pod("c", {}).metadata, annotations: { ["__proto__"]: "y", note: "n" } as Record<string, string> } }) as PodRecord;
    assert.ok(Object.hasOwn(c.annotations, "__proto__"));
    assert.equal(c.annotations["__proto__"], "y");
  });
});
