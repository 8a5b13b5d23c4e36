/**
 * The protobuf decoder on bytes captured from a real kube-apiserver v1.34
 * (scripts/capture-protobuf.ts wrote test/fixtures/protobuf/): each protobuf
 * answer, projected, equals the JSON answer for the same objects projected
 * by the same descriptor; watch streams give the same events in any chunking.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { podResource } from "../../src/kube/pod-resource.ts";
import { endpointSliceResource, sliceEndpoints, type EndpointSliceRecord } from "../../src/kube/endpoint-slice-record.ts";
import type { KubeObject, KubeObjectList } from "../../src/kube/wire.ts";
import { decodeListBody, decodeObjectBody, decodeStatusBody } from "../../src/kube/protobuf/decoder.ts";
import { createProtobufWatchDecoder } from "../../src/kube/protobuf/watch-decoder.ts";
import { createWatchDecoder, WatchDecodeError, type WatchDecodeResult } from "../../src/kube/watch-decoder.ts";
import { seededRandom } from "../../src/testing/watch-stream.ts";
import { lastWrite } from "../../src/kube/informer-observer.ts";

const fixture = (name: string): Uint8Array => new Uint8Array(readFileSync(new URL(`../fixtures/protobuf/${name}`, import.meta.url)));
const json = <T>(name: string): T => JSON.parse(new TextDecoder().decode(fixture(name))) as T;

const KEEP = ["kratos-service-metadata", "kubectl.kubernetes.io/restartedAt"];

/** Projections of both encodings through two descriptors of the same options (no shared interning). */
interface Projects {
  project(object: KubeObject): unknown;
}

function project(d: Projects, objects: readonly KubeObject[]): unknown[] {
  return objects.map((o) => d.project(o));
}

/** The events of a decoded stream, objects projected by `d`. */
function events(d: Projects, results: WatchDecodeResult[]): unknown[] {
  return results.map((r) => {
    if (r instanceof WatchDecodeError) return `error:${r.reason}`;
    if (r.type === "ERROR") return { type: r.type, status: r.status };
    if (r.type === "BOOKMARK") return r;
    return { type: r.type, rv: r.resourceVersion, record: d.project(r.object) };
  });
}

function decodeAll(decoder: { push(c: Uint8Array): WatchDecodeResult[]; end(): WatchDecodeResult[] }, bytes: Uint8Array, cuts: number[] = []): WatchDecodeResult[] {
  const out: WatchDecodeResult[] = [];
  let at = 0;
  for (const c of [...cuts, bytes.length]) {
    out.push(...decoder.push(bytes.subarray(at, c)));
    at = c;
  }
  return [...out, ...decoder.end()];
}

describe("protobuf decoder on real kube-apiserver captures", () => {
  for (const annotations of [KEEP, "all", undefined] as const) {
    it(`a PodList projects as its JSON (annotations: ${JSON.stringify(annotations)})`, () => {
      const pb = decodeListBody(fixture("pod-list.pb"), podResource({ annotations }).protobuf!);
      const js = json<KubeObjectList>("pod-list.json");
      assert.equal(pb.items.length, 2);
      assert.deepEqual(pb.metadata, { resourceVersion: js.metadata.resourceVersion });
      const fromPb = project(podResource({ annotations }), pb.items);
      assert.deepEqual(fromPb, project(podResource({ annotations }), js.items));
      const first = fromPb[0] as unknown as { podIPs: string[]; ready: boolean; ports: unknown[]; annotations: Record<string, string> };
      assert.deepEqual(first.podIPs, ["10.251.0.7", "fd00::7"]);
      assert.equal(first.ready, true);
      assert.equal(first.ports.length, 2);
      if (annotations === undefined) assert.deepEqual(first.annotations, {});
    });
  }

  it("a Pod (GET) projects as the list's first item", () => {
    const d = podResource({ annotations: KEEP });
    const pod = decodeObjectBody(fixture("pod.pb"), d.protobuf!);
    assert.deepEqual(d.project(pod), project(podResource({ annotations: KEEP }), json<KubeObjectList>("pod-list.json").items)[0]);
    // Only what the projection reads is materialised (of managedFields, the newest time).
    assert.deepEqual(Object.keys(pod.metadata).sort(), ["annotations", "labels", "managedFields", "name", "namespace", "resourceVersion", "uid"]);
    assert.deepEqual(Object.keys(pod.metadata.annotations!).sort(), KEEP.slice().sort());
    assert.deepEqual(pod.status?.conditions, [{ type: "Ready", status: "True" }]);
  });

  it("the newest managedFields time (the event-lag metric's input) is the JSON path's", () => {
    const pb = decodeListBody(fixture("pod-list.pb"), podResource({ annotations: KEEP }).protobuf!);
    const js = json<KubeObjectList>("pod-list.json");
    const times = (items: readonly KubeObject[]) => items.map((o) => lastWrite(o));
    assert.ok(times(js.items).every((t) => typeof t === "number"), "the capture's pods carry managedFields");
    assert.deepEqual(times(pb.items), times(js.items));
    const events = decodeAll(createProtobufWatchDecoder(podResource({ annotations: KEEP }).protobuf!), fixture("watch-pods.pb"));
    const jsEvents = decodeAll(createWatchDecoder(), fixture("watch-pods.json"));
    const eventTimes = (rs: WatchDecodeResult[]) => rs.map((r) => (r instanceof WatchDecodeError || r.type === "BOOKMARK" || r.type === "ERROR" ? null : lastWrite(r.object)));
    assert.deepEqual(eventTimes(events), eventTimes(jsEvents));
  });

  it("an error body is the Status the JSON path gives", () => {
    assert.deepEqual(decodeStatusBody(fixture("status-404.pb")), {
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Failure",
      message: 'pods "nobody" not found',
      reason: "NotFound",
      details: { name: "nobody", kind: "pods" },
      code: 404,
    });
  });

  it("an EndpointSliceList projects as its JSON", () => {
    const pb = decodeListBody(fixture("slice-list.pb"), endpointSliceResource().protobuf!);
    const js = json<KubeObjectList>("slice-list.json");
    const fromPb = project(endpointSliceResource(), pb.items);
    assert.deepEqual(fromPb, project(endpointSliceResource(), js.items));
    assert.equal(fromPb.length, 2);
    const a = fromPb[0] as EndpointSliceRecord;
    assert.deepEqual(sliceEndpoints(a).map((e) => [e.ready, e.zone, e.targetName]), [[true, "z1", "greeter-1"], [false, undefined, "greeter-2"]]);
  });

  it("a streaming list and its changes decode as the JSON stream: initial events, the initial-events-end bookmark, updates, a delete", () => {
    const pbResults = decodeAll(createProtobufWatchDecoder(podResource({ annotations: KEEP }).protobuf!), fixture("watch-pods.pb"));
    const jsResults = decodeAll(createWatchDecoder(), fixture("watch-pods.json"));
    const pb = events(podResource({ annotations: KEEP }), pbResults);
    assert.deepEqual(pb, events(podResource({ annotations: KEEP }), jsResults));
    assert.deepEqual(pbResults.map((r) => (r instanceof WatchDecodeError ? r.reason : r.type)), [
      "ADDED", "ADDED", "ADDED", "BOOKMARK", "MODIFIED", "MODIFIED", "MODIFIED", "DELETED",
    ]);
    const bookmark = pbResults[3] as { initialEventsEnd: boolean; resourceVersion: string };
    assert.equal(bookmark.initialEventsEnd, true);
    assert.match(bookmark.resourceVersion, /^\d+$/);
  });

  it("an ERROR event (410 Expired) carries the Status the JSON stream carries", () => {
    const pb = decodeAll(createProtobufWatchDecoder(podResource().protobuf!), fixture("watch-expired.pb"));
    const js = decodeAll(createWatchDecoder(), fixture("watch-expired.json"));
    assert.equal(pb.length, 1);
    assert.deepEqual(pb, js);
    assert.equal((pb[0] as { status: { code: number } }).status.code, 410);
  });

  it("any chunking of the stream gives the same events", () => {
    const bytes = fixture("watch-pods.pb");
    const d = podResource({ annotations: KEEP });
    const whole = events(d, decodeAll(createProtobufWatchDecoder(d.protobuf!), bytes));
    const random = seededRandom(18);
    for (let run = 0; run < 30; run++) {
      const cuts = Array.from({ length: 1 + Math.floor(random() * 40) }, () => Math.floor(random() * bytes.length)).sort((a, b) => a - b);
      assert.deepEqual(events(d, decodeAll(createProtobufWatchDecoder(d.protobuf!), bytes, cuts)), whole, `cuts ${cuts.join(",")}`);
    }
    // One byte at a time.
    const each = Array.from({ length: bytes.length - 1 }, (_, i) => i + 1);
    assert.deepEqual(events(d, decodeAll(createProtobufWatchDecoder(d.protobuf!), bytes, each)), whole);
  });
});
