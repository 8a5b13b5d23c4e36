import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { shieldInput } from "../../src/connect/shield-input.ts";

function tracked(xs: number[]) {
  const log: string[] = [];
  const iterable: AsyncIterable<number> = {
    [Symbol.asyncIterator]() {
      log.push("open");
      let i = 0;
      return {
        next: async () => (i < xs.length ? { done: false, value: xs[i++]! } : { done: true, value: undefined }),
        return: async () => {
          log.push("return");
          return { done: true, value: undefined };
        },
        throw: async (e: unknown) => {
          log.push("throw");
          throw e;
        },
      };
    },
  };
  return { iterable, log };
}

describe("shieldInput", () => {
  it("keeps the caller's iterable untouched by an attempt that pulled nothing", async () => {
    const { iterable, log } = tracked([1, 2]);
    const s = shieldInput(iterable);
    const it1 = s.iterable[Symbol.asyncIterator]();
    await it1.return?.();
    await it1.throw?.(new Error("attempt failed"));
    assert.equal(s.pulled(), false);
    assert.deepEqual(log, []);
    // the retry reads everything
    const got: number[] = [];
    for await (const x of s.iterable) got.push(x);
    assert.deepEqual(got, [1, 2]);
    assert.equal(s.pulled(), true);
    assert.deepEqual(log, ["open"]);
  });

  it("forwards return() once messages were pulled", async () => {
    const { iterable, log } = tracked([1, 2, 3]);
    const s = shieldInput(iterable);
    const it = s.iterable[Symbol.asyncIterator]();
    assert.deepEqual(await it.next(), { done: false, value: 1 });
    await it.return?.();
    assert.deepEqual(log, ["open", "return"]);
  });
});
