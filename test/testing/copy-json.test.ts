/**
 * The fake API server's deep copy gives what `JSON.parse(JSON.stringify(v))`
 * gives (it replaced that round trip on every write), for any JSON-like
 * value with the oddities objects built in tests carry: `undefined`,
 * non-finite numbers, functions, dates, `__proto__` keys; and shares nothing
 * with its input.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { copyJson } from "../../src/testing/copy-json.ts";

const roundTrip = (v: unknown): unknown => JSON.parse(JSON.stringify(v));

/** JSON values plus what JSON drops or rewrites. */
const oddities = fc.constantFrom<unknown>(undefined, Number.NaN, Infinity, -0, () => 1, Symbol("s"), new Date(Date.UTC(2026, 11, 5)), new Map([["a", 1]]));
const value = fc.letrec<{ v: unknown }>((tie) => ({
  v: fc.oneof(
    { depthSize: "small" },
    fc.jsonValue({ maxDepth: 1 }),
    oddities,
    fc.array(tie("v"), { maxLength: 4 }),
    fc.dictionary(fc.oneof(fc.string(), fc.constantFrom("__proto__", "toString", "0")), tie("v"), { maxKeys: 4 }),
  ),
})).v;

describe("copyJson (the fake API server's deep copy)", () => {
  it("equals the JSON round trip for any JSON-like value", () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), value), (v) => {
        assert.deepEqual(copyJson(v), roundTrip(v));
      }),
      { numRuns: 500 },
    );
  });

  it("keeps `__proto__` as an own key, as JSON.parse does, and shares no object with the input", () => {
    const input = JSON.parse('{"__proto__":{"polluted":true},"spec":{"containers":[{"name":"a","ports":[{"containerPort":1}]}]}}') as Record<string, unknown>;
    const out = copyJson(input);
    assert.equal(Object.getPrototypeOf(out), Object.prototype);
    assert.deepEqual(Object.keys(out), ["__proto__", "spec"]);
    assert.equal(({} as Record<string, unknown>)["polluted"], undefined);
    (out["spec"] as { containers: { ports: { containerPort: number }[] }[] }).containers[0]!.ports[0]!.containerPort = 2;
    assert.equal((input["spec"] as { containers: { ports: { containerPort: number }[] }[] }).containers[0]!.ports[0]!.containerPort, 1);
  });
});
