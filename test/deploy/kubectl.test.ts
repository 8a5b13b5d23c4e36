// deploy/ through the real kubectl: `kubectl kustomize` renders the
// kustomization offline, and the Pod templates of both Deployments are created
// as Pods (`create --dry-run=server`, then a real create) with kubectl's
// strict field validation, on the fake API server and on a real
// kube-apiserver with the same test. The fake serves pods only, so the other
// objects are checked structurally in manifests.test.ts and against the real
// kube-apiserver in real-apiserver.test.ts.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseAllDocuments, stringify } from "yaml";
import { captureIo } from "../../cli/io.ts";
import { run as instances } from "../../cli/instances.ts";
import { fakeBackend, kubectl, kubectlMissing, realBackend, type KubectlBackend } from "../support/kubectl.ts";
import { realSkip, releaseSharedCluster, sharedCluster } from "../support/real-cluster.ts";

const deployDir = resolve(dirname(fileURLToPath(import.meta.url)), "../../deploy");

type Obj = Record<string, any>;

after(async () => {
  await releaseSharedCluster();
});

/** The Pod a Deployment's ReplicaSet would create from its template. */
function podFromTemplate(deployment: Obj): Obj {
  const t = deployment.spec.template;
  return { apiVersion: "v1", kind: "Pod", metadata: { name: `${deployment.metadata.name}-0`, labels: t.metadata.labels, annotations: t.metadata.annotations }, spec: t.spec };
}

describe("deploy/ with kubectl", { skip: kubectlMissing }, () => {
  const fake = fakeBackend({ tls: false });
  let kubeconfig = "";
  before(async () => {
    await fake.start();
    kubeconfig = fake.kubeconfig("admin", "default");
  });
  after(() => fake.close());

  /** kubectl with `args` only (kustomize needs no server). */
  const offline = (args: string[]) => kubectl(kubeconfig, args);

  it("kubectl kustomize renders every object of deploy/", async () => {
    const r = await offline(["kustomize", deployDir]);
    assert.equal(r.code, 0, r.stderr);
    const kinds = parseAllDocuments(r.stdout).map((d) => `${(d.toJS() as Obj).kind}/${(d.toJS() as Obj).metadata.name}`).sort();
    assert.deepEqual(kinds, [
      "ConfigMap/kratos-kube-registrars",
      "Deployment/micro-forge",
      "Deployment/sayhello",
      "Role/kratos-kube-discovery",
      "Role/kratos-kube-endpointslices",
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

});

const backends: { backend: KubectlBackend; skip: string | false | undefined }[] = [
  { backend: fakeBackend({ tls: false }), skip: kubectlMissing },
  { backend: realBackend(() => sharedCluster()), skip: kubectlMissing || realSkip() },
];

for (const { backend: b, skip } of backends) {
  describe(`deploy/ Pod templates on ${b.name}`, { skip }, () => {
    let ns = "";
    let kubeconfig = "";
    before(async () => {
      await b.start();
      ns = await b.namespace("deploy");
      kubeconfig = b.kubeconfig("admin", ns);
    });
    after(() => b.close());

    for (const name of ["sayhello", "micro-forge"]) {
      it(`the ${name} Pod template passes strict server-side validation and is created`, async () => {
        const deployment = parseAllDocuments(readFileSync(join(deployDir, `${name}.yaml`), "utf8"))
          .map((d) => d.toJS() as Obj)
          .find((o) => o.kind === "Deployment");
        assert.ok(deployment);
        const dir = join(kubeconfig, "..");
        const dryFile = join(dir, `${ns}-${name}-dry.yaml`);
        const dryPod = podFromTemplate(deployment);
        dryPod.metadata.name = `${name}-dry`;
        writeFileSync(dryFile, stringify(dryPod));
        const dry = await kubectl(kubeconfig, ["create", "--dry-run=server", "-f", dryFile, "-o", "name"]);
        assert.equal(dry.code, 0, dry.stderr);
        assert.equal(dry.stdout.trim(), `pod/${name}-dry`);
        assert.equal(await b.pod(ns, `${name}-dry`), undefined, "a dry run stores nothing");
        const file = join(dir, `${ns}-${name}-pod.yaml`);
        writeFileSync(file, stringify(podFromTemplate(deployment)));
        const created = await kubectl(kubeconfig, ["create", "-f", file]);
        assert.equal(created.code, 0, created.stderr);
        const pod = await b.pod(ns, `${name}-0`);
        assert.equal(pod?.metadata.labels?.["kratos-service-app"], `${name}.service`);
      });
    }

    it("a pod fresh from the template is listed by `instances` as not yet routable", async () => {
      const io = captureIo();
      assert.equal(await instances(["sayhello.service", "--kubeconfig", kubeconfig], io), 0, io.err());
      assert.match(io.out(), /^sayhello-0\s+<none>\s+<none>\s+v1\.0\.0\s+False\s+(phase is \w+, not Running|pod has no IP)/m);
    });
  });
}
