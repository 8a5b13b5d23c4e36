/**
 * The client end to end over real TLS against the fake API server's
 * `listen({ tls: true })` and its generated CA, on every runtime: the
 * kubeconfig it writes, bearer tokens, RBAC errors, token rotation, watches.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createKubeClient, KubeApiError, KubeConfig, KubeConnectionError } from "../../src/kube/index.ts";
import { FakeKubeApiServer, makePod } from "../../src/testing/index.ts";

describe("client against the TLS fake API server", () => {
  let server: FakeKubeApiServer;
  let url = "";
  let caPem = "";
  let root: string;

  before(async () => {
    root = mkdtempSync(join(tmpdir(), "kratos-kube-fake-"));
    server = new FakeKubeApiServer({
      tokens: {
        admin: { user: "alice" },
        reader: { user: "system:serviceaccount:shop:reader", verbs: ["get", "list", "watch"], namespaces: ["shop"] },
      },
      rechunk: false,
    });
    const l = await server.listen({ tls: true });
    url = l.url;
    caPem = l.caPem ?? "";
    server.createPod(makePod({ name: "a-1", namespace: "shop", app: "a", ip: "10.0.0.1" }));
    server.createPod(makePod({ name: "b-1", namespace: "other", app: "b", ip: "10.0.0.2" }));
  });

  after(async () => {
    await server.close();
    rmSync(root, { recursive: true, force: true });
  });

  it("serves https with a CA the kubeconfig carries", () => {
    assert.match(url, /^https:\/\/127\.0\.0\.1:\d+$/);
    assert.match(caPem, /BEGIN CERTIFICATE/);
  });

  it("lists, gets and patches pods through the kubeconfig the fake writes", async () => {
    const config = await KubeConfig.fromKubeconfig(server.kubeconfig({ token: "admin", namespace: "shop" }));
    assert.equal(config.namespace, "shop");
    await using client = createKubeClient({ config });
    const list = await client.listPods({ namespace: "shop", labelSelector: "kratos-service-app" });
    assert.deepEqual(list.items.map((p) => p.metadata.name), ["a-1"]);
    const all = await client.listPods({ labelSelector: "kratos-service-app" });
    assert.equal(all.items.length, 2);
    const pod = await client.getPod("shop", "a-1");
    assert.equal(pod.status?.podIP, "10.0.0.1");
    const patched = await client.patchPod("shop", "a-1", { metadata: { labels: { "kratos-service-version": "v2" } } }, { type: "strategic", fieldManager: "kratos-kube-test" });
    assert.equal(patched.metadata.labels?.["kratos-service-version"], "v2");
  });

  it("keeps the apiserver's RBAC message on a 403, and answers access reviews", async () => {
    await using client = createKubeClient({ config: KubeConfig.fromOptions({ server: url, caPem, token: "reader" }) });
    await assert.rejects(client.listPods({ namespace: "other" }), (e: unknown) => {
      assert.ok(e instanceof KubeApiError && e.isForbidden(), String(e));
      assert.match(e.message, /system:serviceaccount:shop:reader/);
      assert.match(e.message, /"other"/);
      return true;
    });
    const review = await client.selfSubjectAccessReview({ verb: "patch", resource: "pods", namespace: "shop" });
    assert.equal(review.allowed, false);
    const allowed = await client.selfSubjectAccessReview({ verb: "watch", resource: "pods", namespace: "shop" });
    assert.equal(allowed.allowed, true);
  });

  it("re-reads a rotated token file after a 401 and retries once", async () => {
    const file = join(root, "token");
    writeFileSync(file, "admin");
    await using client = createKubeClient({ config: KubeConfig.fromOptions({ server: url, caPem, tokenFile: file }) });
    await client.listPods({ namespace: "shop" });
    writeFileSync(file, "rotated");
    server.setTokens({ rotated: { user: "alice" } });
    try {
      const list = await client.listPods({ namespace: "shop" });
      assert.equal(list.items.length, 1);
    } finally {
      server.setTokens({ admin: { user: "alice" }, reader: { user: "system:serviceaccount:shop:reader", verbs: ["get", "list", "watch"], namespaces: ["shop"] } });
    }
  });

  it("rejects an unknown token with 401 Unauthorized", async () => {
    await using client = createKubeClient({ config: KubeConfig.fromOptions({ server: url, caPem, token: "nope" }) });
    await assert.rejects(client.listPods({ namespace: "shop" }), (e: unknown) => e instanceof KubeApiError && e.isUnauthorized());
  });

  it("fails with a TLS error naming the server without the fake's CA", async () => {
    await using client = createKubeClient({ config: KubeConfig.fromOptions({ server: url, token: "admin" }) });
    await assert.rejects(client.listPods({ namespace: "shop" }), (e: unknown) => {
      assert.ok(e instanceof KubeConnectionError && e.tls, String(e));
      assert.ok(e.message.includes(url));
      assert.ok(!e.message.includes("admin"));
      return true;
    });
  });

  it("streams a watch and ends it when the signal aborts", async () => {
    await using client = createKubeClient({ config: KubeConfig.fromOptions({ server: url, caPem, token: "admin" }) });
    const list = await client.listPods({ namespace: "shop" });
    const ac = new AbortController();
    const before = server.openWatches;
    const body = await client.watchPods({
      namespace: "shop",
      resourceVersion: list.metadata.resourceVersion,
      allowWatchBookmarks: true,
      signal: ac.signal,
    });
    server.createPod(makePod({ name: "a-2", namespace: "shop", app: "a", ip: "10.0.0.3" }));
    const reader = body.getReader();
    const decoder = new TextDecoder();
    let text = "";
    while (!text.includes("\n")) {
      const r = await reader.read();
      assert.equal(r.done, false);
      text += decoder.decode(r.value, { stream: true });
    }
    const event = JSON.parse(text.split("\n")[0]!) as { type: string; object: { metadata: { name: string } } };
    assert.equal(event.type, "ADDED");
    assert.equal(event.object.metadata.name, "a-2");
    assert.equal(server.openWatches, before + 1);
    ac.abort();
    if ("Deno" in globalThis) {
      // Deno may leave a read pending after the abort (see `watchPods`): the
      // reader is cancelled as well, as the reflector does, and the read settles.
      await reader.cancel(ac.signal.reason).catch(() => {});
      await reader.read().catch(() => undefined);
    } else {
      await assert.rejects(reader.read());
    }
  });

  it("reads large (gzip-compressed) lists", async () => {
    for (let i = 0; i < 60; i++) server.createPod(makePod({ name: `bulk-${i}`, namespace: "bulk", app: "bulk", ip: `10.1.0.${i}` }));
    await using client = createKubeClient({ config: KubeConfig.fromOptions({ server: url, caPem, token: "admin" }) });
    const res = await client.request("GET", "/api/v1/namespaces/bulk/pods");
    assert.equal(res.headers.get("content-encoding"), "gzip", "the runtime's fetch asks for gzip and inflates it");
    const text = await res.text();
    assert.ok(text.length > 128 * 1024, String(text.length));
    const list = JSON.parse(text) as { items: unknown[] };
    assert.equal(list.items.length, 60);
    const typed = await client.listPods({ namespace: "bulk", limit: 500 });
    assert.equal(typed.items.length, 60);
  });
});
