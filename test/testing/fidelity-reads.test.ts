// Reads as a real kube-apiserver v1.34 answers them (each found different by
// the differential suite, test/differential, and fixed): Table output for
// GET, LIST and WATCH, YAML, 406 for an unacceptable Accept, the plain 404 of
// unknown API groups, discovery and /version fields.
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createManualClock, FakeKubeApiServer, makePod } from "../../src/testing/index.ts";
import { humanDuration, podCells } from "../../src/testing/pod-table.ts";
import { negotiate } from "../../src/testing/negotiation.ts";

const TABLE = "application/json;as=Table;g=meta.k8s.io;v=v1";
const servers: FakeKubeApiServer[] = [];
after(async () => {
  for (const s of servers) await s.close();
});
function server(): FakeKubeApiServer {
  const clock = createManualClock();
  const s = new FakeKubeApiServer({ clock, wallTime: new Date("2026-07-01T12:00:00Z"), rechunk: false });
  servers.push(s);
  s.createPod(makePod({ name: "a", app: "shop", ip: "10.244.0.2", creationTimestamp: "2026-07-01T11:00:00Z" }));
  s.createPod(makePod({ name: "b", app: "shop", ready: false, ip: null, creationTimestamp: "2026-07-01T11:59:30Z" }));
  return s;
}
const get = (s: FakeKubeApiServer, path: string, accept?: string): Promise<Response> =>
  s.fetch(new Request(`http://fake${path}`, accept ? { headers: { accept } } : {}));

describe("fidelity of reads to a real kube-apiserver", () => {
  it("LIST as a Table: printPod's columns and cells, rows carrying PartialObjectMetadata, the list's metadata", async () => {
    const s = server();
    const t = (await (await get(s, "/api/v1/namespaces/default/pods?limit=1", TABLE)).json()) as any;
    assert.equal(t.kind, "Table");
    assert.equal(t.apiVersion, "meta.k8s.io/v1");
    assert.deepEqual(t.columnDefinitions.map((c: any) => `${c.name}:${c.priority}`), ["Name:0", "Ready:0", "Status:0", "Restarts:0", "Age:0", "IP:1", "Node:1", "Nominated Node:1", "Readiness Gates:1"]);
    assert.deepEqual(t.rows[0].cells, ["a", "1/1", "Running", "0", "60m", "10.244.0.2", s.getPod("default", "a")!.spec!.nodeName, "<none>", "<none>"]);
    assert.equal(t.rows[0].object.kind, "PartialObjectMetadata");
    assert.equal(t.rows[0].object.metadata.name, "a");
    assert.ok(t.metadata.continue, "the list's paging metadata is kept");
    const none = (await (await get(s, "/api/v1/namespaces/default/pods/b?includeObject=None", TABLE)).json()) as any;
    assert.deepEqual(none.rows.map((r: any) => [r.cells.slice(0, 5), "object" in r]), [[["b", "0/1", "Running", "0", "30s"], false]]);
    assert.equal(none.metadata.resourceVersion, s.getPod("default", "b")!.metadata.resourceVersion);
  });

  it("a Table watch sends the column definitions with the first event only", async () => {
    const s = server();
    const res = await get(s, `/api/v1/namespaces/default/pods?watch=true&resourceVersion=${s.resourceVersion}&timeoutSeconds=5`, TABLE);
    s.updatePod("default", "a", (p) => void (p.metadata.labels!["x"] = "1"));
    s.updatePod("default", "b", (p) => void (p.metadata.labels!["x"] = "1"));
    const reader = res.body!.getReader();
    let text = "";
    while (text.split("\n").length < 3) text += new TextDecoder().decode((await reader.read()).value);
    await reader.cancel();
    const [e1, e2] = text.trim().split("\n").map((l) => JSON.parse(l));
    assert.equal(e1.object.kind, "Table");
    assert.equal(e1.object.columnDefinitions.length, 9);
    assert.equal(e2.object.columnDefinitions, null);
    assert.deepEqual([e1.object.rows[0].cells[0], e2.object.rows[0].cells[0]], ["a", "b"]);
  });

  it("printPod's status and restarts: terminating, waiting reasons, restarts with the last one's age", () => {
    const now = Date.parse("2026-07-01T12:00:00Z");
    const pod = makePod({ name: "p" });
    pod.metadata.deletionTimestamp = "2026-07-01T12:00:30Z";
    assert.equal(podCells(pod, now)[2], "Terminating");
    const crashing = makePod({ name: "q", phase: "Running" });
    crashing.status!["containerStatuses"] = [{ name: "app", ready: false, restartCount: 3, state: { waiting: { reason: "CrashLoopBackOff" } }, lastState: { terminated: { exitCode: 1, finishedAt: "2026-07-01T11:58:00Z" } } }];
    assert.deepEqual(podCells(crashing, now).slice(1, 4), ["0/1", "CrashLoopBackOff", "3 (2m ago)"]);
    assert.deepEqual([59_000, 119_000, 150_000, 3_600_000, 30 * 3_600_000, 9 * 86_400_000].map(humanDuration), ["59s", "119s", "2m30s", "60m", "30h", "9d"]);
  });

  it("Accept: YAML re-encodes the answer (errors too), an unacceptable type is 406, protobuf is answered in protobuf", async () => {
    const s = server();
    const yaml = await get(s, "/api/v1/namespaces/default/pods/nope", "application/yaml");
    assert.equal(yaml.headers.get("content-type"), "application/yaml");
    assert.match(await yaml.text(), /^apiVersion: v1\ncode: 404\n/);
    const html = await get(s, "/api/v1/namespaces/default/pods/a", "text/html");
    assert.equal(html.status, 406);
    assert.equal(((await html.json()) as any).message, "406: Not Acceptable\n\nAvailable representations: application/json, application/yaml, application/vnd.kubernetes.protobuf");
    assert.equal(negotiate("application/vnd.kubernetes.protobuf, application/json", true), "protobuf");
    assert.equal(negotiate(`${TABLE}, application/json`, false), "json", "no Table where none is served");
    assert.equal(negotiate("text/html;q=0.9, */*;q=0.1", true), "json");
    const pb = await get(s, "/api/v1/namespaces/default/pods/a", "application/vnd.kubernetes.protobuf");
    assert.equal(pb.headers.get("content-type"), "application/vnd.kubernetes.protobuf");
    assert.deepEqual([...new Uint8Array(await pb.arrayBuffer()).subarray(0, 4)], [0x6b, 0x38, 0x73, 0x00], "k8s\\0 + runtime.Unknown");
  });

  it("an API group the server does not serve is the mux's plain 404; discovery and /version carry v1.34's fields", async () => {
    const s = server();
    const unknown = await get(s, "/apis/example.com/v1");
    assert.equal(unknown.status, 404);
    assert.equal(await unknown.text(), "404 page not found\n");
    const served = await get(s, "/apis/authorization.k8s.io/v1/nothing");
    assert.equal(((await served.json()) as any).reason, "NotFound");
    const core = (await (await get(s, "/api/v1")).json()) as any;
    assert.equal(core.resources.find((r: any) => r.name === "pods").storageVersionHash, "xPOwRZ+Yhw8=");
    const v = (await (await get(s, "/version")).json()) as any;
    assert.deepEqual(Object.keys(v).slice(0, 6), ["major", "minor", "emulationMajor", "emulationMinor", "minCompatibilityMajor", "minCompatibilityMinor"]);
  });
});
