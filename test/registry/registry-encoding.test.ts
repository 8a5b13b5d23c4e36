/**
 * The `encoding` option of KubernetesRegistry and KubernetesDiscovery: the
 * watch asks for Kubernetes protobuf and yields the same instances as over
 * JSON (Kratos Pods and EndpointSlices), and follows changes; bad values and
 * a conflicting `client` are named errors.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { KubeConfig } from "../../src/kube/config.ts";
import { createKubeClient } from "../../src/kube/client.ts";
import { FakeKubeApiServer, makeEndpointSlice, makePod } from "../../src/testing/index.ts";
import { KubernetesDiscovery, KubernetesRegistry, type ServiceInstance } from "../../src/index.ts";

const config = KubeConfig.fromOptions({ server: "http://127.0.0.1:6443", namespace: "shop" });
const APP = "sayhello.service";

function seeded(): FakeKubeApiServer {
  const fake = new FakeKubeApiServer();
  fake.createPod(makePod({ name: "a", namespace: "shop", app: APP, metadata: '{"zone":"z1","weight":"10"}' }));
  fake.createPod(makePod({ name: "b", namespace: "shop", app: APP, ips: ["10.0.0.2", "fd00::2"] }));
  fake.createPod(makePod({ name: "c", namespace: "shop", app: APP, ready: false }));
  return fake;
}

const view = (set: readonly ServiceInstance[]) => set.map((i) => ({ id: i.id, endpoints: i.endpoints, metadata: i.metadata, version: i.version }));

describe("KubernetesRegistry encoding", () => {
  for (const encoding of ["protobuf", "auto"] as const) {
    it(`${encoding}: the watch asks for protobuf and yields what the JSON watch yields, then follows changes`, async () => {
      await using fake = seeded();
      const accepts: string[] = [];
      const fetch = (req: Request): Promise<Response> => {
        if (new URL(req.url).pathname.endsWith("/pods")) accepts.push(req.headers.get("accept") ?? "");
        return fake.fetch(req);
      };
      await using pb = new KubernetesRegistry({ config, fetch, encoding });
      await using js = new KubernetesRegistry({ config, fetch: fake.fetch });
      const wp = await pb.watch(APP);
      const wj = await js.watch(APP);
      const [first, firstJson] = await Promise.all([wp.next(), wj.next()]);
      assert.deepEqual(view(first), view(firstJson));
      assert.deepEqual(first.map((i) => i.id), ["a", "b"]);
      assert.ok(accepts.length > 0 && accepts.every((a) => a.startsWith("application/vnd.kubernetes.protobuf")), accepts.join(" | "));
      fake.setReady("shop", "c", true);
      const [next, nextJson] = await Promise.all([wp.next(), wj.next()]);
      assert.deepEqual(next.map((i) => i.id), ["a", "b", "c"]);
      assert.deepEqual(view(next), view(nextJson));
      await wp.stop();
      await wj.stop();
    });
  }

  it("rejects an unknown encoding, and encoding beside a client given, naming both", () => {
    assert.throws(() => new KubernetesRegistry({ config, encoding: "yaml" as never }), { name: "TypeError", message: /encoding must be "auto", "json" or "protobuf", got "yaml"/ });
    const client = createKubeClient({ config });
    assert.throws(() => new KubernetesRegistry({ client, encoding: "protobuf" }), { name: "TypeError", message: /set it there \(createKubeClient\(\{ encoding \}\)\)/ });
  });

  it("KubernetesDiscovery: kubernetes:/// targets over protobuf yield what JSON yields and follow a readiness flip; bad values are named", async () => {
    await using fake = new FakeKubeApiServer();
    const slice = (ready: boolean) => makeEndpointSlice({
      name: "greeter-x", namespace: "shop", service: "greeter", ports: [{ name: "grpc", port: 9000 }],
      endpoints: [{ ip: "10.0.0.1", pod: "g1", zone: "z1" }, { ip: "10.0.0.2", pod: "g2", ready }],
    });
    fake.endpointSlices.create(slice(false));
    const accepts: string[] = [];
    const fetch = (req: Request): Promise<Response> => {
      if (new URL(req.url).pathname.endsWith("/endpointslices")) accepts.push(req.headers.get("accept") ?? "");
      return fake.fetch(req);
    };
    await using pb = new KubernetesDiscovery({ config, fetch, encoding: "protobuf" });
    await using js = new KubernetesDiscovery({ config, fetch: fake.fetch });
    const wp = await pb.watch("kubernetes:///greeter.shop:grpc");
    const wj = await js.watch("kubernetes:///greeter.shop:grpc");
    const [first, firstJson] = await Promise.all([wp.next(), wj.next()]);
    assert.deepEqual(view(first), view(firstJson));
    assert.deepEqual(first.map((i) => i.id), ["g1"]);
    assert.ok(accepts.length > 0 && accepts.every((a) => a.startsWith("application/vnd.kubernetes.protobuf")), accepts.join(" | "));
    fake.endpointSlices.update("shop", "greeter-x", (cur) => Object.assign(cur, { endpoints: slice(true).endpoints }));
    const [next, nextJson] = await Promise.all([wp.next(), wj.next()]);
    assert.deepEqual(next.map((i) => i.id), ["g1", "g2"]);
    assert.deepEqual(view(next), view(nextJson));
    await wp.stop();
    await wj.stop();
    assert.throws(() => new KubernetesDiscovery({ config, encoding: "xml" as never }), { name: "TypeError", message: /KubernetesDiscovery: encoding must be "auto", "json" or "protobuf", got "xml"/ });
    assert.throws(() => new KubernetesDiscovery({ client: createKubeClient({ config }), encoding: "auto" }), { name: "TypeError", message: /client the discovery builds/ });
  });
});
