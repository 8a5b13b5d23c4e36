/**
 * `kratos-kube doctor` and `instances` against a real kube-apiserver
 * (v1.34.4, test/support/real-cluster.ts), as a service account with real
 * RBAC: the identity comes from the real SelfSubjectReview, the printed Role
 * and RoleBinding are accepted by the real API server and fix what doctor
 * found, the real watch streams, and a service of real Greeters passes.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { dirname } from "node:path";
import { captureIo } from "../../cli/io.ts";
import { run as doctor } from "../../cli/doctor.ts";
import { run as instances } from "../../cli/instances.ts";
import { startGreeter, type GreeterServer } from "../../cli/demo/greeter-server.ts";
import { newNamespace, realSkip, releaseSharedCluster, sharedCluster, type Cluster } from "../support/real-cluster.ts";
import { grant, runPod, serviceAccountToken } from "../support/kubelet.ts";

const KUBECTL = process.env["KUBECTL"] ?? "kubectl";
const kubectlMissing = spawnSync(KUBECTL, ["version", "--client"], { encoding: "utf8" }).status === 0
  ? undefined
  : `kubectl is not installed (tried "${KUBECTL}"; set KUBECTL to its path)`;
const skip = realSkip() ?? kubectlMissing ?? false;

/** `kubectl apply -f -` with `input` on stdin. */
function kubectlApply(kubeconfig: string, input: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done, fail) => {
    const child = spawn(KUBECTL, ["--kubeconfig", kubeconfig, "apply", "-f", "-"], {
      env: { PATH: process.env["PATH"] ?? "/usr/bin:/bin", HOME: dirname(kubeconfig), KUBECTL_COMMAND_HEADERS: "false" },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
    child.on("error", (e) => {
      clearTimeout(timer);
      fail(e);
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      done({ code, stdout, stderr });
    });
    child.stdin.end(input);
  });
}

describe("doctor and instances on a real kube-apiserver", { skip }, () => {
  let cluster: Cluster;
  let ns = "";
  let greeter: GreeterServer;

  before(async () => {
    cluster = await sharedCluster();
    ns = await newNamespace(cluster, "doctor");
    greeter = await startGreeter({ name: "sayhello-a", workMs: 0 });
    await runPod(cluster, {
      namespace: ns,
      name: "sayhello-a",
      app: "sayhello.service",
      ip: "127.0.0.1",
      ports: [{ name: "grpc", containerPort: greeter.port }],
      protocols: `{"${greeter.port}":"grpc"}`,
    });
  });
  after(async () => {
    await greeter?.drain();
    if (cluster !== undefined) await cluster.request({ method: "DELETE", path: `/api/v1/namespaces/${ns}` });
    await releaseSharedCluster();
  });

  it("names the service account the API server sees; the Role it prints is accepted and fixes the RBAC checks", async () => {
    const token = await serviceAccountToken(cluster, ns, "nowatch");
    await grant(cluster, ns, { kind: "ServiceAccount", name: "nowatch", namespace: ns }, ["list"]);
    const kubeconfig = cluster.kubeconfig(token, ns);
    const io = captureIo();
    assert.equal(await doctor(["sayhello.service", "--kubeconfig", kubeconfig, "--timeout", "3000"], io), 1);
    const out = io.out();
    assert.match(out, /^PASS  rbac list/m);
    assert.match(out, new RegExp(`^FAIL  rbac watch\\s+cannot watch pods in namespace ${ns} as system:serviceaccount:${ns}:nowatch:`, "m"));
    assert.match(out, new RegExp(`^WARN  rbac patch\\s+cannot patch pods in namespace ${ns} as system:serviceaccount:${ns}:nowatch:`, "m"));
    const manifest = /^kubectl apply -f - <<'EOF'\n([\s\S]*?)\nEOF$/m.exec(out)?.[1];
    assert.ok(manifest, out);
    const applied = await kubectlApply(cluster.kubeconfig(cluster.adminToken, ns), manifest);
    assert.equal(applied.code, 0, applied.stderr);
    assert.match(applied.stdout, /role\.rbac\.authorization\.k8s\.io\/kratos-kube-nowatch created/);
    assert.match(applied.stdout, /rolebinding\.rbac\.authorization\.k8s\.io\/kratos-kube-nowatch created/);
    const again = captureIo();
    assert.equal(await doctor(["sayhello.service", "--kubeconfig", kubeconfig, "--timeout", "3000", "-o", "json"], again), 0, again.out());
    const report = JSON.parse(again.out()) as { checks: { name: string; verdict: string }[] };
    assert.deepEqual(report.checks.filter((c) => c.name.startsWith("rbac")).map((c) => c.verdict), ["PASS", "PASS", "PASS"]);
  });

  it("instances under a real 403 names the identity from its message", async () => {
    const token = await serviceAccountToken(cluster, ns, "nothing");
    const io = captureIo();
    assert.equal(await instances(["sayhello.service", "--kubeconfig", cluster.kubeconfig(token, ns)], io), 1);
    assert.match(io.err(), new RegExp(`^kratos-kube instances: forbidden to list pods in ${ns} as system:serviceaccount:${ns}:nothing: `));
    assert.match(io.err(), /^ {4}name: "nothing"$/m);
  });

  it("the real watch streams and a service of a real Greeter passes every check", async () => {
    const io = captureIo();
    const code = await doctor(["sayhello.service", "--kubeconfig", cluster.kubeconfig(cluster.adminToken, ns), "--timeout", "3000"], io);
    assert.match(io.out(), /^PASS  watch\s+a pod watch streams: the first event \(ADDED\)/m);
    assert.match(io.out(), /^PASS  reachable\s+grpc:\/\/127\.0\.0\.1:\d+: TCP connect and grpc\.health\.v1 SERVING/m);
    assert.equal(code, 0, io.out());
  });
});
