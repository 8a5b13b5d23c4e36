/**
 * The list-and-watch loop when the control plane itself fails, on a private
 * etcd + kube-apiserver: the apiserver restarts mid-watch (its new watch
 * cache starts past the reflector's resourceVersion, so resuming gets a real
 * 410 and a relist), and etcd goes away for 10 s and comes back.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { KubeConfig } from "../../src/kube/config.ts";
import { createKubeClient } from "../../src/kube/client.ts";
import { KubeApiError, WatchError } from "../../src/kube/errors.ts";
import { createPodCache } from "../../src/registry/pod-cache.ts";
import { newNamespace, privateControlPlane, realSkip, type ControlPlane } from "../support/real-cluster.ts";
import { runPod } from "../support/kubelet.ts";
import { cachedIn, cacheUntil, loggedApi } from "../support/real-watch.ts";

const skip = realSkip();
const closers: (() => Promise<unknown>)[] = [];
after(async () => {
  for (const c of closers.reverse()) await c();
});

let cp: ControlPlane;

function watchNamespace(ns: string) {
  const config = KubeConfig.fromOptions({ server: cp.url, caPem: cp.caPem, token: cp.adminToken });
  const client = createKubeClient({ config });
  const { api, log } = loggedApi(client);
  const errors: Error[] = [];
  const cache = createPodCache({ api, namespaces: [ns], labelSelector: "", onError: (e) => errors.push(e) });
  closers.push(() => client.close(), () => cache.close());
  cache.start();
  return { cache, log, errors };
}

const isGone = (e: Error): boolean => e instanceof WatchError && e.cause instanceof KubeApiError && e.cause.isGone();

describe("reflector across control-plane failures (private etcd + kube-apiserver)", { skip }, () => {
  before(async () => {
    cp = await privateControlPlane();
    closers.push(() => cp.close());
  });

  it("an apiserver restart mid-watch: resuming from a resourceVersion older than the new watch cache gets 410, one relist, nothing lost", async () => {
    const ns = await newNamespace(cp, "restart");
    const busy = await newNamespace(cp, "restart-busy");
    await runPod(cp, { namespace: ns, name: "before", app: "restart", ip: "127.0.5.1" });
    const { cache, log, errors } = watchNamespace(ns);
    await cache.ready();
    // Writes the reflector does not see (another namespace) move etcd's
    // revision past its resourceVersion; the restarted apiserver's watch
    // cache starts there.
    for (let i = 0; i < 3; i++) await runPod(cp, { namespace: busy, name: `b${i}`, app: "busy", ip: `127.0.5.${i + 10}` }, null);
    await cp.restartApiserver();
    await runPod(cp, { namespace: ns, name: "after", app: "restart", ip: "127.0.5.2" });
    await cacheUntil(cache, (c) => c.get(ns, "after") !== undefined, "the pod created after the restart", 60_000);
    assert.deepEqual(cachedIn(cache, ns), ["after", "before"]);
    assert.ok(errors.some(isGone), `a 410 among: ${errors.map((e) => `${e.name}: ${e.message}`).join("; ")}`);
    assert.equal(log.filter((l) => l.startsWith("list")).length, 2, `one relist:\n${log.join("\n")}`);
  });

  it("etcd stopped for 10 s, then back: the watch recovers and sees what changed", async () => {
    const ns = await newNamespace(cp, "etcd");
    await runPod(cp, { namespace: ns, name: "e0", app: "etcd", ip: "127.0.6.1" });
    const { cache } = watchNamespace(ns);
    await cache.ready();
    await cp.stopEtcd();
    // The outage itself is the scenario: 10 s without etcd.
    await new Promise((r) => setTimeout(r, 10_000));
    await cp.startEtcd();
    // Writes go through as soon as the apiserver reaches etcd again.
    const deadline = Date.now() + 60_000;
    for (;;) {
      const r = await cp.request({ method: "POST", path: `/api/v1/namespaces/${ns}/pods`, body: { metadata: { name: "e1" }, spec: { containers: [{ name: "c", image: "i" }] } } });
      if (r.status === 201) break;
      if (Date.now() > deadline) throw new Error(`etcd did not come back: ${r.status} ${r.text}`);
      await new Promise((res) => setTimeout(res, 200));
    }
    await cacheUntil(cache, (c) => c.get(ns, "e1") !== undefined, "e1 after etcd came back", 60_000);
    assert.deepEqual(cachedIn(cache, ns), ["e0", "e1"]);
    assert.equal(cache.synced, true);
  });
});
