/**
 * The list-and-watch loop against a real kube-apiserver (the shared one of
 * the run): paged LISTs, watching from the listed resourceVersion, resuming
 * after a cut connection without a LIST, streaming lists, real bookmarks.
 */
import { before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { KubeConfig } from "../../src/kube/config.ts";
import { createKubeClient, type KubeClient } from "../../src/kube/client.ts";
import { createPodCache, type PodCache } from "../../src/registry/pod-cache.ts";
import { createWatchDecoder, WatchDecodeError, type WatchDecodeResult } from "../../src/kube/watch-decoder.ts";
import { newNamespace, realSkip, sharedCluster, type Cluster } from "../support/real-cluster.ts";
import { runPod, setStatus } from "../support/kubelet.ts";
import { cacheUntil, cachedIn, cleanups, loggedApi } from "../support/real-watch.ts";
import { startTcpProxy, type TcpProxy } from "../support/tcp-proxy.ts";

const skip = realSkip();
const closers = cleanups();

let cluster: Cluster;
let proxy: TcpProxy;

/** A client through the cuttable proxy (or straight to the server). */
async function client(direct = false): Promise<KubeClient> {
  const port = direct ? Number(new URL(cluster.url).port) : proxy.port;
  const config = KubeConfig.fromOptions({ server: `https://127.0.0.1:${port}`, caPem: cluster.caPem, token: cluster.adminToken });
  const c = createKubeClient({ config });
  closers.push(() => c.close());
  return c;
}

function cacheOf(api: KubeClient, namespace: string, o: { pageSize?: number; streamingList?: boolean } = {}) {
  const { api: logged, log } = loggedApi(api);
  const errors: Error[] = [];
  const cache: PodCache = createPodCache({ api: logged, namespaces: [namespace], labelSelector: "", onError: (e) => errors.push(e), ...o });
  closers.push(() => cache.close());
  cache.start();
  return { cache, log, errors };
}

describe("reflector against a real kube-apiserver", { skip }, () => {
  before(async () => {
    cluster = await sharedCluster();
    proxy = await startTcpProxy(Number(new URL(cluster.url).port));
    closers.push(() => proxy.close());
  });

  it("lists at resourceVersion 0 (whole, from the watch cache, which ignores limit), then watches from the list's resourceVersion", async () => {
    const ns = await newNamespace(cluster, "paged");
    for (let i = 0; i < 7; i++) await runPod(cluster, { namespace: ns, name: `p${i}`, app: "paged", ip: `127.0.1.${i + 1}` });
    const { cache, log } = cacheOf(await client(), ns, { pageSize: 3 });
    await cache.ready();
    assert.deepEqual(cachedIn(cache, ns), ["p0", "p1", "p2", "p3", "p4", "p5", "p6"]);
    const lists = log.filter((l) => l.startsWith("list"));
    assert.deepEqual(lists, ["list rv=0 limit=3 continue=no"], log.join("\n"));
    await runPod(cluster, { namespace: ns, name: "p7", app: "paged", ip: "127.0.1.8" });
    await cacheUntil(cache, (c) => c.get(ns, "p7") !== undefined, "p7 from the watch");
    assert.equal(log.filter((l) => l.startsWith("list")).length, 1, "no LIST after the first sync");
    const listedAt = cache.get(ns, "p6")!.resourceVersion;
    const watch = log.find((l) => l.startsWith("watch"));
    assert.ok(watch !== undefined && Number(/rv=(\d+)/.exec(watch)?.[1]) >= Number(listedAt), log.join("\n"));
  });

  it('pages a quorum LIST (resourceVersion "") with continue tokens', async () => {
    const ns = await newNamespace(cluster, "quorum");
    for (let i = 0; i < 5; i++) await runPod(cluster, { namespace: ns, name: `q${i}`, app: "quorum", ip: `127.0.1.${i + 21}` });
    const api = await client(true);
    const first = await api.listPods({ namespace: ns, limit: 2, resourceVersion: "" });
    assert.equal(first.items.length, 2);
    assert.ok(first.metadata.continue, "a continue token");
    const second = await api.listPods({ namespace: ns, limit: 2, continue: first.metadata.continue });
    const third = await api.listPods({ namespace: ns, limit: 2, continue: second.metadata.continue });
    assert.deepEqual([...first.items, ...second.items, ...third.items].map((p) => p.metadata.name), ["q0", "q1", "q2", "q3", "q4"]);
    assert.equal(third.metadata.continue ?? "", "");
    assert.equal(third.metadata.resourceVersion, first.metadata.resourceVersion, "every page at the first page's resourceVersion");
  });

  it("resumes from the last resourceVersion without a LIST when the connection is cut", async () => {
    const ns = await newNamespace(cluster, "resume");
    await runPod(cluster, { namespace: ns, name: "a", app: "resume", ip: "127.0.2.1" });
    const { cache, log } = cacheOf(await client(), ns);
    await cache.ready();
    await runPod(cluster, { namespace: ns, name: "b", app: "resume", ip: "127.0.2.2" });
    await cacheUntil(cache, (c) => c.get(ns, "b") !== undefined, "b");
    const rvBefore = cache.get(ns, "b")!.resourceVersion;
    proxy.dropAll();
    await runPod(cluster, { namespace: ns, name: "c", app: "resume", ip: "127.0.2.3" });
    await setStatus(cluster, ns, "a", { ips: ["127.0.2.1"], ready: false });
    await cacheUntil(cache, (c) => c.get(ns, "c") !== undefined && c.get(ns, "a")?.ready === false, "c and a's readiness after the cut");
    const watches = log.filter((l) => l.startsWith("watch"));
    assert.ok(watches.length >= 2, log.join("\n"));
    assert.equal(log.filter((l) => l.startsWith("list")).length, 1, `one LIST only:\n${log.join("\n")}`);
    const resumedAt = Number(/rv=(\d+)/.exec(watches[1]!)![1]);
    assert.ok(resumedAt >= Number(rvBefore), `resumed at ${resumedAt}, last seen ${rvBefore}`);
  });

  it("streams the initial list with sendInitialEvents (WatchList, on by default since 1.34)", async () => {
    const ns = await newNamespace(cluster, "stream");
    for (let i = 0; i < 4; i++) await runPod(cluster, { namespace: ns, name: `s${i}`, app: "stream", ip: `127.0.3.${i + 1}` });
    const { cache, log } = cacheOf(await client(), ns, { streamingList: true });
    await cache.ready();
    assert.deepEqual(cachedIn(cache, ns), ["s0", "s1", "s2", "s3"]);
    assert.match(log[0]!, /^watch rv= sendInitialEvents$/, log.join("\n"));
    assert.equal(log.filter((l) => l.startsWith("list")).length, 0, log.join("\n"));
    await runPod(cluster, { namespace: ns, name: "s4", app: "stream", ip: "127.0.3.5" });
    await cacheUntil(cache, (c) => c.get(ns, "s4") !== undefined, "s4 after the streamed list");
  });

  it("decodes the server's bookmarks: the initial-events-end one, and one carrying progress made elsewhere", async () => {
    const ns = await newNamespace(cluster, "bookmark");
    const elsewhere = await newNamespace(cluster, "bookmark-other");
    const b0 = await runPod(cluster, { namespace: ns, name: "b0", app: "bookmark", ip: "127.0.4.1" });
    const api = await client(true);
    const body = await api.watchPods({
      namespace: ns,
      allowWatchBookmarks: true,
      sendInitialEvents: true,
      resourceVersionMatch: "NotOlderThan",
      timeoutSeconds: 5,
    });
    const decoder = createWatchDecoder();
    const seen: string[] = [];
    let progress = "";
    const take = async (results: WatchDecodeResult[]): Promise<void> => {
      for (const r of results) {
        if (r instanceof WatchDecodeError) throw r;
        if (r.type === "BOOKMARK") {
          assert.match(r.resourceVersion, /^\d+$/);
          seen.push(r.initialEventsEnd ? `BOOKMARK:end@${r.resourceVersion}` : `BOOKMARK@${r.resourceVersion}`);
          if (r.initialEventsEnd) {
            // A write this watch does not see: the cacher's next bookmark
            // (2 s before the watch's deadline) carries its resourceVersion.
            const other = await runPod(cluster, { namespace: elsewhere, name: "x", app: "bookmark", ip: "127.0.4.2" }, null);
            progress = other.metadata.resourceVersion!;
          }
        } else if (r.type === "ERROR") seen.push(`ERROR:${r.status.code}`);
        else seen.push(`${r.type}:${r.object.metadata.name}`);
      }
    };
    for await (const chunk of body) await take(decoder.push(chunk));
    await take(decoder.end());
    assert.equal(seen[0], "ADDED:b0");
    assert.equal(seen[1], `BOOKMARK:end@${b0.metadata.resourceVersion}`, seen.join(" "));
    assert.ok(progress !== "");
    assert.ok(
      seen.slice(2).some((e) => e.startsWith("BOOKMARK@") && Number(e.slice(9)) >= Number(progress)),
      `a bookmark at >= ${progress} before the 5 s timeout: ${seen.join(" ")}`,
    );
  });
});
