/** `grpc-timeout` and `connect-timeout-ms` encodings: table tests. */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { encodeConnectTimeout, encodeGrpcTimeout, parseConnectTimeout, parseGrpcTimeout } from "../../../src/connect/protocol/timeout.ts";

describe("grpc-timeout", () => {
  const encode: [number, string][] = [
    [1, "1m"],
    [250, "250m"],
    [99_999_999, "99999999m"],
    [100_000_000, "100000S"],
    [0.5, "500000n"],
    [1234.5, "1234500u"],
    [1.0004, "1000400n"],
    [0.0000001, "1n"],
    [0, "1n"],
    [-5, "1n"],
    [99_999_999_000 + 1, "1666667M"],
    [1e15, "99999999H"],
  ];
  for (const [ms, want] of encode) {
    it(`encodes ${ms} ms as ${want}`, () => assert.equal(encodeGrpcTimeout(ms), want));
  }

  it("never shortens a deadline and keeps at most 8 digits", () => {
    for (const ms of [1, 7.3, 1234.5678, 123_456_789, 9.99e9, 3.6e12]) {
      const s = encodeGrpcTimeout(ms);
      assert.match(s, /^[0-9]{1,8}[HMSmun]$/);
      assert.ok(parseGrpcTimeout(s)! >= ms - 1e-9, `${ms} → ${s}`);
    }
  });

  const parse: [string, number | undefined][] = [
    ["5S", 5000],
    ["2M", 120_000],
    ["1H", 3_600_000],
    ["10m", 10],
    ["1000u", 1],
    ["1000000n", 1],
    ["123456789m", undefined],
    ["5", undefined],
    ["5s", undefined],
    ["-5m", undefined],
  ];
  for (const [s, want] of parse) {
    it(`parses ${JSON.stringify(s)}`, () => assert.equal(parseGrpcTimeout(s), want));
  }
});

describe("connect-timeout-ms", () => {
  const table: [number, string][] = [
    [1, "1"],
    [1.2, "2"],
    [0, "1"],
    [20_000, "20000"],
    [1e12, "9999999999"],
  ];
  for (const [ms, want] of table) {
    it(`encodes ${ms} ms as ${want}`, () => assert.equal(encodeConnectTimeout(ms), want));
  }
  it("parses at most 10 digits", () => {
    assert.equal(parseConnectTimeout("9999999999"), 9_999_999_999);
    assert.equal(parseConnectTimeout("10000000000"), undefined);
    assert.equal(parseConnectTimeout("1.5"), undefined);
  });
});
