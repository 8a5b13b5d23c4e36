/**
 * RegistryError and the RBAC message builder.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { forbiddenError, RegistryError } from "../../src/registry/errors.ts";

describe("registry errors", () => {
  it("takes verb, namespace and user from the apiserver's 403 message", () => {
    const cause = new Error('403 Forbidden: pods is forbidden: User "system:serviceaccount:shop:sayhello" cannot watch resource "pods" in API group "" in the namespace "shop"');
    const e = forbiddenError({ verb: "list", resource: "pods", namespace: "other", identity: undefined }, cause);
    assert.equal(e.code, "FORBIDDEN");
    assert.equal(e.cause, cause);
    assert.match(e.message, /^cannot watch pods in namespace shop as system:serviceaccount:shop:sayhello; grant it "watch" on pods/);
  });

  it("describes cluster-scoped refusals and falls back to the known parts", () => {
    const cluster = forbiddenError(
      { verb: "list", resource: "pods", namespace: undefined, identity: undefined },
      new Error('pods is forbidden: User "alice" cannot list resource "pods" in API group "" at the cluster scope'),
    );
    assert.match(cluster.message, /^cannot list pods at the cluster scope \(all namespaces\) as alice; .*ClusterRole/);
    const bare = forbiddenError({ verb: "patch", resource: "pods", namespace: "shop", identity: undefined }, new Error("403 Forbidden"));
    assert.match(bare.message, /^cannot patch pods in namespace shop as an unknown identity/);
  });

  it("keeps instanceof across copies of the class (Symbol.for brand)", () => {
    const foreign = Object.assign(new Error("x"), { code: "CLOSED" });
    Object.defineProperty(foreign, Symbol.for("kratos-kube.RegistryError"), { value: true });
    assert.ok(foreign instanceof RegistryError);
    assert.ok(!(new Error("plain") instanceof RegistryError));
    assert.ok(new RegistryError("CLOSED", "closed") instanceof Error);
  });
});
