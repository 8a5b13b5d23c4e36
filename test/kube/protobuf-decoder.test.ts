/**
 * The protobuf decoder on bytes built here: unknown fields of every wire type
 * are skipped, only the kept annotations are materialised, and malformed,
 * truncated or oversized frames are typed errors after which the stream goes on.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import { decodeListBody, decodeObjectBody, podProtobuf } from "../../src/kube/protobuf/decoder.ts";
import { ProtobufDecodeError } from "../../src/kube/protobuf/reader.ts";
import { createProtobufWatchDecoder } from "../../src/kube/protobuf/watch-decoder.ts";
import { WatchDecodeError, type WatchDecodeResult } from "../../src/kube/watch-decoder.ts";
import { projectPod } from "../../src/kube/pod-record.ts";

type W = BinaryWriter;
const LEN = WireType.LengthDelimited;
const msg = (w: W, field: number, body: (w: W) => void): W => {
  w.tag(field, LEN).fork();
  body(w);
  return w.join();
};
const str = (w: W, field: number, s: string): W => w.tag(field, LEN).string(s);
/** Unknown fields of each wire type, as a newer server might add. */
const unknowns = (w: W): W => w.tag(900, WireType.Varint).uint64(2n ** 60n).tag(901, WireType.Bit32).fixed32(7).tag(902, WireType.Bit64).fixed64(9n).tag(903, LEN).bytes(new Uint8Array(40));
const entry = (w: W, field: number, k: string, v: string): W => msg(w, field, (e) => unknowns(str(str(e, 1, k), 2, v)));

function podMessage(w: W, name: string, rv: string): W {
  msg(w, 1, (m) => {
    str(m, 1, name);
    unknowns(m);
    str(m, 3, "ns");
    str(m, 5, `uid-${name}`);
    str(m, 6, rv);
    entry(m, 11, "app", "greeter");
    entry(m, 11, "__proto__", "x");
    entry(m, 12, "keep", "yes");
    entry(m, 12, "drop", "no");
    msg(m, 9, (t) => t.tag(1, WireType.Varint).int64(1_700_000_000));
  });
  msg(w, 2, (s) => {
    msg(s, 2, (c) => {
      str(c, 1, "main");
      msg(c, 6, (p) => unknowns(str(str(p, 1, "grpc"), 4, "TCP").tag(3, WireType.Varint).int32(9000)));
    });
    unknowns(s);
  });
  return msg(w, 3, (s) => {
    str(s, 1, "Running");
    msg(s, 2, (c) => str(str(c, 1, "PodScheduled"), 2, "True"));
    msg(s, 2, (c) => unknowns(str(str(c, 1, "Ready"), 2, "True")));
    str(s, 6, "10.1.2.3");
    msg(s, 12, (ip) => str(ip, 1, "10.1.2.3"));
  });
}

const magic = Uint8Array.of(0x6b, 0x38, 0x73, 0x00);
function envelope(kind: string, raw: (w: W) => void): Uint8Array {
  const w = new BinaryWriter();
  msg(w, 1, (t) => str(str(t, 1, "v1"), 2, kind));
  msg(w, 2, raw);
  str(str(w, 3, ""), 4, "");
  unknowns(w);
  const body = w.finish();
  const out = new Uint8Array(4 + body.length);
  out.set(magic);
  out.set(body, 4);
  return out;
}

function frame(type: string, object: Uint8Array | undefined): Uint8Array {
  const w = str(new BinaryWriter(), 1, type);
  if (object !== undefined) msg(w, 2, (raw) => raw.tag(1, LEN).bytes(object));
  unknowns(w);
  const body = w.finish();
  const out = new Uint8Array(4 + body.length);
  new DataView(out.buffer).setUint32(0, body.length);
  out.set(body, 4);
  return out;
}

const concat = (...parts: Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) (out.set(p, at), (at += p.length));
  return out;
};
const pod = (name: string, rv: string): Uint8Array => envelope("Pod", (w) => podMessage(w, name, rv));
const summary = (rs: WatchDecodeResult[]): string[] =>
  rs.map((r) => (r instanceof WatchDecodeError ? `error:${r.reason}` : r.type === "ERROR" ? `ERROR:${r.status.code}` : r.type === "BOOKMARK" ? `BOOKMARK:${r.resourceVersion}` : `${r.type}:${r.resourceVersion}`));

describe("protobuf decoder", () => {
  const projection = podProtobuf({ annotations: ["keep"] });

  it("skips unknown fields of every wire type and keeps only the annotations asked for", () => {
    const p = decodeObjectBody(pod("a", "7"), projection);
    assert.deepEqual(p.metadata.annotations, { keep: "yes" });
    assert.ok(Object.hasOwn(p.metadata.labels!, "__proto__"), "a __proto__ label stays an own property");
    assert.equal(Object.getPrototypeOf(p.metadata.labels), Object.prototype);
    const rec = projectPod(p, { annotations: "all" });
    assert.ok(typeof rec !== "string");
    assert.deepEqual({ ...rec, labels: { ...rec.labels } }, {
      namespace: "ns", name: "a", uid: "uid-a", resourceVersion: "7",
      labels: JSON.parse('{"app":"greeter","__proto__":"x"}'), annotations: { keep: "yes" },
      phase: "Running", ready: true, terminating: true, podIPs: ["10.1.2.3"],
      ports: [{ name: "grpc", port: 9000, protocol: "TCP" }],
    });
    assert.equal(p.metadata.deletionTimestamp, "2023-11-14T22:13:20Z");
    assert.deepEqual(decodeObjectBody(pod("a", "7"), podProtobuf({ annotations: "all" })).metadata.annotations, { keep: "yes", drop: "no" });
    assert.equal(decodeObjectBody(pod("a", "7"), podProtobuf()).metadata.annotations, undefined);
  });

  it("refuses a body without the magic, of another kind, or cut short, with a typed error", () => {
    const body = pod("a", "1");
    assert.throws(() => decodeObjectBody(body.subarray(4), projection), (e: unknown) => e instanceof ProtobufDecodeError && /magic/.test(e.message));
    assert.throws(() => decodeListBody(body, projection), (e: unknown) => e instanceof ProtobufDecodeError && /expected kind PodList, got "Pod"/.test(e.message));
    assert.throws(() => decodeObjectBody(body.subarray(0, body.length - 30), projection), ProtobufDecodeError);
  });

  it("decodes frames split anywhere, bookmarks, ERROR events and unknown types", () => {
    const status = envelope("Status", (w) => str(w, 2, "Failure").tag(6, WireType.Varint).int32(410));
    const bookmark = envelope("Pod", (w) => msg(w, 1, (m) => entry(str(m, 6, "99"), 12, "k8s.io/initial-events-end", "true")));
    const stream = concat(frame("ADDED", pod("a", "1")), frame("BOOKMARK", bookmark), frame("SURPRISE", pod("b", "2")), frame("ERROR", status), frame("DELETED", pod("a", "3")));
    for (const step of [1, 7, stream.length]) {
      const d = createProtobufWatchDecoder(projection);
      const out: WatchDecodeResult[] = [];
      for (let at = 0; at < stream.length; at += step) out.push(...d.push(stream.subarray(at, at + step)));
      out.push(...d.end());
      assert.deepEqual(summary(out), ["ADDED:1", "BOOKMARK:99", "error:unknown-type", "ERROR:410", "DELETED:3"], `step ${step}`);
      assert.equal((out[1] as { initialEventsEnd: boolean }).initialEventsEnd, true);
    }
  });

  it("a bookmark without a resourceVersion, an event without an object and a garbage frame are errors; the next frame decodes", () => {
    const garbage = new Uint8Array(12).fill(0xff);
    const framed = concat(Uint8Array.of(0, 0, 0, 12), garbage);
    const stream = concat(frame("BOOKMARK", envelope("Pod", (w) => msg(w, 1, (m) => str(m, 1, "x")))), frame("ADDED", undefined), framed, frame("MODIFIED", pod("a", "5")));
    const d = createProtobufWatchDecoder(projection);
    assert.deepEqual(summary([...d.push(stream), ...d.end()]), ["error:invalid-bookmark", "error:missing-object", "error:invalid-protobuf", "MODIFIED:5"]);
  });

  it("a frame over the size limit is one frame-too-long error, its bytes dropped as they arrive, and the next frame decodes", () => {
    const big = frame("ADDED", pod("big".repeat(400), "1"));
    const next = frame("MODIFIED", pod("a", "2"));
    assert.ok(next.length < 1000 && big.length > 1100, `frames of ${big.length} and ${next.length} bytes`);
    const d = createProtobufWatchDecoder(projection, { maxFrameBytes: 1000 });
    const out: WatchDecodeResult[] = [];
    const stream = concat(big, next);
    for (let at = 0; at < stream.length; at += 50) {
      out.push(...d.push(stream.subarray(at, at + 50)));
      assert.ok(d.bufferedBytes <= 1004, `buffered ${d.bufferedBytes}`);
    }
    out.push(...d.end());
    assert.deepEqual(summary(out), ["error:frame-too-long", "MODIFIED:2"]);
    assert.match((out[0] as WatchDecodeError).message, /over the 1000-byte limit/);
  });

  it("a stream that ends inside a frame reports truncated", () => {
    const f = frame("ADDED", pod("a", "1"));
    const d = createProtobufWatchDecoder(projection);
    assert.deepEqual(d.push(f.subarray(0, f.length - 3)), []);
    assert.deepEqual(summary(d.end()), ["error:truncated"]);
  });
});
