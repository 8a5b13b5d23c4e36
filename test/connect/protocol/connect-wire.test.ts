/**
 * Connect wire formats: code names, JSON error bodies, end-of-stream
 * messages, gRPC-web trailer blocks and the HTTP / HTTP/2 code tables.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Code, ConnectError } from "@connectrpc/connect";
import { codeFromString, codeToString, errorFromBody, errorFromJson, parseEndStream } from "../../../src/connect/protocol/connect-wire.ts";
import { parseGrpcWebTrailer } from "../../../src/connect/protocol/grpc-web-trailer.ts";
import { codeFromH2Reset, codeFromHttpStatus, H2, h2CodeName } from "../../../src/connect/protocol/http-status.ts";

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

describe("Connect code names", () => {
  it("maps every code both ways", () => {
    for (let c = 1; c <= 16; c++) assert.equal(codeFromString(codeToString(c as Code)), c);
    assert.equal(codeToString(Code.DeadlineExceeded), "deadline_exceeded");
    assert.equal(codeFromString("ok"), undefined);
    assert.equal(codeFromString("nope"), undefined);
  });
});

describe("Connect JSON errors", () => {
  const table: { name: string; json: unknown; want: { code: Code; message: string; details?: number } | undefined }[] = [
    { name: "code and message", json: { code: "not_found", message: "gone" }, want: { code: Code.NotFound, message: "gone" } },
    { name: "unknown code takes the fallback", json: { code: "weird", message: "m" }, want: { code: Code.Unavailable, message: "m" } },
    { name: "no code takes the fallback", json: { message: "m" }, want: { code: Code.Unavailable, message: "m" } },
    { name: "details", json: { code: "internal", details: [{ type: "a.B", value: "AQI" }, { type: "c.D", value: "AQI=", debug: { x: 1 } }] }, want: { code: Code.Internal, message: "", details: 2 } },
    { name: "a non-string message is not an error", json: { code: "internal", message: 5 }, want: undefined },
    { name: "a bad detail is not an error", json: { code: "internal", details: [{ type: 1 }] }, want: undefined },
    { name: "an array is not an error", json: [], want: undefined },
  ];
  for (const c of table) {
    it(c.name, () => {
      const e = errorFromJson(c.json, Code.Unavailable);
      if (c.want === undefined) return assert.equal(e, undefined);
      assert.ok(e instanceof ConnectError);
      assert.equal(e.code, c.want.code);
      assert.equal(e.rawMessage, c.want.message);
      assert.equal(e.details.length, c.want.details ?? 0);
    });
  }
  it("errorFromBody falls back to the HTTP status for a body that is not JSON", () => {
    const e = errorFromBody(utf8("<html>bad gateway</html>"), Code.Unavailable, "HTTP 502");
    assert.equal(e.code, Code.Unavailable);
    assert.equal(e.rawMessage, "HTTP 502");
  });
});

describe("Connect end-of-stream", () => {
  it("success with trailers", () => {
    const end = parseEndStream(utf8('{"metadata":{"x-t":["a","b"]}}'));
    assert.ok(!(end instanceof ConnectError));
    assert.equal(end.error, undefined);
    assert.equal(end.metadata.get("x-t"), "a, b");
  });
  it("an empty object is a success", () => {
    const end = parseEndStream(utf8("{}"));
    assert.ok(!(end instanceof ConnectError) && end.error === undefined);
  });
  it("an error carries the trailers as metadata", () => {
    const end = parseEndStream(utf8('{"error":{"code":"resource_exhausted","message":"quota"},"metadata":{"x-q":["1"]}}'));
    assert.ok(!(end instanceof ConnectError));
    assert.equal(end.error?.code, Code.ResourceExhausted);
    assert.equal(end.error?.metadata.get("x-q"), "1");
  });
  for (const bad of ["not json", "[]", '{"metadata":{"x":"single"}}', '{"error":{"message":3}}']) {
    it(`rejects ${bad}`, () => assert.ok(parseEndStream(utf8(bad)) instanceof ConnectError));
  }
});

describe("gRPC-web trailer block", () => {
  it("parses CRLF lines, lower-cases names, keeps repeated names", () => {
    const t = parseGrpcWebTrailer(utf8("grpc-status: 0\r\nGrpc-Message: \r\nx-a: 1\r\nx-a: 2\r\n"));
    assert.deepEqual(t, { "grpc-status": "0", "grpc-message": "", "x-a": ["1", "2"] });
  });
  it("ignores lines without a name", () => {
    assert.deepEqual(parseGrpcWebTrailer(utf8(": x\r\nnocolon\r\ngrpc-status:5")), { "grpc-status": "5" });
  });
});

describe("HTTP and HTTP/2 codes", () => {
  const http: [number, Code][] = [
    [400, Code.Internal],
    [401, Code.Unauthenticated],
    [403, Code.PermissionDenied],
    [404, Code.Unimplemented],
    [429, Code.Unavailable],
    [502, Code.Unavailable],
    [503, Code.Unavailable],
    [504, Code.Unavailable],
    [500, Code.Unknown],
    [418, Code.Unknown],
  ];
  for (const [s, c] of http) it(`HTTP ${s} → ${Code[c]}`, () => assert.equal(codeFromHttpStatus(s), c));
  const h2: [number, Code][] = [
    [H2.NO_ERROR, Code.Internal],
    [H2.PROTOCOL_ERROR, Code.Internal],
    [H2.REFUSED_STREAM, Code.Unavailable],
    [H2.CANCEL, Code.Canceled],
    [H2.ENHANCE_YOUR_CALM, Code.ResourceExhausted],
    [H2.INADEQUATE_SECURITY, Code.PermissionDenied],
  ];
  for (const [r, c] of h2) it(`RST_STREAM ${h2CodeName(r)} → ${Code[c]}`, () => assert.equal(codeFromH2Reset(r), c));
});
