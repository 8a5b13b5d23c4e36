/**
 * Reading a `SelfSubjectAccessReview` request body, as `kubectl auth can-i`
 * sends it (protobuf) or as other clients send it (JSON).
 *
 * kubectl v1.32 posts `Content-Type: application/vnd.kubernetes.protobuf`:
 * the 4-byte magic `k8s\0`, then a `runtime.Unknown` (apimachinery
 * `pkg/runtime/generated.proto`: 1 typeMeta {1 apiVersion, 2 kind}, 2 raw,
 * 3 contentEncoding, 4 contentType) whose `raw` is the review (k8s.io/api
 * `authorization/v1/generated.proto`: 1 metadata, 2 spec, 3 status; spec 1
 * resourceAttributes {1 namespace, 2 verb, 3 group, 4 version, 5 resource,
 * 6 subresource, 7 name}). The three messages are decoded by hand with
 * `@bufbuild/protobuf/wire`; unknown fields are skipped, as protobuf requires.
 *
 * @module
 */
import { BinaryReader, WireType } from "@bufbuild/protobuf/wire";

/** The resource attributes of a review: what the caller asks whether it may do. */
export interface AccessReviewAttributes {
  namespace: string;
  verb: string;
  group: string;
  resource: string;
  subresource: string;
  name: string;
}

/** The magic prefix of Kubernetes protobuf bodies (apimachinery `runtime/serializer/protobuf`). */
const PROTOBUF_MAGIC = [0x6b, 0x38, 0x73, 0x00] as const;
const KIND = "SelfSubjectAccessReview";
const GROUP_VERSION = "authorization.k8s.io/v1";

function fail(what: string): never {
  throw new Error(`malformed SelfSubjectAccessReview: ${what}`);
}

function hasMagic(bytes: Uint8Array): boolean {
  return PROTOBUF_MAGIC.every((b, i) => bytes[i] === b);
}

/** Calls `onField` for each field of the message in `bytes`; skips what it does not read. */
function readFields(bytes: Uint8Array, what: string, onField: (no: number, wt: WireType, r: BinaryReader) => boolean): void {
  const r = new BinaryReader(bytes);
  try {
    while (r.pos < r.len) {
      const [no, wt] = r.tag();
      if (!onField(no, wt, r)) r.skip(wt, no);
    }
  } catch (e) {
    fail(`${what} is not valid protobuf (${e instanceof Error ? e.message : String(e)})`);
  }
}

function readString(wt: WireType, r: BinaryReader, what: string): string {
  if (wt !== WireType.LengthDelimited) fail(`${what} has wire type ${wt}, expected a string`);
  return r.string();
}

function readBytes(wt: WireType, r: BinaryReader, what: string): Uint8Array {
  if (wt !== WireType.LengthDelimited) fail(`${what} has wire type ${wt}, expected an embedded message`);
  return r.bytes();
}

function decodeResourceAttributes(bytes: Uint8Array): AccessReviewAttributes {
  const a: AccessReviewAttributes = { namespace: "", verb: "", group: "", resource: "", subresource: "", name: "" };
  const keys: Record<number, keyof AccessReviewAttributes> = { 1: "namespace", 2: "verb", 3: "group", 5: "resource", 6: "subresource", 7: "name" };
  readFields(bytes, "spec.resourceAttributes", (no, wt, r) => {
    const key = keys[no];
    if (key === undefined) return false;
    a[key] = readString(wt, r, `spec.resourceAttributes field ${no} (${key})`);
    return true;
  });
  return a;
}

function decodeReview(bytes: Uint8Array): AccessReviewAttributes {
  let spec: Uint8Array | undefined;
  readFields(bytes, "the review", (no, wt, r) => {
    if (no !== 2) return false;
    spec = readBytes(wt, r, "spec");
    return true;
  });
  if (spec === undefined) fail("spec is missing");
  let attrs: Uint8Array | undefined;
  let nonResource = false;
  readFields(spec, "spec", (no, wt, r) => {
    if (no === 1) attrs = readBytes(wt, r, "spec.resourceAttributes");
    else if (no === 2) nonResource = true;
    else return false;
    if (no === 2) r.skip(wt, no);
    return true;
  });
  if (attrs === undefined) {
    fail(nonResource ? "spec.nonResourceAttributes is not supported, only spec.resourceAttributes" : "spec.resourceAttributes is missing");
  }
  return decodeResourceAttributes(attrs);
}

function decodeProtobuf(bytes: Uint8Array): AccessReviewAttributes {
  const body = bytes.subarray(PROTOBUF_MAGIC.length);
  let apiVersion = "";
  let kind = "";
  let raw: Uint8Array | undefined;
  let encoding = "";
  readFields(body, "the runtime.Unknown envelope", (no, wt, r) => {
    if (no === 1) {
      readFields(readBytes(wt, r, "typeMeta"), "typeMeta", (tno, twt, tr) => {
        if (tno === 1) apiVersion = readString(twt, tr, "typeMeta.apiVersion");
        else if (tno === 2) kind = readString(twt, tr, "typeMeta.kind");
        else return false;
        return true;
      });
    } else if (no === 2) raw = readBytes(wt, r, "raw");
    else if (no === 3) encoding = readString(wt, r, "contentEncoding");
    else return false;
    return true;
  });
  if (kind !== KIND || apiVersion !== GROUP_VERSION) {
    fail(`envelope holds ${JSON.stringify(apiVersion)} ${JSON.stringify(kind)}, expected ${GROUP_VERSION} ${KIND}`);
  }
  if (encoding !== "") fail(`contentEncoding ${JSON.stringify(encoding)} is not supported`);
  if (raw === undefined) fail("the envelope has no raw object");
  return decodeReview(raw);
}

function str(v: unknown, what: string): string {
  if (v === undefined || v === null) return "";
  if (typeof v !== "string") fail(`${what} must be a string, got ${typeof v}`);
  return v;
}

function decodeJson(text: string): AccessReviewAttributes {
  let obj: unknown;
  try {
    obj = JSON.parse(text);
  } catch (e) {
    fail(`body is not JSON (${e instanceof Error ? e.message : String(e)})`);
  }
  if (typeof obj !== "object" || obj === null || Array.isArray(obj)) fail("body must be a JSON object");
  const o = obj as { kind?: unknown; apiVersion?: unknown; spec?: unknown };
  if (o.kind !== undefined && o.kind !== KIND) fail(`kind is ${JSON.stringify(o.kind)}, expected ${KIND}`);
  if (o.apiVersion !== undefined && o.apiVersion !== GROUP_VERSION) {
    fail(`apiVersion is ${JSON.stringify(o.apiVersion)}, expected ${GROUP_VERSION}`);
  }
  if (typeof o.spec !== "object" || o.spec === null) fail("spec is missing");
  const spec = o.spec as { resourceAttributes?: unknown; nonResourceAttributes?: unknown };
  if (typeof spec.resourceAttributes !== "object" || spec.resourceAttributes === null) {
    fail(spec.nonResourceAttributes !== undefined ? "spec.nonResourceAttributes is not supported, only spec.resourceAttributes" : "spec.resourceAttributes is missing");
  }
  const a = spec.resourceAttributes as Record<string, unknown>;
  const p = "spec.resourceAttributes.";
  return {
    namespace: str(a["namespace"], `${p}namespace`),
    verb: str(a["verb"], `${p}verb`),
    group: str(a["group"], `${p}group`),
    resource: str(a["resource"], `${p}resource`),
    subresource: str(a["subresource"], `${p}subresource`),
    name: str(a["name"], `${p}name`),
  };
}

/**
 * Reads the resource attributes of a `SelfSubjectAccessReview` POST body:
 * protobuf (kubectl; recognised by its `k8s\0` magic or a
 * `application/vnd.kubernetes.protobuf` Content-Type) or JSON. Missing string
 * fields read as `""`, as in Go.
 *
 * Errors: throws an `Error` whose message starts with "malformed
 * SelfSubjectAccessReview:" and names what is wrong (bad envelope, wrong
 * kind, missing spec.resourceAttributes, a field of the wrong type).
 */
export async function readSelfSubjectAccessReview(req: Request): Promise<AccessReviewAttributes> {
  const bytes = new Uint8Array(await req.arrayBuffer());
  const type = (req.headers.get("content-type") ?? "").toLowerCase();
  if (hasMagic(bytes)) return decodeProtobuf(bytes);
  if (type.startsWith("application/vnd.kubernetes.protobuf")) fail("protobuf body does not start with the k8s\\0 magic");
  return decodeJson(new TextDecoder().decode(bytes));
}

/**
 * The JSON response body for a review (kubectl accepts JSON even when it
 * asked for protobuf): the request's attributes echoed in `spec`, and
 * `status.allowed` / `status.reason` / `status.denied` (empty ones left out, as Go's `omitempty` does).
 */
export function selfSubjectAccessReviewResponse(a: AccessReviewAttributes, status: { allowed: boolean; denied?: boolean; reason?: string }): unknown {
  const resourceAttributes: Record<string, string> = {};
  for (const [k, v] of Object.entries(a)) if (v !== "") resourceAttributes[k] = v;
  return {
    kind: KIND,
    apiVersion: GROUP_VERSION,
    metadata: {},
    spec: { resourceAttributes },
    status: {
      allowed: status.allowed,
      ...(status.denied === true ? { denied: true } : {}),
      ...(status.reason !== undefined && status.reason !== "" ? { reason: status.reason } : {}),
    },
  };
}
