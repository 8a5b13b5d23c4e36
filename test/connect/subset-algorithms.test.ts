/**
 * Deterministic aperture and rendezvous subsetting beside the Kratos ring:
 * fixed vectors, balance and movement bounds as properties, and the
 * measurements the README quotes (N clients, M servers: connections per
 * server, and connections closed when one server joins or leaves).
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { subset } from "../../src/connect/subset.ts";
import { apertureSubset, peerPosition } from "../../src/connect/subset-aperture.ts";
import { rendezvousSubset } from "../../src/connect/subset-rendezvous.ts";
import { subsetChooser } from "../../src/connect/subset-config.ts";
import { EndpointConfigError } from "../../src/connect/endpoint-source.ts";

const id = (s: string): string => s;
const servers = (m: number, prefix = "pod-"): string[] => Array.from({ length: m }, (_, j) => `${prefix}${String(j).padStart(4, "0")}`);
type Algo = (client: number, n: number, list: string[], size: number) => readonly string[];
const algos: Record<string, Algo> = {
  kratos: (i, _n, list, size) => subset(`client-${i}`, list, size, id),
  rendezvous: (i, _n, list, size) => rendezvousSubset(`client-${i}`, list, size, id),
  aperture: (i, n, list, size) => apertureSubset({ index: i, count: n }, list, size, id),
};

/** Connections per server, and connections closed when the list changes to `next`. */
function measure(f: Algo, n: number, list: string[], size: number, next: string[]): { max: number; min: number; closed: number } {
  const before = Array.from({ length: n }, (_, i) => new Set(f(i, n, list, size)));
  const per = new Map(list.map((s) => [s, 0]));
  for (const b of before) for (const s of b) per.set(s, per.get(s)! + 1);
  let closed = 0;
  for (let i = 0; i < n; i++) {
    const after = new Set(f(i, n, next, size));
    for (const s of before[i]!) if (!after.has(s)) closed++;
  }
  return { max: Math.max(...per.values()), min: Math.min(...per.values()), closed };
}

describe("apertureSubset", () => {
  it("gives client i of 4 the servers 2i and 2i+1 of 8 (size 2)", () => {
    const list = servers(8);
    for (let i = 0; i < 4; i++) assert.deepEqual(apertureSubset({ index: i, count: 4 }, list, 2, id), [list[2 * i], list[2 * i + 1]]);
  });

  it("orders servers by member, whatever the input order, and wraps around the ring", () => {
    const list = servers(5);
    const got = apertureSubset({ index: 2, count: 3 }, [...list].reverse(), 2, id);
    // Client 2 of 3 starts at 2/3 of the ring; its aperture is the fewest client slices covering 2 of the
    // 5 server slices (2 × 1/3 ≥ 2/5, as Finagle's dApertureWidth), so it overlaps slices 3, 4, then 0 and 1.
    assert.deepEqual(got, [list[3], list[4], list[0], list[1]]);
  });

  it("returns the list unchanged when size is 0 or not smaller than it", () => {
    const list = servers(4);
    assert.equal(apertureSubset({ index: 0, count: 1 }, list, 0, id), list);
    assert.equal(apertureSubset({ index: 0, count: 1 }, list, 4, id), list);
  });

  it("property: every client gets at least size servers, and connections per server differ by at most one", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 300 }), fc.integer({ min: 2, max: 120 }), fc.integer({ min: 1, max: 30 }), (n, m, size) => {
        fc.pre(size < m);
        const list = servers(m);
        const per = new Map(list.map((s) => [s, 0]));
        for (let i = 0; i < n; i++) {
          const got = apertureSubset({ index: i, count: n }, list, size, id);
          assert.ok(got.length >= size, `client ${i} of ${n} got ${got.length} < ${size}`);
          assert.equal(new Set(got).size, got.length);
          for (const s of got) per.set(s, per.get(s)! + 1);
        }
        assert.ok(Math.max(...per.values()) - Math.min(...per.values()) <= 1, JSON.stringify([...per.values()]));
      }),
      { seed: 19, numRuns: 300 },
    );
  });
});

describe("rendezvousSubset", () => {
  it("is deterministic, best score first, and ignores duplicates", () => {
    const list = servers(20);
    const a = rendezvousSubset("client-a", list, 4, id);
    assert.equal(a.length, 4);
    assert.deepEqual(rendezvousSubset("client-a", [...list].reverse().concat(list), 4, id), a);
    assert.notDeepEqual(rendezvousSubset("client-b", list, 4, id), a);
  });

  it("property: a server joining or leaving closes at most one connection per client, only where it matters", () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1 }), fc.integer({ min: 2, max: 60 }), fc.integer({ min: 1, max: 10 }), fc.nat(), (key, m, size, pick) => {
        const list = servers(m);
        const before = rendezvousSubset(key, list, size, id);
        // Join: the old subset minus at most one, and only if the newcomer made it in.
        const joined = rendezvousSubset(key, [...list, "pod-new"], size, id);
        const lost = before.filter((s) => !joined.includes(s));
        assert.ok(lost.length <= 1);
        assert.equal(lost.length === 1, joined.includes("pod-new") && before.length === size);
        // Leave: unchanged unless the server that left was in it.
        const gone = list[pick % m]!;
        const left = rendezvousSubset(key, list.filter((s) => s !== gone), size, id);
        const sorted = (xs: readonly string[]): string[] => [...xs].sort();
        if (!before.includes(gone)) assert.deepEqual(sorted(left), sorted(before));
        else assert.deepEqual(left.filter((s) => before.includes(s)).length, before.length - 1);
      }),
      { seed: 19, numRuns: 300 },
    );
  });
});

describe("subset algorithms measured side by side", () => {
  // 100 clients, 40 servers, 5 per client; then 200 clients, 20 servers, 4 per client.
  const cases: [n: number, m: number, size: number, want: Record<string, { max: number; min: number; closedJoin: number; closedLeave: number }>][] = [
    [100, 40, 5, {
      kratos: { max: 20, min: 7, closedJoin: 6, closedLeave: 11 },
      rendezvous: { max: 20, min: 7, closedJoin: 11, closedLeave: 14 },
      aperture: { max: 15, min: 15, closedJoin: 40, closedLeave: 39 },
    }],
    [200, 20, 4, {
      kratos: { max: 47, min: 29, closedJoin: 33, closedLeave: 33 },
      rendezvous: { max: 56, min: 32, closedJoin: 43, closedLeave: 40 },
      aperture: { max: 49, min: 49, closedJoin: 91, closedLeave: 79 },
    }],
  ];
  for (const [n, m, size, want] of cases) {
    it(`${n} clients, ${m} servers, subset ${size}`, () => {
      const list = servers(m, "svc-pod-");
      const join = [...list, "svc-pod-new"];
      const leave = list.filter((_, j) => j !== 7);
      const got: Record<string, unknown> = {};
      for (const [name, f] of Object.entries(algos)) {
        const j = measure(f, n, list, size, join);
        const l = measure(f, n, list, size, leave);
        got[name] = { max: j.max, min: j.min, closedJoin: j.closed, closedLeave: l.closed };
      }
      assert.deepEqual(got, want);
    });
  }
});

describe("peerPosition", () => {
  it("is the rank among the ids sorted, counting self once", () => {
    assert.deepEqual(peerPosition(["c", "a", "b", "a"], "b"), { index: 1, count: 3 });
    assert.deepEqual(peerPosition([], "x"), { index: 0, count: 1 });
    // Not listed yet: the position it will have.
    assert.deepEqual(peerPosition(["a", "c"], "b"), { index: 1, count: 3 });
  });
});

describe("subsetChooser", () => {
  const list = servers(30);
  it("keeps a number meaning the Kratos subset size", () => {
    assert.deepEqual(subsetChooser(3, "k").choose(list, id), subset("k", list, 3, id));
    assert.deepEqual(subsetChooser(undefined, "k").choose(list, id), subset("k", list, 25, id));
    assert.deepEqual(subsetChooser({ size: 3 }, "k").choose(list, id), subset("k", list, 3, id));
  });

  it("builds rendezvous and aperture choosers", () => {
    assert.deepEqual(subsetChooser({ algorithm: "rendezvous", size: 3 }, "k").choose(list, id), rendezvousSubset("k", list, 3, id));
    const a = subsetChooser({ algorithm: "aperture", size: 3, index: 4, count: 10 }, "k");
    assert.deepEqual(a.position, { index: 4, count: 10 });
    assert.deepEqual(a.choose(list, id), apertureSubset({ index: 4, count: 10 }, list, 3, id));
  });

  it("positions an aperture from its own service's instances", () => {
    const c = subsetChooser({ algorithm: "aperture", size: 3, self: { service: "frontend", id: "fe-2" } }, "k");
    assert.equal(c.self?.service, "frontend");
    assert.equal(c.choose(list, id).length >= 3, true);
    assert.equal(c.setPeers(["fe-1", "fe-2", "fe-3"]), true);
    assert.deepEqual(c.position, { index: 1, count: 3 });
    assert.equal(c.setPeers(["fe-3", "fe-2", "fe-1"]), false);
    assert.deepEqual(c.choose(list, id), apertureSubset({ index: 1, count: 3 }, list, 3, id));
  });

  it("refuses bad options with an EndpointConfigError naming the field", () => {
    const bad: [unknown, RegExp][] = [
      [-1, /subset must be an integer ≥ 0, got -1/],
      [1.5, /subset must be an integer/],
      [{ algorithm: "maglev" }, /subset.algorithm must be one of "kratos", "rendezvous", "aperture", got "maglev"/],
      [{ size: -2 }, /subset.size must be/],
      [{ algorithm: "aperture", size: 2 }, /index and count, or self/],
      [{ algorithm: "aperture", index: 3, count: 3 }, /subset.index must be below subset.count \(3\), got 3/],
      [{ algorithm: "aperture", index: 0, count: 0 }, /subset.count must be an integer ≥ 1/],
      [{ algorithm: "aperture", self: { service: "", id: "x" } }, /subset.self must be \{ service, id \}/],
      [{ algorithm: "aperture", index: 0, count: 2, self: { service: "s", id: "x" } }, /subset.self must be unset/],
      [{ algorithm: "rendezvous", index: 1 }, /subset.index must be unset unless subset.algorithm is "aperture"/],
    ];
    for (const [o, re] of bad) {
      assert.throws(() => subsetChooser(o as never, "k"), (e: unknown) => e instanceof EndpointConfigError && e.code === "BAD_OPTION" && re.test(e.message), JSON.stringify(o));
    }
  });
});
