/**
 * Decoding Kubernetes protobuf bodies into the small wire objects the
 * resource descriptors project: one object (GET, PATCH), a list (LIST) or a
 * `Status` (error bodies), each a `k8s\0` + `runtime.Unknown` envelope
 * (apimachinery `pkg/runtime/serializer/protobuf/protobuf.go`).
 *
 * A {@link ProtobufProjection} reads one object's message and keeps only
 * what the descriptor's projection reads; {@link podProtobuf} and
 * {@link endpointSliceProtobuf} are the two kratos-kube has, and which
 * labels and annotations they keep is the caller's parameter.
 *
 * @module
 */
import type { EndpointSlice, KubeObject, KubeObjectList, Pod, Status } from "../wire.ts";
import type { WireReader } from "./reader.ts";
import { readEndpointSlice } from "./endpoint-slice.ts";
import type { MetaKeys } from "./meta.ts";
import { readListMeta, readStatus } from "./meta.ts";
import { readPod } from "./pod.ts";
import { keySet, messageEnd, nextTag, ProtobufDecodeError, readEnvelope, reader, skipField } from "./reader.ts";

/**
 * Reads one object of a resource from protobuf into the wire object its
 * descriptor projects (only the fields that projection reads). Advanced:
 * needed only for resources other than Pods and EndpointSlices.
 */
export interface ProtobufProjection<W extends KubeObject = KubeObject> {
  /** The kind its envelopes carry, e.g. `Pod` (lists: `PodList`). */
  readonly kind: string;
  /** The labels and annotations it keeps (bookmarks and other generic reads use the same). */
  readonly keys: MetaKeys;
  /** Reads the object's message from `r.pos` to `end` of `buf`; throws {@link ProtobufDecodeError} on malformed input. */
  read(r: WireReader, buf: Uint8Array, end: number): W;
}

/** Options of {@link podProtobuf}: as `podResource`'s. */
export interface PodProtobufOptions {
  /** Annotation keys to keep, or `"all"`; default none. */
  readonly annotations?: readonly string[] | "all" | undefined;
}

/** The protobuf reader of Pods: every label, the annotations asked for. */
export function podProtobuf(options: PodProtobufOptions = {}): ProtobufProjection<Pod> {
  const keys: MetaKeys = { labels: "all", annotations: keySet(options.annotations) };
  return Object.freeze({ kind: "Pod", keys, read: (r: WireReader, buf: Uint8Array, end: number) => readPod(r, buf, end, keys) });
}

/** The protobuf reader of EndpointSlices: every label, no annotation. */
export function endpointSliceProtobuf(): ProtobufProjection<EndpointSlice> {
  const keys: MetaKeys = { labels: "all", annotations: "none" };
  return Object.freeze({
    kind: "EndpointSlice",
    keys,
    read: (r: WireReader, buf: Uint8Array, end: number) => readEndpointSlice(r, buf, end, keys),
  });
}

function wrap<T>(what: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof ProtobufDecodeError) throw new ProtobufDecodeError(`${what}: ${e.message.replace(/^protobuf: /, "")}`, { cause: e });
    // BinaryReader's own errors (premature EOF, invalid UTF-8, bad varint).
    throw new ProtobufDecodeError(`${what}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
}

/** Decodes one enveloped object of `projection.kind` (a GET or PATCH answer). */
export function decodeObjectBody<W extends KubeObject>(bytes: Uint8Array, projection: ProtobufProjection<W>): W {
  return wrap(`a ${projection.kind}`, () => {
    const r = reader(bytes);
    const env = readEnvelope(r, bytes, 0, bytes.length);
    if (env.kind !== projection.kind) throw new ProtobufDecodeError(`expected kind ${projection.kind}, got ${JSON.stringify(env.kind)}`);
    r.pos = env.rawStart;
    return projection.read(r, bytes, env.rawEnd);
  });
}

/** Decodes an enveloped list (`PodList`, `EndpointSliceList`): `metadata` = 1 (ListMeta), `items` = 2. */
export function decodeListBody<W extends KubeObject>(bytes: Uint8Array, projection: ProtobufProjection<W>): KubeObjectList<W> {
  const listKind = `${projection.kind}List`;
  return wrap(`a ${listKind}`, () => {
    const r = reader(bytes);
    const env = readEnvelope(r, bytes, 0, bytes.length);
    if (env.kind !== listKind) throw new ProtobufDecodeError(`expected kind ${listKind}, got ${JSON.stringify(env.kind)}`);
    const end = env.rawEnd;
    r.pos = env.rawStart;
    const list: KubeObjectList<W> = { metadata: {}, items: [] };
    while (r.pos < end) {
      const t = nextTag(r);
      if (t === 10) list.metadata = readListMeta(r, end);
      else if (t === 18) {
        const e = messageEnd(r, end);
        list.items.push(projection.read(r, bytes, e));
        r.pos = e;
      } else skipField(r, t, end);
    }
    return list;
  });
}

/** Decodes an enveloped `Status` (the body of an error answer in protobuf). */
export function decodeStatusBody(bytes: Uint8Array): Status {
  return wrap("a Status", () => {
    const r = reader(bytes);
    const env = readEnvelope(r, bytes, 0, bytes.length);
    if (env.kind !== "Status") throw new ProtobufDecodeError(`expected kind Status, got ${JSON.stringify(env.kind)}`);
    r.pos = env.rawStart;
    return readStatus(r, env.rawEnd);
  });
}
