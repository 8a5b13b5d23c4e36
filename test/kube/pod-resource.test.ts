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

describe("pod resource: a new version and the record it replaces", () => {
  const versioned = (rv: string, o: { ready?: boolean; app?: string; ips?: string[] } = {}): Pod => ({
    metadata: { namespace: "ns", name: "p", uid: "u-p", resourceVersion: rv, labels: { app: o.app ?? "a", tier: "web" }, annotations: { "kratos-service-metadata": '{"zone":"z1"}' } },
    spec: { containers: [{ name: "c", ports: [{ containerPort: 9000, name: "grpc" }] }] },
    status: { phase: "Running", podIP: (o.ips ?? ["10.0.0.1"])[0]!, podIPs: (o.ips ?? ["10.0.0.1"]).map((ip) => ({ ip })), conditions: [{ type: "Ready", status: o.ready === false ? "False" : "True" }] },
  });

  it("keeps the old record's equal parts (labels, annotations, ports, IPs, strings) and takes the new ones", () => {
    const resource = podResource({ annotations: ["kratos-service-metadata"] });
    const v1 = resource.project(versioned("1")) as PodRecord;
    const v2 = resource.project(versioned("2", { ready: false }), v1) as PodRecord;
    assert.equal(v2.ready, false);
    assert.equal(v2.resourceVersion, "2");
    for (const k of ["labels", "annotations", "ports", "podIPs", "name", "uid"] as const) assert.equal(v2[k], v1[k], k);
    const v3 = resource.project(versioned("3", { app: "b", ips: ["10.0.0.2", "fd00::2"] }), v2) as PodRecord;
    assert.deepEqual(v3.labels, { app: "b", tier: "web" });
    assert.notEqual(v3.labels, v2.labels);
    assert.deepEqual(v3.podIPs, ["10.0.0.2", "fd00::2"]);
    assert.equal(v3.ports, v2.ports);
    assert.deepEqual(resource.project(versioned("4")), { ...v1, resourceVersion: "4" }, "the same record as without a previous one");
  });
});
