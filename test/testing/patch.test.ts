import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { jsonPatch, mergePatch, PatchError, strategicMergePatch } from "../../src/testing/index.ts";

describe("merge patch (RFC 7386)", () => {
  it("merges objects, null deletes, arrays replace", () => {
    const out = mergePatch({ a: 1, b: { c: 2, d: 3 }, l: [1, 2] }, { a: null, b: { c: 9 }, l: [3] });
    assert.deepEqual(out, { b: { c: 9, d: 3 }, l: [3] });
  });
});

describe("strategic merge patch", () => {
  const pod = {
    metadata: { labels: { a: "1", b: "2" }, finalizers: ["x"] },
    spec: {
      containers: [
        { name: "app", image: "v1", ports: [{ containerPort: 80, name: "http" }] },
        { name: "side", image: "s1" },
      ],
      tolerations: [{ key: "t1" }],
    },
    status: { conditions: [{ type: "Ready", status: "True" }, { type: "Initialized", status: "True" }] },
  };
  it("null deletes a map key and other keys merge", () => {
    const out = strategicMergePatch(pod, { metadata: { labels: { a: null, c: "3" } } }) as typeof pod;
    assert.deepEqual(out.metadata.labels, { b: "2", c: "3" });
  });
  it("merges lists by their patchMergeKey (containers by name, conditions by type, ports by containerPort)", () => {
    const out = strategicMergePatch(pod, {
      spec: { containers: [{ name: "app", image: "v2", ports: [{ containerPort: 81 }] }] },
      status: { conditions: [{ type: "Ready", status: "False" }] },
    }) as any;
    assert.equal(out.spec.containers.length, 2);
    assert.equal(out.spec.containers[0].image, "v2");
    // Items the original lacks go first, in patch order (apimachinery normalizeElementOrder / mergeSortedSlice).
    assert.deepEqual(out.spec.containers[0].ports.map((p: any) => p.containerPort), [81, 80]);
    assert.equal(out.spec.containers[1].image, "s1");
    assert.deepEqual(out.status.conditions, [{ type: "Ready", status: "False" }, { type: "Initialized", status: "True" }]);
  });
  it("replaces lists without a merge key, unions finalizers, honours $patch: delete", () => {
    const out = strategicMergePatch(pod, {
      metadata: { finalizers: ["y"] },
      spec: { tolerations: [{ key: "t2" }], containers: [{ name: "side", $patch: "delete" }] },
    }) as any;
    assert.deepEqual(out.spec.tolerations, [{ key: "t2" }]);
    assert.deepEqual(out.metadata.finalizers, ["y", "x"], "a real v1.34 puts the patch's new finalizer first");
    assert.deepEqual(out.spec.containers.map((c: any) => c.name), ["app"]);
  });
  it("does not mutate its input", () => {
    const before = JSON.stringify(pod);
    strategicMergePatch(pod, { metadata: { labels: { a: null } } });
    assert.equal(JSON.stringify(pod), before);
  });
  it("rejects a list item without its merge key", () => {
    assert.throws(() => strategicMergePatch(pod, { spec: { containers: [{ image: "x" }] } }), PatchError);
  });
});

describe("JSON patch (RFC 6902)", () => {
  const doc = { metadata: { labels: { "a/b": "1", c: "2" } }, list: [1, 2, 3] };
  it("add, remove, replace, move, copy, test; ~1 escapes", () => {
    const out = jsonPatch(doc, [
      { op: "add", path: "/metadata/labels/d", value: "4" },
      { op: "remove", path: "/metadata/labels/a~1b" },
      { op: "replace", path: "/list/0", value: 9 },
      { op: "add", path: "/list/-", value: 4 },
      { op: "copy", from: "/metadata/labels/c", path: "/metadata/labels/e" },
      { op: "move", from: "/metadata/labels/d", path: "/metadata/labels/f" },
      { op: "test", path: "/list/3", value: 4 },
    ]);
    assert.deepEqual(out, { metadata: { labels: { c: "2", e: "2", f: "4" } }, list: [9, 2, 3, 4] });
  });
  it("fails a test op, a missing path and a non-array body", () => {
    assert.throws(() => jsonPatch(doc, [{ op: "test", path: "/list/0", value: 7 }]), (e: unknown) => e instanceof PatchError && e.status === 422);
    assert.throws(() => jsonPatch(doc, [{ op: "remove", path: "/nope/x" }]), PatchError);
    assert.throws(() => jsonPatch(doc, [{ op: "replace", path: "/metadata/zzz", value: 1 }]), PatchError);
    assert.throws(() => jsonPatch(doc, { op: "add" }), (e: unknown) => e instanceof PatchError && e.status === 400);
  });
});
