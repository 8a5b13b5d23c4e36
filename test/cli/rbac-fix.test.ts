// The RBAC fix the CLI prints: one Role and RoleBinding for every missing
// verb, bound to the identity the API server names.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { parseAllDocuments } from "yaml";
import { identityFromForbidden, rbacManifest, subjectOf } from "../../cli/rbac-fix.ts";

type Obj = Record<string, any>;

/** The objects between `kubectl apply -f - <<'EOF'` and `EOF`, as kubectl would read them. */
function objects(command: string): Obj[] {
  const lines = command.split("\n");
  assert.equal(lines[0], "kubectl apply -f - <<'EOF'");
  assert.equal(lines[lines.length - 1], "EOF", "the heredoc ends with EOF at the start of a line");
  return parseAllDocuments(lines.slice(1, -1).join("\n")).map((d) => {
    assert.equal(d.errors.length, 0, d.errors.map((e) => e.message).join("; "));
    return d.toJS() as Obj;
  });
}

describe("cli/rbac-fix", () => {
  it("reads the user from an apiserver 403 message", () => {
    const msg = 'pods is forbidden: User "system:serviceaccount:shop:nolist" cannot list resource "pods" in API group "" in the namespace "shop"';
    assert.equal(identityFromForbidden(msg), "system:serviceaccount:shop:nolist");
    assert.equal(identityFromForbidden('pods "a" is forbidden: User "jane@example.com" cannot patch resource "pods"'), "jane@example.com");
    assert.equal(identityFromForbidden("the server could not find the requested resource"), undefined);
  });

  it("names service accounts and users as RBAC subjects", () => {
    assert.deepEqual(subjectOf("system:serviceaccount:shop:app"), { kind: "ServiceAccount", namespace: "shop", name: "app" });
    assert.deepEqual(subjectOf("jane@example.com"), { kind: "User", name: "jane@example.com" });
  });

  it("one Role with every missing verb and one RoleBinding to the service account", () => {
    const cmd = rbacManifest({ verbs: ["watch", "list", "watch"], namespace: "shop", identity: "system:serviceaccount:shop:nolist" });
    const [role, binding, ...rest] = objects(cmd);
    assert.equal(rest.length, 0);
    assert.deepEqual(role, {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "Role",
      metadata: { name: "kratos-kube-nolist", namespace: "shop" },
      rules: [{ apiGroups: [""], resources: ["pods"], verbs: ["list", "watch"] }],
    });
    assert.deepEqual(binding, {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "RoleBinding",
      metadata: { name: "kratos-kube-nolist", namespace: "shop" },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "kratos-kube-nolist" },
      subjects: [{ kind: "ServiceAccount", name: "nolist", namespace: "shop" }],
    });
    assert.match(cmd, /^# {3}list: discovery lists pods/m);
    assert.doesNotMatch(cmd, /deploy\//, "no paths of the kratos-kube repository");
  });

  it("a user subject, and a placeholder when the identity is unknown", () => {
    const [, user] = objects(rbacManifest({ verbs: ["patch"], namespace: "default", identity: "Jane Doe" }));
    assert.deepEqual(user?.subjects, [{ apiGroup: "rbac.authorization.k8s.io", kind: "User", name: "Jane Doe" }]);
    assert.equal(user?.metadata.name, "kratos-kube-jane-doe");
    const [role, unknown] = objects(rbacManifest({ verbs: ["get"], namespace: "default", identity: undefined }));
    assert.equal(role?.metadata.name, "kratos-kube");
    assert.equal(unknown?.subjects[0].name, "REPLACE-WITH-THE-SERVICE-ACCOUNT");
  });
});
