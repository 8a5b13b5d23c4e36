/**
 * gRPC status parsing: `grpc-status`, percent-encoded `grpc-message`,
 * `grpc-status-details-bin` (a google.rpc.Status written here with the
 * protobuf wire writer), as table tests.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Code } from "@connectrpc/connect";
import { base64Encode, BinaryWriter } from "@bufbuild/protobuf/wire";
import { decodeStatusDetails, percentDecode, percentEncode, readGrpcStatus, statusError } from "../../../src/connect/protocol/grpc-status.ts";

function statusBin(code: number, message: string, details: { typeUrl: string; value: Uint8Array }[], encoding: "std" | "std_raw" = "std_raw"): string {
  const w = new BinaryWriter();
  if (code !== 0) w.tag(1, 0).int32(code);
  if (message !== "") w.tag(2, 2).string(message);
  for (const d of details) {
    const any = new BinaryWriter().tag(1, 2).string(d.typeUrl).tag(2, 2).bytes(d.value).finish();
    w.tag(3, 2).bytes(any);
  }
  return base64Encode(w.finish(), encoding);
}

describe("readGrpcStatus", () => {
  const table: { name: string; h: Record<string, string>; want: { code: number; message: string; details?: { type: string; value: number[] }[] } | undefined }[] = [
    { name: "no status at all", h: { "content-type": "application/grpc" }, want: undefined },
    { name: "OK", h: { "grpc-status": "0" }, want: { code: 0, message: "" } },
    { name: "OK ignores grpc-message", h: { "grpc-status": "0", "grpc-message": "fine" }, want: { code: 0, message: "" } },
    { name: "NOT_FOUND with a message", h: { "grpc-status": "5", "grpc-message": "no such thing" }, want: { code: Code.NotFound, message: "no such thing" } },
    { name: "percent-encoded message", h: { "grpc-status": "13", "grpc-message": "caf%C3%A9 %25 done" }, want: { code: Code.Internal, message: "café % done" } },
    { name: "malformed percent sequence kept", h: { "grpc-status": "2", "grpc-message": "50%zz off%" }, want: { code: Code.Unknown, message: "50%zz off%" } },
    { name: "code above 16 is Unknown", h: { "grpc-status": "17", "grpc-message": "x" }, want: { code: Code.Unknown, message: "x" } },
    { name: "non-numeric code is Unknown", h: { "grpc-status": "abc" }, want: { code: Code.Unknown, message: "invalid grpc-status: abc" } },
    {
      name: "details-bin wins over grpc-status",
      h: { "grpc-status": "3", "grpc-message": "header says", "grpc-status-details-bin": statusBin(7, "denied", [{ typeUrl: "type.googleapis.com/google.rpc.ErrorInfo", value: new Uint8Array([1, 2]) }]) },
      want: { code: Code.PermissionDenied, message: "denied", details: [{ type: "google.rpc.ErrorInfo", value: [1, 2] }] },
    },
    { name: "details-bin with padding", h: { "grpc-status": "1", "grpc-status-details-bin": statusBin(1, "c", [], "std") }, want: { code: Code.Canceled, message: "c" } },
    { name: "details-bin with code 0 is OK", h: { "grpc-status": "0", "grpc-status-details-bin": statusBin(0, "", []) }, want: { code: 0, message: "" } },
    { name: "invalid details-bin falls back to grpc-status", h: { "grpc-status": "4", "grpc-message": "slow", "grpc-status-details-bin": "!!!" }, want: { code: Code.DeadlineExceeded, message: "slow" } },
  ];
  for (const c of table) {
    it(c.name, () => {
      const s = readGrpcStatus(c.h);
      if (c.want === undefined) return assert.equal(s, undefined);
      assert.ok(s !== undefined);
      assert.equal(s.code, c.want.code);
      assert.equal(s.message, c.want.message);
      assert.deepEqual(s.details.map((d) => ({ type: d.type, value: [...d.value] })), c.want.details ?? []);
    });
  }

  it("reads the first value of a repeated field", () => {
    assert.equal(readGrpcStatus({ "grpc-status": ["14", "0"] })?.code, Code.Unavailable);
  });

  it("statusError keeps code, raw message, details and metadata", () => {
    const e = statusError({ code: Code.Aborted, message: "m", details: [{ type: "t", value: new Uint8Array([3]) }] }, { "x-a": "1" });
    assert.equal(e.code, Code.Aborted);
    assert.equal(e.rawMessage, "m");
    assert.equal(e.metadata.get("x-a"), "1");
    assert.deepEqual(e.details, [{ type: "t", value: new Uint8Array([3]) }]);
  });

  it("decodeStatusDetails skips unknown fields", () => {
    const w = new BinaryWriter().tag(1, 0).int32(5).tag(9, 2).string("future").tag(2, 2).string("gone");
    assert.deepEqual(decodeStatusDetails(base64Encode(w.finish(), "std_raw")), { code: Code.NotFound, message: "gone", details: [] });
  });
});

describe("grpc-message percent-encoding", () => {
  const table: [string, string][] = [
    ["plain ascii", "plain ascii"],
    ["100%", "100%25"],
    ["line\nbreak", "line%0Abreak"],
    ["café", "caf%C3%A9"],
    ["emoji 😀", "emoji %F0%9F%98%80"],
    ["tab\there", "tab%09here"],
    ["~}|{", "~}|{"],
  ];
  for (const [raw, wire] of table) {
    it(`round-trips ${JSON.stringify(raw)}`, () => {
      assert.equal(percentEncode(raw), wire);
      assert.equal(percentDecode(wire), raw);
    });
  }
  it("decodes invalid UTF-8 to U+FFFD instead of failing", () => {
    assert.equal(percentDecode("bad %FF byte"), "bad \uFFFD byte");
  });
  it("keeps a raw non-ASCII character it was given", () => {
    assert.equal(percentDecode("%41 é"), "A é");
  });
});
