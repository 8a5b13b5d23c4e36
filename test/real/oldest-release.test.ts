/**
 * The oldest Kubernetes release kratos-kube supports (1.33), on a private
 * etcd + kube-apiserver: WatchList is off by default there, so a streaming
 * list (`sendInitialEvents`) is refused and the reflector falls back to a
 * LIST; discovery works the same.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { KubeConfig } from "../../src/kube/config.ts";
import { createKubeClient } from "../../src/kube/client.ts";
import { KubeApiError } from "../../src/kube/errors.ts";
import { createPodCache } from "../../src/registry/pod-cache.ts";
import { KubernetesRegistry } from "../../src/index.ts";
import { KUBERNETES_OLDEST } from "../../scripts/k8s/paths.ts";
import { newNamespace, privateControlPlane, realSkip, type ControlPlane } from "../support/real-cluster.ts";
import { runPod, setStatus } from "../support/kubelet.ts";
import { cachedIn, cacheUntil, loggedApi } from "../support/real-watch.ts";

const skip = realSkip(KUBERNETES_OLDEST);
const closers: (() => Promise<unknown>)[] = [];
after(async () => {
  for (const c of closers.reverse()) await c();
});

let cp: ControlPlane;

describe(`the oldest supported release (Kubernetes ${KUBERNETES_OLDEST})`, { skip }, () => {
  before(async () => {
    cp = await privateControlPlane({ version: KUBERNETES_OLDEST });
    closers.push(() => cp.close());
  });

  it("reports its version", () => {
    assert.equal(cp.version, `v${KUBERNETES_OLDEST}`);
  });

  it("refuses sendInitialEvents, and the reflector falls back to LIST, then watches", async () => {
    const ns = await newNamespace(cp, "fallback");
    for (let i = 0; i < 3; i++) await runPod(cp, { namespace: ns, name: `f${i}`, app: "fallback", ip: `127.0.9.${i + 1}` });
    const client = createKubeClient({ config: KubeConfig.fromOptions({ server: cp.url, caPem: cp.caPem, token: cp.adminToken }) });
    closers.push(() => client.close());
    await assert.rejects(
      client.watchPods({ namespace: ns, sendInitialEvents: true, resourceVersionMatch: "NotOlderThan", allowWatchBookmarks: true }),
      (e: unknown) => e instanceof KubeApiError && e.status === 422 && /WatchList feature gate/.test(e.message),
    );
    const { api, log } = loggedApi(client);
    const cache = createPodCache({ api, namespaces: [ns], labelSelector: "", streamingList: true });
    closers.push(() => cache.close());
    cache.start();
    await cache.ready();
    assert.deepEqual(cachedIn(cache, ns), ["f0", "f1", "f2"]);
    assert.match(log[0]!, /^watch rv= sendInitialEvents$/, log.join("\n"));
    assert.ok(log.some((l) => l.startsWith("list")), `a LIST after the refusal:\n${log.join("\n")}`);
    await runPod(cp, { namespace: ns, name: "f3", app: "fallback", ip: "127.0.9.4" });
    await cacheUntil(cache, (c) => c.get(ns, "f3") !== undefined, "f3 from the watch");
  });

  it("discovers and follows a service through KubernetesRegistry", async () => {
    const ns = await newNamespace(cp, "discovery");
    await runPod(cp, { namespace: ns, name: "o1", app: "old.service", ip: "127.0.9.11" });
    const registry = new KubernetesRegistry({ config: KubeConfig.fromOptions({ server: cp.url, caPem: cp.caPem, token: cp.adminToken, namespace: ns }) });
    closers.push(() => registry.close());
    const w = await registry.watch("old.service");
    closers.push(() => w.stop());
    assert.deepEqual((await w.next()).map((i) => i.endpoints), [["http://127.0.9.11:8000", "grpc://127.0.9.11:9000"]]);
    await setStatus(cp, ns, "o1", { ips: ["127.0.9.11"], ready: false });
    assert.deepEqual(await w.next(), []);
  });
});
