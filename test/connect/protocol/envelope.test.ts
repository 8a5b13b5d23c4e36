/**
 * The 5-byte envelope: encoding, and the reader fed the same bytes split at
 * every possible point (fast-check), with the size limit.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { encodeEnvelope, EnvelopeReader, FLAG_COMPRESSED, FLAG_GRPC_WEB_TRAILER } from "../../../src/connect/protocol/envelope.ts";

const seed = process.env["FC_SEED"] === undefined ? 20261202 : Number(process.env["FC_SEED"]);
const bytes = (...xs: number[]): Uint8Array => new Uint8Array(xs);

function drain(r: EnvelopeReader): { flags: number; data: number[] }[] {
  const out: { flags: number; data: number[] }[] = [];
  for (;;) {
    const e = r.next();
    if (e === undefined) return out;
    if ("kind" in e) throw new Error(`unexpected ${e.kind}`);
    out.push({ flags: e.flags, data: [...e.data] });
  }
}

describe("envelope", () => {
  const table: { name: string; flags: number; data: Uint8Array; wire: number[] }[] = [
    { name: "empty message", flags: 0, data: bytes(), wire: [0, 0, 0, 0, 0] },
    { name: "three bytes", flags: 0, data: bytes(1, 2, 3), wire: [0, 0, 0, 0, 3, 1, 2, 3] },
    { name: "compressed flag", flags: FLAG_COMPRESSED, data: bytes(9), wire: [1, 0, 0, 0, 1, 9] },
    { name: "gRPC-web trailer flag", flags: FLAG_GRPC_WEB_TRAILER, data: bytes(7, 7), wire: [0x80, 0, 0, 0, 2, 7, 7] },
  ];
  for (const c of table) {
    it(`encodes ${c.name}`, () => {
      assert.deepEqual([...encodeEnvelope(c.flags, c.data)], c.wire);
    });
  }

  it("writes the length big-endian over all four bytes", () => {
    const data = new Uint8Array(0x01_02_03);
    assert.deepEqual([...encodeEnvelope(0, data).subarray(0, 5)], [0, 0, 1, 2, 3]);
  });

  it("reads the envelopes back whatever the chunk boundaries", () => {
    const envelope = fc.record({ flags: fc.constantFrom(0, 1, 0x80), data: fc.uint8Array({ maxLength: 40 }) });
    fc.assert(
      fc.property(fc.array(envelope, { maxLength: 6 }), fc.array(fc.nat(), { maxLength: 8 }), (envs, cuts) => {
        const wire = Uint8Array.from(envs.flatMap((e) => [...encodeEnvelope(e.flags, e.data)]));
        const points = [...new Set(cuts.map((c) => (wire.length === 0 ? 0 : c % wire.length)))].sort((a, b) => a - b);
        const r = new EnvelopeReader();
        const got: { flags: number; data: number[] }[] = [];
        let at = 0;
        for (const p of [...points, wire.length]) {
          r.push(wire.subarray(at, p));
          at = p;
          got.push(...drain(r));
        }
        assert.deepEqual(got, envs.map((e) => ({ flags: e.flags, data: [...e.data] })));
        assert.equal(r.pending, 0);
      }),
      { seed, numRuns: 300 },
    );
  });

  it("a partial envelope stays pending", () => {
    const r = new EnvelopeReader();
    r.push(bytes(0, 0, 0, 0, 4, 1, 2));
    assert.equal(r.next(), undefined);
    assert.equal(r.pending, 7);
    r.push(bytes(3, 4, 0, 0));
    assert.deepEqual(drain(r), [{ flags: 0, data: [1, 2, 3, 4] }]);
    assert.equal(r.pending, 2);
  });

  it("refuses an envelope larger than maxBytes as soon as its prefix is read", () => {
    const r = new EnvelopeReader(3);
    r.push(bytes(0, 0, 0, 0, 4));
    assert.deepEqual(r.next(), { kind: "too-large", length: 4, maxBytes: 3 });
    const ok = new EnvelopeReader(3);
    ok.push(encodeEnvelope(0, bytes(1, 2, 3)));
    assert.deepEqual(drain(ok), [{ flags: 0, data: [1, 2, 3] }]);
  });

  it("returns a view of the chunk when the envelope lies in one chunk (no copy)", () => {
    const wire = encodeEnvelope(0, bytes(5, 6));
    const r = new EnvelopeReader();
    r.push(wire);
    const e = r.next();
    assert.ok(e !== undefined && !("kind" in e));
    assert.equal(e.data.buffer, wire.buffer);
  });
});
