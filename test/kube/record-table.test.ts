/**
 * A store's record table against a `Map` model: the same records under the
 * same keys after any sequence of sets, deletes and replaces, read in key
 * order, for a namespaced table (the name alone as the key in its namespace,
 * `namespace/name` elsewhere) and an all-namespaces one. Namespaces and
 * names are chosen so keys share prefixes and straddle the `/`
 * (`a` < `a-b` as namespaces, but `a-b/x` < `a/x` as keys).
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { RecordTable } from "../../src/kube/reflector/record-table.ts";
import type { ObjectRecord } from "../../src/kube/resource.ts";

const record = (namespace: string, name: string, rv: number): ObjectRecord => ({ namespace, name, uid: `${namespace}/${name}`, resourceVersion: String(rv) });

const namespaces = ["a", "a-b", "ab", "b", "shop"];
const names = ["x", "x-1", "x0", "xa", "y", "a", "ab", "a-b", "0"];

const op = fc.oneof(
  fc.record({ kind: fc.constant("set" as const), ns: fc.constantFrom(...namespaces), name: fc.constantFrom(...names) }),
  fc.record({ kind: fc.constant("delete" as const), ns: fc.constantFrom(...namespaces), name: fc.constantFrom(...names) }),
  fc.record({
    kind: fc.constant("replace" as const),
    items: fc.uniqueArray(fc.tuple(fc.constantFrom(...namespaces), fc.constantFrom(...names)), { maxLength: 12, selector: ([ns, n]) => `${ns}/${n}` }),
  }),
);

describe("RecordTable", () => {
  for (const own of ["a", "shop", undefined]) {
    it(`holds what a Map would, in key order (namespace ${own ?? "none: every key is namespace/name"})`, () => {
      fc.assert(
        fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
          const table = new RecordTable<ObjectRecord>(own);
          const model = new Map<string, ObjectRecord>();
          let rv = 0;
          for (const o of ops) {
            if (o.kind === "set") {
              const key = table.keyOf(o.ns, o.name);
              const rec = record(o.ns, o.name, ++rv);
              assert.equal(table.set(key, rec), model.get(key));
              model.set(key, rec);
            } else if (o.kind === "delete") {
              const key = table.keyOf(o.ns, o.name);
              assert.equal(table.delete(key), model.get(key));
              model.delete(key);
            } else {
              const entries = o.items.map(([ns, name]) => [table.keyOf(ns, name), record(ns, name, ++rv)] as const);
              table.replace(entries);
              model.clear();
              for (const [k, r] of entries) model.set(k, r);
            }
            const keys = [...model.keys()].sort();
            assert.deepEqual([...table.keys()], keys);
            assert.deepEqual([...table.values()], keys.map((k) => model.get(k)));
            assert.deepEqual([...table].map(([k]) => k), keys);
            assert.equal(table.size, model.size);
            for (const ns of namespaces) {
              for (const name of names) {
                const key = table.keyOf(ns, name);
                assert.equal(table.get(key), model.get(key));
                assert.equal(table.has(key), model.has(key));
              }
            }
          }
        }),
        { numRuns: 200 },
      );
    });
  }

  it("keys an object of its namespace by its name alone, others by namespace/name", () => {
    const table = new RecordTable<ObjectRecord>("shop");
    assert.equal(table.keyOf("shop", "p"), "p");
    assert.equal(table.keyOf("other", "p"), "other/p");
    table.set("p", record("shop", "p", 1));
    table.set("other/p", record("other", "p", 2));
    assert.equal(table.get("p")?.namespace, "shop");
    assert.equal(table.get("other/p")?.namespace, "other");
    assert.equal(table.get("shop/p"), undefined);
    const seen: string[] = [];
    table.forEach((r, k, m) => {
      assert.equal(m, table);
      seen.push(`${k}=${r.resourceVersion}`);
    });
    assert.deepEqual(seen, ["other/p=2", "p=1"]);
  });
});
