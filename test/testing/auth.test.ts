import { describe, it, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { FakeKubeApiServer, makePod } from "../../src/testing/index.ts";
import { call, getJson } from "./helpers.ts";

const servers: FakeKubeApiServer[] = [];
function setup(): FakeKubeApiServer {
  const s = new FakeKubeApiServer({
    tokens: {
      admin: { user: "admin" },
      reader: { user: "system:serviceaccount:shop:kratos", verbs: ["get", "list"], namespaces: ["shop"] },
    },
  });
  servers.push(s);
  s.createPod(makePod({ name: "a", namespace: "shop" }));
  return s;
}
after(async () => {
  for (const s of servers) await s.close();
});

describe("authentication and authorization", () => {
  it("401 Unauthorized Status for an unknown token, and for a missing one when anonymous is off", async () => {
    const s = setup();
    const closed = new FakeKubeApiServer({ tokens: { admin: { user: "admin" } }, anonymous: false });
    servers.push(closed);
    for (const [server, token] of [[s, "nope"], [closed, undefined]] as const) {
      const { status, body } = await getJson(server, "/api/v1/namespaces/shop/pods", token);
      assert.equal(status, 401);
      assert.deepEqual(body, { kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message: "Unauthorized", reason: "Unauthorized", code: 401 });
    }
  });

  it("no Authorization header is system:anonymous (kube-apiserver's default --anonymous-auth): 403s with the real texts, public info readable", async () => {
    const s = setup();
    const pods = await getJson(s, "/api/v1/namespaces/shop/pods");
    assert.equal(pods.status, 403);
    assert.deepEqual(pods.body, {
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Failure",
      message: 'pods is forbidden: User "system:anonymous" cannot list resource "pods" in API group "" in the namespace "shop"',
      reason: "Forbidden",
      details: { kind: "pods" },
      code: 403,
    });
    const api = await getJson(s, "/api");
    assert.equal(api.status, 403);
    assert.equal(api.body.message, 'forbidden: User "system:anonymous" cannot get path "/api"');
    assert.deepEqual(api.body.details, {});
    assert.equal((await getJson(s, "/version")).status, 200);
    assert.equal((await call(s, "GET", "/readyz")).status, 200);
    const review = await call(s, "POST", "/apis/authentication.k8s.io/v1/selfsubjectreviews", { body: { kind: "SelfSubjectReview", apiVersion: "authentication.k8s.io/v1" } });
    assert.equal(review.status, 403);
    assert.equal(((await review.json()) as any).message, 'selfsubjectreviews.authentication.k8s.io is forbidden: User "system:anonymous" cannot create resource "selfsubjectreviews" in API group "authentication.k8s.io" at the cluster scope');
  });

  it("allows what the grant lists; 403 with the apiserver's message otherwise (watch is separate from list)", async () => {
    const s = setup();
    assert.equal((await getJson(s, "/api/v1/namespaces/shop/pods", "reader")).status, 200);
    const w = await getJson(s, "/api/v1/namespaces/shop/pods?watch=true", "reader");
    assert.equal(w.status, 403);
    assert.deepEqual(w.body, {
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Failure",
      message: 'pods is forbidden: User "system:serviceaccount:shop:kratos" cannot watch resource "pods" in API group "" in the namespace "shop"',
      reason: "Forbidden",
      details: { kind: "pods" },
      code: 403,
    });
  });

  it("grants are per namespace; cluster-wide requests need an unrestricted grant", async () => {
    const s = setup();
    const other = await getJson(s, "/api/v1/namespaces/default/pods", "reader");
    assert.equal(other.status, 403);
    assert.match(other.body.message, /cannot list resource "pods" in API group "" in the namespace "default"$/);
    const all = await getJson(s, "/api/v1/pods", "reader");
    assert.equal(all.status, 403);
    assert.match(all.body.message, /cannot list resource "pods" in API group "" at the cluster scope$/);
    assert.equal((await getJson(s, "/api/v1/pods", "admin")).status, 200);
  });

  it("names the pod and the subresource in a 403 for a write", async () => {
    const s = setup();
    const res = await call(s, "PATCH", "/api/v1/namespaces/shop/pods/a/status", { token: "reader", body: {}, contentType: "application/merge-patch+json" });
    assert.equal(res.status, 403);
    const body = (await res.json()) as any;
    assert.equal(body.message, 'pods "a" is forbidden: User "system:serviceaccount:shop:kratos" cannot patch resource "pods/status" in API group "" in the namespace "shop"');
    assert.equal(body.details.name, "a");
  });

  it("setTokens rotates: old tokens get 401, new ones work", async () => {
    const s = setup();
    s.setTokens({ fresh: { user: "admin" } });
    assert.equal((await getJson(s, "/api/v1/pods", "admin")).status, 401);
    assert.equal((await getJson(s, "/api/v1/pods", "fresh")).status, 200);
  });

  it("answers SelfSubjectAccessReview (JSON and kubectl's protobuf) from the token's grant", async () => {
    const s = setup();
    const review = (verb: string, namespace: string) => ({
      kind: "SelfSubjectAccessReview",
      apiVersion: "authorization.k8s.io/v1",
      spec: { resourceAttributes: { namespace, verb, resource: "pods" } },
    });
    const path = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews";
    const yes = await call(s, "POST", path, { token: "reader", body: review("list", "shop") });
    assert.equal(yes.status, 201);
    assert.equal(((await yes.json()) as any).status.allowed, true);
    const no = (await (await call(s, "POST", path, { token: "reader", body: review("watch", "shop") })).json()) as any;
    assert.equal(no.status.allowed, false);
    const bin = readFileSync(new URL("../fixtures/kubectl/ssar-patch-pods-shop.bin", import.meta.url));
    const res = await s.fetch(new Request(`http://x${path}`, { method: "POST", headers: { authorization: "Bearer reader", "content-type": "application/vnd.kubernetes.protobuf" }, body: bin }));
    const pb = (await res.json()) as any;
    assert.equal(pb.spec.resourceAttributes.verb, "patch");
    assert.equal(pb.status.allowed, false);
    const malformed = await call(s, "POST", path, { token: "reader", body: "{}" });
    assert.equal(malformed.status, 422);
    assert.equal(
      ((await malformed.json()) as any).message,
      '.authorization.k8s.io "" is invalid: spec.resourceAttributes: Invalid value: null: exactly one of nonResourceAttributes or resourceAttributes must be specified',
    );
    const garbled = (await (await call(s, "POST", path, { token: "reader", body: "{" })).json()) as any;
    assert.equal(garbled.message, "the object provided is unrecognized (must be of type SelfSubjectAccessReview): couldn't get version/kind; json parse error: unexpected end of JSON input ({)");
    assert.equal((await call(s, "POST", path, { token: "nope", body: review("list", "shop") })).status, 401);
  });

  it("answers SelfSubjectReview with the token's user and the groups the apiserver adds, for any authenticated user", async () => {
    const s = setup();
    const path = "/apis/authentication.k8s.io/v1/selfsubjectreviews";
    const body = { kind: "SelfSubjectReview", apiVersion: "authentication.k8s.io/v1" };
    const res = await call(s, "POST", path, { token: "reader", body });
    assert.equal(res.status, 201);
    const doc = (await res.json()) as any;
    assert.equal(doc.kind, "SelfSubjectReview");
    assert.deepEqual(doc.status.userInfo, {
      username: "system:serviceaccount:shop:kratos",
      groups: ["system:serviceaccounts", "system:serviceaccounts:shop", "system:authenticated"],
    });
    const admin = (await (await call(s, "POST", path, { token: "admin", body })).json()) as any;
    assert.deepEqual(admin.status.userInfo, { username: "admin", groups: ["system:authenticated"] });
    const wrong = await call(s, "POST", path, { token: "reader", body: { kind: "SelfSubjectAccessReview" } });
    assert.equal(wrong.status, 400);
    assert.match(((await wrong.json()) as any).message, /kind is "SelfSubjectAccessReview", expected SelfSubjectReview/);
    assert.equal((await call(s, "POST", path, { token: "nope", body })).status, 401);
    const withUid = new FakeKubeApiServer({ tokens: { t: { user: "alice", uid: "alice-uid" } } });
    servers.push(withUid);
    const alice = (await (await call(withUid, "POST", path, { token: "t", body })).json()) as any;
    assert.deepEqual(alice.status.userInfo, { username: "alice", uid: "alice-uid", groups: ["system:authenticated"] });
    assert.match(alice.metadata.creationTimestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    const anonymous = new FakeKubeApiServer({ user: "kubernetes-admin" });
    servers.push(anonymous);
    const who = (await (await call(anonymous, "POST", path, { body })).json()) as any;
    assert.equal(who.status.userInfo.username, "kubernetes-admin");
  });

  it("without tokens everything is allowed", async () => {
    const s = new FakeKubeApiServer();
    servers.push(s);
    assert.equal((await getJson(s, "/api/v1/pods")).status, 200);
  });
});
