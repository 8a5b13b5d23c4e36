// Structural checks of deploy/: every manifest parses, each workload has its
// own ServiceAccount with only the verbs it uses (discovery: list/watch;
// registration: patch, narrowed by a ValidatingAdmissionPolicy), the example
// Deployments carry what discovery, draining and Pod Security "restricted"
// need, images are pinned, and the Dockerfiles ship only production
// dependencies. kubectl-based checks live in kubectl.test.ts; the real
// apiserver (dry run, Pod Security, RBAC, the policy's CEL) in
// real-apiserver.test.ts.
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

  it("three namespaced Roles: discovery (list, watch), registrar (patch), endpointslices (list, watch), no ClusterRole, no wildcard", () => {
    assert.equal(byKind("ClusterRole").length, 0, "least privilege: namespaced Roles, no ClusterRole");
    assert.equal(byKind("ClusterRoleBinding").length, 0);
    const rules = Object.fromEntries(byKind("Role").map((r) => [r.metadata.name, r.rules]));
    assert.deepEqual(rules, {
      "kratos-kube-discovery": [{ apiGroups: [""], resources: ["pods"], verbs: ["list", "watch"] }],
      "kratos-kube-registrar": [{ apiGroups: [""], resources: ["pods"], verbs: ["patch"] }],
      "kratos-kube-endpointslices": [{ apiGroups: ["discovery.k8s.io"], resources: ["endpointslices"], verbs: ["list", "watch"] }],
    });
    assert.ok(!JSON.stringify(rules).includes("*"));
  });

  it("each Deployment runs as its own ServiceAccount, bound only to the Roles it uses", () => {
    const accounts = byKind("ServiceAccount").map((sa) => sa.metadata.name).sort();
    assert.deepEqual(accounts, ["micro-forge", "sayhello"]);
    const bound: Record<string, string[]> = {};
    for (const rb of byKind("RoleBinding")) {
      assert.equal(rb.roleRef.apiGroup, "rbac.authorization.k8s.io");
      assert.equal(rb.roleRef.kind, "Role");
      assert.ok(byKind("Role").some((r) => r.metadata.name === rb.roleRef.name), `${rb.metadata.name} binds an existing Role`);
      for (const s of rb.subjects as Obj[]) {
        assert.deepEqual(Object.keys(s).sort(), ["kind", "name"], "the namespace comes from kustomize / -n");
        assert.equal(s.kind, "ServiceAccount");
        (bound[s.name] ??= []).push(rb.roleRef.name);
      }
    }
    for (const v of Object.values(bound)) v.sort();
    // sayhello serves and registers; micro-forge discovers sayhello and registers itself.
    assert.deepEqual(bound, { sayhello: ["kratos-kube-registrar"], "micro-forge": ["kratos-kube-discovery", "kratos-kube-registrar"] });
    for (const d of byKind("Deployment")) {
      assert.equal(d.spec.template.spec.serviceAccountName, d.metadata.name, `${d.metadata.name} runs as its own ServiceAccount`);
    }
  });

  it("a ValidatingAdmissionPolicy narrows the registrars' patch to their own pod (its CEL is tested on the real apiserver)", () => {
    const [policy] = byKind("ValidatingAdmissionPolicy");
    const [binding] = byKind("ValidatingAdmissionPolicyBinding");
    assert.ok(policy && binding);
    assert.equal(policy.apiVersion, "admissionregistration.k8s.io/v1", "GA since Kubernetes 1.30");
    assert.equal(policy.spec.failurePolicy, "Fail");
    assert.deepEqual(policy.spec.matchConstraints.resourceRules, [{ apiGroups: [""], apiVersions: ["v1"], operations: ["UPDATE"], resources: ["pods"] }]);
    const text = JSON.stringify(policy.spec);
    assert.match(text, /authentication\.kubernetes\.io\/pod-name/);
    assert.match(text, /authentication\.kubernetes\.io\/pod-uid/);
    assert.match(text, /kratos-service-/);
    assert.equal(binding.spec.policyName, policy.metadata.name);
    assert.deepEqual(binding.spec.validationActions, ["Deny"]);
    assert.deepEqual(policy.spec.paramKind, { apiVersion: "v1", kind: "ConfigMap" });
    assert.equal(binding.spec.paramRef.namespace, undefined, "the ConfigMap of the namespace being written");
    assert.equal(binding.spec.paramRef.parameterNotFoundAction, "Allow");
    const params = byKind("ConfigMap").find((c) => c.metadata.name === binding.spec.paramRef.name);
    assert.ok(params, "the ConfigMap the binding names is in deploy/");
    const registrars = byKind("RoleBinding").filter((rb) => rb.roleRef.name === "kratos-kube-registrar").flatMap((rb) => (rb.subjects as Obj[]).map((s) => s.name));
    assert.deepEqual(String(params.data.serviceAccounts).split(" ").sort(), registrars.sort(), "every service account that may patch is listed");
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

      it("passes Pod Security \"restricted\": non-root, RuntimeDefault seccomp, no privilege escalation, all capabilities dropped", () => {
        const spec = d().spec.template.spec;
        assert.equal(spec.securityContext.runAsNonRoot, true);
        assert.ok(spec.securityContext.runAsUser > 0);
        assert.equal(spec.securityContext.seccompProfile.type, "RuntimeDefault");
        assert.equal(spec.hostNetwork ?? false, false);
        for (const c of spec.containers as Obj[]) {
          assert.equal(c.securityContext.allowPrivilegeEscalation, false, c.name);
          assert.deepEqual(c.securityContext.capabilities, { drop: ["ALL"] }, c.name);
          assert.notEqual(c.securityContext.privileged, true);
          assert.notEqual(c.securityContext.runAsNonRoot, false);
        }
      });

      it("pins its image: a fixed tag (or digest) from kustomization.yaml, never :latest", () => {
        const c = d().spec.template.spec.containers[0];
        const [k] = load("kustomization.yaml");
        const pin = (k?.images as Obj[]).find((i) => i.name === `kratos-kube/${name}`);
        assert.ok(pin, "kustomization.yaml pins the image");
        assert.ok(pin.digest !== undefined || /^\d+\.\d+\.\d+/.test(String(pin.newTag)), `pinned: ${JSON.stringify(pin)}`);
        assert.equal(c.image, `kratos-kube/${name}:${pin.newTag}`);
        assert.doesNotMatch(c.image, /:latest$/);
        assert.equal(c.imagePullPolicy, "IfNotPresent");
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

  it("Dockerfiles build on node:24-slim; the final image holds the example and the packed package's production dependencies only", () => {
    for (const name of ["sayhello", "micro-forge"]) {
      const text = readFileSync(join(deployDir, `${name}.Dockerfile`), "utf8").replace(/\\\n/g, " ");
      const froms = [...text.matchAll(/^FROM\s+(\S+)/gm)].map((m) => m[1]);
      assert.ok(froms.length === 3 && froms.every((f) => f === "node:24-slim"), `${name}: ${froms.join(", ")}`);
      const stages = text.split(/^FROM .*$/m).slice(1);
      const [build, deps, final] = stages;
      assert.match(build ?? "", /npm pack/, "the build stage packs the package");
      assert.match(deps ?? "", /npm install --omit=dev [^\n]*kratos-kube-\*\.tgz/, "an empty app installs the packed package without dev dependencies");
      assert.match(final ?? "", /^COPY --from=deps \/app\/node_modules \.\/node_modules$/m);
      const copies = [...(final ?? "").matchAll(/^COPY (.*)$/gm)].map((m) => m[1] ?? "");
      assert.ok(copies.every((c) => c.startsWith("--from=")), `the final stage copies only from the stages: ${copies.join("; ")}`);
      assert.ok(!copies.some((c) => /--from=build \/src\/node_modules|--from=build \/src\/dist| \. /.test(c)), `no repository node_modules or dist: ${copies.join("; ")}`);
      assert.match(final ?? "", /^USER 1000:1000$/m, "a numeric non-root user, as runAsNonRoot verifies");
      assert.match(final ?? "", new RegExp(`CMD \\["node", "deploy/examples/${name}\\.ts"\\]`));
    }
  });

  it("the example programs import only the public package API (and generated protos)", () => {
    for (const name of ["sayhello", "micro-forge"]) {
      const text = readFileSync(join(deployDir, "examples", `${name}.ts`), "utf8");
      const specs = [...text.matchAll(/^\s*import\s[^;]*?from\s+"([^"]+)"/gms)].map((m) => m[1] ?? "");
      assert.ok(specs.some((s) => s === "kratos-kube" || s === "kratos-kube/connect"), `${name} uses kratos-kube`);
      for (const s of specs) {
        const ok = s === "kratos-kube" || s === "kratos-kube/connect" || s === "kratos-kube/app" || s.startsWith("@connectrpc/") ||
          s.startsWith("@bufbuild/") || s.startsWith("node:") || /^\.\.\/\.\.\/proto\/gen\//.test(s);
        assert.ok(ok, `${name}.ts imports ${s}: examples may use only kratos-kube, kratos-kube/connect, kratos-kube/app, connect and proto/gen`);
      }
    }
  });
});
