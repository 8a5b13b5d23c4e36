/**
 * `kratos-kube instances`, `watch` and `doctor` against a real kube-apiserver,
 * each with a passing and a failing case, as service accounts with real RBAC
 * (the identities and 403 texts come from the real authorizer).
 */
import { before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { captureIo } from "../../cli/io.ts";
import { run as instances } from "../../cli/instances.ts";
import { run as doctor } from "../../cli/doctor.ts";
import { run as watch } from "../../cli/watch.ts";
import { startServer, type TestServer } from "../connect/support/servers.ts";
import { cleanups } from "../support/real-watch.ts";
import { newNamespace, realSkip, sharedCluster, type Cluster } from "../support/real-cluster.ts";
import { grant, runPod, serviceAccountToken, setStatus } from "../support/kubelet.ts";

const skip = realSkip();
const APP = "sayhello.service";
const closers = cleanups();

let cluster: Cluster;
let ns = "";
let greeter: TestServer;
let ok = "";
let noWatch = "";

describe("kratos-kube instances / watch / doctor against a real kube-apiserver", { skip }, () => {
  before(async () => {
    cluster = await sharedCluster();
    ns = await newNamespace(cluster, "cli");
    greeter = await startServer();
    closers.push(() => greeter.close());
    await runPod(cluster, {
      namespace: ns,
      name: "sayhello-a",
      app: APP,
      ip: "127.0.0.1",
      ports: [{ name: "grpc", containerPort: greeter.port }],
      protocols: `{"${greeter.port}":"grpc"}`,
    });
    await runPod(cluster, { namespace: ns, name: "sayhello-b", app: APP, ip: "127.0.11.2", ports: [{ name: "grpc", containerPort: 9000 }] }, { ready: false, ips: ["127.0.11.2"] });
    const tokenOk = await serviceAccountToken(cluster, ns, "operator");
    await grant(cluster, ns, { kind: "ServiceAccount", name: "operator", namespace: ns }, ["get", "list", "watch", "patch"]);
    ok = cluster.kubeconfig(tokenOk, ns);
    const tokenNoWatch = await serviceAccountToken(cluster, ns, "nowatch");
    await grant(cluster, ns, { kind: "ServiceAccount", name: "nowatch", namespace: ns }, ["get"]);
    noWatch = cluster.kubeconfig(tokenNoWatch, ns);
  });

  it("instances lists the service's pods with why one is excluded", async () => {
    const io = captureIo();
    assert.equal(await instances([APP, "--kubeconfig", ok], io), 0, io.err());
    const out = io.out();
    assert.match(out, new RegExp(`^sayhello-a\\s+127\\.0\\.0\\.1\\s+grpc://127\\.0\\.0\\.1:${greeter.port}\\s+v1\\.0\\.0\\s+True$`, "m"), out);
    assert.match(out, /^sayhello-b\s+127\.0\.11\.2\s+grpc:\/\/127\.0\.11\.2:9000\s+v1\.0\.0\s+False\s+not Ready/m, out);
    assert.match(out, /1 of 2 pods of sayhello\.service is routable/);
  });

  it("instances without the list right fails with the real identity and what to grant", async () => {
    const io = captureIo();
    assert.equal(await instances([APP, "--kubeconfig", noWatch], io), 1);
    const text = io.out() + io.err();
    assert.match(text, new RegExp(`system:serviceaccount:${ns}:nowatch`), text);
    assert.match(text, /list/);
  });

  it("doctor passes every check on the healthy service", async () => {
    const io = captureIo();
    const code = await doctor([APP, "--kubeconfig", ok, "--timeout", "3000"], io);
    const out = io.out();
    assert.match(out, /All \d+ checks passed/, out);
    assert.equal(code, 0, out);
  });

  it("doctor without watch names the service account the real authorizer saw and prints the Role to apply", async () => {
    const io = captureIo();
    assert.equal(await doctor([APP, "--kubeconfig", noWatch, "--timeout", "3000"], io), 1);
    const out = io.out();
    assert.match(out, /^FAIL  rbac (list|watch)/m, out);
    assert.match(out, new RegExp(`system:serviceaccount:${ns}:nowatch`), out);
    assert.match(out, /kind: Role\b/, out);
    assert.match(out, /kind: RoleBinding\b/, out);
  });

  it("watch prints the table, then each readiness change, until interrupted", async () => {
    const stop = new AbortController();
    const io = captureIo({ signal: stop.signal });
    const done = watch([APP, "--kubeconfig", ok], io);
    await io.waitForOut(/1 of 2 pods of sayhello\.service is routable/);
    await setStatus(cluster, ns, "sayhello-b", { ips: ["127.0.11.2"], ready: true });
    await io.waitForOut(new RegExp(`MODIFIED ${ns}/sayhello-b Ready false → true \\(routable\\)`));
    stop.abort();
    assert.equal(await done, 0);
  });

  it("watch without the watch right reports the refusal and keeps retrying until interrupted", async () => {
    const stop = new AbortController();
    const io = captureIo({ signal: stop.signal });
    const done = watch([APP, "--kubeconfig", noWatch], io);
    await io.waitForOut(/watch error \(retrying\): .*cannot (list|watch)/);
    assert.match(io.out(), new RegExp(`system:serviceaccount:${ns}:nowatch`));
    stop.abort();
    assert.equal(await done, 0);
  });
});
