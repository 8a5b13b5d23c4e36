import { describe, it, after } from "node:test";
import assert from "node:assert/strict";
import { createManualClock, FakeKubeApiServer, makePod } from "../../src/testing/index.ts";
import { call, watch } from "./helpers.ts";

const servers: FakeKubeApiServer[] = [];
function setup(): FakeKubeApiServer {
  const s = new FakeKubeApiServer({ clock: createManualClock() });
  servers.push(s);
  s.createPod(makePod({ name: "a", app: "web" }));
  return s;
}
after(async () => {
  for (const s of servers) await s.close();
});

const POD = "/api/v1/namespaces/default/pods";

/** Runs `writes` (all dry runs), then one real write; a watch opened before must see only the real one. */
async function assertNothingWritten(s: FakeKubeApiServer, writes: () => Promise<void>): Promise<void> {
  const rv = s.resourceVersion;
  const before = JSON.stringify(s.listPods());
  const { events } = await watch(s, `resourceVersion=${rv}`);
  await writes();
  assert.equal(s.resourceVersion, rv, "no resourceVersion was used");
  assert.equal(JSON.stringify(s.listPods()), before, "the store is unchanged");
  s.createPod(makePod({ name: "marker" }));
  const [first] = await events.take(1);
  assert.equal(first!.type, "ADDED");
  assert.equal(first!.object.metadata.name, "marker", "no watch event for any dry run");
  await events.cancel();
}

describe("dryRun=All", () => {
  it("POST answers 201 with the would-be pod (uid, timestamp, no resourceVersion) and stores nothing", async () => {
    const s = setup();
    await assertNothingWritten(s, async () => {
      const res = await call(s, "POST", `${POD}?dryRun=All&fieldManager=kubectl-create`, { body: makePod({ name: "b" }) });
      assert.equal(res.status, 201);
      const body = (await res.json()) as any;
      assert.equal(body.kind, "Pod");
      assert.equal(body.metadata.name, "b");
      assert.equal(typeof body.metadata.uid, "string");
      assert.equal(typeof body.metadata.creationTimestamp, "string");
      assert.equal(body.metadata.resourceVersion, undefined);
      assert.equal(body.status.phase, "Pending");
    });
    assert.equal(s.getPod("default", "b"), undefined);
  });

  it("POST still validates: an existing name is 409 AlreadyExists, a missing container 422", async () => {
    const s = setup();
    await assertNothingWritten(s, async () => {
      const dup = await call(s, "POST", `${POD}?dryRun=All`, { body: makePod({ name: "a" }) });
      assert.equal(dup.status, 409);
      assert.equal(((await dup.json()) as any).reason, "AlreadyExists");
      const bad = await call(s, "POST", `${POD}?dryRun=All`, { body: { metadata: { name: "x" }, spec: { containers: [] } } });
      assert.equal(bad.status, 422);
      await bad.text();
    });
  });

  it("PUT and PATCH (strategic, merge, json, and pods/status) answer the changed pod at the current resourceVersion", async () => {
    const s = setup();
    const cur = s.getPod("default", "a")!;
    await assertNothingWritten(s, async () => {
      const next = structuredClone(cur);
      next.metadata.labels = { ...next.metadata.labels, put: "yes" };
      const put = await call(s, "PUT", `${POD}/a?dryRun=All`, { body: next });
      assert.equal(put.status, 200);
      const pb = (await put.json()) as any;
      assert.equal(pb.metadata.labels.put, "yes");
      assert.equal(pb.metadata.resourceVersion, cur.metadata.resourceVersion);
      const types = {
        "application/strategic-merge-patch+json": { metadata: { labels: { p: "1" } } },
        "application/merge-patch+json": { metadata: { labels: { p: "1" } } },
        "application/json-patch+json": [{ op: "add", path: "/metadata/labels/p", value: "1" }],
      };
      for (const [contentType, body] of Object.entries(types)) {
        const res = await call(s, "PATCH", `${POD}/a?dryRun=All`, { body, contentType });
        assert.equal(res.status, 200, contentType);
        const b = (await res.json()) as any;
        assert.equal(b.metadata.labels.p, "1", contentType);
        assert.equal(b.metadata.resourceVersion, cur.metadata.resourceVersion, contentType);
      }
      const st = await call(s, "PATCH", `${POD}/a/status?dryRun=All`, {
        body: { status: { phase: "Failed" } },
        contentType: "application/merge-patch+json",
      });
      assert.equal(((await st.json()) as any).status.phase, "Failed");
    });
    assert.equal(s.getPod("default", "a")!.metadata.labels!["put"], undefined);
  });

  it("PATCH still checks the resourceVersion precondition (409)", async () => {
    const s = setup();
    await assertNothingWritten(s, async () => {
      const res = await call(s, "PATCH", `${POD}/a?dryRun=All`, {
        body: { metadata: { resourceVersion: "1", labels: { p: "1" } } },
        contentType: "application/merge-patch+json",
      });
      assert.equal(res.status, 409);
      await res.text();
    });
  });

  it("DELETE with dryRun in the DeleteOptions body (kubectl) or the query removes nothing; graceful shows the deletionTimestamp", async () => {
    const s = setup();
    await assertNothingWritten(s, async () => {
      const graceful = await call(s, "DELETE", `${POD}/a`, { body: { kind: "DeleteOptions", apiVersion: "v1", dryRun: ["All"] } });
      assert.equal(graceful.status, 200);
      const g = (await graceful.json()) as any;
      assert.equal(typeof g.metadata.deletionTimestamp, "string");
      assert.equal(g.metadata.deletionGracePeriodSeconds, 30);
      const now = await call(s, "DELETE", `${POD}/a?dryRun=All&gracePeriodSeconds=0`);
      assert.equal(now.status, 200);
      assert.equal(((await now.json()) as any).metadata.name, "a");
    });
    assert.equal(s.getPod("default", "a")!.metadata.deletionTimestamp, undefined);
  });

  it("an unknown dryRun value is 422 Invalid for the verb's options kind, as ValidateDryRun answers", async () => {
    const s = setup();
    const cases: [string, string, object | undefined, string][] = [
      ["POST", `${POD}?dryRun=Some`, makePod({ name: "b" }), "CreateOptions"],
      ["PUT", `${POD}/a?dryRun=Some`, s.getPod("default", "a"), "UpdateOptions"],
      ["PATCH", `${POD}/a?dryRun=Some`, {}, "PatchOptions"],
      ["DELETE", `${POD}/a`, { dryRun: ["Some"] }, "DeleteOptions"],
    ];
    await assertNothingWritten(s, async () => {
      for (const [method, path, body, kind] of cases) {
        const res = await call(s, method, path, body === undefined ? {} : { body, contentType: method === "PATCH" ? "application/merge-patch+json" : "application/json" });
        assert.equal(res.status, 422, method);
        const st = (await res.json()) as any;
        assert.equal(st.reason, "Invalid");
        assert.equal(st.details.kind, kind);
        assert.equal(st.details.group, "meta.k8s.io");
        assert.equal(st.message, `${kind}.meta.k8s.io "" is invalid: dryRun: Unsupported value: ["Some"]: supported values: "All"`);
      }
    });
  });
});
