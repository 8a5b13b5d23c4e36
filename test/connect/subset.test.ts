/**
 * Kratos subset parity: the golden vectors below were produced by running
 * go-kratos internal/subset's algorithm (Go 1.19, hash/fnv) over instances
 * named `helloworld` with ids `pod-0` … `pod-<n-1>` (member string
 * `helloworld-pod-<i>`).
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { fnv32a, subset, subsetMemberKey } from "../../src/connect/subset.ts";

const pods = (n: number): { name: string; id: string }[] =>
  Array.from({ length: n }, (_, i) => ({ name: "helloworld", id: `pod-${i}` }));
const ids = (xs: readonly { id: string }[]): number[] => xs.map((x) => Number(x.id.slice(4)));

describe("fnv32a", () => {
  it("matches Go hash/fnv.New32a", () => {
    assert.equal(fnv32a(""), 2166136261);
    assert.equal(fnv32a("a"), 3826002220);
    assert.equal(fnv32a("foobar"), 3214735720);
    assert.equal(fnv32a("helloworld-1"), 1475410831);
    assert.equal(fnv32a("héllo"), 1252296000); // UTF-8 bytes, like Go's []byte(string)
  });
});

describe("subset (Kratos golden vectors)", () => {
  const vectors: [key: string, n: number, size: number, want: number[]][] = [
    ["client-a", 10, 3, [9, 6, 2]],
    ["client-b", 10, 3, [3, 6, 0]],
    ["9f1c2b9e-4f5a-4c1e-9d0b-2a3c4d5e6f70", 30, 25, [12, 28, 22, 9, 6, 17, 23, 14, 5, 24, 25, 18, 8, 10, 16, 11, 29, 7, 15, 27, 4, 0, 19, 26, 13]],
    ["x", 5, 4, [4, 3, 2, 1]],
    ["", 8, 2, [1, 2]],
    ["client-a", 100, 10, [95, 28, 21, 59, 26, 14, 52, 9, 65, 41]],
  ];
  for (const [key, n, size, want] of vectors) {
    it(`key ${JSON.stringify(key)}, ${n} instances, size ${size}`, () => {
      assert.deepEqual(ids(subset(key, pods(n), size, subsetMemberKey)), want);
    });
  }

  it("returns the input unchanged when size is 0 (off) or not smaller than the list", () => {
    const xs = pods(4);
    assert.equal(subset("k", xs, 0, subsetMemberKey), xs);
    assert.equal(subset("k", xs, 4, subsetMemberKey), xs);
    assert.equal(subset("k", xs, -1, subsetMemberKey), xs);
  });

  it("is stable when an unrelated instance leaves", () => {
    const all = pods(20);
    const before = ids(subset("client-z", all, 5, subsetMemberKey));
    const victim = all.findIndex((p) => !before.includes(Number(p.id.slice(4))));
    const after = ids(subset("client-z", all.filter((_, i) => i !== victim), 5, subsetMemberKey));
    assert.deepEqual(after, before);
  });
});
