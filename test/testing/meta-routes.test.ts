import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { metaRoute, FAKE_KUBE_VERSION } from "../../src/testing/meta-routes.ts";

const base = "https://127.0.0.1:6443";

async function get(path: string, method = "GET"): Promise<{ status: number; type: string; body: unknown } | undefined> {
  const url = new URL(path, base);
  const res = metaRoute(new Request(url, { method }), url);
  if (!res) return undefined;
  const type = res.headers.get("content-type") ?? "";
  const raw = await res.text();
  return { status: res.status, type, body: type.startsWith("application/json") ? JSON.parse(raw) : raw };
}

type Resource = { name: string; namespaced: boolean; kind: string; verbs: string[]; shortNames?: string[] };

describe("metaRoute", () => {
  it("serves /version with the reported Kubernetes version", async () => {
    const r = await get("/version");
    assert.equal(r?.status, 200);
    assert.deepEqual(
      { major: (r?.body as { major: string }).major, minor: (r?.body as { minor: string }).minor },
      { major: FAKE_KUBE_VERSION.major, minor: FAKE_KUBE_VERSION.minor },
    );
  });

  it("serves legacy discovery: /api APIVersions and /apis APIGroupList with authentication.k8s.io, authorization.k8s.io and discovery.k8s.io", async () => {
    const api = (await get("/api"))?.body as { kind: string; versions: string[] };
    assert.equal(api.kind, "APIVersions");
    assert.deepEqual(api.versions, ["v1"]);
    const apis = (await get("/apis"))?.body as { kind: string; groups: { name: string; preferredVersion: { groupVersion: string } }[] };
    assert.equal(apis.kind, "APIGroupList");
    assert.deepEqual(apis.groups.map((g) => [g.name, g.preferredVersion.groupVersion]), [
      ["authentication.k8s.io", "authentication.k8s.io/v1"],
      ["authorization.k8s.io", "authorization.k8s.io/v1"],
      ["discovery.k8s.io", "discovery.k8s.io/v1"],
    ]);
  });

  it("lists pods (short name po, namespaced, all verbs) and pods/status in /api/v1", async () => {
    const list = (await get("/api/v1"))?.body as { kind: string; groupVersion: string; resources: Resource[] };
    assert.equal(list.kind, "APIResourceList");
    assert.equal(list.groupVersion, "v1");
    const pods = list.resources.find((r) => r.name === "pods");
    assert.ok(pods);
    assert.equal(pods.kind, "Pod");
    assert.equal(pods.namespaced, true);
    assert.deepEqual(pods.shortNames, ["po"]);
    for (const v of ["get", "list", "watch", "create", "update", "patch", "delete"]) assert.ok(pods.verbs.includes(v), v);
    const status = list.resources.find((r) => r.name === "pods/status");
    assert.deepEqual(status?.verbs, ["get", "patch", "update"]);
  });

  it("lists selfsubjectaccessreviews (create) in authorization.k8s.io/v1", async () => {
    const list = (await get("/apis/authorization.k8s.io/v1"))?.body as { groupVersion: string; resources: Resource[] };
    assert.equal(list.groupVersion, "authorization.k8s.io/v1");
    assert.deepEqual(
      list.resources.map((r) => [r.name, r.namespaced, r.kind, r.verbs]),
      [["selfsubjectaccessreviews", false, "SelfSubjectAccessReview", ["create"]]],
    );
  });

  it("lists selfsubjectreviews (create) in authentication.k8s.io/v1", async () => {
    const list = (await get("/apis/authentication.k8s.io/v1"))?.body as { groupVersion: string; resources: Resource[] };
    assert.equal(list.groupVersion, "authentication.k8s.io/v1");
    assert.deepEqual(list.resources.map((r) => [r.name, r.namespaced, r.kind, r.verbs]), [["selfsubjectreviews", false, "SelfSubjectReview", ["create"]]]);
    const group = (await get("/apis/authentication.k8s.io"))?.body as { kind: string; name: string };
    assert.deepEqual([group.kind, group.name], ["APIGroup", "authentication.k8s.io"]);
  });

  it("serves an OpenAPI v3 index whose api/v1 document has a Pod PATCH with fieldValidation", async () => {
    const index = (await get("/openapi/v3"))?.body as { paths: Record<string, { serverRelativeURL: string }> };
    const rel = index.paths["api/v1"]?.serverRelativeURL;
    assert.ok(rel?.startsWith("/openapi/v3/api/v1?"));
    const doc = (await get(rel ?? ""))?.body as {
      paths: Record<string, Record<string, { parameters: { name: string; in: string }[]; "x-kubernetes-action": string; "x-kubernetes-group-version-kind": unknown }>>;
    };
    const patch = doc.paths["/api/v1/namespaces/{namespace}/pods/{name}"]?.["patch"];
    assert.ok(patch);
    assert.equal(patch["x-kubernetes-action"], "patch");
    assert.deepEqual(patch["x-kubernetes-group-version-kind"], { group: "", version: "v1", kind: "Pod" });
    assert.ok(patch.parameters.some((p) => p.name === "fieldValidation" && p.in === "query"));
  });

  it("answers the health probes with ok", async () => {
    for (const p of ["/healthz", "/readyz", "/livez"]) {
      const r = await get(p);
      assert.equal(r?.status, 200);
      assert.equal(r?.body, "ok");
      assert.match(r?.type ?? "", /^text\/plain/);
    }
  });

  it("tolerates a trailing slash", async () => {
    assert.equal((await get("/api/v1/"))?.status, 200);
  });

  it("returns undefined for everything else, and for writes", async () => {
    for (const p of ["/openapi/v2", "/api/v1/pods", "/api/v1/namespaces/default/pods", "/apis/apps/v1", "/", "/metrics"]) {
      assert.equal(await get(p), undefined, p);
    }
    assert.equal(await get("/version", "POST"), undefined);
    assert.equal(await get("/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", "POST"), undefined);
  });
});
