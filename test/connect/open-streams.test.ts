import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { OpenStreams, type OpenStream } from "../../src/connect/open-streams.ts";

const noop = (): void => {};

describe("OpenStreams", () => {
  it("keeps insertion order; removing the head, middle and tail relinks the rest", () => {
    const l = new OpenStreams<string>();
    const [a, b, c, d] = ["a", "b", "c", "d"].map((s) => l.add(s, noop)) as [OpenStream<string>, OpenStream<string>, OpenStream<string>, OpenStream<string>];
    assert.deepEqual(l.entries().map((e) => e.stream), ["a", "b", "c", "d"]);
    assert.equal(l.remove(b), true);
    assert.deepEqual(l.entries().map((e) => e.stream), ["a", "c", "d"]);
    assert.equal(l.remove(a), true);
    assert.equal(l.remove(d), true);
    assert.deepEqual(l.entries().map((e) => e.stream), ["c"]);
    assert.equal(l.size, 1);
    assert.equal(l.remove(c), true);
    assert.equal(l.size, 0);
    assert.deepEqual(l.entries(), []);
    l.add("e", noop);
    assert.deepEqual(l.entries().map((e) => e.stream), ["e"]);
  });

  it("a second remove of the same entry returns false and changes nothing", () => {
    const l = new OpenStreams<string>();
    const a = l.add("a", noop);
    l.add("b", noop);
    assert.equal(l.remove(a), true);
    assert.equal(l.remove(a), false);
    assert.equal(l.size, 1);
    assert.deepEqual(l.entries().map((e) => e.stream), ["b"]);
  });

  it("entries() is a snapshot: finishing every entry while walking it visits each once", () => {
    const l = new OpenStreams<number>();
    const finished: number[] = [];
    for (let i = 0; i < 5; i++) {
      const e: OpenStream<number> = l.add(i, () => {
        if (l.remove(e)) finished.push(i);
      });
    }
    for (const e of l.entries()) e.finish();
    assert.deepEqual(finished, [0, 1, 2, 3, 4]);
    assert.equal(l.size, 0);
  });

  it("matches an array model under random adds and removes", () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.constant(-1), fc.nat({ max: 40 })), { maxLength: 200 }), (ops) => {
        const l = new OpenStreams<number>();
        const model: OpenStream<number>[] = [];
        const all: OpenStream<number>[] = [];
        let next = 0;
        for (const op of ops) {
          if (op === -1 || all.length === 0) {
            const e = l.add(next++, noop);
            model.push(e);
            all.push(e);
            continue;
          }
          const e = all[op % all.length]!;
          const i = model.indexOf(e);
          assert.equal(l.remove(e), i >= 0);
          if (i >= 0) model.splice(i, 1);
          assert.equal(l.size, model.length);
        }
        assert.deepEqual(l.entries().map((e) => e.stream), model.map((e) => e.stream));
      }),
      { seed: 20261202, numRuns: 300 },
    );
  });
});
