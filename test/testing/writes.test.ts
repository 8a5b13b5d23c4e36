import { describe, it, after } from "node:test";
import assert from "node:assert/strict";
import { createManualClock, FakeKubeApiServer, makePod } from "../../src/testing/index.ts";
import { call, watch } from "./helpers.ts";

const servers: FakeKubeApiServer[] = [];
function setup(): { s: FakeKubeApiServer; clock: ReturnType<typeof createManualClock> } {
  const clock = createManualClock();
  const s = new FakeKubeApiServer({ clock });
  servers.push(s);
  s.createPod(makePod({ name: "web-1", app: "web" }));
  return { s, clock };
}
after(async () => {
  for (const s of servers) await s.close();
});
const POD = "/api/v1/namespaces/default/pods/web-1";
const json = async (r: Response): Promise<any> => r.json();

describe("writes", () => {
  it("GET one pod (with kind/apiVersion); 404 NotFound body for a missing one", async () => {
    const { s } = setup();
    const ok = await call(s, "GET", POD);
    const pod = await json(ok);
    assert.equal(pod.kind, "Pod");
    assert.equal(pod.metadata.name, "web-1");
    const missing = await call(s, "GET", "/api/v1/namespaces/default/pods/nope");
    assert.equal(missing.status, 404);
    assert.deepEqual(await json(missing), {
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Failure",
      message: 'pods "nope" not found',
      reason: "NotFound",
      details: { name: "nope", kind: "pods" },
      code: 404,
    });
  });

  it("POST creates (201, uid, timestamp, RV, status reset to Pending), 409 AlreadyExists on repeat", async () => {
    const { s } = setup();
    const body = makePod({ name: "new-1" });
    const res = await call(s, "POST", "/api/v1/namespaces/default/pods", { body });
    assert.equal(res.status, 201);
    const created = await json(res);
    assert.equal(created.metadata.resourceVersion, s.resourceVersion);
    assert.match(created.metadata.uid, /^[0-9a-f-]{36}$/);
    assert.equal(created.status.phase, "Pending");
    const again = await call(s, "POST", "/api/v1/namespaces/default/pods", { body });
    assert.equal(again.status, 409);
    const st = await json(again);
    assert.equal(st.reason, "AlreadyExists");
    assert.equal(st.message, 'pods "new-1" already exists');
  });

  it("POST with generateName picks a name; without name is 422; wrong namespace is 400; bad JSON is 400", async () => {
    const { s } = setup();
    const gen = makePod({ name: "" });
    gen.metadata["generateName"] = "gen-";
    const r = await json(await call(s, "POST", "/api/v1/namespaces/default/pods", { body: gen }));
    assert.match(r.metadata.name, /^gen-[0-9a-f]{5}$/);
    const nameless = makePod({ name: "" });
    delete nameless.metadata["generateName"];
    const inv = await call(s, "POST", "/api/v1/namespaces/default/pods", { body: nameless });
    assert.equal(inv.status, 422);
    assert.match((await json(inv)).message, /metadata.name: Required value: name or generateName is required/);
    const wrongNs = await call(s, "POST", "/api/v1/namespaces/default/pods", { body: makePod({ name: "x", namespace: "other" }) });
    assert.equal(wrongNs.status, 400);
    assert.equal((await json(wrongNs)).message, "the namespace of the provided object does not match the namespace sent on the request");
    const bad = await call(s, "POST", "/api/v1/namespaces/default/pods", { body: "{nope" });
    assert.equal(bad.status, 400);
  });

  it("fieldValidation=Strict rejects unknown fields with 400 and the strict decoding message", async () => {
    const { s } = setup();
    const body = makePod({ name: "strict-1" }) as any;
    body.spec.foo = 1;
    const res = await call(s, "POST", "/api/v1/namespaces/default/pods?fieldValidation=Strict", { body });
    assert.equal(res.status, 400);
    assert.equal((await json(res)).message, 'Pod in version "v1" cannot be handled as a Pod: strict decoding error: unknown field "spec.foo"');
    const lax = await call(s, "POST", "/api/v1/namespaces/default/pods", { body });
    assert.equal(lax.status, 201);
    const patch = await call(s, "PATCH", `${POD}?fieldValidation=Strict`, { body: { spec: { bar: 1 } }, contentType: "application/merge-patch+json" });
    assert.equal(patch.status, 400);
  });

  it("makePod objects pass strict validation", async () => {
    const { s } = setup();
    const res = await call(s, "POST", "/api/v1/namespaces/default/pods?fieldValidation=Strict", { body: makePod({ name: "ok", app: "a", protocols: "{}", ips: ["10.0.0.1", "fd00::1"] }) });
    assert.equal(res.status, 201, JSON.stringify(await res.clone().json()));
  });

  it("PUT updates spec/metadata but not status; a stale resourceVersion is 409 Conflict with the real message", async () => {
    const { s } = setup();
    const cur = s.getPod("default", "web-1")!;
    const next = structuredClone(cur);
    next.metadata.labels = { ...next.metadata.labels, tier: "front" };
    next.status!.phase = "Failed";
    const res = await call(s, "PUT", POD, { body: next });
    assert.equal(res.status, 200);
    const upd = await json(res);
    assert.equal(upd.metadata.labels.tier, "front");
    assert.equal(upd.status.phase, "Running");
    const stale = await call(s, "PUT", POD, { body: next });
    assert.equal(stale.status, 409);
    const st = await json(stale);
    assert.equal(st.reason, "Conflict");
    assert.equal(st.message, 'Operation cannot be fulfilled on pods "web-1": the object has been modified; please apply your changes to the latest version and try again');
  });

  it("PATCH strategic / merge / json; null deletes a label; RV precondition → 409; other types → 415", async () => {
    const { s } = setup();
    const sm = await json(await call(s, "PATCH", POD, { body: { metadata: { labels: { "kratos-service-app": null, a: "1" } } }, contentType: "application/strategic-merge-patch+json" }));
    assert.equal(sm.metadata.labels["kratos-service-app"], undefined);
    assert.equal(sm.metadata.labels.a, "1");
    const mp = await json(await call(s, "PATCH", POD, { body: { metadata: { annotations: { b: "2" } } }, contentType: "application/merge-patch+json" }));
    assert.equal(mp.metadata.annotations.b, "2");
    const jp = await json(await call(s, "PATCH", POD, { body: [{ op: "add", path: "/metadata/labels/c", value: "3" }], contentType: "application/json-patch+json" }));
    assert.equal(jp.metadata.labels.c, "3");
    assert.equal(jp.metadata.resourceVersion, s.resourceVersion);
    const pre = await call(s, "PATCH", POD, { body: { metadata: { resourceVersion: "1", labels: { d: "4" } } }, contentType: "application/merge-patch+json" });
    assert.equal(pre.status, 409);
    assert.match((await json(pre)).message, /the object has been modified/);
    const okPre = await call(s, "PATCH", POD, { body: { metadata: { resourceVersion: s.resourceVersion, labels: { d: "4" } } }, contentType: "application/merge-patch+json" });
    assert.equal(okPre.status, 200);
    const t = await call(s, "PATCH", POD, { body: { a: 1 }, contentType: "application/json" });
    assert.equal(t.status, 415);
    const st = await json(t);
    assert.equal(st.reason, "UnsupportedMediaType");
    // The patch handler's 415 is go-restful's generic one (a real v1.34 answers exactly this).
    assert.equal(st.message, "415: Unsupported Media Type");
  });

  it("PATCH with a malformed body is 400; an inapplicable JSON patch is 422; a missing pod is 404", async () => {
    const { s } = setup();
    const bad = await call(s, "PATCH", POD, { body: "{x", contentType: "application/merge-patch+json" });
    assert.equal(bad.status, 400);
    const inapplicable = await call(s, "PATCH", POD, { body: [{ op: "remove", path: "/metadata/nope/x" }], contentType: "application/json-patch+json" });
    assert.equal(inapplicable.status, 422);
    const missing = await call(s, "PATCH", "/api/v1/namespaces/default/pods/zzz", { body: {}, contentType: "application/merge-patch+json" });
    assert.equal(missing.status, 404);
  });

  it("apply-patch+yaml needs a fieldManager (422) and is applied as a merge of the configuration", async () => {
    const { s } = setup();
    const noManager = await call(s, "PATCH", POD, { body: "metadata:\n  labels:\n    y: z\n", contentType: "application/apply-patch+yaml" });
    assert.equal(noManager.status, 422);
    const res = await call(s, "PATCH", `${POD}?fieldManager=test`, { body: "metadata:\n  labels:\n    y: z\n", contentType: "application/apply-patch+yaml" });
    assert.equal(res.status, 200);
    assert.equal((await json(res)).metadata.labels.y, "z");
  });

  it("pods/status: PUT and PATCH keep the spec (and take labels, as the real status strategy does); the main resource ignores status", async () => {
    const { s } = setup();
    const patched = await json(await call(s, "PATCH", `${POD}/status`, {
      body: { metadata: { labels: { ignored: "1" } }, status: { conditions: [{ type: "Ready", status: "False" }] } },
      contentType: "application/strategic-merge-patch+json",
    }));
    assert.equal(patched.metadata.labels.ignored, "1", "the status strategy resets only spec, ownerReferences and deletionTimestamp");
    assert.equal(patched.status.conditions.find((c: any) => c.type === "Ready").status, "False");
    assert.equal(patched.status.conditions.length, 5, "merged by type");
    const cur = s.getPod("default", "web-1")!;
    cur.status!.phase = "Succeeded";
    cur.spec!.nodeName = "changed";
    const put = await json(await call(s, "PUT", `${POD}/status`, { body: cur }));
    assert.equal(put.status.phase, "Succeeded");
    assert.notEqual(put.spec.nodeName, "changed");
    const main = await json(await call(s, "PATCH", POD, { body: { status: { phase: "Failed" } }, contentType: "application/merge-patch+json" }));
    assert.equal(main.status.phase, "Succeeded");
    const get = await json(await call(s, "GET", `${POD}/status`));
    assert.equal(get.status.phase, "Succeeded");
  });

  it("DELETE with grace > 0: MODIFIED with deletionTimestamp + deletionGracePeriodSeconds, DELETED after the grace period", async () => {
    const { s, clock } = setup();
    const { events } = await watch(s, `resourceVersion=${s.resourceVersion}`);
    const res = await call(s, "DELETE", POD, { body: { kind: "DeleteOptions", apiVersion: "v1", gracePeriodSeconds: 5 } });
    assert.equal(res.status, 200);
    const body = await json(res);
    assert.equal(body.metadata.deletionGracePeriodSeconds, 5);
    assert.match(body.metadata.deletionTimestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    const [m] = await events.take(1);
    assert.equal(m!.type, "MODIFIED");
    assert.equal((m!.object.metadata as any).deletionGracePeriodSeconds, 5);
    await clock.advance(4999);
    assert.ok(s.getPod("default", "web-1"));
    await clock.advance(1);
    const [d] = await events.take(1);
    assert.equal(d!.type, "DELETED");
    assert.equal(s.getPod("default", "web-1"), undefined);
    await events.cancel();
  });

  it("DELETE with grace 0 (query or body) deletes at once; default grace comes from the pod spec", async () => {
    const { s } = setup();
    const res = await call(s, "DELETE", `${POD}?gracePeriodSeconds=0`);
    assert.equal(res.status, 200);
    assert.equal(s.getPod("default", "web-1"), undefined);
    s.createPod(makePod({ name: "web-2" }));
    const graceful = await json(await call(s, "DELETE", "/api/v1/namespaces/default/pods/web-2"));
    assert.equal(graceful.metadata.deletionGracePeriodSeconds, 30);
    await call(s, "DELETE", "/api/v1/namespaces/default/pods/web-2", { body: { gracePeriodSeconds: 0 } });
    assert.equal(s.getPod("default", "web-2"), undefined);
    const missing = await call(s, "DELETE", "/api/v1/namespaces/default/pods/web-2");
    assert.equal(missing.status, 404);
  });

  it("DELETE honours DeleteOptions preconditions (409)", async () => {
    const { s } = setup();
    const res = await call(s, "DELETE", POD, { body: { preconditions: { uid: "other" } } });
    assert.equal(res.status, 409);
    const st = await json(res);
    assert.match(st.message, /^Operation cannot be fulfilled on Pod "web-1": the UID in the precondition \(other\) does not match the UID in record \(.+\)\. The object might have been deleted and then recreated$/);
    assert.deepEqual(st.details, { name: "web-1", kind: "Pod" });
    const rv = await call(s, "DELETE", POD, { body: { preconditions: { resourceVersion: "1" } } });
    assert.match((await json(rv)).message, /the ResourceVersion in the precondition \(1\) does not match the ResourceVersion in record \(\d+\)\. The object might have been modified$/);
  });

  it("programmatic graceful deletion: startGracefulDeletion then finishDeletion", async () => {
    const { s } = setup();
    const { events } = await watch(s, `resourceVersion=${s.resourceVersion}`);
    s.deletePod("default", "web-1", { gracePeriodSeconds: 10 });
    const [m] = await events.take(1);
    assert.equal(m!.type, "MODIFIED");
    assert.ok(m!.object.metadata["deletionTimestamp"]);
    s.finishDeletion("default", "web-1");
    const [d] = await events.take(1);
    assert.equal(d!.type, "DELETED");
    assert.throws(() => s.finishDeletion("default", "web-1"), /web-1 not found/);
    await events.cancel();
  });

  it("rejects unsupported methods with 405", async () => {
    const { s } = setup();
    const res = await call(s, "POST", POD, { body: {} });
    assert.equal(res.status, 405);
  });
});
