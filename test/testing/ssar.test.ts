import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { BinaryWriter } from "@bufbuild/protobuf/wire";
import { readSelfSubjectAccessReview, selfSubjectAccessReviewResponse } from "../../src/testing/ssar.ts";

const PROTOBUF = "application/vnd.kubernetes.protobuf";
const fixture = (name: string): Uint8Array => new Uint8Array(readFileSync(new URL(`../fixtures/kubectl/${name}`, import.meta.url)));

function post(body: Uint8Array | string, contentType: string): Request {
  return new Request("https://127.0.0.1/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", {
    method: "POST",
    headers: { "content-type": contentType },
    body: typeof body === "string" ? body : body.slice().buffer,
  });
}

/** Builds a kubectl-shaped envelope around `raw` (field layout from apimachinery runtime.Unknown). */
function envelope(raw: Uint8Array, o: { kind?: string; apiVersion?: string; encoding?: string } = {}): Uint8Array {
  const w = new BinaryWriter();
  w.tag(1, 2).fork().tag(1, 2).string(o.apiVersion ?? "authorization.k8s.io/v1").tag(2, 2).string(o.kind ?? "SelfSubjectAccessReview").join();
  w.tag(2, 2).bytes(raw);
  if (o.encoding) w.tag(3, 2).string(o.encoding);
  const body = w.finish();
  const out = new Uint8Array(4 + body.length);
  out.set([0x6b, 0x38, 0x73, 0x00]);
  out.set(body, 4);
  return out;
}

function review(attrs: Record<number, string> | undefined, extraSpec?: (w: BinaryWriter) => void): Uint8Array {
  const w = new BinaryWriter();
  w.tag(1, 2).bytes(new Uint8Array(0));
  w.tag(2, 2).fork();
  if (attrs) {
    w.tag(1, 2).fork();
    for (const [no, v] of Object.entries(attrs)) w.tag(Number(no), 2).string(v);
    w.join();
  }
  extraSpec?.(w);
  w.join();
  return w.finish();
}

describe("readSelfSubjectAccessReview", () => {
  it("decodes kubectl's protobuf body for `auth can-i list pods` (namespace default)", async () => {
    const a = await readSelfSubjectAccessReview(post(fixture("ssar-list-pods-default.bin"), PROTOBUF));
    assert.deepEqual(a, { namespace: "default", verb: "list", group: "", resource: "pods", subresource: "", name: "" });
  });

  it("decodes kubectl's protobuf body for `auth can-i patch pods -n shop`", async () => {
    const a = await readSelfSubjectAccessReview(post(fixture("ssar-patch-pods-shop.bin"), PROTOBUF));
    assert.deepEqual(a, { namespace: "shop", verb: "patch", group: "", resource: "pods", subresource: "", name: "" });
  });

  it("recognises the protobuf magic even without the protobuf content type", async () => {
    const a = await readSelfSubjectAccessReview(post(fixture("ssar-patch-pods-shop.bin"), "application/octet-stream"));
    assert.equal(a.verb, "patch");
  });

  it("reads every resource attribute and skips unknown fields", async () => {
    const raw = review({ 1: "ns", 2: "get", 3: "apps", 4: "v1", 5: "deployments", 6: "scale", 7: "web", 9: "ignored" });
    const a = await readSelfSubjectAccessReview(post(envelope(raw), PROTOBUF));
    assert.deepEqual(a, { namespace: "ns", verb: "get", group: "apps", resource: "deployments", subresource: "scale", name: "web" });
  });

  it("decodes a JSON body", async () => {
    const body = JSON.stringify({
      kind: "SelfSubjectAccessReview",
      apiVersion: "authorization.k8s.io/v1",
      spec: { resourceAttributes: { namespace: "shop", verb: "watch", resource: "pods" } },
    });
    const a = await readSelfSubjectAccessReview(post(body, "application/json"));
    assert.deepEqual(a, { namespace: "shop", verb: "watch", group: "", resource: "pods", subresource: "", name: "" });
  });

  it("names what is malformed", async () => {
    const cases: [Request, RegExp][] = [
      [post("{not json", "application/json"), /malformed SelfSubjectAccessReview: body is not JSON/],
      [post("[]", "application/json"), /body must be a JSON object/],
      [post(JSON.stringify({ kind: "Pod", spec: {} }), "application/json"), /kind is "Pod", expected SelfSubjectAccessReview/],
      [post(JSON.stringify({ kind: "SelfSubjectAccessReview" }), "application/json"), /spec is missing/],
      [post(JSON.stringify({ spec: { nonResourceAttributes: { path: "/healthz", verb: "get" } } }), "application/json"), /nonResourceAttributes is not supported/],
      [post(JSON.stringify({ spec: { resourceAttributes: { verb: 7 } } }), "application/json"), /spec\.resourceAttributes\.verb must be a string/],
      [post(new Uint8Array([1, 2, 3]), PROTOBUF), /does not start with the k8s\\0 magic/],
      [post(new Uint8Array([0x6b, 0x38, 0x73, 0x00, 0x0a, 0x7f]), PROTOBUF), /runtime\.Unknown envelope is not valid protobuf/],
      [post(envelope(review({ 2: "get" }), { kind: "Pod", apiVersion: "v1" }), PROTOBUF), /envelope holds "v1" "Pod"/],
      [post(envelope(review({ 2: "get" }), { encoding: "gzip" }), PROTOBUF), /contentEncoding "gzip" is not supported/],
      [post(envelope(review(undefined)), PROTOBUF), /spec\.resourceAttributes is missing/],
      [post(envelope(review(undefined, (w) => w.tag(2, 2).bytes(new Uint8Array(0)))), PROTOBUF), /nonResourceAttributes is not supported/],
    ];
    for (const [req, re] of cases) await assert.rejects(readSelfSubjectAccessReview(req), re);
  });
});

describe("selfSubjectAccessReviewResponse", () => {
  it("echoes the attributes and carries the decision", () => {
    const a = { namespace: "shop", verb: "patch", group: "", resource: "pods", subresource: "", name: "" };
    assert.deepEqual(selfSubjectAccessReviewResponse(a, { allowed: false, denied: true, reason: "token grant excludes patch" }), {
      kind: "SelfSubjectAccessReview",
      apiVersion: "authorization.k8s.io/v1",
      metadata: {},
      spec: { resourceAttributes: { namespace: "shop", verb: "patch", resource: "pods" } },
      status: { allowed: false, denied: true, reason: "token grant excludes patch" },
    });
    // RBAC's refusal: no opinion, so neither denied nor a reason (a real v1.34 answer).
    const no = selfSubjectAccessReviewResponse(a, { allowed: false, reason: "" }) as { status: unknown };
    assert.deepEqual(no.status, { allowed: false });
    const ok = selfSubjectAccessReviewResponse(a, { allowed: true }) as { status: unknown };
    assert.deepEqual(ok.status, { allowed: true });
  });
});
