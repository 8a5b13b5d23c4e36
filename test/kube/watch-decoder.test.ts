import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createWatchDecoder, decodeWatchLine, WatchDecodeError } from "../../src/kube/watch-decoder.ts";
import type { DecodedWatchEvent, WatchDecodeResult } from "../../src/kube/watch-decoder.ts";
import { seededRandom as prng } from "../../src/testing/watch-stream.ts";

const enc = new TextEncoder();

// Lines as the API server writes them (bookmark shapes from kubernetes-api.md §1 item 6).
const added = JSON.stringify({ type: "ADDED", object: { kind: "Pod", apiVersion: "v1", metadata: { name: "a", namespace: "ns", resourceVersion: "10", labels: { "kratos-service-app": "é✓😀" } } } });
const modified = JSON.stringify({ type: "MODIFIED", object: { kind: "Pod", apiVersion: "v1", metadata: { name: "a", namespace: "ns", resourceVersion: "11" } } });
const bookmarkEmptyPod = `{"type":"BOOKMARK","object":{"kind":"Pod","apiVersion":"v1","metadata":{"resourceVersion":"3845","creationTimestamp":null},"spec":{"containers":null},"status":{}}}`;
const bookmarkMetaOnly = `{"type":"BOOKMARK","object":{"kind":"Pod","apiVersion":"v1","metadata":{"resourceVersion":"964","annotations":{"k8s.io/initial-events-end":"true"}}}}`;
const error410 = `{"type":"ERROR","object":{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"too old resource version: 1 (3171407)","reason":"Expired","code":410}}`;
const stream = [added, modified, bookmarkEmptyPod, bookmarkMetaOnly, error410].map((l) => l + "\n").join("");

function summary(results: WatchDecodeResult[]): string[] {
  return results.map((r) => {
    if (r instanceof WatchDecodeError) return `error:${r.reason}`;
    if (r.type === "BOOKMARK") return `BOOKMARK:${r.resourceVersion}:${r.initialEventsEnd}`;
    if (r.type === "ERROR") return `ERROR:${r.status.code}:${r.status.reason}`;
    return `${r.type}:${r.resourceVersion}`;
  });
}
const expected = ["ADDED:10", "MODIFIED:11", "BOOKMARK:3845:false", "BOOKMARK:964:true", "ERROR:410:Expired"];


describe("watch decoder", () => {
  it("decodes many events from one chunk", () => {
    const d = createWatchDecoder();
    assert.deepEqual(summary([...d.push(enc.encode(stream)), ...d.end()]), expected);
  });

  it("decodes events split at every byte boundary, including inside UTF-8 sequences", () => {
    const bytes = enc.encode(stream);
    const d = createWatchDecoder();
    const out: WatchDecodeResult[] = [];
    for (let i = 0; i < bytes.length; i++) out.push(...d.push(bytes.subarray(i, i + 1)));
    out.push(...d.end());
    assert.deepEqual(summary(out), expected);
    const first = out[0] as DecodedWatchEvent;
    assert.equal(first.type === "ADDED" && first.object.metadata.labels?.["kratos-service-app"], "é✓😀");
  });

  it("decodes events split at 500 random boundaries", () => {
    const bytes = enc.encode(stream.repeat(3));
    const rnd = prng(42);
    for (let run = 0; run < 500; run++) {
      const d = createWatchDecoder();
      const out: WatchDecodeResult[] = [];
      let i = 0;
      while (i < bytes.length) {
        const n = 1 + Math.floor(rnd() * 300);
        out.push(...d.push(bytes.subarray(i, i + n)));
        i += n;
      }
      out.push(...d.end());
      assert.deepEqual(summary(out), [...expected, ...expected, ...expected]);
    }
  });

  it("reports non-JSON lines, unknown types and missing objects as values and keeps going", () => {
    const d = createWatchDecoder();
    const input = ["not json", `{"type":"SYNC","object":{}}`, `{"type":"ADDED"}`, `{"type":"MODIFIED","object":{"kind":"Pod"}}`, `[1,2]`, `{"type":"BOOKMARK","object":{"metadata":{}}}`, "", "   ", added].join("\n") + "\n";
    const out = d.push(enc.encode(input));
    assert.deepEqual(summary(out), ["error:invalid-json", "error:unknown-type", "error:missing-object", "error:missing-object", "error:not-an-object", "error:invalid-bookmark", "ADDED:10"]);
    const e = out[1] as WatchDecodeError;
    assert.equal(e.code, "WATCH_DECODE_ERROR");
    assert.match(e.message, /unknown watch event type "SYNC"/);
  });

  it("never validates a bookmark as a pod (spec.containers: null)", () => {
    assert.deepEqual(summary([decodeWatchLine(bookmarkEmptyPod)!]), ["BOOKMARK:3845:false"]);
  });

  it("normalises an ERROR whose object is not a Status to a 500 InternalError", () => {
    const r = decodeWatchLine(`{"type":"ERROR","object":{"message":"boom"}}`);
    assert.deepEqual(summary([r!]), ["ERROR:500:InternalError"]);
  });

  it("gives a typed error for a line over the limit, bounded memory, then recovers", () => {
    const d = createWatchDecoder({ maxLineBytes: 100 });
    const long = `{"type":"ADDED","object":{"metadata":{"name":"${"x".repeat(200)}"}}}`;
    const out: WatchDecodeResult[] = [];
    const bytes = enc.encode(long + "\n" + `{"type":"BOOKMARK","object":{"metadata":{"resourceVersion":"7"}}}\n`);
    for (let i = 0; i < bytes.length; i += 10) {
      out.push(...d.push(bytes.subarray(i, i + 10)));
      assert.ok(d.bufferedBytes <= 100);
    }
    assert.deepEqual(summary(out), ["error:line-too-long", "BOOKMARK:7:false"]);
    // a too-long line inside one chunk
    const d2 = createWatchDecoder({ maxLineBytes: 100 });
    assert.deepEqual(summary(d2.push(enc.encode(long + "\n"))), ["error:line-too-long"]);
  });

  it("reports a stream that ends inside an event as truncated, and decodes a final line without newline", () => {
    const d = createWatchDecoder();
    assert.deepEqual(d.push(enc.encode(added.slice(0, 40))), []);
    assert.deepEqual(summary(d.end()), ["error:truncated"]);
    const d2 = createWatchDecoder();
    d2.push(enc.encode(added));
    assert.deepEqual(summary(d2.end()), ["ADDED:10"]);
  });

  it("decodes the captured streaming-list response body (fixture shape)", () => {
    const body = `{"type":"ADDED","object":{"kind":"ServiceAccount","apiVersion":"v1","metadata":{"name":"foobar","namespace":"default","uid":"a1453396-7a5c-405a-93f9-ff44af8e7689","resourceVersion":"217","creationTimestamp":"2024-09-18T14:06:40Z"}}}\n` + bookmarkMetaOnly + "\n";
    const d = createWatchDecoder();
    assert.deepEqual(summary([...d.push(enc.encode(body)), ...d.end()]), ["ADDED:217", "BOOKMARK:964:true"]);
  });
});
