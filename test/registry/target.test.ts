/**
 * Discovery targets (pure): Kratos targets with and without a namespace,
 * kuberesolver's three kubernetes:// forms, and typed errors.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { formatTarget, parseDiscoveryTarget } from "../../src/registry/target.ts";
import { RegistryError } from "../../src/registry/errors.ts";

describe("discovery targets", () => {
  it("reads Kratos targets: a bare name, discovery:///name, discovery://namespace/name", () => {
    assert.deepEqual(parseDiscoveryTarget("sayhello.service"), { scheme: "discovery", service: "sayhello.service", namespace: undefined, port: undefined });
    assert.deepEqual(parseDiscoveryTarget("discovery:///sayhello.service"), { scheme: "discovery", service: "sayhello.service", namespace: undefined, port: undefined });
    assert.deepEqual(parseDiscoveryTarget("discovery://shop/sayhello.service"), { scheme: "discovery", service: "sayhello.service", namespace: "shop", port: undefined });
    assert.equal(formatTarget(parseDiscoveryTarget("discovery://shop/a")), "discovery://shop/a");
  });

  it("reads kuberesolver's forms (github.com/sercand/kuberesolver builder.go parseResolverTarget)", () => {
    const k = (service: string, namespace: string | undefined, port: string | undefined) => ({ scheme: "kubernetes", service, namespace, port });
    assert.deepEqual(parseDiscoveryTarget("kubernetes:///greeter.shop:grpc"), k("greeter", "shop", "grpc"));
    assert.deepEqual(parseDiscoveryTarget("kubernetes:///greeter.shop.svc.cluster.local:9000"), k("greeter", "shop", "9000"));
    assert.deepEqual(parseDiscoveryTarget("kubernetes:///greeter"), k("greeter", undefined, undefined));
    assert.deepEqual(parseDiscoveryTarget("kubernetes://shop/greeter:grpc"), k("greeter", "shop", "grpc"));
    assert.deepEqual(parseDiscoveryTarget("kubernetes://greeter.shop:9000"), k("greeter", "shop", "9000"));
    assert.deepEqual(parseDiscoveryTarget("greeter.shop:grpc", "kubernetes"), k("greeter", "shop", "grpc"));
    assert.deepEqual(parseDiscoveryTarget("greeter:08080", "kubernetes"), k("greeter", undefined, "8080"));
    assert.equal(formatTarget(parseDiscoveryTarget("kubernetes://shop/greeter:grpc")), "kubernetes:///greeter.shop:grpc");
  });

  it("refuses what cannot be a target with INVALID_TARGET naming the problem", () => {
    const cases: [string, RegExp][] = [
      ["", /empty/],
      ["http://x/y", /scheme "http"/],
      ["discovery:///", /discovery:\/\/\/<service>/],
      ["discovery://Bad_NS/x", /namespace "Bad_NS", which is not a DNS-1123 label/],
      ["kubernetes:///", /names no Service/],
      ["kubernetes:///Greeter.shop:grpc", /Service "Greeter", which is not a DNS-1035 label/],
      ["kubernetes:///greeter.shop:70000", /port 70000, outside 1\.\.65535/],
      ["kubernetes:///greeter.shop:GRPC_", /neither a number nor a port name/],
      ["kubernetes:///greeter?x=1", /query or fragment/],
      ["a/b", /neither a service name nor discovery/],
    ];
    for (const [target, re] of cases) {
      assert.throws(() => parseDiscoveryTarget(target), (e: unknown) => e instanceof RegistryError && e.code === "INVALID_TARGET" && re.test(e.message), target);
    }
  });
});
