import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  ascii,
  bitString,
  boolean,
  explicit,
  implicitPrimitive,
  namedBits,
  octetString,
  oid,
  sequence,
  set,
  smallInteger,
  time,
  tlv,
  unsignedInteger,
  utf8String,
} from "../../src/testing/der.ts";

const hex = (b: Uint8Array): string => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join(" ");
const bytes = (...b: number[]): Uint8Array => Uint8Array.from(b);

// Expected encodings from ITU-T X.690 and RFC 5280/5758 (OIDs as they appear in certificates).
describe("DER writer", () => {
  it("writes short and long definite lengths", () => {
    assert.equal(hex(tlv(0x04, new Uint8Array(127))).slice(0, 5), "04 7f");
    assert.equal(hex(tlv(0x04, new Uint8Array(128))).slice(0, 8), "04 81 80");
    assert.equal(hex(tlv(0x04, new Uint8Array(256))).slice(0, 11), "04 82 01 00");
    assert.equal(tlv(0x04, new Uint8Array(70_000)).length, 70_000 + 5); // 04 83 01 11 70
  });

  it("writes minimal non-negative INTEGERs", () => {
    assert.equal(hex(unsignedInteger(bytes(0, 0, 0x7f))), "02 01 7f");
    assert.equal(hex(unsignedInteger(bytes(0x80))), "02 02 00 80");
    assert.equal(hex(unsignedInteger(bytes())), "02 01 00");
    assert.equal(hex(unsignedInteger(bytes(0, 0))), "02 01 00");
    assert.equal(hex(smallInteger(0)), "02 01 00");
    assert.equal(hex(smallInteger(2)), "02 01 02");
    assert.equal(hex(smallInteger(128)), "02 02 00 80");
    assert.equal(hex(smallInteger(65_537)), "02 03 01 00 01");
    assert.throws(() => smallInteger(-1), /not a non-negative safe integer/);
  });

  it("writes OBJECT IDENTIFIERs with base-128 arcs", () => {
    assert.equal(hex(oid("1.2.840.10045.4.3.2")), "06 08 2a 86 48 ce 3d 04 03 02");
    assert.equal(hex(oid("2.5.29.17")), "06 03 55 1d 11");
    assert.equal(hex(oid("1.3.6.1.5.5.7.3.1")), "06 08 2b 06 01 05 05 07 03 01");
    assert.throws(() => oid("1"), /not a dotted OID/);
    assert.throws(() => oid("1.x.3"), /not a dotted OID/);
  });

  it("writes named bit lists without trailing zero bits", () => {
    assert.equal(hex(namedBits([5, 6])), "03 02 01 06"); // keyCertSign | cRLSign
    assert.equal(hex(namedBits([0])), "03 02 07 80"); // digitalSignature
    assert.equal(hex(namedBits([0, 8])), "03 03 07 80 80");
    assert.equal(hex(namedBits([])), "03 01 00");
    assert.equal(hex(bitString(bytes(0xab))), "03 02 00 ab");
  });

  it("writes UTCTime up to 2049 and GeneralizedTime from 2050", () => {
    const text = (b: Uint8Array): string => new TextDecoder().decode(b.subarray(2));
    const utc = time(new Date("2026-01-02T03:04:05.999Z"));
    assert.equal(utc[0], 0x17);
    assert.equal(text(utc), "260102030405Z");
    const gen = time(new Date("2050-01-01T00:00:00Z"));
    assert.equal(gen[0], 0x18);
    assert.equal(text(gen), "20500101000000Z");
    assert.equal(time(new Date("1949-12-31T23:59:59Z"))[0], 0x18);
  });

  it("sorts SET elements and nests tags", () => {
    assert.equal(hex(set(bytes(0x02, 0x01, 0x09), bytes(0x01, 0x01, 0xff))), "31 06 01 01 ff 02 01 09");
    assert.equal(hex(sequence(boolean(true), boolean(false))), "30 06 01 01 ff 01 01 00");
    assert.equal(hex(explicit(3, sequence())), "a3 02 30 00");
    assert.equal(hex(implicitPrimitive(7, bytes(127, 0, 0, 1))), "87 04 7f 00 00 01");
    assert.equal(hex(octetString(bytes(1, 2))), "04 02 01 02");
    assert.equal(hex(utf8String("é")), "0c 02 c3 a9");
  });

  it("takes IA5String contents in ASCII only", () => {
    assert.equal(hex(ascii("a.b")), "61 2e 62");
    assert.throws(() => ascii("ü"), /not ASCII/);
  });
});
