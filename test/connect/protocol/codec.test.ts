/** Method codecs: binary and JSON round trips, cached per method, errors with connect's codes. */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Code, ConnectError } from "@connectrpc/connect";
import { create } from "@bufbuild/protobuf";
import { methodCodec, toMessage } from "../../../src/connect/protocol/codec.ts";
import { Echo, EchoRequestSchema, EchoResponseSchema } from "../../../proto/gen/echo_pb.ts";

describe("methodCodec", () => {
  it("binary: serialises an init shape and parses the response", () => {
    const c = methodCodec(Echo.method.say, true);
    const req = c.serialize({ text: "hi" });
    assert.deepEqual([...req], [0x0a, 2, 0x68, 0x69]);
    const resBytes = methodCodec({ ...Echo.method.say, input: EchoResponseSchema }, true).serialize({ text: "ok", server: "s" });
    const res = c.parse(resBytes);
    assert.equal(res.text, "ok");
    assert.equal(res.server, "s");
  });

  it("JSON: writes proto3 JSON and ignores unknown fields when parsing", () => {
    const c = methodCodec(Echo.method.say, false);
    assert.equal(new TextDecoder().decode(c.serialize(create(EchoRequestSchema, { text: "hi" }))), '{"text":"hi"}');
    const res = c.parse(new TextEncoder().encode('{"text":"ok","future":1}'));
    assert.equal(res.text, "ok");
  });

  it("is built once per method and codec", () => {
    assert.equal(methodCodec(Echo.method.say, true), methodCodec(Echo.method.say, true));
    assert.notEqual(methodCodec(Echo.method.say, true), methodCodec(Echo.method.say, false));
  });

  it("reports parse errors as ConnectErrors (binary Internal, JSON InvalidArgument)", () => {
    const bin = (() => {
      try {
        methodCodec(Echo.method.say, true).parse(new Uint8Array([0x0a, 10, 1]));
      } catch (e) {
        return e;
      }
    })();
    assert.ok(bin instanceof ConnectError && bin.code === Code.Internal, String(bin));
    assert.throws(() => methodCodec(Echo.method.say, false).parse(new TextEncoder().encode("{")), (e) => e instanceof ConnectError && e.code === Code.InvalidArgument);
  });

  it("toMessage keeps a message and creates one from an init shape", () => {
    const m = create(EchoRequestSchema, { text: "a" });
    assert.equal(toMessage(EchoRequestSchema, m), m);
    assert.equal(toMessage(EchoRequestSchema, { text: "b" }).text, "b");
  });
});
