// deploy/ through the real kubectl: `kubectl kustomize` renders the
// kustomization offline, and the Pod templates of both Deployments are created
// as Pods on the fake API server (`create --dry-run=server`, then a real
// create) with kubectl's strict field validation. The fake serves pods only,
// so the other objects are checked structurally in manifests.test.ts and
// against the real kube-apiserver in real-apiserver.test.ts.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseAllDocuments, stringify } from "yaml";
import { FakeKubeApiServer } from "../../src/testing/index.ts";
import { captureIo } from "../../cli/io.ts";
import { run as instances } from "../../cli/instances.ts";

const deployDir = resolve(dirname(fileURLToPath(import.meta.url)), "../../deploy");
const KUBECTL = process.env["KUBECTL"] ?? "kubectl";
const kubectlMissing = ((): string | false => {
  const r = spawnSync(KUBECTL, ["version", "--client"], { encoding: "utf8" });
  return r.status === 0 ? false : `kubectl is not installed (tried "${KUBECTL}"; set KUBECTL to its path)`;
})();

type Obj = Record<string, any>;

/** Runs kubectl without blocking the event loop (the fake server shares it). */
function kubectl(args: string[], home: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done, fail) => {
    const child = spawn(KUBECTL, args, { env: { PATH: process.env["PATH"] ?? "/usr/bin:/bin", HOME: home, KUBECTL_COMMAND_HEADERS: "false" } });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
    child.on("error", (e) => {
      clearTimeout(timer);
      fail(e);
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      done({ code, stdout, stderr });
    });
  });
}

/** The Pod a Deployment's ReplicaSet would create from its template. */
function podFromTemplate(deployment: Obj): Obj {
  const t = deployment.spec.template;
  return { apiVersion: "v1", kind: "Pod", metadata: { name: `${deployment.metadata.name}-0`, labels: t.metadata.labels, annotations: t.metadata.annotations }, spec: t.spec };
}

describe("deploy/ with kubectl", { skip: kubectlMissing }, () => {
  const home = mkdtempSync(join(tmpdir(), "kratos-kube-deploy-"));
  const fake = new FakeKubeApiServer();
  let kubeconfig = "";

  before(async () => {
    await fake.listen();
    kubeconfig = join(home, "kubeconfig.yaml");
    writeFileSync(kubeconfig, fake.kubeconfig());
  });
  after(async () => {
    await fake.close();
    rmSync(home, { recursive: true, force: true });
  });

  it("kubectl kustomize renders every object of deploy/", async () => {
    const r = await kubectl(["kustomize", deployDir], home);
    assert.equal(r.code, 0, r.stderr);
    const kinds = parseAllDocuments(r.stdout).map((d) => `${(d.toJS() as Obj).kind}/${(d.toJS() as Obj).metadata.name}`).sort();
    assert.deepEqual(kinds, [
      "ConfigMap/kratos-kube-registrars",
      "Deployment/micro-forge",
      "Deployment/sayhello",
      "Role/kratos-kube-discovery",
      "Role/kratos-kube-registrar",
      "RoleBinding/micro-forge-discovery",
      "RoleBinding/micro-forge-registrar",
      "RoleBinding/sayhello-registrar",
      "ServiceAccount/micro-forge",
      "ServiceAccount/sayhello",
      "ValidatingAdmissionPolicy/kratos-kube-registrar",
      "ValidatingAdmissionPolicyBinding/kratos-kube-registrar",
    ]);
  });

  for (const name of ["sayhello", "micro-forge"]) {
    it(`the ${name} Pod template passes strict server-side validation and is created`, async () => {
      const deployment = parseAllDocuments(readFileSync(join(deployDir, `${name}.yaml`), "utf8"))
        .map((d) => d.toJS() as Obj)
        .find((o) => o.kind === "Deployment");
      assert.ok(deployment);
      // The dry run uses its own pod name: the fake API server does not
      // implement dryRun=All yet (it stores the pod), which this test does not
      // check, so the real create below must not collide with it.
      const dryFile = join(home, `${name}-dry.yaml`);
      const dryPod = podFromTemplate(deployment);
      dryPod.metadata.name = `${name}-dry`;
      writeFileSync(dryFile, stringify(dryPod));
      const dry = await kubectl(["--kubeconfig", kubeconfig, "create", "--dry-run=server", "-f", dryFile, "-o", "name"], home);
      assert.equal(dry.code, 0, dry.stderr);
      assert.equal(dry.stdout.trim(), `pod/${name}-dry`);
      const file = join(home, `${name}-pod.yaml`);
      writeFileSync(file, stringify(podFromTemplate(deployment)));
      const real = await kubectl(["--kubeconfig", kubeconfig, "create", "-f", file], home);
      assert.equal(real.code, 0, real.stderr);
      const pod = fake.getPod("default", `${name}-0`);
      assert.equal(pod?.metadata.labels?.["kratos-service-app"], `${name}.service`);
    });
  }

  it("a pod fresh from the template is listed by `instances` as not yet routable", async () => {
    const io = captureIo();
    assert.equal(await instances(["sayhello.service", "--kubeconfig", kubeconfig], io), 0, io.err());
    assert.match(io.out(), /^sayhello-0\s+<none>\s+<none>\s+v1\.0\.0\s+False\s+(phase is \w+, not Running|pod has no IP)/m);
  });
});
