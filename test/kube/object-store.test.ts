/**
 * The store's keys: a namespaced store keys its objects by name alone (the
 * record's own string, no `namespace/name` per object); objects of any other
 * namespace, and every object of an all-namespaces store, by
 * `namespace/name`. The two never collide.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { podResource } from "../../src/kube/pod-resource.ts";
import type { PodRecord } from "../../src/kube/pod-record.ts";
import { IndexSet, ObjectStore, type ObjectChange } from "../../src/kube/reflector/store.ts";
import type { Pod } from "../../src/kube/wire.ts";

const resource = podResource({ indexes: { app: (r) => r.labels["app"] } });

function pod(namespace: string, name: string, rv: string, app = "a"): Pod {
  return { metadata: { namespace, name, uid: `${namespace}-${name}`, resourceVersion: rv, labels: { app } }, status: { phase: "Running", podIP: "10.0.0.1" } };
}

function store(namespace: string | undefined): { s: ObjectStore<PodRecord>; index: IndexSet<PodRecord>; changes: ObjectChange<PodRecord>[][] } {
  const index = new IndexSet<PodRecord>(resource.indexes ?? {}, (key) => s.objects.get(key));
  const changes: ObjectChange<PodRecord>[][] = [];
  const s: ObjectStore<PodRecord> = new ObjectStore<PodRecord>({
    index,
    project: (o) => resource.project(o as Pod),
    onInvalid: () => assert.fail("no invalid objects here"),
    onChanges: (c) => changes.push([...c]),
    onSynced: () => {},
    namespace,
  });
  return { s, index, changes };
}

describe("object store keys", () => {
  it("keys a namespaced store's objects by their name, the record's own string", () => {
    const { s } = store("shop");
    s.relistBegin();
    s.relistItems([pod("shop", "p-1", "1")]);
    s.relistDone();
    const rec = s.get("shop", "p-1");
    assert.equal(rec?.name, "p-1");
    assert.deepEqual([...s.objects.keys()], ["p-1"]);
    assert.equal(s.keyOf("shop", "p-1"), "p-1");
    assert.equal(s.keyOf("other", "p-1"), "other/p-1");
  });

  it("keeps an object of another namespace apart from a same-named one, through watch events and deletes", () => {
    const { s, index } = store("shop");
    s.relistBegin();
    s.relistDone();
    s.apply("ADDED", pod("shop", "p", "2", "a"));
    s.apply("ADDED", pod("other", "p", "3", "b"));
    assert.equal(s.objects.size, 2);
    assert.equal(s.get("shop", "p")?.labels["app"], "a");
    assert.equal(s.get("other", "p")?.labels["app"], "b");
    s.apply("MODIFIED", pod("shop", "p", "4", "b"));
    assert.deepEqual(index.byIndex("app", "b").map((r) => `${r.namespace}/${r.name}`).sort(), ["other/p", "shop/p"]);
    s.apply("DELETED", pod("other", "p", "5", "b"));
    assert.equal(s.get("other", "p"), undefined);
    assert.equal(s.get("shop", "p")?.resourceVersion, "4");
    assert.deepEqual(index.byIndex("app", "b").map((r) => `${r.namespace}/${r.name}`), ["shop/p"]);
    // A new version under the same index value: byIndex gives the new record, and the same frozen list until the next change.
    s.apply("MODIFIED", pod("shop", "p", "6", "b"));
    const list = index.byIndex("app", "b");
    assert.equal(list[0], s.get("shop", "p"));
    assert.equal(list[0]!.resourceVersion, "6");
    assert.equal(index.byIndex("app", "b"), list);
    assert.ok(Object.isFrozen(list));
  });

  it("keys an all-namespaces store by namespace/name, and a relist reuses unchanged records", () => {
    const { s, changes } = store(undefined);
    s.relistBegin();
    s.relistItems([pod("a", "p", "1"), pod("b", "p", "2")]);
    s.relistDone();
    assert.deepEqual([...s.objects.keys()].sort(), ["a/p", "b/p"]);
    const before = s.get("a", "p");
    s.relistBegin();
    s.relistItems([pod("a", "p", "1")]);
    s.relistDone();
    assert.equal(s.get("a", "p"), before);
    assert.deepEqual(changes.at(-1)?.map((c) => `${c.type} ${c.object.namespace}/${c.object.name}`), ["deleted b/p"]);
  });
});

describe("index", () => {
  it("files every record under its value through adds, moves and deletes, in key order (a value's one key kept alone, an array beyond, sorted on read)", () => {
    // `read`: reads between two updates sort the keys; without, updates pile up out of order.
    const op = fc.record({ name: fc.constantFrom("p", "q", "r", "s", "t", "u"), app: fc.option(fc.constantFrom("a", "b"), { nil: undefined }), read: fc.boolean() });
    fc.assert(fc.property(fc.array(op, { maxLength: 40 }), (ops) => {
      const records = new Map<string, PodRecord>();
      const index = new IndexSet<PodRecord>({ app: (r) => r.labels["app"] }, (key) => records.get(key));
      let rv = 0;
      const check = (): void => {
        for (const value of ["a", "b"]) {
          const want = [...records.values()].filter((r) => r.labels["app"] === value).map((r) => r.name).sort();
          const got = index.byIndex("app", value);
          assert.deepEqual(got.map((r) => r.name), want);
          for (const r of got) assert.equal(r, records.get(r.name));
          assert.ok(Object.isFrozen(got));
        }
        assert.deepEqual([...index.values("app")].sort(), ["a", "b"].filter((v) => [...records.values()].some((r) => r.labels["app"] === v)));
      };
      for (const { name, app, read } of ops) {
        const old = records.get(name);
        const next = app === undefined ? undefined : (resource.project(pod("shop", name, String(++rv), app)) as PodRecord);
        if (next === undefined) records.delete(name);
        else records.set(name, next);
        index.update(name, old, next);
        if (read) check();
      }
      check();
    }), { numRuns: 300 });
  });
});
