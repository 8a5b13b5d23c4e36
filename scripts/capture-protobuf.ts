/**
 * Captures what a real kube-apiserver answers in protobuf and in JSON for the
 * same objects, into test/fixtures/protobuf/ (the golden bytes of the
 * protobuf decoder's unit tests, test/kube/protobuf-golden.test.ts):
 *
 * - `pod-list.pb` / `pod-list.json`: LIST of two pods (one Ready dual-stack
 *   pod with ports, labels and annotations, one Pending without an IP);
 * - `pod.pb`: GET of the first; `status-404.pb`: GET of a missing pod;
 * - `slice-list.pb` / `slice-list.json`: LIST of two EndpointSlices;
 * - `watch-pods.pb` / `watch-pods.json`: a streaming list (sendInitialEvents,
 *   its initial-events-end bookmark), then a label change, a graceful delete
 *   and the deletion of an unscheduled pod;
 * - `watch-expired.pb`: a watch from a resourceVersion the server has
 *   compacted away (an ERROR event with a 410 Status).
 *
 * Run: `node --import tsx scripts/capture-protobuf.ts` (needs the binaries of
 * `node --import tsx scripts/k8s/build.ts`). It starts its own control plane.
 */
import { request as httpsRequest } from "node:https";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { startControlPlane } from "./k8s/control-plane.ts";
import { controlPlaneMissing } from "./k8s/paths.ts";
import { finishTermination, patchLabels, runPod, terminate } from "../test/support/kubelet.ts";
import { makeEndpointSlice } from "../src/testing/index.ts";

const PB = "application/vnd.kubernetes.protobuf";
const out = join(import.meta.dirname, "..", "test", "fixtures", "protobuf");

const missing = controlPlaneMissing();
if (missing !== undefined) {
  console.error(`cannot capture: ${missing}`);
  process.exit(1);
}
await using cp = await startControlPlane();

/** One GET with `accept`, the body as bytes; with `until`, a watch read until `until(bytes)` or 20 s. */
function get(path: string, accept: string, until?: (body: Buffer) => boolean): Promise<{ status: number; type: string; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(cp.url + path, { headers: { accept, authorization: `Bearer ${cp.adminToken}` }, ca: cp.caPem, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      const done = (): void => resolve({ status: res.statusCode ?? 0, type: String(res.headers["content-type"]), body: Buffer.concat(chunks) });
      const timer = until ? setTimeout(() => (req.destroy(), done()), 20_000) : undefined;
      res.on("data", (c: Buffer) => {
        chunks.push(c);
        if (until?.(Buffer.concat(chunks))) {
          clearTimeout(timer);
          req.destroy();
          done();
        }
      });
      res.on("end", () => (clearTimeout(timer), done()));
      res.on("error", reject);
    });
    req.on("error", (e) => (until ? undefined : reject(e)));
    req.end();
  });
}

const ns = "capture";
await cp.request({ method: "POST", path: "/api/v1/namespaces", body: { metadata: { name: ns } } });
await runPod(cp, {
  namespace: ns,
  name: "greeter-1",
  app: "greeter",
  ips: ["10.251.0.7", "fd00::7"],
  protocols: '{"9000":"grpc"}',
  metadata: '{"region":"eu","zone":"eu-1"}',
  labels: { tier: "backend" },
});
await runPod(cp, { namespace: ns, name: "greeter-2", app: "greeter", ip: null, ready: false }, { phase: "Pending", ips: [], ready: false });
const slices = "/apis/discovery.k8s.io/v1/namespaces/capture/endpointslices";
for (const [name, endpoints] of [
  ["greeter-a", [{ ip: "10.251.0.7", pod: "greeter-1", zone: "z1" }, { ip: "10.251.0.8", pod: "greeter-2", ready: false }]],
  ["greeter-b", [{ ip: "10.251.0.9", pod: "greeter-3", terminating: true }]],
] as const) {
  const body = makeEndpointSlice({ name, namespace: ns, service: "greeter", endpoints: [...endpoints], ports: [{ name: "grpc", port: 9000 }], managedBy: "capture" });
  const r = await cp.request({ method: "POST", path: slices, body });
  if (r.status !== 201) throw new Error(`create slice: ${r.status} ${r.text}`);
}

mkdirSync(out, { recursive: true });
const save = (file: string, a: { status: number; type: string; body: Buffer }): void => {
  writeFileSync(join(out, file), a.body);
  console.log(`${file}: HTTP ${a.status} ${a.type}, ${a.body.length} bytes`);
};
const pods = `/api/v1/namespaces/${ns}/pods`;
save("pod-list.pb", await get(pods, PB));
save("pod-list.json", await get(pods, "application/json"));
save("pod.pb", await get(`${pods}/greeter-1`, PB));
save("status-404.pb", await get(`${pods}/nobody`, PB));
save("slice-list.pb", await get(slices, PB));
save("slice-list.json", await get(slices, "application/json"));

await runPod(cp, { namespace: ns, name: "unscheduled", app: "greeter", nodeName: null }, null);
const watchPath = `${pods}?watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true`;
/** Whole frames (4-byte big-endian length + WatchEvent) and one of them a DELETED. */
const pbDeleted = (b: Buffer): boolean => {
  let at = 0;
  while (at + 4 <= b.length && at + 4 + b.readUInt32BE(at) <= b.length) at += 4 + b.readUInt32BE(at);
  return at === b.length && b.includes("DELETED");
};
const jsonDeleted = (b: Buffer): boolean => b.includes('"DELETED"') && b.at(-1) === 0x0a;
const pbWatch = get(watchPath, `${PB};stream=watch`, pbDeleted);
const jsonWatch = get(watchPath, "application/json", jsonDeleted);
await new Promise((r) => setTimeout(r, 1000));
await patchLabels(cp, ns, "greeter-1", { tier: "frontend" });
await terminate(cp, ns, "greeter-2");
// An unscheduled pod is deleted at once (a bound one waits for its kubelet).
await finishTermination(cp, ns, "unscheduled");
save("watch-pods.pb", await pbWatch);
save("watch-pods.json", await jsonWatch);

// A restarted apiserver's watch cache starts at etcd's current revision:
// writes elsewhere move it past `rv`, so a watch from `rv` is answered with
// an ERROR event carrying a 410 Expired Status.
const rv = String(((await cp.request({ path: pods })).json as { metadata: { resourceVersion: string } }).metadata.resourceVersion);
await cp.request({ method: "POST", path: "/api/v1/namespaces", body: { metadata: { name: "capture-busy" } } });
for (let i = 0; i < 3; i++) await runPod(cp, { namespace: "capture-busy", name: `b${i}`, app: "busy" }, null);
await cp.restartApiserver();
const expired = async (accept: string, done: (b: Buffer) => boolean) => {
  for (let i = 0; ; i++) {
    const a = await get(`${pods}?watch=true&resourceVersion=${rv}&allowWatchBookmarks=true`, accept, done);
    if (a.status === 200 || i === 20) return a;
    await new Promise((r) => setTimeout(r, 500));
  }
};
save("watch-expired.pb", await expired(`${PB};stream=watch`, (b) => b.includes("ERROR") && b.length >= 4 && b.length === 4 + b.readUInt32BE(0)));
save("watch-expired.json", await expired("application/json", (b) => b.includes('"ERROR"') && b.at(-1) === 0x0a));
