/**
 * deploy/ against a real kube-apiserver (v1.34.4, see test/support/real-cluster.ts):
 * `kubectl apply --dry-run=server -k deploy/` passes in a namespace that
 * enforces Pod Security "restricted", the Deployments' Pod templates are
 * admitted there, RBAC gives each service account only its verbs, and the
 * ValidatingAdmissionPolicy lets a registrar patch only the kratos-service-*
 * keys of the Pod its token is bound to.
 *
 * There is no controller-manager or kubelet: the test creates the Pods a
 * ReplicaSet would create from the templates, and asks the TokenRequest API
 * for the Pod-bound token the kubelet would project into them.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseAllDocuments } from "yaml";
import { KubeConfig } from "../../src/kube/config.ts";
import { createKubeClient, KubeApiError } from "../../src/kube/index.ts";
import { KubernetesRegistry } from "../../src/index.ts";
import { expectOk, newNamespace, realSkip, releaseSharedCluster, sharedCluster, type Cluster } from "../support/real-cluster.ts";
import { FAKE_NODE, serviceAccountToken } from "../support/kubelet.ts";

const deployDir = resolve(dirname(fileURLToPath(import.meta.url)), "../../deploy");
const KUBECTL = process.env["KUBECTL"] ?? "kubectl";
const kubectlMissing = ((): string | undefined => {
  const r = spawnSync(KUBECTL, ["version", "--client"], { encoding: "utf8" });
  return r.status === 0 ? undefined : `kubectl is not installed (tried "${KUBECTL}"; set KUBECTL to its path)`;
})();
const skip = realSkip() ?? kubectlMissing ?? false;

type Obj = Record<string, any>;

function kubectl(args: string[], kubeconfig: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done, fail) => {
    const child = spawn(KUBECTL, ["--kubeconfig", kubeconfig, ...args], {
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
  });
}

/** The Pod a ReplicaSet would create from a Deployment's template, on a node nobody runs. */
function podFromTemplate(file: string, name: string): Obj {
  const d = parseAllDocuments(readFileSync(join(deployDir, file), "utf8")).map((x) => x.toJS() as Obj).find((o) => o.kind === "Deployment");
  assert.ok(d, `${file} has a Deployment`);
  const t = d.spec.template;
  return { apiVersion: "v1", kind: "Pod", metadata: { name, labels: t.metadata.labels, annotations: t.metadata.annotations }, spec: { ...t.spec, nodeName: FAKE_NODE } };
}

describe("deploy/ on a real kube-apiserver", { skip }, () => {
  let cluster: Cluster;
  let ns = "";
  let admin = "";
  const pods: Record<string, { name: string; uid: string }> = {};

  before(async () => {
    cluster = await sharedCluster();
    ns = await newNamespace(cluster, "deploy");
    // Pod Security "restricted", enforced and warned about (warnings name
    // violations of workload templates, which enforcement does not check).
    await expectOk(
      cluster.request({
        method: "PATCH",
        path: `/api/v1/namespaces/${ns}`,
        body: { metadata: { labels: { "pod-security.kubernetes.io/enforce": "restricted", "pod-security.kubernetes.io/warn": "restricted" } } },
      }),
      "label the namespace",
    );
    admin = cluster.kubeconfig(cluster.adminToken, ns);
  });
  after(async () => {
    // The policy and its binding stay (cluster-scoped): they act only in
    // namespaces with the kratos-kube-registrars ConfigMap, and the next
    // runtime's run applies them unchanged.
    if (cluster !== undefined) await cluster.request({ method: "DELETE", path: `/api/v1/namespaces/${ns}` });
    await releaseSharedCluster();
  });

  it("kubectl apply --dry-run=server -k deploy/ passes, without Pod Security warnings", async () => {
    const r = await kubectl(["apply", "--dry-run=server", "-k", deployDir, "-n", ns], admin);
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stderr, /PodSecurity|would violate/);
    const applied = r.stdout.trim().split("\n").map((l) => l.replace(/ (created|configured|unchanged) \(server dry run\)$/, "")).sort();
    assert.deepEqual(applied, [
      "configmap/kratos-kube-registrars",
      "deployment.apps/micro-forge",
      "deployment.apps/sayhello",
      "role.rbac.authorization.k8s.io/kratos-kube-discovery",
      "role.rbac.authorization.k8s.io/kratos-kube-endpointslices",
      "role.rbac.authorization.k8s.io/kratos-kube-registrar",
      "rolebinding.rbac.authorization.k8s.io/micro-forge-discovery",
      "rolebinding.rbac.authorization.k8s.io/micro-forge-registrar",
      "rolebinding.rbac.authorization.k8s.io/sayhello-registrar",
      "serviceaccount/micro-forge",
      "serviceaccount/sayhello",
      "validatingadmissionpolicy.admissionregistration.k8s.io/kratos-kube-registrar",
      "validatingadmissionpolicybinding.admissionregistration.k8s.io/kratos-kube-registrar",
    ]);
  });

  it("applied for real, its Pod templates are admitted under Pod Security restricted", async () => {
    const r = await kubectl(["apply", "-k", deployDir, "-n", ns], admin);
    assert.equal(r.code, 0, r.stderr);
    for (const [file, name] of [["sayhello.yaml", "sayhello-a"], ["sayhello.yaml", "sayhello-b"], ["micro-forge.yaml", "micro-forge-a"]] as const) {
      const created = await expectOk(cluster.request({ method: "POST", path: `/api/v1/namespaces/${ns}/pods`, body: podFromTemplate(file, name) }), `create ${name}`);
      pods[name] = { name, uid: String(created.json.metadata.uid) };
    }
    // The namespace does enforce: the same template without the restricted settings is refused.
    const loose = podFromTemplate("sayhello.yaml", "loose");
    delete loose.spec.securityContext;
    for (const c of loose.spec.containers) delete c.securityContext;
    const refused = await cluster.request({ method: "POST", path: `/api/v1/namespaces/${ns}/pods`, body: loose });
    assert.equal(refused.status, 403, refused.text);
    assert.match(String(refused.json?.message), /violates PodSecurity "restricted:latest": allowPrivilegeEscalation != false.*capabilities\.drop=\["ALL"\].*runAsNonRoot.*seccompProfile/);
  });

  it("RBAC: micro-forge may list and watch pods, sayhello may not; neither may get or update them", async () => {
    const can = async (sa: string, verb: string): Promise<boolean> => {
      const token = await serviceAccountToken(cluster, ns, sa);
      await using client = createKubeClient({ config: KubeConfig.fromOptions({ server: cluster.url, caPem: cluster.caPem, token, namespace: ns }) });
      return (await client.selfSubjectAccessReview({ verb, resource: "pods", namespace: ns })).allowed;
    };
    assert.deepEqual(
      await Promise.all(["list", "watch", "patch", "get", "update"].map((v) => can("micro-forge", v))),
      [true, true, true, false, false],
    );
    assert.deepEqual(await Promise.all(["list", "watch", "patch", "get", "update"].map((v) => can("sayhello", v))), [false, false, true, false, false]);
  });

  describe("the registrar ValidatingAdmissionPolicy", () => {
    let ownToken = "";
    const patchAs = async (token: string, pod: string, body: unknown, type = "application/strategic-merge-patch+json") =>
      await cluster.request({ method: "PATCH", path: `/api/v1/namespaces/${ns}/pods/${pod}`, body, contentType: type, token });

    before(async () => {
      ownToken = await serviceAccountToken(cluster, ns, "sayhello", { boundPod: pods["sayhello-a"]! });
      // The API server picks the policy up through an informer: wait (bounded)
      // until it denies what it must deny.
      const deadline = Date.now() + 30_000;
      for (;;) {
        const r = await patchAs(ownToken, "sayhello-b", { metadata: { labels: { "kratos-service-id": "probe" } } });
        if (r.status === 403 || r.status === 422) break;
        assert.equal(r.status, 200, r.text);
        if (Date.now() > deadline) assert.fail("the ValidatingAdmissionPolicy did not take effect within 30 s");
        await new Promise((done) => setTimeout(done, 250));
      }
      await expectOk(patchAs(cluster.adminToken, "sayhello-b", { metadata: { labels: { "kratos-service-id": null } } }), "undo the probe");
    });

    it("lets register() and deregister() patch the kratos keys of the pod the token is bound to", async () => {
      const registry = new KubernetesRegistry({
        config: KubeConfig.fromOptions({ server: cluster.url, caPem: cluster.caPem, token: ownToken, namespace: ns }),
        podName: "sayhello-a",
        podNamespace: ns,
      });
      try {
        const instance = { id: "sayhello-a", name: "sayhello.service", version: "v1.0.0", metadata: { weight: "100" }, endpoints: ["grpc://0.0.0.0:9000"] };
        await registry.register(instance);
        let pod = (await expectOk(cluster.request({ path: `/api/v1/namespaces/${ns}/pods/sayhello-a` }), "get")).json;
        assert.equal(pod.metadata.labels["kratos-service-id"], "sayhello-a");
        assert.equal(pod.metadata.annotations["kratos-service-metadata"], '{"weight":"100"}');
        await registry.deregister(instance);
        pod = (await expectOk(cluster.request({ path: `/api/v1/namespaces/${ns}/pods/sayhello-a` }), "get")).json;
        assert.equal(pod.metadata.labels["kratos-service-id"], undefined);
      } finally {
        await registry.close();
      }
    });

    it("denies patching another pod, even its kratos keys", async () => {
      const r = await patchAs(ownToken, "sayhello-b", { metadata: { labels: { "kratos-service-id": "sayhello-b" } } });
      assert.equal(r.status, 403, r.text);
      assert.match(r.text, /may patch only the pod its token is bound to, not sayhello-b/);
      // The library reports it as a 403 like any other.
      await using client = createKubeClient({ config: KubeConfig.fromOptions({ server: cluster.url, caPem: cluster.caPem, token: ownToken, namespace: ns }) });
      await assert.rejects(client.patchPod(ns, "sayhello-b", { metadata: { labels: { "kratos-service-id": "x" } } }, { type: "strategic" }), (e: unknown) => e instanceof KubeApiError && e.isForbidden());
    });

    it("denies other labels and annotations, and any change of the spec, on the own pod", async () => {
      const label = await patchAs(ownToken, "sayhello-a", { metadata: { labels: { "app.kubernetes.io/name": "evil" } } });
      assert.equal(label.status, 403, label.text);
      assert.match(label.text, /only the kratos-service-\* labels and annotations of the own pod may change/);
      const removed = await patchAs(ownToken, "sayhello-a", { metadata: { labels: { "app.kubernetes.io/part-of": null } } });
      assert.equal(removed.status, 403, removed.text);
      const annotation = await patchAs(ownToken, "sayhello-a", { metadata: { annotations: { "example.com/x": "1" } } });
      assert.equal(annotation.status, 403, annotation.text);
      const image = await patchAs(ownToken, "sayhello-a", { spec: { containers: [{ name: "sayhello", image: "registry.example.com/evil:1" }] } });
      assert.equal(image.status, 403, image.text);
      assert.match(image.text, /spec, owner references and finalizers may not change/);
    });

    it("denies a token that is not bound to a pod, and leaves other callers alone", async () => {
      const unbound = await serviceAccountToken(cluster, ns, "sayhello");
      const r = await patchAs(unbound, "sayhello-a", { metadata: { labels: { "kratos-service-id": "sayhello-a" } } });
      assert.equal(r.status, 403, r.text);
      assert.match(r.text, /may patch only the pod its token is bound to/);
      // The admin (not a listed service account) may change anything.
      await expectOk(patchAs(cluster.adminToken, "sayhello-b", { metadata: { labels: { "example.com/admin": "yes" } } }), "admin patch");
    });
  });
});
