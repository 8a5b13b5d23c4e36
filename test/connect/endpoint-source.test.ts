import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  endpointAddress,
  EndpointConfigError,
  instanceWeight,
  parseTarget,
  parseTargetParts,
  resolveEndpoints,
  routableAddress,
  routingScheme,
  type EndpointInstance,
} from "../../src/connect/endpoint-source.ts";

const inst = (id: string, endpoints: string[], metadata: Record<string, string> = {}, version = "v1"): EndpointInstance => ({
  id,
  name: "svc",
  version,
  metadata,
  endpoints,
});

describe("parseTarget", () => {
  it("accepts discovery:///name, discovery://authority/name and a bare name", () => {
    assert.equal(parseTarget("discovery:///sayhello.service"), "sayhello.service");
    assert.equal(parseTarget("discovery://default/sayhello.service"), "sayhello.service");
    assert.equal(parseTarget("sayhello.service"), "sayhello.service");
  });

  it("reads the namespace of discovery://ns/name and kuberesolver's three kubernetes:// forms", () => {
    assert.deepEqual(parseTargetParts("discovery://shop/sayhello.service"), { scheme: "discovery", service: "sayhello.service", namespace: "shop", port: undefined });
    assert.deepEqual(parseTargetParts("discovery:///sayhello.service"), { scheme: "discovery", service: "sayhello.service", namespace: undefined, port: undefined });
    assert.deepEqual(parseTargetParts("kubernetes:///greeter.shop:grpc"), { scheme: "kubernetes", service: "greeter", namespace: "shop", port: "grpc" });
    assert.deepEqual(parseTargetParts("kubernetes:///greeter.shop.svc.cluster.local:8080"), { scheme: "kubernetes", service: "greeter", namespace: "shop", port: "8080" });
    assert.deepEqual(parseTargetParts("kubernetes:///greeter"), { scheme: "kubernetes", service: "greeter", namespace: undefined, port: undefined });
    assert.deepEqual(parseTargetParts("kubernetes://shop/greeter:grpc"), { scheme: "kubernetes", service: "greeter", namespace: "shop", port: "grpc" });
    assert.deepEqual(parseTargetParts("kubernetes://greeter.shop:9000"), { scheme: "kubernetes", service: "greeter", namespace: "shop", port: "9000" });
    assert.equal(parseTarget("kubernetes:///greeter.shop:grpc"), "greeter");
  });

  it("rejects anything else with a typed error naming the target", () => {
    for (const bad of ["http://x/y", "discovery:///", "discovery:///a/b", "", "kubernetes:///", "kubernetes:///:80"]) {
      assert.throws(() => parseTarget(bad), (e: unknown) => e instanceof EndpointConfigError && e.code === "BAD_TARGET" && e.message.includes(JSON.stringify(bad)));
    }
  });
});

describe("routableAddress with anyScheme (kubernetes:/// targets)", () => {
  it("takes the first endpoint with a host and port, whatever its scheme", () => {
    assert.equal(routableAddress(["http://10.0.0.1:8080", "grpc://10.0.0.1:9000"], { anyScheme: true }), "10.0.0.1:8080");
    assert.equal(routableAddress(["TCP://[fd00::1]:9000"], { anyScheme: true }), "[fd00::1]:9000");
    assert.equal(routableAddress(["no-port://10.0.0.1", "x"], { anyScheme: true }), undefined);
    assert.equal(routableAddress(["http://10.0.0.1:8080"], {}), undefined, "without it the scheme decides, as before");
  });
});

describe("endpointAddress (Kratos endpoint.ParseEndpoint)", () => {
  it("takes the first endpoint of the wanted scheme", () => {
    assert.equal(endpointAddress(["http://10.0.0.1:8000", "grpc://10.0.0.1:9000"], "grpc", false), "10.0.0.1:9000");
    assert.equal(endpointAddress(["grpc://10.0.0.1:9000", "grpc://10.0.0.2:9000"], "grpc", false), "10.0.0.1:9000");
    assert.equal(endpointAddress(["http://10.0.0.1:8000"], "grpc", false), undefined);
    assert.equal(endpointAddress(["http://10.0.0.1:8000"], "http", false), "10.0.0.1:8000");
  });

  it("matches grpcs only when secure, and keeps IPv6 brackets", () => {
    assert.equal(endpointAddress(["grpcs://[fd00::1]:9000"], "grpc", true), "[fd00::1]:9000");
    assert.equal(endpointAddress(["grpcs://10.0.0.1:9000"], "grpc", false), undefined);
    assert.equal(endpointAddress(["grpc://10.0.0.1:9000"], "grpc", true), undefined);
  });

  it("understands the legacy ?isSecure= form (Kratos before v2.5)", () => {
    assert.equal(endpointAddress(["grpc://10.0.0.1:9000?isSecure=true"], "grpc", true), "10.0.0.1:9000");
    assert.equal(endpointAddress(["grpc://10.0.0.1:9000?isSecure=true"], "grpc", false), undefined);
    assert.equal(endpointAddress(["grpc://10.0.0.1:9000?isSecure=false"], "grpc", false), "10.0.0.1:9000");
    assert.equal(endpointAddress(["grpc://10.0.0.1:9000?isSecure=false"], "grpc", true), undefined);
  });

  it("skips malformed endpoints and ones without a port", () => {
    assert.equal(endpointAddress(["::not a url", "grpc://host-without-port", "grpc://10.0.0.3:9000"], "grpc", false), "10.0.0.3:9000");
  });
});

describe("resolveEndpoints", () => {
  it("keeps one address per instance, drops duplicated addresses, applies the filter", () => {
    const r = resolveEndpoints(
      [
        inst("a", ["grpc://10.0.0.1:9000"]),
        inst("b", ["grpc://10.0.0.1:9000"]),
        inst("c", ["http://10.0.0.3:8000"]),
        inst("d", ["grpc://10.0.0.4:9000"], { weight: "300" }, "v2"),
        inst("e", ["grpc://10.0.0.5:9000"]),
      ],
      { protocol: "grpc", secure: false, filter: (i) => i.id !== "e" },
    );
    assert.deepEqual(r.map((x) => [x.address, x.instance.id, x.weight]), [
      ["10.0.0.1:9000", "a", 100],
      ["10.0.0.4:9000", "d", 300],
    ]);
  });

  it("routes by protocol: grpc:// for gRPC (the default), http:// for Connect and gRPC-web, the s-schemes when secure", () => {
    const eps = ["http://10.0.0.1:8000", "grpc://10.0.0.1:9000", "https://10.0.0.1:8443", "grpcs://10.0.0.1:9443"];
    assert.equal(routableAddress(eps), "10.0.0.1:9000");
    assert.equal(routableAddress(eps, { protocol: "grpc", secure: true }), "10.0.0.1:9443");
    assert.equal(routableAddress(eps, { protocol: "connect" }), "10.0.0.1:8000");
    assert.equal(routableAddress(eps, { protocol: "grpc-web", secure: true }), "10.0.0.1:8443");
    assert.equal(routableAddress(["http://10.0.0.1:8000"]), undefined, "an http-only instance is not routable for gRPC");
    assert.deepEqual([routingScheme(), routingScheme({ protocol: "connect" }), routingScheme({ secure: true })], ["grpc", "http", "grpcs"]);
    const only = [inst("a", ["http://10.0.0.1:8000"])];
    assert.equal(resolveEndpoints(only).length, 0);
    assert.equal(resolveEndpoints(only, { protocol: "connect" }).length, 1);
  });

  it("reads the weight metadata, default 100", () => {
    assert.equal(instanceWeight(inst("a", [], {})), 100);
    assert.equal(instanceWeight(inst("a", [], { weight: "25" })), 25);
    assert.equal(instanceWeight(inst("a", [], { weight: "zero" })), 100);
    assert.equal(instanceWeight(inst("a", [], { weight: "-3" })), 100);
  });
});
