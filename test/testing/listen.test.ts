import { describe, it, after } from "node:test";
import assert from "node:assert/strict";
import { request as httpsRequest } from "node:https";
import { parse as parseYaml } from "yaml";
import { FakeKubeApiServer, makePod } from "../../src/testing/index.ts";
import { EventReader } from "./helpers.ts";

const servers: FakeKubeApiServer[] = [];
after(async () => {
  for (const s of servers) await s.close();
});

function httpsGet(url: string, ca: string, token: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(url, { ca, headers: { authorization: `Bearer ${token}` } }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => (body += d));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end();
  });
}

describe("listen()", () => {
  it("serves the handler over plain http on loopback", async () => {
    const s = new FakeKubeApiServer();
    servers.push(s);
    s.createPod(makePod({ name: "a" }));
    const { url, caPem } = await s.listen();
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(caPem, undefined);
    assert.equal(s.url, url);
    const res = await fetch(`${url}/api/v1/namespaces/default/pods`);
    assert.equal(res.status, 200);
    assert.equal(((await res.json()) as any).items.length, 1);
    const v = await fetch(`${url}/version`);
    assert.equal(v.status, 200);
    const nf = await fetch(`${url}/nothing/here`);
    assert.equal(nf.status, 404);
    await nf.text();
    await assert.rejects(s.listen(), /already listening/);
  });

  it("flushes watch headers before any event, streams events, resets the socket on dropWatches", async () => {
    const s = new FakeKubeApiServer();
    servers.push(s);
    const { url } = await s.listen();
    // No event is due: the response must still arrive (headers flushed first).
    const res = await fetch(`${url}/api/v1/namespaces/default/pods?watch=true&resourceVersion=${s.resourceVersion}`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-type"), "application/json");
    assert.equal(res.headers.get("content-length"), null, "a watch is streamed (chunked), no Content-Length");
    const events = new EventReader(res.body);
    s.createPod(makePod({ name: "b" }));
    const [e] = await events.take(1);
    assert.equal(e!.type, "ADDED");
    s.faults.dropWatches();
    await events.error();
  });

  it("close() ends open watches over http cleanly", async () => {
    const s = new FakeKubeApiServer();
    const { url } = await s.listen();
    const res = await fetch(`${url}/api/v1/pods?watch=true`);
    const events = new EventReader(res.body);
    await s.close();
    const rest = await events.rest().catch(() => []);
    assert.deepEqual(rest, []);
    assert.equal(s.openWatches, 0);
  });

  it("listens with TLS by default when tokens are required; exposes the CA; kubeconfig() carries CA and token", async () => {
    const s = new FakeKubeApiServer({ tokens: { t0k3n: { user: "alice" } } });
    servers.push(s);
    const { url, caPem } = await s.listen();
    assert.match(url, /^https:\/\/127\.0\.0\.1:\d+$/);
    assert.match(caPem ?? "", /^-----BEGIN CERTIFICATE-----/);
    assert.equal(s.caPem, caPem);
    const ok = await httpsGet(`${url}/api/v1/pods`, caPem!, "t0k3n");
    assert.equal(ok.status, 200);
    const no = await httpsGet(`${url}/api/v1/pods`, caPem!, "wrong");
    assert.equal(no.status, 401);
    const cfg = parseYaml(s.kubeconfig({ namespace: "shop" })) as any;
    assert.equal(cfg.clusters[0].cluster.server, url);
    assert.equal(atob(cfg.clusters[0].cluster["certificate-authority-data"]), caPem);
    assert.equal(cfg.users[0].user.token, "t0k3n");
    assert.equal(cfg.contexts[0].context.namespace, "shop");
    assert.equal(cfg["current-context"], "fake");
  });

  it("kubeconfig() before listen() throws a clear error", () => {
    const s = new FakeKubeApiServer();
    assert.throws(() => s.kubeconfig(), /call listen\(\) first/);
  });

  it("plain http with tokens when asked explicitly (kubectl will not send the token; the library's client does)", async () => {
    const s = new FakeKubeApiServer({ tokens: { t: { user: "u" } } });
    servers.push(s);
    const { url } = await s.listen({ tls: false });
    assert.match(url, /^http:/);
    assert.equal((await fetch(`${url}/api/v1/pods`, { headers: { authorization: "Bearer t" } })).status, 200);
    const cfg = parseYaml(s.kubeconfig()) as any;
    assert.equal(cfg.users[0].user.token, "t");
    assert.equal(cfg.clusters[0].cluster["certificate-authority-data"], undefined);
  });
});

describe("compression (apiserver writers.go: gzip above 128 KiB when asked, never for watches)", () => {
  it("gzips a large LIST for Accept-Encoding: gzip and leaves small ones and watches alone", async () => {
    const s = new FakeKubeApiServer();
    servers.push(s);
    for (let i = 0; i < 40; i++) s.createPod(makePod({ name: `p${i}` }));
    const big = await s.fetch(new Request("http://x/api/v1/pods", { headers: { "accept-encoding": "gzip" } }));
    assert.equal(big.headers.get("content-encoding"), "gzip");
    const text = await new Response(big.body!.pipeThrough(new DecompressionStream("gzip"))).text();
    assert.equal(JSON.parse(text).items.length, 40);
    const small = await s.fetch(new Request("http://x/api/v1/pods?limit=1", { headers: { "accept-encoding": "gzip" } }));
    assert.equal(small.headers.get("content-encoding"), null);
    await small.text();
    const plain = await s.fetch(new Request("http://x/api/v1/pods"));
    assert.equal(plain.headers.get("content-encoding"), null);
    await plain.text();
    const w = await s.fetch(new Request("http://x/api/v1/pods?watch=true", { headers: { "accept-encoding": "gzip" } }));
    assert.equal(w.headers.get("content-encoding"), null);
    await w.body!.cancel();
    // over real HTTP, fetch decodes transparently
    const { url } = await s.listen();
    const res = await fetch(`${url}/api/v1/pods`, { headers: { "accept-encoding": "gzip" } });
    assert.equal(((await res.json()) as any).items.length, 40);
  });
});
