/**
 * IPv4 packing: exactly the canonical dotted quads pack, and they round-trip.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { addressString, formatIPv4, packIPv4 } from "../../src/kube/ipv4.ts";

describe("packIPv4", () => {
  it("packs canonical addresses into signed 32-bit integers", () => {
    assert.equal(packIPv4("0.0.0.0"), 0);
    assert.equal(packIPv4("10.244.1.17"), (10 << 24) | (244 << 16) | (1 << 8) | 17);
    assert.equal(packIPv4("255.255.255.255"), -1);
    assert.equal(packIPv4("192.168.0.1"), (192 << 24) | (168 << 16) | 1);
    assert.ok((packIPv4("192.168.0.1") as number) < 0, "above 127.255.255.255 the value is negative: still a small integer");
  });

  it("refuses everything that would not format back to the same text", () => {
    for (const s of ["", "1.2.3", "1.2.3.4.5", "01.2.3.4", "1.2.3.04", "256.1.1.1", "1.2.3.256", "1..2.3", ".1.2.3", "1.2.3.", "1.2.3.4 ", " 1.2.3.4",
      "a.b.c.d", "::1", "::ffff:1.2.3.4", "1.2.3.4/32", "1234.1.1.1", "1.2.3.-4", "1e1.2.3.4", "0x1.2.3.4"]) {
      assert.equal(packIPv4(s), undefined, JSON.stringify(s));
    }
  });

  it("round-trips every address, and packs nothing else (property)", () => {
    fc.assert(fc.property(fc.ipV4(), (ip) => {
      const v = packIPv4(ip);
      assert.ok(v !== undefined && v === (v | 0), ip);
      assert.equal(formatIPv4(v), ip);
      assert.equal(addressString(v), ip);
    }), { numRuns: 1000 });
    fc.assert(fc.property(fc.string({ maxLength: 16 }), (s) => {
      const v = packIPv4(s);
      if (v !== undefined) assert.equal(formatIPv4(v), s);
    }), { numRuns: 2000 });
    fc.assert(fc.property(fc.ipV4Extended(), (s) => {
      const v = packIPv4(s);
      assert.equal(v === undefined ? s : formatIPv4(v), s, "packs only what formats back identically");
    }), { numRuns: 1000 });
  });

  it("leaves strings as they are", () => {
    assert.equal(addressString("fd00::1"), "fd00::1");
  });
});
