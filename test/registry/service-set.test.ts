/**
 * The incrementally kept instance set of one service.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { projectPod, type PodRecord } from "../../src/kube/pod-record.ts";
import { podConverter } from "../../src/registry/pod-model.ts";
import { createServiceSet } from "../../src/registry/service-set.ts";

function rec(ns: string, name: string, o: { ready?: boolean; port?: number } = {}): PodRecord {
  const r = projectPod({
    metadata: { name, namespace: ns, labels: { "kratos-service-app": "s", "kratos-service-id": `${ns}.${name}` } },
    spec: { containers: [{ name: "c", ports: [{ name: "grpc", containerPort: o.port ?? 9000 }] }] },
    status: { phase: "Running", podIP: "10.0.0.1", conditions: [{ type: "Ready", status: o.ready === false ? "False" : "True" }] },
  });
  assert.ok(typeof r !== "string");
  return r;
}

const entryOf = podConverter();

describe("service set", () => {
  it("sorts by namespace, then name (namespace 'a' before 'a-b')", () => {
    const set = createServiceSet([rec("a-b", "x"), rec("a", "y"), rec("a", "b")], entryOf);
    assert.deepEqual(set.instances().map((i) => i.id), ["a.b", "a.y", "a-b.x"]);
    set.upsert(rec("a", "z"));
    set.upsert(rec("0", "z"));
    assert.deepEqual(set.instances().map((i) => i.id), ["0.z", "a.b", "a.y", "a.z", "a-b.x"]);
  });

  it("bumps the version only when the content changes", () => {
    const set = createServiceSet([rec("ns", "p")], entryOf);
    const v0 = set.version;
    set.upsert(rec("ns", "p")); // a new record, same instance
    assert.equal(set.version, v0);
    set.upsert(rec("ns", "p", { port: 9001 }));
    assert.equal(set.version, v0 + 1);
    set.upsert(rec("ns", "p", { ready: false })); // no longer selected: removed
    assert.equal(set.version, v0 + 2);
    assert.deepEqual(set.instances(), []);
    set.remove(rec("ns", "p")); // absent: no change
    assert.equal(set.version, v0 + 2);
  });

  it("hands out a fresh array each time", () => {
    const set = createServiceSet([rec("ns", "p")], entryOf);
    const a = set.instances();
    a.pop();
    assert.equal(set.instances().length, 1);
  });
});
