/**
 * The response state machine of all three protocols, as a table: each case
 * feeds HTTP/2 events (headers, body chunks, trailers, end of body) and
 * compares what reached the sink.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Code, ConnectError } from "@connectrpc/connect";
import { encodeEnvelope } from "../../../src/connect/protocol/envelope.ts";
import type { RawHeaders } from "../../../src/connect/protocol/headers.ts";
import { ResponseReader, type ResponseReaderOptions, type ResponseSink } from "../../../src/connect/protocol/response-reader.ts";
import { framingOf, type WireProtocol } from "../../../src/connect/protocol/wire-protocol.ts";

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
const text = (b: Uint8Array): string => new TextDecoder().decode(b);
const env = (flags: number, s: string): Uint8Array => encodeEnvelope(flags, utf8(s));

type Event = { h: RawHeaders } | { d: Uint8Array } | { t: RawHeaders } | "end";

interface Case {
  name: string;
  protocol: WireProtocol;
  stream?: boolean;
  single?: boolean;
  binary?: boolean;
  max?: number;
  events: Event[];
  want: string[];
}

/** A fake gzip: "Z" + reversed text; a "*" expands to "xxxx". */
const decompress = (data: Uint8Array, encoding: string, max: number): Uint8Array => {
  assert.equal(encoding, "gzip");
  const s = text(data);
  if (!s.startsWith("Z")) throw new Error("corrupt");
  const out = utf8([...s.slice(1)].reverse().join("").replaceAll("*", "xxxx"));
  if (out.byteLength > max) throw new ConnectError("too big after decompression", Code.ResourceExhausted);
  return out;
};

function run(c: Case): string[] {
  const log: string[] = [];
  const sink: ResponseSink = {
    headers: (h) => log.push(`headers ${Object.keys(h).filter((k) => !k.startsWith(":")).sort().join(",")}`),
    message: (d) => log.push(`message ${text(d)}`),
    end: (e, t) => {
      const trailers = t === undefined ? "" : t instanceof Headers ? [...t.keys()].join(",") : Object.keys(t).sort().join(",");
      log.push(e === undefined ? `ok [${trailers}]` : `error ${Code[e.code]}: ${e.rawMessage}${e.metadata.get("x-h") !== null ? " (x-h)" : ""}`);
    },
  };
  const o: ResponseReaderOptions = {
    framing: framingOf(c.protocol, c.stream ?? false),
    binary: c.binary ?? true,
    singleMessage: c.single ?? !(c.stream ?? false),
    readMaxBytes: c.max ?? 1000,
    acceptEncodings: ["gzip"],
    decompress,
  };
  const r = new ResponseReader(o, sink);
  for (const e of c.events) {
    if (e === "end") r.onEnd();
    else if ("h" in e) r.onHeaders(e.h);
    else if ("d" in e) r.onData(e.d);
    else r.onTrailers(e.t);
  }
  return log;
}

const grpcH = { ":status": 200, "content-type": "application/grpc", "x-h": "1" };
const webH = { ":status": 200, "content-type": "application/grpc-web+proto", "x-h": "1" };
const connectH = { ":status": 200, "content-type": "application/proto", "x-h": "1" };
const streamH = { ":status": 200, "content-type": "application/connect+proto", "x-h": "1" };

const cases: Case[] = [
  // gRPC
  { name: "gRPC unary", protocol: "grpc", events: [{ h: grpcH }, { d: env(0, "hi") }, { t: { "grpc-status": "0", "x-t": "1" } }], want: ["headers content-type,x-h", "message hi", "ok [grpc-status,x-t]"] },
  { name: "gRPC error status in trailers keeps headers in metadata", protocol: "grpc", events: [{ h: grpcH }, { t: { "grpc-status": "5", "grpc-message": "nope" } }], want: ["headers content-type,x-h", "error NotFound: nope (x-h)"] },
  { name: "gRPC trailers-only error", protocol: "grpc", events: [{ h: { ":status": 200, "content-type": "application/grpc", "grpc-status": "7", "grpc-message": "denied", "x-h": "1" } }, "end"], want: ["headers content-type,grpc-message,grpc-status,x-h", "error PermissionDenied: denied (x-h)"] },
  { name: "gRPC trailers-only without content-type", protocol: "grpc", events: [{ h: { ":status": 200, "grpc-status": "12" } }, "end"], want: ["headers grpc-status", "error Unimplemented: "] },
  { name: "gRPC OK without a message (unary)", protocol: "grpc", events: [{ h: grpcH }, { t: { "grpc-status": "0" } }], want: ["headers content-type,x-h", "error Unimplemented: protocol error: missing output message for unary method (x-h)"] },
  { name: "gRPC two messages (unary)", protocol: "grpc", events: [{ h: grpcH }, { d: env(0, "a") }, { d: env(0, "b") }], want: ["headers content-type,x-h", "message a", "error Unimplemented: protocol error: received extra output message for unary method"] },
  { name: "gRPC server stream", protocol: "grpc", stream: true, events: [{ h: grpcH }, { d: env(0, "a") }, { d: env(0, "b") }, { t: { "grpc-status": "0" } }], want: ["headers content-type,x-h", "message a", "message b", "ok [grpc-status]"] },
  { name: "gRPC envelope split over chunks", protocol: "grpc", events: [{ h: grpcH }, { d: env(0, "split").subarray(0, 3) }, { d: env(0, "split").subarray(3) }, { t: { "grpc-status": "0" } }], want: ["headers content-type,x-h", "message split", "ok [grpc-status]"] },
  { name: "gRPC body ends inside a message", protocol: "grpc", events: [{ h: grpcH }, { d: env(0, "abc").subarray(0, 6) }, "end"], want: ["headers content-type,x-h", "error Internal: protocol error: the response ended inside a message"] },
  { name: "gRPC trailers after a partial message", protocol: "grpc", stream: true, events: [{ h: grpcH }, { d: env(0, "abc").subarray(0, 4) }, { t: { "grpc-status": "0" } }], want: ["headers content-type,x-h", "error Internal: protocol error: the response ended inside a message"] },
  { name: "gRPC no trailers", protocol: "grpc", events: [{ h: grpcH }, { d: env(0, "a") }, "end"], want: ["headers content-type,x-h", "message a", "error Internal: protocol error: missing status (x-h)"] },
  { name: "gRPC HTTP 503", protocol: "grpc", events: [{ h: { ":status": 503, "x-h": "1" } }], want: ["error Unavailable: HTTP 503 (x-h)"] },
  { name: "gRPC HTTP 404", protocol: "grpc", events: [{ h: { ":status": 404 } }], want: ["error Unimplemented: HTTP 404"] },
  { name: "gRPC wrong content type", protocol: "grpc", events: [{ h: { ":status": 200, "content-type": "text/html" } }], want: ["error Unknown: unsupported content type text/html"] },
  { name: "gRPC other codec", protocol: "grpc", events: [{ h: { ":status": 200, "content-type": "application/grpc+json" } }], want: ["error Internal: unsupported content type application/grpc+json"] },
  { name: "gRPC JSON codec", protocol: "grpc", binary: false, events: [{ h: { ":status": 200, "content-type": "application/grpc+json" } }, { d: env(0, "{}") }, { t: { "grpc-status": "0" } }], want: ["headers content-type", "message {}", "ok [grpc-status]"] },
  { name: "gRPC compressed message", protocol: "grpc", events: [{ h: { ...grpcH, "grpc-encoding": "gzip" } }, { d: env(1, "Zcba") }, { t: { "grpc-status": "0" } }], want: ["headers content-type,grpc-encoding,x-h", "message abc", "ok [grpc-status]"] },
  { name: "gRPC compressed flag without encoding", protocol: "grpc", events: [{ h: grpcH }, { d: env(1, "Zcba") }], want: ["headers content-type,x-h", "error Internal: protocol error: received a compressed message without a response encoding"] },
  { name: "gRPC unsupported encoding", protocol: "grpc", events: [{ h: { ...grpcH, "grpc-encoding": "snappy" } }], want: ['error Internal: unsupported response encoding "snappy" (x-h)'] },
  { name: "gRPC corrupt compressed message", protocol: "grpc", events: [{ h: { ...grpcH, "grpc-encoding": "gzip" } }, { d: env(1, "xx") }], want: ["headers content-type,grpc-encoding,x-h", 'error Internal: decompressing a message with "gzip" failed'] },
  { name: "gRPC message over the limit", protocol: "grpc", max: 3, events: [{ h: grpcH }, { d: env(0, "four") }], want: ["headers content-type,x-h", "error ResourceExhausted: message size 4 is larger than configured readMaxBytes 3"] },
  { name: "gRPC message over the limit once decompressed", protocol: "grpc", max: 3, events: [{ h: { ...grpcH, "grpc-encoding": "gzip" } }, { d: env(1, "Z*") }], want: ["headers content-type,grpc-encoding,x-h", "error ResourceExhausted: too big after decompression"] },
  { name: "gRPC invalid flags", protocol: "grpc", events: [{ h: grpcH }, { d: env(0x80, "x") }], want: ["headers content-type,x-h", "error Internal: protocol error: invalid envelope flags 0x80"] },
  { name: "gRPC events after the end are ignored", protocol: "grpc", events: [{ h: grpcH }, { d: env(0, "a") }, { t: { "grpc-status": "0" } }, { d: env(0, "b") }, "end"], want: ["headers content-type,x-h", "message a", "ok [grpc-status]"] },
  // gRPC-web
  { name: "gRPC-web unary with trailer envelope", protocol: "grpc-web", events: [{ h: webH }, { d: env(0, "hi") }, { d: env(0x80, "grpc-status: 0\r\nx-t: 1\r\n") }], want: ["headers content-type,x-h", "message hi", "ok [grpc-status,x-t]"] },
  { name: "gRPC-web error in trailer envelope", protocol: "grpc-web", events: [{ h: webH }, { d: env(0x80, "grpc-status: 8\r\ngrpc-message: quota%20gone\r\n") }], want: ["headers content-type,x-h", "error ResourceExhausted: quota gone (x-h)"] },
  { name: "gRPC-web body ends without trailers", protocol: "grpc-web", events: [{ h: webH }, { d: env(0, "hi") }, "end"], want: ["headers content-type,x-h", "message hi", "error Internal: protocol error: missing status (x-h)"] },
  { name: "gRPC-web trailers as HTTP/2 trailers", protocol: "grpc-web", events: [{ h: webH }, { d: env(0, "hi") }, { t: { "grpc-status": "0" } }], want: ["headers content-type,x-h", "message hi", "ok [grpc-status]"] },
  { name: "gRPC-web trailers-only error", protocol: "grpc-web", events: [{ h: { ":status": 200, "content-type": "application/grpc-web+proto", "grpc-status": "16", "grpc-message": "who?" } }, "end"], want: ["headers content-type,grpc-message,grpc-status", "error Unauthenticated: who?"] },
  { name: "gRPC-web compressed trailer envelope", protocol: "grpc-web", events: [{ h: { ...webH, "grpc-encoding": "gzip" } }, { d: env(0, "hi") }, { d: env(0x81, "Z" + [..."grpc-status: 0\r\n"].reverse().join("")) }], want: ["headers content-type,grpc-encoding,x-h", "message hi", "ok [grpc-status]"] },
  { name: "gRPC-web trailer values are bytes, not UTF-8", protocol: "grpc-web", events: [{ h: webH }, { d: encodeEnvelope(0x80, new Uint8Array([...utf8("grpc-status: 3\r\ngrpc-message: caf"), 0xc3, 0xa9])) }], want: ["headers content-type,x-h", "error InvalidArgument: caf\u00c3\u00a9 (x-h)"] },
  { name: "gRPC-web plain grpc content type refused", protocol: "grpc-web", events: [{ h: grpcH }], want: ["error Unknown: unsupported content type application/grpc (x-h)"] },
  // Connect unary
  { name: "Connect unary", protocol: "connect", events: [{ h: { ...connectH, "trailer-x-t": "1" } }, { d: utf8("hello") }, "end"], want: ["headers content-type,x-h", "message hello", "ok [x-t]"] },
  { name: "Connect unary empty body is an empty message", protocol: "connect", events: [{ h: connectH }, "end"], want: ["headers content-type,x-h", "message ", "ok []"] },
  { name: "Connect unary compressed", protocol: "connect", events: [{ h: { ...connectH, "content-encoding": "gzip" } }, { d: utf8("Zol") }, { d: utf8("leh") }, "end"], want: ["headers content-encoding,content-type,x-h", "message hello", "ok []"] },
  { name: "Connect unary JSON error", protocol: "connect", events: [{ h: { ":status": 404, "content-type": "application/json", "x-h": "1" } }, { d: utf8('{"code":"not_found","message":"which?"}') }, "end"], want: ["error NotFound: which? (x-h)"] },
  { name: "Connect unary compressed JSON error", protocol: "connect", events: [{ h: { ":status": 400, "content-type": "application/json", "content-encoding": "gzip" } }, { d: utf8("Z" + [...'{"code":"aborted"}'].reverse().join("")) }, "end"], want: ["error Aborted: "] },
  { name: "Connect unary error body not JSON", protocol: "connect", events: [{ h: { ":status": 502 } }, { d: utf8("bad gateway") }, "end"], want: ["error Unavailable: HTTP 502"] },
  { name: "Connect unary body over the limit", protocol: "connect", max: 4, events: [{ h: connectH }, { d: utf8("abc") }, { d: utf8("de") }], want: ["headers content-type,x-h", "error ResourceExhausted: message size 5 is larger than configured readMaxBytes 4"] },
  { name: "Connect unary wrong codec", protocol: "connect", events: [{ h: { ":status": 200, "content-type": "application/json" } }], want: ["error Internal: unsupported content type application/json"] },
  // Connect streaming
  { name: "Connect server stream", protocol: "connect", stream: true, events: [{ h: streamH }, { d: env(0, "a") }, { d: env(2, '{"metadata":{"x-t":["1"]}}') }], want: ["headers content-type,x-h", "message a", "ok [x-t]"] },
  { name: "Connect stream error in end-of-stream", protocol: "connect", stream: true, events: [{ h: streamH }, { d: env(0, "a") }, { d: env(2, '{"error":{"code":"data_loss","message":"lost"}}') }], want: ["headers content-type,x-h", "message a", "error DataLoss: lost (x-h)"] },
  { name: "Connect stream compressed end-of-stream", protocol: "connect", stream: true, events: [{ h: { ...streamH, "connect-content-encoding": "gzip" } }, { d: env(3, "Z" + [...'{"error":{"code":"out_of_range","message":"oops"}}'].reverse().join("")) }], want: ["headers connect-content-encoding,content-type,x-h", "error OutOfRange: oops (x-h)"] },
  { name: "Connect stream without end-of-stream", protocol: "connect", stream: true, events: [{ h: streamH }, { d: env(0, "a") }, "end"], want: ["headers content-type,x-h", "message a", "error Internal: protocol error: the stream ended without an end-of-stream message"] },
  { name: "Connect stream HTTP 500", protocol: "connect", stream: true, events: [{ h: { ":status": 500 } }], want: ["error Unknown: HTTP 500"] },
  { name: "Connect client stream without a message", protocol: "connect", stream: true, single: true, events: [{ h: streamH }, { d: env(2, "{}") }], want: ["headers content-type,x-h", "error Unimplemented: protocol error: missing output message for unary method"] },
];

describe("ResponseReader", () => {
  for (const c of cases) {
    it(`${c.name}`, () => assert.deepEqual(run(c), c.want));
  }

  it("reports its state and message count", () => {
    const r = new ResponseReader(
      { framing: framingOf("grpc", true), binary: true, singleMessage: false, readMaxBytes: 100, acceptEncodings: [] },
      { headers() {}, message() {}, end() {} },
    );
    assert.equal(r.state, "headers");
    r.onHeaders(grpcH);
    assert.equal(r.state, "body");
    r.onData(env(0, "x"));
    assert.equal(r.messages, 1);
    r.fail(new ConnectError("stop", Code.Canceled));
    assert.equal(r.state, "done");
  });
});
