/**
 * `kratos-kube demo --kubeconfig` (what `npm run demo -- --apiserver real`
 * runs) on a private real kube-apiserver: the whole scenario, the demo
 * playing the kubelet through the API, must hold its promise as on the fake.
 */
import { before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { captureIo } from "../../cli/io.ts";
import { run } from "../../cli/demo.ts";
import { privateControlPlane, realSkip, type ControlPlane } from "../support/real-cluster.ts";
import { cleanups } from "../support/real-watch.ts";

const skip = realSkip();
const closers = cleanups();
let cp: ControlPlane;

describe("kratos-kube demo on a real kube-apiserver", { skip }, () => {
  before(async () => {
    cp = await privateControlPlane();
    closers.push(() => cp.close());
  });

  it("runs the scenario through the API (pods created, made Ready, deleted gracefully) and holds the expected result", async () => {
    const io = captureIo();
    const code = await run(["--duration", "4", "--replicas", "2", "--rate", "40", "-o", "json", "--kubeconfig", cp.kubeconfig()], io);
    assert.equal(code, 0, io.err());
    assert.match(io.err(), new RegExp(`the API server of .*kubeconfig`));
    assert.match(io.err(), /watch: MODIFIED default\/sayhello-v1-\w+ terminating/);
    const doc = JSON.parse(io.out()) as { held: boolean; calls: { sent: number; ok: number; failed: number }; pods: { fate: string }[] };
    assert.equal(doc.held, true);
    assert.ok(doc.calls.sent >= 40, `calls were made: ${doc.calls.sent}`);
    assert.equal(doc.calls.ok + doc.calls.failed, doc.calls.sent);
    assert.ok(doc.pods.some((p) => p.fate === "killed") && doc.pods.some((p) => p.fate === "replaced"));
    // The API server really holds what the demo did: every pod it deleted is gone.
    const left = await cp.request({ path: "/api/v1/namespaces/default/pods" });
    const names = (left.json.items as { metadata: { name: string } }[]).map((p) => p.metadata.name);
    assert.ok(names.length <= doc.pods.filter((p) => p.fate === "running").length, `left: ${names.join(", ")}`);
  });
});
