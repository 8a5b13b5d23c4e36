/**
 * Service-account token rotation as the kubelet does it, against a real
 * kube-apiserver (which never reloads its static token file): two bound
 * tokens from the TokenRequest API, the projected token file rewritten from
 * the first to the second, then the first revoked (its bound Pod deleted).
 * After a cut connection the client is refused with the old token, re-reads
 * the file at once and carries on with the new one.
 */
import { before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { KubeConfig } from "../../src/kube/config.ts";
import { KubernetesRegistry } from "../../src/index.ts";
import { newNamespace, realSkip, sharedCluster, type Cluster } from "../support/real-cluster.ts";
import { finishTermination, grant, runPod, serviceAccountToken } from "../support/kubelet.ts";
import { cleanups, eventually, nextMatching } from "../support/real-watch.ts";
import { startTcpProxy } from "../support/tcp-proxy.ts";

const skip = realSkip();
const closers = cleanups();

let cluster: Cluster;


describe("service-account token rotation against a real kube-apiserver", { skip }, () => {
  before(async () => {
    cluster = await sharedCluster();
  });

  it("re-reads the token file after a 401 and goes on with the rotated token", async () => {
    const ns = await newNamespace(cluster, "rotate");
    await serviceAccountToken(cluster, ns, "watcher");
    await grant(cluster, ns, { kind: "ServiceAccount", name: "watcher", namespace: ns }, ["list", "watch"]);
    // The objects the two tokens are bound to (as the kubelet binds them to its Pod).
    const holderA = await runPod(cluster, { namespace: ns, name: "holder-a", nodeName: null, serviceAccountName: "watcher" }, null);
    const holderB = await runPod(cluster, { namespace: ns, name: "holder-b", nodeName: null, serviceAccountName: "watcher" }, null);
    const tokenA = await serviceAccountToken(cluster, ns, "watcher", { boundPod: { name: "holder-a", uid: holderA.metadata.uid! } });
    const tokenB = await serviceAccountToken(cluster, ns, "watcher", { boundPod: { name: "holder-b", uid: holderB.metadata.uid! } });
    const dir = mkdtempSync(join(tmpdir(), "kratos-kube-token-"));
    closers.push(async () => rmSync(dir, { recursive: true, force: true }));
    const tokenFile = join(dir, "token");
    writeFileSync(tokenFile, tokenA);

    const proxy = await startTcpProxy(Number(new URL(cluster.url).port));
    closers.push(() => proxy.close());
    const errors: Error[] = [];
    const registry = new KubernetesRegistry({
      config: KubeConfig.fromOptions({ server: `https://127.0.0.1:${proxy.port}`, caPem: cluster.caPem, tokenFile, namespace: ns }),
      onError: (e) => errors.push(e),
    });
    closers.push(() => registry.close());
    await runPod(cluster, { namespace: ns, name: "r1", app: "rotate.service", ip: "127.0.10.1" });
    const w = await registry.watch("rotate.service");
    closers.push(() => w.stop());
    await nextMatching(w, (s) => s.map((i) => i.id).join() === "r1", "r1");

    // The kubelet writes the new token, then the old one stops working.
    writeFileSync(tokenFile, tokenB);
    await finishTermination(cluster, ns, "holder-a");
    // The authenticator sees the deletion through its informer, a moment later.
    await eventually(
      () => cluster.request({ path: `/api/v1/namespaces/${ns}/pods`, token: tokenA }),
      (r) => r.status === 401,
      "the old token revoked with its bound Pod",
    );

    proxy.dropAll();
    await runPod(cluster, { namespace: ns, name: "r2", app: "rotate.service", ip: "127.0.10.2" });
    await nextMatching(w, (s) => s.map((i) => i.id).sort().join() === "r1,r2", "r2 seen with the rotated token");
    for (const e of errors) assert.doesNotMatch(`${e.message} ${String((e as { cause?: unknown }).cause)}`, new RegExp(`${tokenA}|${tokenB}`), "no token in errors");
  });
});
