// Writes as a real kube-apiserver v1.34 answers them (each behaviour here was
// found different by the differential suite, test/differential, and fixed):
// defaults and generation on create, the QoS class, immutable pod specs,
// writes that change nothing, the status subresource, graceful deletion in
// two steps, DeleteOptions from the body or the query, deletecollection, and
// body decoding with Go's messages.
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createManualClock, FakeKubeApiServer, makePod } from "../../src/testing/index.ts";
import { podQosClass, quantity } from "../../src/testing/pod-defaults.ts";
import { call, watch } from "./helpers.ts";

const servers: FakeKubeApiServer[] = [];
after(async () => {
  for (const s of servers) await s.close();
});
function server(): FakeKubeApiServer {
  const s = new FakeKubeApiServer({ clock: createManualClock(), wallTime: new Date("2026-01-01T00:00:00Z"), rechunk: false });
  servers.push(s);
  return s;
}
const PODS = "/api/v1/namespaces/default/pods";
const minimal = (name: string, extra: Record<string, unknown> = {}): unknown => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name },
  spec: { nodeName: "n1", containers: [{ name: "main", image: "registry.example/app:1" }], ...extra },
});
const json = async (r: Response): Promise<any> => (await r.json()) as any;

describe("fidelity of writes to a real kube-apiserver", () => {
  it("create: v1 defaults, admission defaults, generation 1, QoS class", async () => {
    const s = server();
    const p = await json(await call(s, "POST", PODS, { body: minimal("a") }));
    assert.equal(p.metadata.generation, 1);
    assert.deepEqual(p.status, { phase: "Pending", qosClass: "BestEffort" });
    assert.deepEqual(p.spec.containers[0], {
      name: "main",
      image: "registry.example/app:1",
      resources: {},
      terminationMessagePath: "/dev/termination-log",
      terminationMessagePolicy: "File",
      imagePullPolicy: "IfNotPresent",
    });
    assert.equal(p.spec.restartPolicy, "Always");
    assert.equal(p.spec.terminationGracePeriodSeconds, 30);
    assert.equal(p.spec.dnsPolicy, "ClusterFirst");
    assert.equal(p.spec.schedulerName, "default-scheduler");
    assert.equal(p.spec.enableServiceLinks, true);
    assert.equal(p.spec.priority, 0);
    assert.equal(p.spec.preemptionPolicy, "PreemptLowerPriority");
    assert.deepEqual(p.spec.tolerations.map((t: any) => `${t.key}:${t.effect}:${t.tolerationSeconds}`), [
      "node.kubernetes.io/not-ready:NoExecute:300",
      "node.kubernetes.io/unreachable:NoExecute:300",
    ]);
    const latest = await json(await call(s, "POST", PODS, { body: minimal("b", { containers: [{ name: "m", image: "app" }] }) }));
    assert.equal(latest.spec.containers[0].imagePullPolicy, "Always", "no tag means latest");
  });

  it("the QoS class follows the containers' requests and limits", () => {
    const pod = (resources: unknown[]): any => ({ spec: { containers: resources.map((r, i) => ({ name: `c${i}`, resources: r })) } });
    assert.equal(podQosClass(pod([{}])), "BestEffort");
    assert.equal(podQosClass(pod([{ requests: { cpu: "100m" } }])), "Burstable");
    assert.equal(podQosClass(pod([{ limits: { cpu: "1", memory: "1Gi" }, requests: { cpu: "1000m", memory: "1024Mi" } }])), "Guaranteed");
    assert.equal(podQosClass(pod([{ limits: { cpu: "1", memory: "1Gi" } }, { requests: { cpu: "1" } }])), "Burstable");
    assert.deepEqual(["250m", "1Ki", "2e3", "1.5G"].map(quantity), [0.25, 1024, 2000, 1.5e9]);
  });

  it("update: a spec change bumps the generation; other spec fields than images are immutable (422)", async () => {
    const s = server();
    const created = await json(await call(s, "POST", PODS, { body: minimal("a") }));
    const image = { ...created, spec: { ...created.spec, containers: [{ ...created.spec.containers[0], image: "registry.example/app:2" }] } };
    const updated = await json(await call(s, "PUT", `${PODS}/a`, { body: image }));
    assert.equal(updated.metadata.generation, 2);
    const moved = { ...updated, spec: { ...updated.spec, nodeName: "elsewhere" } };
    const refused = await call(s, "PUT", `${PODS}/a`, { body: moved });
    assert.equal(refused.status, 422);
    const st = await json(refused);
    assert.match(st.message, /^Pod "a" is invalid: spec: Forbidden: pod updates may not change fields other than `spec\.containers\[\*\]\.image`/);
    assert.deepEqual(st.details.causes.map((c: any) => [c.reason, c.field]), [["FieldValueForbidden", "spec"]]);
  });

  it("a write that changes nothing keeps the resourceVersion and sends no event", async () => {
    const s = server();
    const created = await json(await call(s, "POST", PODS, { body: minimal("a") }));
    const { events } = await watch(s, `resourceVersion=${s.resourceVersion}&timeoutSeconds=1`);
    const same = await json(await call(s, "PATCH", `${PODS}/a`, { body: { metadata: { labels: {} } }, contentType: "application/merge-patch+json" }));
    assert.equal(same.metadata.resourceVersion, created.metadata.resourceVersion);
    await (s as unknown as { close(): Promise<void> }).close();
    assert.deepEqual(await events.rest(), []);
  });

  it("pods/status takes labels but keeps the spec; conditions get null probe and transition times", async () => {
    const s = server();
    await call(s, "POST", PODS, { body: minimal("a") });
    const p = await json(await call(s, "PATCH", `${PODS}/a/status`, {
      body: { metadata: { labels: { via: "status" } }, spec: { activeDeadlineSeconds: 5 }, status: { conditions: [{ type: "Ready", status: "True" }] } },
      contentType: "application/merge-patch+json",
    }));
    assert.equal(p.metadata.labels.via, "status");
    assert.equal(p.spec.activeDeadlineSeconds, undefined);
    assert.deepEqual(p.status.conditions, [{ type: "Ready", status: "True", lastProbeTime: null, lastTransitionTime: null }]);
    assert.equal(p.status.qosClass, "BestEffort", "kept when the write has none");
    const bad = await call(s, "PATCH", `${PODS}/a/status`, { body: { status: { conditions: [{ type: "", status: "True" }] } }, contentType: "application/merge-patch+json" });
    assert.equal(bad.status, 422);
    assert.match((await json(bad)).message, /^Pod "a" is invalid: \[status\.conditions\[0\]\.Type: Invalid value: "": name part must be non-empty, /);
  });

  it("delete with grace 0 is two events: MODIFIED (deletionTimestamp, generation+1) then DELETED", async () => {
    const s = server();
    await call(s, "POST", PODS, { body: minimal("a") });
    const { events } = await watch(s, `resourceVersion=${s.resourceVersion}`);
    const gone = await json(await call(s, "DELETE", `${PODS}/a`, { body: { kind: "DeleteOptions", apiVersion: "v1", gracePeriodSeconds: 0 } }));
    assert.equal(gone.metadata.deletionGracePeriodSeconds, 0);
    assert.equal(gone.metadata.generation, 2);
    const [m, d] = await events.take(2);
    assert.deepEqual([m!.type, d!.type], ["MODIFIED", "DELETED"]);
    assert.equal(m!.object.metadata["deletionGracePeriodSeconds"], 0);
    await events.cancel();
  });

  it("DeleteOptions come from the body when there is one: the query's dryRun is then ignored", async () => {
    const s = server();
    for (const n of ["a", "b", "c"]) await call(s, "POST", PODS, { body: minimal(n) });
    const dry = await json(await call(s, "DELETE", `${PODS}/a?dryRun=All`));
    assert.equal(dry.metadata.deletionGracePeriodSeconds, 30);
    assert.equal(s.getPod("default", "a")?.metadata.deletionTimestamp, undefined, "a query-only dry run writes nothing");
    await call(s, "DELETE", `${PODS}/b?dryRun=All`, { body: { gracePeriodSeconds: 0 } });
    assert.equal(s.getPod("default", "b"), undefined, "with a body, ?dryRun=All does not apply");
    await call(s, "DELETE", `${PODS}/c`, { body: { gracePeriodSeconds: 0, dryRun: ["All"] } });
    assert.ok(s.getPod("default", "c"), "dryRun in the body applies");
    const bad = await call(s, "DELETE", `${PODS}/c`, { body: "{nope" });
    assert.equal(bad.status, 500);
    assert.deepEqual(await json(bad), {
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Failure",
      message: "couldn't get version/kind; json parse error: invalid character 'n' looking for beginning of object key string",
      code: 500,
    });
  });

  it("a terminating pod only takes a shorter grace period", async () => {
    const s = server();
    await call(s, "POST", PODS, { body: minimal("a") });
    const first = await json(await call(s, "DELETE", `${PODS}/a`, { body: { gracePeriodSeconds: 10 } }));
    const longer = await json(await call(s, "DELETE", `${PODS}/a`, { body: { gracePeriodSeconds: 30 } }));
    assert.equal(longer.metadata.resourceVersion, first.metadata.resourceVersion);
    const shorter = await json(await call(s, "DELETE", `${PODS}/a`, { body: { gracePeriodSeconds: 5 } }));
    assert.equal(shorter.metadata.deletionGracePeriodSeconds, 5);
    assert.equal(shorter.metadata.generation, 2, "only the first graceful delete bumps the generation");
  });

  it("kubelet: false leaves a gracefully deleted pod terminating after its grace period", async () => {
    const clock = createManualClock();
    const s = new FakeKubeApiServer({ clock, kubelet: false });
    servers.push(s);
    await call(s, "POST", PODS, { body: minimal("a") });
    await call(s, "DELETE", `${PODS}/a`, { body: { gracePeriodSeconds: 5 } });
    await clock.advance(60_000);
    assert.ok(s.getPod("default", "a")?.metadata.deletionTimestamp, "still there, terminating");
    await call(s, "DELETE", `${PODS}/a`, { body: { gracePeriodSeconds: 0 } });
    assert.equal(s.getPod("default", "a"), undefined);
  });

  it("deletecollection deletes what the selector picks and lists those pods as they were", async () => {
    const s = server();
    s.createPod(makePod({ name: "x1", labels: { tier: "back" } }));
    s.createPod(makePod({ name: "x2", labels: { tier: "front" } }));
    const res = await call(s, "DELETE", `${PODS}?labelSelector=tier%3Dback`, { body: { gracePeriodSeconds: 0 } });
    assert.equal(res.status, 200);
    const list = await json(res);
    assert.equal(list.kind, "PodList");
    assert.deepEqual(list.items.map((p: any) => [p.metadata.name, p.metadata.deletionTimestamp]), [["x1", undefined]]);
    assert.deepEqual(s.listPods("default").map((p) => p.metadata.name), ["x2"]);
  });

  it("bodies: JSON and YAML decode, other types are 415, bad ones get Go's messages", async () => {
    const s = server();
    const yaml = await call(s, "POST", PODS, { body: "apiVersion: v1\nkind: Pod\nmetadata:\n  name: y\nspec:\n  containers:\n  - name: m\n    image: i:1\n", contentType: "application/yaml" });
    assert.equal(yaml.status, 201);
    const text = await call(s, "POST", PODS, { body: JSON.stringify(minimal("t")), contentType: "text/plain" });
    assert.equal(text.status, 415);
    assert.equal((await json(text)).message, "the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf");
    const cut = await json(await call(s, "POST", PODS, { body: '{"metadata": {"name": "z"' }));
    assert.equal(cut.message, 'the object provided is unrecognized (must be of type Pod): couldn\'t get version/kind; json parse error: unexpected end of JSON input ({"metadata": {"name": "z")');
    const list = await json(await call(s, "POST", PODS, { body: "[1, 2]" }));
    assert.match(list.message, /json: cannot unmarshal array into Go value of type struct \{ APIVersion string .* \(5b312c20325d\)$/);
    const svc = await json(await call(s, "POST", PODS, { body: { apiVersion: "v1", kind: "Service", metadata: { name: "s" } } }));
    assert.equal(svc.message, 'Service in version "v1" cannot be handled as a Pod: converting (v1.Service) to (core.Pod): unknown conversion');
    const empty = await json(await call(s, "POST", PODS, { body: "null" }));
    assert.equal(empty.message, 'Pod "" is invalid: [metadata.name: Required value: name or generateName is required, spec.containers: Required value]');
  });

  it("serves the legacy watch of one pod (/api/v1/watch/namespaces/NS/pods/NAME)", async () => {
    const s = server();
    s.createPod(makePod({ name: "a" }));
    s.createPod(makePod({ name: "b" }));
    const res = await call(s, "GET", "/api/v1/watch/namespaces/default/pods/b?timeoutSeconds=1");
    const reader = res.body!.getReader();
    const { value } = await reader.read();
    await reader.cancel();
    const names = new TextDecoder().decode(value).trim().split("\n").map((l) => JSON.parse(l).object.metadata.name);
    assert.deepEqual(names, ["b"]);
  });
});
