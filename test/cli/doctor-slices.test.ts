// doctor for kubernetes:///svc.ns:port targets (RBAC on endpointslices in the
// target's namespace, the slices, the port, ready endpoints, reachability)
// and for discovery://ns/name (the target's namespace wins over --namespace),
// driven in-process against the fake API server.
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createKubeClient, KubeConfig } from "../../src/kube/index.ts";
import { FakeKubeApiServer, makeEndpointSlice, makePod } from "../../src/testing/index.ts";
import { runDoctor, type Check } from "../../cli/doctor-checks.ts";
import { rbacManifest } from "../../cli/rbac-fix.ts";

const servers: FakeKubeApiServer[] = [];
after(async () => {
  for (const s of servers) await s.close();
});

async function doctor(fake: FakeKubeApiServer, service: string, token?: string): Promise<{ checks: Check[]; probed: string[] }> {
  const probed: string[] = [];
  const checks = await runDoctor({
    service,
    loadConfig: async () => KubeConfig.fromOptions({ server: "http://127.0.0.1:6443", namespace: "default", ...(token ? { token } : {}) }),
    openClient: (c) => createKubeClient({ config: c, fetch: fake.fetch }),
    namespace: (c) => c.namespace,
    probe: async (endpoint) => {
      probed.push(endpoint);
      return { endpoint, ok: true, stage: "ok", detail: "SERVING in 1 ms", fix: undefined };
    },
  });
  return { checks, probed };
}

const verdicts = (checks: Check[]): string[] => checks.map((c) => `${c.name}:${c.verdict}`);

describe("doctor: kubernetes:///service.namespace:port", () => {
  it("passes for a Service with ready endpoints, warns about unready ones, and probes what the transport dials", async () => {
    const fake = new FakeKubeApiServer();
    servers.push(fake);
    fake.endpointSlices.create(makeEndpointSlice({ name: "greeter-a", namespace: "shop", service: "greeter", endpoints: [{ ip: "10.0.0.1", pod: "g1" }, { ip: "10.0.0.2", pod: "g2", ready: false }], ports: [{ name: "grpc", port: 9000 }] }));
    fake.endpointSlices.create(makeEndpointSlice({ name: "greeter-b", namespace: "shop", service: "greeter", endpoints: [{ ip: "10.0.0.3", pod: "g3" }], ports: [{ name: "grpc", port: 9100 }] }));
    const { checks, probed } = await doctor(fake, "kubernetes:///greeter.shop:grpc");
    assert.deepEqual(verdicts(checks), ["config:PASS", "rbac list:PASS", "rbac watch:PASS", "slices:PASS", "port:PASS", "ready:WARN", "reachable:PASS", "reachable:PASS"]);
    assert.match(checks.find((c) => c.name === "config")!.detail, /namespace shop/, "the target's namespace wins");
    assert.match(checks.find((c) => c.name === "ready")!.detail, /^2 ready endpoints; 1 not ready or terminating \(not called\): g2$/);
    assert.deepEqual(probed.sort(), ["grpc://10.0.0.1:9000", "grpc://10.0.0.3:9100"], "the named port resolved per slice");
    const missing = await doctor(fake, "kubernetes:///greeter.shop:http");
    assert.deepEqual(verdicts(missing.checks).slice(4), ["port:FAIL", "ready:SKIP", "reachable:SKIP"]);
    const none = await doctor(fake, "kubernetes:///nothing.shop:grpc");
    assert.equal(none.checks.find((c) => c.name === "slices")?.verdict, "FAIL");
  });

  it("explains a missing grant on endpointslices in the target's namespace with a Role for them", async () => {
    const fake = new FakeKubeApiServer({ tokens: { t: { user: "system:serviceaccount:default:client", resources: ["pods", "selfsubjectreviews"], namespaces: ["default"] } } });
    servers.push(fake);
    const { checks } = await doctor(fake, "kubernetes://shop/greeter:grpc", "t");
    const list = checks.find((c) => c.name === "rbac list")!;
    assert.equal(list.verdict, "FAIL");
    assert.equal(list.detail, "cannot list endpointslices (discovery.k8s.io) in namespace shop as system:serviceaccount:default:client: discovery of greeter reads its EndpointSlices there");
    assert.match(list.fix ?? "", /apiGroups: \["discovery\.k8s\.io"\]\n    resources: \[endpointslices\]\n    verbs: \[list, watch\]/);
    assert.match(list.fix ?? "", /namespace: "shop"/);
    assert.deepEqual(verdicts(checks).slice(-4), ["slices:SKIP", "port:SKIP", "ready:SKIP", "reachable:SKIP"]);
  });

  it("discovery://namespace/name checks that namespace's Kratos pods", async () => {
    const fake = new FakeKubeApiServer();
    servers.push(fake);
    fake.createPod(makePod({ name: "s-1", namespace: "shop", app: "sayhello.service", ip: "10.0.0.9", ports: [{ name: "grpc", containerPort: 9000 }] }));
    const { checks, probed } = await doctor(fake, "discovery://shop/sayhello.service");
    assert.equal(checks.find((c) => c.name === "labels")?.verdict, "PASS");
    assert.deepEqual(probed, ["grpc://10.0.0.9:9000"]);
  });

  it("prints a Role for endpointslices of discovery.k8s.io", () => {
    const m = rbacManifest({ verbs: ["watch", "list"], namespace: "shop", identity: "system:serviceaccount:shop:client", resource: "endpointslices" });
    assert.match(m, /# kratos-kube needs on endpointslices in shop:\n#   list: EndpointSlice discovery lists the Service's slices\n#   watch: /);
    assert.match(m, /name: kratos-kube-client-endpointslices/);
  });
});
