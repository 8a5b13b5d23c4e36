/**
 * The fake API server's protobuf: Pods, EndpointSlices, their lists and
 * Status objects encoded as kube-apiserver encodes them (`k8s\0` +
 * `runtime.Unknown`, field numbers of `k8s.io/api/core/v1/generated.proto`,
 * `k8s.io/api/discovery/v1/generated.proto` and
 * `k8s.io/apimachinery/pkg/apis/meta/v1/generated.proto`), and watch events
 * as length-framed `metav1.WatchEvent`s.
 *
 * Pods carry every field the fake sets (metadata with managedFields here,
 * spec and status in `protobuf-pod.ts`); EndpointSlices and Status are
 * whole. See DIFFERENCES.md.
 *
 * @module
 */
import { arr, BinaryWriter, bool, int, LEN, map, msg, num, obj, optStr, str, time, timeValue, type J, type W } from "./protobuf-write.ts";
import { podSpec, podStatus } from "./protobuf-pod.ts";

/** `metav1.ObjectMeta`. */
function objectMeta(w: W, m: J): void {
  str(w, 1, m["name"]);
  str(w, 2, m["generateName"]);
  str(w, 3, m["namespace"]);
  str(w, 4, m["selfLink"]);
  str(w, 5, m["uid"]);
  str(w, 6, m["resourceVersion"]);
  num(w, 7, m["generation"]);
  timeValue(w, 8, m["creationTimestamp"]);
  time(w, 9, m["deletionTimestamp"]);
  int(w, 10, m["deletionGracePeriodSeconds"]);
  map(w, 11, m["labels"]);
  map(w, 12, m["annotations"]);
  for (const o of arr(m["ownerReferences"])) {
    const r = obj(o) ?? {};
    msg(w, 13, (x) => bool(bool(str(str(str(str(x, 1, r["kind"]), 3, r["name"]), 4, r["uid"]), 5, r["apiVersion"]), 6, r["controller"]), 7, r["blockOwnerDeletion"]));
  }
  for (const f of arr(m["finalizers"])) str(w, 14, f);
  for (const o of arr(m["managedFields"])) {
    const e = obj(o) ?? {};
    msg(w, 17, (x) => {
      str(str(str(x, 1, e["manager"]), 2, e["operation"]), 3, e["apiVersion"]);
      time(x, 4, e["time"]);
      str(x, 6, e["fieldsType"]);
      // `FieldsV1` holds the JSON text of the field set as bytes (`raw` = 1).
      if (e["fieldsV1"] !== undefined) msg(x, 7, (v) => v.tag(1, LEN).bytes(new TextEncoder().encode(JSON.stringify(e["fieldsV1"]))));
      str(x, 8, e["subresource"]);
    });
  }
}

function pod(w: W, p: J): void {
  msg(w, 1, (x) => objectMeta(x, obj(p["metadata"]) ?? {}));
  msg(w, 2, (x) => podSpec(x, obj(p["spec"]) ?? {}));
  msg(w, 3, (x) => podStatus(x, obj(p["status"]) ?? {}));
}

function endpointSlice(w: W, s: J): void {
  msg(w, 1, (x) => objectMeta(x, obj(s["metadata"]) ?? {}));
  for (const e of arr(s["endpoints"])) {
    const ep = obj(e) ?? {};
    msg(w, 2, (x) => {
      for (const a of arr(ep["addresses"])) str(x, 1, a);
      const c = obj(ep["conditions"]) ?? {};
      msg(x, 2, (y) => bool(bool(bool(y, 1, c["ready"]), 2, c["serving"]), 3, c["terminating"]));
      optStr(x, 3, ep["hostname"]);
      const ref = obj(ep["targetRef"]);
      if (ref) msg(x, 4, (y) => str(str(str(str(str(str(str(y, 1, ref["kind"]), 2, ref["namespace"]), 3, ref["name"]), 4, ref["uid"]), 5, ref["apiVersion"]), 6, ref["resourceVersion"]), 7, ref["fieldPath"]));
      map(x, 5, ep["deprecatedTopology"]);
      optStr(x, 6, ep["nodeName"]);
      optStr(x, 7, ep["zone"]);
      const h = obj(ep["hints"]);
      if (h) {
        msg(x, 8, (y) => {
          for (const z of arr(h["forZones"])) msg(y, 1, (q) => str(q, 1, obj(z)?.["name"]));
          for (const n of arr(h["forNodes"])) msg(y, 2, (q) => str(q, 1, obj(n)?.["name"]));
        });
      }
    });
  }
  for (const p of arr(s["ports"])) {
    const pt = obj(p) ?? {};
    msg(w, 3, (x) => {
      optStr(x, 1, pt["name"]);
      optStr(x, 2, pt["protocol"]);
      int(x, 3, pt["port"]);
      optStr(x, 4, pt["appProtocol"]);
    });
  }
  str(w, 4, s["addressType"]);
}

function listMeta(w: W, m: J): void {
  str(str(str(w, 1, m["selfLink"]), 2, m["resourceVersion"]), 3, m["continue"]);
  int(w, 4, m["remainingItemCount"]);
}

function status(w: W, s: J): void {
  msg(w, 1, (x) => listMeta(x, obj(s["metadata"]) ?? {}));
  str(str(str(w, 2, s["status"]), 3, s["message"]), 4, s["reason"]);
  const d = obj(s["details"]);
  if (d) {
    msg(w, 5, (x) => {
      str(str(str(x, 1, d["name"]), 2, d["group"]), 3, d["kind"]);
      for (const c of arr(d["causes"])) msg(x, 4, (y) => str(str(str(y, 1, obj(c)?.["reason"]), 2, obj(c)?.["message"]), 3, obj(c)?.["field"]));
      num(x, 5, d["retryAfterSeconds"]);
      str(x, 6, d["uid"]);
    });
  }
  num(w, 6, s["code"]);
}

const ENCODERS: Record<string, { apiVersion: string; write: (w: W, o: J) => void }> = {
  Pod: { apiVersion: "v1", write: pod },
  EndpointSlice: { apiVersion: "discovery.k8s.io/v1", write: endpointSlice },
  Status: { apiVersion: "v1", write: status },
};

const MAGIC = Uint8Array.of(0x6b, 0x38, 0x73, 0x00);

/**
 * Encodes an object or list of a kind this fake serves in protobuf (the
 * object's `kind`, else `kind`), or returns undefined for any other kind.
 */
export function encodeProtobuf(object: unknown, kind: string): Uint8Array | undefined {
  const o = obj(object);
  if (o === undefined) return undefined;
  const k = typeof o["kind"] === "string" && o["kind"] !== "" ? o["kind"] : kind;
  const list = k.endsWith("List") ? ENCODERS[k.slice(0, -4)] : undefined;
  const enc = list ?? ENCODERS[k];
  if (enc === undefined) return undefined;
  const w = new BinaryWriter();
  msg(w, 1, (t) => str(str(t, 1, enc.apiVersion), 2, k));
  msg(w, 2, (raw) => {
    if (list === undefined) return enc.write(raw, o);
    msg(raw, 1, (m) => listMeta(m, obj(o["metadata"]) ?? {}));
    for (const item of arr(o["items"])) msg(raw, 2, (x) => enc.write(x, obj(item) ?? {}));
  });
  str(str(w, 3, ""), 4, "");
  const body = w.finish();
  const out = new Uint8Array(4 + body.length);
  out.set(MAGIC);
  out.set(body, 4);
  return out;
}

/** One watch event as a frame: 4-byte big-endian length + `WatchEvent` {type, object: RawExtension{raw}}. */
export function encodeWatchFrame(event: unknown, kind: string): Uint8Array | undefined {
  const e = obj(event);
  const object = e?.["type"] === "ERROR" ? encodeProtobuf(e["object"], "Status") : encodeProtobuf(e?.["object"], kind);
  if (e === undefined || object === undefined) return undefined;
  const w = str(new BinaryWriter(), 1, e["type"]);
  msg(w, 2, (raw) => raw.tag(1, LEN).bytes(object));
  const body = w.finish();
  const out = new Uint8Array(4 + body.length);
  new DataView(out.buffer).setUint32(0, body.length);
  out.set(body, 4);
  return out;
}
