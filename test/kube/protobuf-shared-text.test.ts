/**
 * The shared text table of the protobuf decoder: equal bytes give the same
 * string, different bytes never do (hash collisions included), non-ASCII and
 * long texts are decoded as they are, and a full table starts over.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { createSharedText, MAX_SHARED_BYTES } from "../../src/kube/protobuf/shared-text.ts";

const enc = new TextEncoder();
/** `text` placed at an offset inside a larger buffer, as a decoder sees it. */
function at(text: string, pad = 3): [Uint8Array, number, number] {
  const bytes = enc.encode(text);
  const buf = new Uint8Array(bytes.length + 2 * pad).fill(0x7a);
  buf.set(bytes, pad);
  return [buf, pad, bytes.length];
}

describe("createSharedText", () => {
  it("returns the same string for the same bytes, read from anywhere", () => {
    const read = createSharedText();
    const a = read(...at("eu-west-1a", 1));
    const b = read(...at("eu-west-1a", 7));
    assert.equal(a, "eu-west-1a");
    assert.equal(b, a);
    assert.equal(read(...at("eu-west-1b")), "eu-west-1b");
    assert.equal(read(...at("")), "");
  });

  it("decodes non-ASCII and long texts unchanged", () => {
    const read = createSharedText();
    assert.equal(read(...at("zoné-ü")), "zoné-ü");
    const long = "x".repeat(MAX_SHARED_BYTES + 1);
    assert.equal(read(...at(long)), long);
  });

  it("tells apart two texts with the same hash", () => {
    // "n3pvu" and "ne3ea" have the same 32-bit FNV-1a hash.
    const read = createSharedText();
    assert.equal(read(...at("n3pvu")), "n3pvu");
    assert.equal(read(...at("ne3ea")), "ne3ea");
    assert.equal(read(...at("n3pvu")), "n3pvu");
    assert.equal(read(...at("ne3ea")), "ne3ea");
  });

  it("never confuses two texts (property, a table of 8)", () => {
    const read = createSharedText(8);
    fc.assert(fc.property(fc.array(fc.string({ maxLength: 12 }), { minLength: 1, maxLength: 40 }), (texts) => {
      for (const t of texts) assert.equal(read(...at(t)), t);
    }), { numRuns: 300 });
  });

  it("starts over when full, and still answers correctly", () => {
    const read = createSharedText(4);
    const first = read(...at("node-0"));
    for (let i = 1; i <= 4; i++) read(...at(`node-${i}`));
    assert.equal(read(...at("node-0")), "node-0");
    assert.equal(read(...at("node-4")), "node-4");
    assert.equal(first, "node-0");
  });
});
