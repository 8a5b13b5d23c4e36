// Structural checks of deploy/: every manifest parses, the Role grants exactly
// what kratos-kube calls (get/list/watch/patch on pods, namespaced), and the
// example Deployments carry what discovery and graceful draining need.
// kubectl-based checks live in kubectl.test.ts.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseAllDocuments } from "yaml";

const deployDir = resolve(dirname(fileURLToPath(import.meta.url)), "../../deploy");

type Obj = Record<string, any>;

function load(file: string): Obj[] {
  const docs = parseAllDocuments(readFileSync(join(deployDir, file), "utf8"));
  return docs.map((d) => {
    assert.equal(d.errors.length, 0, `${file}: ${d.errors.map((e) => e.message).join("; ")}`);
    return d.toJS() as Obj;
  });
}

const yamlFiles = readdirSync(deployDir).filter((f) => /\.ya?ml$/.test(f)).sort();
const manifests = yamlFiles.filter((f) => f !== "kustomization.yaml").flatMap((f) => load(f).map((o) => ({ file: f, o })));
const byKind = (kind: string): Obj[] => manifests.filter((m) => m.o.kind === kind).map((m) => m.o);

describe("deploy/ manifests", () => {
  it("every YAML file parses and every object has apiVersion, kind and metadata.name", () => {
    assert.ok(yamlFiles.length >= 6, `expected the manifests in deploy/, found ${yamlFiles.join(", ")}`);
    for (const { file, o } of manifests) {
      assert.equal(typeof o.apiVersion, "string", `${file}: apiVersion`);
      assert.equal(typeof o.kind, "string", `${file}: kind`);
      assert.equal(typeof o.metadata?.name, "string", `${file}: metadata.name`);
      assert.equal(o.metadata.namespace, undefined, `${file}: leave the namespace to kustomize / -n`);
    }
  });

  it("kustomization.yaml lists every manifest and nothing else", () => {
    const [k] = load("kustomization.yaml");
    assert.equal(k?.kind, "Kustomization");
    const listed = [...(k?.resources as string[])].sort();
    assert.deepEqual(listed, yamlFiles.filter((f) => f !== "kustomization.yaml"));
  });

  it("the Role grants exactly get, list, watch and patch on pods, namespaced, no wildcard", () => {
    assert.equal(byKind("ClusterRole").length, 0, "least privilege: a namespaced Role, no ClusterRole");
    assert.equal(byKind("ClusterRoleBinding").length, 0);
    const roles = byKind("Role");
    assert.equal(roles.length, 1);
    const rules = roles[0]?.rules as Obj[];
    assert.deepEqual(rules, [{ apiGroups: [""], resources: ["pods"], verbs: ["get", "list", "watch", "patch"] }]);
    assert.ok(!JSON.stringify(rules).includes("*"));
  });

  it("the RoleBinding binds that Role to the ServiceAccount the Deployments use", () => {
    const [sa] = byKind("ServiceAccount");
    const [role] = byKind("Role");
    const [rb] = byKind("RoleBinding");
    assert.deepEqual(rb?.roleRef, { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: role?.metadata.name });
    assert.deepEqual(rb?.subjects, [{ kind: "ServiceAccount", name: sa?.metadata.name }]);
    for (const d of byKind("Deployment")) {
      assert.equal(d.spec.template.spec.serviceAccountName, sa?.metadata.name, d.metadata.name);
    }
  });

  for (const [name, app] of [["sayhello", "sayhello.service"], ["micro-forge", "micro-forge.service"]] as const) {
    describe(`Deployment ${name}`, () => {
      const d = () => {
        const found = byKind("Deployment").find((x) => x.metadata.name === name);
        assert.ok(found, `deploy/ has no Deployment ${name}`);
        return found;
      };

      it("sets the kratos labels and protocols annotation statically in the Pod template", () => {
        const t = d().spec.template;
        assert.equal(t.metadata.labels["kratos-service-app"], app);
        assert.match(t.metadata.labels["kratos-service-version"], /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/);
        const protocols = JSON.parse(t.metadata.annotations["kratos-service-protocols"]) as Record<string, string>;
        const port = t.spec.containers[0].ports[0];
        assert.equal(protocols[String(port.containerPort)], "grpc");
        assert.equal(port.name, "grpc");
        for (const [k, v] of Object.entries(d().spec.selector.matchLabels)) assert.equal(t.metadata.labels[k], v);
      });

      it("gets POD_NAME and POD_NAMESPACE from the downward API", () => {
        const env = d().spec.template.spec.containers[0].env as Obj[];
        const field = (n: string) => env.find((e) => e.name === n)?.valueFrom?.fieldRef?.fieldPath;
        assert.equal(field("POD_NAME"), "metadata.name");
        assert.equal(field("POD_NAMESPACE"), "metadata.namespace");
      });

      it("has a gRPC readiness probe on the served port", () => {
        const c = d().spec.template.spec.containers[0];
        assert.equal(c.readinessProbe.grpc.port, c.ports[0].containerPort);
      });

      it("pauses in preStop and allows a longer termination grace period for draining", () => {
        const spec = d().spec.template.spec;
        const cmd = spec.containers[0].lifecycle.preStop.exec.command as string[];
        assert.equal(cmd[0], "sleep");
        const pause = Number(cmd[1]);
        assert.ok(pause > 0);
        assert.ok(spec.terminationGracePeriodSeconds > pause + 5, "grace period must cover the pause plus draining");
      });
    });
  }

  it("Dockerfiles build on node:24-slim and run the example programs", () => {
    for (const name of ["sayhello", "micro-forge"]) {
      const text = readFileSync(join(deployDir, `${name}.Dockerfile`), "utf8");
      const froms = [...text.matchAll(/^FROM\s+(\S+)/gm)].map((m) => m[1]);
      assert.ok(froms.length > 0 && froms.every((f) => f === "node:24-slim"), `${name}: ${froms.join(", ")}`);
      assert.match(text, new RegExp(`CMD \\["node", "deploy/examples/${name}\\.ts"\\]`));
      const image = byKind("Deployment").find((x) => x.metadata.name === name)?.spec.template.spec.containers[0].image;
      assert.equal(image, `kratos-kube/${name}:latest`);
    }
  });

  it("the example programs import only the public package API (and generated protos)", () => {
    for (const name of ["sayhello", "micro-forge"]) {
      const text = readFileSync(join(deployDir, "examples", `${name}.ts`), "utf8");
      const specs = [...text.matchAll(/^\s*import\s[^;]*?from\s+"([^"]+)"/gms)].map((m) => m[1] ?? "");
      assert.ok(specs.some((s) => s === "kratos-kube" || s === "kratos-kube/connect"), `${name} uses kratos-kube`);
      for (const s of specs) {
        const ok = s === "kratos-kube" || s === "kratos-kube/connect" || s.startsWith("@connectrpc/") ||
          s.startsWith("@bufbuild/") || s.startsWith("node:") || /^\.\.\/\.\.\/proto\/gen\//.test(s);
        assert.ok(ok, `${name}.ts imports ${s}: examples may use only kratos-kube, kratos-kube/connect, connect and proto/gen`);
      }
    }
  });
});
