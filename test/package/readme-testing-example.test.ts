/** The README's `kratos-kube/testing` example, as written there, must work. */
import { it } from "node:test";
import assert from "node:assert/strict";
import { KubeConfig, KubernetesRegistry } from "../../src/index.ts";
import { FakeKubeApiServer, makePod } from "../../src/testing/index.ts";

it("README: a registry discovers a pod of the in-memory API server through its fetch handler", async () => {
  const server = new FakeKubeApiServer();
  server.createPod(makePod({ name: "sayhello-1", app: "sayhello.service", ip: "10.244.0.10",
    ports: [{ name: "grpc", containerPort: 9000 }] }));
  const registry = new KubernetesRegistry({
    config: KubeConfig.fromOptions({ server: "http://fake.invalid", namespace: "default" }),
    fetch: server.fetch,
  });
  try {
    const instances = await registry.getService("sayhello.service");
    assert.equal(instances.length, 1);
    assert.equal(instances[0]?.name, "sayhello.service");
    assert.deepEqual(instances[0]?.endpoints, ["grpc://10.244.0.10:9000"]);
  } finally {
    await registry.close();
    await server.close();
  }
});
