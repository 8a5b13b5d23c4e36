/**
 * KubernetesRegistry against a real kube-apiserver, as a service account
 * with real RBAC: registration by strategic merge patch of the own Pod,
 * static labels, the authorizer's 403 explained, and discovery following
 * readiness, graceful termination, label moves and empty services.
 */
import { before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { KubeConfig } from "../../src/kube/config.ts";
import { KubernetesRegistry, RegistryError, type ServiceInstance } from "../../src/index.ts";
import type { Pod } from "../../src/kube/wire.ts";
import { cleanups, nextMatching } from "../support/real-watch.ts";
import { expectOk, newNamespace, realSkip, sharedCluster, type Cluster } from "../support/real-cluster.ts";
import { finishTermination, grant, patchLabels, runPod, serviceAccountToken, setStatus, terminate } from "../support/kubelet.ts";

const skip = realSkip();
const closers = cleanups();

let cluster: Cluster;

/** A registry acting as `token` in `ns` (its own Pod: `podName`). */
function registryAs(ns: string, token: string, podName = "sayhello-1", extra: Partial<ConstructorParameters<typeof KubernetesRegistry>[0]> = {}) {
  const errors: Error[] = [];
  const registry = new KubernetesRegistry({
    config: KubeConfig.fromOptions({ server: cluster.url, caPem: cluster.caPem, token, namespace: ns }),
    podName,
    podNamespace: ns,
    onError: (e) => errors.push(e),
    ...extra,
  });
  closers.push(() => registry.close());
  return { registry, errors };
}

/** A service account of `ns` with the verbs a server and a client need. */
async function serviceAccount(ns: string, name: string, verbs = ["get", "list", "watch", "patch"]): Promise<string> {
  const token = await serviceAccountToken(cluster, ns, name);
  await grant(cluster, ns, { kind: "ServiceAccount", name, namespace: ns }, verbs);
  return token;
}


const ids = (set: ServiceInstance[]): string[] => set.map((i) => i.id).sort();

async function getPod(ns: string, name: string): Promise<Pod> {
  return (await expectOk(cluster.request({ path: `/api/v1/namespaces/${ns}/pods/${name}` }), `get ${name}`)).json as Pod;
}

describe("KubernetesRegistry against a real kube-apiserver", { skip }, () => {
  before(async () => {
    cluster = await sharedCluster();
  });

  it("register() patches the own Pod (strategic merge) with the Go Kratos labels and annotations; discovery finds it; deregister() removes them", async () => {
    const ns = await newNamespace(cluster, "register");
    const token = await serviceAccount(ns, "sayhello");
    // The Pod as a Deployment without kratos labels makes it.
    await runPod(cluster, { namespace: ns, name: "sayhello-1", ip: "127.0.7.1", labels: { app: "sayhello" } });
    const { registry } = registryAs(ns, token);
    const instance: ServiceInstance = {
      id: "sayhello-1",
      name: "sayhello.service",
      version: "v1.2.0",
      metadata: { region: "eu-west-1", weight: "100" },
      endpoints: ["grpc://0.0.0.0:9000", "http://0.0.0.0:8000"],
    };
    await registry.register(instance);
    const pod = await getPod(ns, "sayhello-1");
    assert.equal(pod.metadata.labels?.["kratos-service-id"], "sayhello-1");
    assert.equal(pod.metadata.labels?.["kratos-service-app"], "sayhello.service");
    assert.equal(pod.metadata.labels?.["kratos-service-version"], "v1.2.0");
    assert.equal(pod.metadata.labels?.app, "sayhello", "a strategic merge keeps the other labels");
    assert.deepEqual(JSON.parse(pod.metadata.annotations!["kratos-service-protocols"]!), { "8000": "http", "9000": "grpc" });
    assert.deepEqual(JSON.parse(pod.metadata.annotations!["kratos-service-metadata"]!), { region: "eu-west-1", weight: "100" });
    assert.ok((pod.metadata.managedFields as { manager?: string }[] | undefined)?.some((f) => f.manager !== undefined && f.manager !== "unknown"), "the patch names its field manager");
    const found = await registry.getService("sayhello.service");
    assert.deepEqual(found, [
      { id: "sayhello-1", name: "sayhello.service", version: "v1.2.0", metadata: { region: "eu-west-1", weight: "100" }, endpoints: ["http://127.0.7.1:8000", "grpc://127.0.7.1:9000"] },
    ]);
    await registry.register(instance); // idempotent
    await registry.deregister(instance);
    const after = await getPod(ns, "sayhello-1");
    assert.equal(after.metadata.labels?.["kratos-service-app"], undefined);
    assert.equal(after.metadata.annotations?.["kratos-service-metadata"], undefined);
    assert.equal(after.metadata.labels?.app, "sayhello");
  });

  it("register() succeeds with the labels static in the Pod template and no patch right at all", async () => {
    const ns = await newNamespace(cluster, "static");
    const token = await serviceAccount(ns, "reader", ["get", "list", "watch"]);
    await runPod(cluster, {
      namespace: ns,
      name: "static-1",
      app: "static.service",
      version: "v2",
      ip: "127.0.7.2",
      protocols: '{ "9000": "grpc" }',
      metadata: "{}",
    });
    const { registry } = registryAs(ns, token, "static-1");
    await registry.register({ id: "static-1", name: "static.service", version: "v2", metadata: {}, endpoints: ["grpc://0.0.0.0:9000"] });
    assert.deepEqual(ids(await registry.getService("static.service")), ["static-1"]);
  });

  it("explains the real authorizer's 403: which verb, resource, namespace and identity", async () => {
    const ns = await newNamespace(cluster, "rbac");
    const token = await serviceAccount(ns, "nopatch", ["get", "list", "watch"]);
    await runPod(cluster, { namespace: ns, name: "nopatch-1", ip: "127.0.7.3" });
    const { registry } = registryAs(ns, token, "nopatch-1");
    const err = await registry.register({ id: "nopatch-1", name: "x.service", version: "v1", metadata: {}, endpoints: ["grpc://0.0.0.0:9000"] }).then(
      () => assert.fail("register should fail"),
      (e: unknown) => e,
    );
    assert.ok(err instanceof RegistryError);
    assert.equal(err.code, "FORBIDDEN");
    assert.match(err.message, new RegExp(`cannot patch pods in namespace ${ns} as system:serviceaccount:${ns}:nopatch`));
    const none = registryAs(ns, cluster.users.alice.token);
    const watchErr = await none.registry.start().then(
      () => assert.fail("start should fail"),
      (e: unknown) => e,
    );
    assert.ok(watchErr instanceof RegistryError);
    assert.equal(watchErr.code, "FORBIDDEN");
    assert.match(watchErr.message, new RegExp(`cannot (list|watch) pods in namespace ${ns} as alice`));
  });

  it("follows readiness flips, graceful termination and label moves; an empty service is announced at once", async () => {
    const ns = await newNamespace(cluster, "discovery");
    const token = await serviceAccount(ns, "client", ["list", "watch"]);
    const { registry } = registryAs(ns, token, "client-1");
    const empty = await registry.watch("greeter.service");
    closers.push(() => empty.stop());
    assert.deepEqual(await empty.next(), [], "an empty service is answered at once");

    await runPod(cluster, { namespace: ns, name: "g1", app: "greeter.service", ip: "127.0.8.1" });
    await runPod(cluster, { namespace: ns, name: "g2", app: "greeter.service", ip: "127.0.8.2" });
    const w = await registry.watch("greeter.service");
    closers.push(() => w.stop());
    await nextMatching(w, (s) => ids(s).join() === "g1,g2", "g1 and g2");

    await setStatus(cluster, ns, "g1", { ips: ["127.0.8.1"], ready: false });
    await nextMatching(w, (s) => ids(s).join() === "g2", "g1 unready");
    await setStatus(cluster, ns, "g1", { ips: ["127.0.8.1"], ready: true });
    await nextMatching(w, (s) => ids(s).join() === "g1,g2", "g1 ready again");

    const deleted = await terminate(cluster, ns, "g2", 30);
    assert.ok(deleted.metadata.deletionTimestamp, "graceful: the pod stays, terminating");
    await nextMatching(w, (s) => ids(s).join() === "g1", "terminating g2 dropped while it still exists");
    const kratos = registryAs(ns, token, "client-1", { selection: "kratos" }).registry;
    assert.deepEqual(ids(await kratos.getService("greeter.service")), ["g1", "g2"], 'selection "kratos" keeps a terminating Running pod, as Go Kratos');
    await finishTermination(cluster, ns, "g2");

    await patchLabels(cluster, ns, "g1", { "kratos-service-app": "other.service" });
    await nextMatching(w, (s) => s.length === 0, "g1 moved to other.service");
    assert.deepEqual(ids(await registry.getService("other.service")), ["g1"]);
  });
});
