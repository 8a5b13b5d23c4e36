/**
 * Ring hash with bounded loads (policy/ring-hash.ts): affinity by key,
 * minimal movement when endpoints come and go, the load bound and its
 * spill-over, retries avoiding the tried endpoint, and option checks.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { createNodeStats, type PickerNode, type PickRequest } from "../../src/connect/picker.ts";
import { headerValue, ringHash } from "../../src/connect/policy/ring-hash.ts";
import { EndpointConfigError } from "../../src/connect/endpoint-source.ts";

const node = (key: string): PickerNode<string> => ({ key, value: key, weight: 100, stats: createNodeStats(0) });
const nodes = (n: number): PickerNode<string>[] => Array.from({ length: n }, (_, i) => node(`10.0.0.${i + 1}:9000`));
const method = { name: "Get", parent: { typeName: "cache.v1.Cache" } };
const req = (key: string, o: Partial<PickRequest> = {}): PickRequest => ({ method, header: { "x-key": key }, input: undefined, contextValues: undefined, ...o });
const policy = ringHash({ header: "x-key" });

/** Picks once for `key` and gives the pick back (a call that ended). */
function owner(p: ReturnType<typeof policy.build<string>>, key: string): string {
  const n = p.pick(req(key))!;
  p.done(n, 0, false);
  return n.key;
}

describe("ringHash", () => {
  it("sends a key to the same endpoint, and spreads keys over all of them", () => {
    const p = policy.build(nodes(5));
    const per = new Map<string, number>();
    for (let k = 0; k < 2000; k++) {
      const a = owner(p, `user-${k}`);
      assert.equal(owner(p, `user-${k}`), a);
      per.set(a, (per.get(a) ?? 0) + 1);
    }
    assert.equal(per.size, 5);
    // 100 points per endpoint: each of 5 owns 20 % ± a few points of the ring.
    for (const c of per.values()) assert.ok(c > 300 && c < 500, JSON.stringify([...per]));
  });

  it("agrees across snapshots, policies and input order (every client maps a key alike)", () => {
    const a = policy.build(nodes(6));
    const b = ringHash({ key: (r) => headerValue(r.header, "x-key") }).build(nodes(6).reverse());
    for (let k = 0; k < 200; k++) assert.equal(owner(a, `k${k}`), owner(b, `k${k}`));
  });

  it("property: only the keys of an endpoint that leaves move; an endpoint that joins only takes keys", () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 12 }), fc.nat(), fc.array(fc.string(), { minLength: 1, maxLength: 50 }), (n, gone, keys) => {
        const all = nodes(n + 1);
        const base = all.slice(0, n);
        const p = policy.build(base);
        const before = keys.map((k) => owner(p, k));
        const victim = base[gone % n]!.key;
        const left = policy.build(base.filter((x) => x.key !== victim));
        keys.forEach((k, i) => {
          const after = owner(left, k);
          if (before[i] !== victim) assert.equal(after, before[i]);
          else assert.notEqual(after, victim);
        });
        const joined = policy.build(all);
        keys.forEach((k, i) => {
          const after = owner(joined, k);
          assert.ok(after === before[i] || after === all[n]!.key);
        });
      }),
      { seed: 19, numRuns: 200 },
    );
  });

  it("bounds an endpoint's calls in flight to ceil(loadFactor × (total + 1) / n) and spills clockwise", () => {
    const list = nodes(4);
    const p = ringHash({ header: "x-key", loadFactor: 1.25 }).build(list);
    const home = owner(p, "hot");
    const held: PickerNode<string>[] = [];
    for (let i = 0; i < 40; i++) {
      const cap = Math.ceil((1.25 * (i + 1)) / 4);
      const n = p.pick(req("hot"))!;
      held.push(n);
      for (const x of list) assert.ok(x.stats.inflight - 1 <= cap, `${x.key} over ${cap} after ${i + 1} picks`);
    }
    const counts = list.map((x) => x.stats.inflight - 1);
    assert.equal(counts.reduce((a, b) => a + b, 0), 40);
    // The hot key's endpoint is full (13 of 40), the rest spilled in ring order.
    assert.equal(list.find((x) => x.key === home)!.stats.inflight - 1, Math.ceil((1.25 * 40) / 4));
    // Once the calls end, the key goes home again.
    for (const n of held) p.done(n, 0, false);
    assert.deepEqual(list.map((x) => x.stats.inflight), [1, 1, 1, 1]);
    assert.equal(owner(p, "hot"), home);
  });

  it("property: under any sequence of picks and ends, a pick never exceeds the bound of its moment", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 8 }), fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 5 })), { maxLength: 120 }), (n, ops) => {
        const list = nodes(n);
        const p = ringHash({ header: "x-key", loadFactor: 1.5 }).build(list);
        const held: PickerNode<string>[] = [];
        for (const [start, k] of ops) {
          if (!start && held.length > 0) {
            p.done(held.splice(k % held.length, 1)[0]!, 0, false);
            continue;
          }
          const cap = Math.ceil((1.5 * (held.length + 1)) / n);
          const x = p.pick(req(`key-${k}`))!;
          held.push(x);
          assert.ok(x.stats.inflight - 1 <= cap, `${x.stats.inflight - 1} > ${cap}`);
        }
        assert.equal(list.reduce((a, x) => a + x.stats.inflight - 1, 0), held.length);
      }),
      { seed: 19, numRuns: 300 },
    );
  });

  it("counts calls in flight across snapshots", () => {
    const list = nodes(3);
    const p1 = policy.build(list);
    const a = p1.pick(req("k"))!;
    const p2 = policy.build(list, p1);
    p2.release(a);
    assert.equal(a.stats.inflight, 1);
  });

  it("sends a retry (avoid) to another endpoint, the next one clockwise", () => {
    const p = policy.build(nodes(5));
    const pick = (o: Partial<PickRequest>): string => {
      const n = p.pick(req("k", o))!;
      p.release(n);
      return n.key;
    };
    const first = pick({});
    const second = pick({ avoid: [first] });
    assert.notEqual(second, first);
    assert.equal(pick({ avoid: [first] }), second);
    assert.notEqual(pick({ avoid: [first, second] }), second);
    // Everything tried: the key's own endpoint.
    assert.equal(pick({ avoid: nodes(5).map((x) => x.value) }), first);
  });

  it("picks at random for calls without a key, and nothing when empty", () => {
    const p = ringHash({ header: "x-key", random: () => 0.99 }).build(nodes(4));
    assert.equal(p.pick(req("k", { header: undefined }))!.key, "10.0.0.4:9000");
    assert.equal(p.pick()!.key, "10.0.0.4:9000");
    assert.equal(policy.build([]).pick(req("k")), undefined);
  });

  it("keys by a function of the request (message field, method)", () => {
    const pol = ringHash({ key: (r) => `${r.method.name}:${(r.input as { id?: string }).id}` });
    const p = pol.build(nodes(8));
    const keyOf = (id: string, name = "Get"): string => {
      const n = p.pick({ ...req("ignored"), method: { ...method, name }, input: { id } })!;
      p.done(n, 0, false);
      return n.key;
    };
    assert.equal(keyOf("42"), keyOf("42"));
    const owners = new Set(Array.from({ length: 40 }, (_, i) => keyOf(String(i))));
    assert.ok(owners.size > 4, "ids spread over the endpoints");
  });

  it("reads the header from Headers, records and pairs, case-insensitively", () => {
    assert.equal(headerValue(new Headers({ "X-Key": "a" }), "x-key"), "a");
    assert.equal(headerValue({ "X-Key": "b" }, "x-key"), "b");
    assert.equal(headerValue([["x-other", "c"], ["X-KEY", "d"]], "x-key"), "d");
    assert.equal(headerValue(undefined, "x-key"), undefined);
    assert.equal(headerValue({}, "x-key"), undefined);
  });

  it("refuses bad options with an EndpointConfigError naming the field", () => {
    const bad: [unknown, RegExp][] = [
      [{}, /ringHash.key must be a function of the request, or header a header name, got undefined/],
      [{ key: () => "k", header: "x" }, /ringHash.header must be unset when ringHash.key is given, got "x"/],
      [{ header: "" }, /ringHash.header must be a header name/],
      [{ key: "x" }, /ringHash.key must be a function/],
      [{ header: "x", replicas: 0 }, /ringHash.replicas must be an integer in \[1, 10000\], got 0/],
      [{ header: "x", loadFactor: 1 }, /ringHash.loadFactor must be a number > 1, got 1/],
    ];
    for (const [o, re] of bad) {
      assert.throws(() => ringHash(o as never), (e: unknown) => e instanceof EndpointConfigError && re.test(e.message), JSON.stringify(o));
    }
  });
});
