/**
 * Real TLS on every runtime: the runtime fetch built by createKubeClient against
 * a node:https server on loopback with the CA in test/fixtures/kube/.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createServer } from "node:https";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { TLSSocket } from "node:tls";
import { createKubeClient, KubeConfig, KubeConnectionError } from "../../src/kube/index.ts";

const fixture = (name: string): string => readFileSync(new URL(`../fixtures/kube/${name}`, import.meta.url), "utf8");
const caPem = fixture("ca.pem");
const otherCaPem = fixture("other-ca.pem");
const clientCertPem = fixture("client.pem");
const clientKeyPem = fixture("client-key.pem");

const podList = { kind: "PodList", apiVersion: "v1", metadata: { resourceVersion: "7" }, items: [] };

describe("runtime fetch over TLS", () => {
  let server: Server;
  let url = "";
  const watchClosed: Array<() => void> = [];
  let nextWatchClosed: Promise<void> = Promise.resolve();

  const armWatchClosed = (): void => {
    nextWatchClosed = new Promise((resolve) => watchClosed.push(resolve));
  };

  before(async () => {
    server = createServer(
      {
        cert: fixture("server.pem"),
        key: fixture("server-key.pem"),
        ca: caPem,
        requestCert: true,
        rejectUnauthorized: false,
      },
      (req: IncomingMessage, res: ServerResponse) => {
        const socket = req.socket as TLSSocket;
        const path = req.url ?? "";
        if (path.startsWith("/whoami")) {
          // Bun's node:https server has no getPeerCertificate(); `authorized` is enough there.
          const peer =
            socket.authorized && typeof socket.getPeerCertificate === "function" ? socket.getPeerCertificate() : undefined;
          res.writeHead(200, { "content-type": "application/json" });
          res.end(JSON.stringify({ authorized: socket.authorized === true, cn: peer?.subject?.CN ?? null }));
          return;
        }
        if (path.includes("drop=true")) {
          res.writeHead(200, { "content-type": "application/json" });
          res.write(`{"type":"BOOKMARK","object":{"kind":"Pod","apiVersion":"v1","metadata":{"resourceVersion":"7"}}}\n`);
          setImmediate(() => socket.destroy()); // a connection reset mid-stream
          return;
        }
        if (path.includes("watch=true")) {
          res.writeHead(200, { "content-type": "application/json" });
          res.write(`{"type":"BOOKMARK","object":{"kind":"Pod","apiVersion":"v1","metadata":{"resourceVersion":"7"}}}\n`);
          res.on("close", () => watchClosed.shift()?.());
          return; // hangs until the client goes away
        }
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify(podList));
      },
    );
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(async () => {
    server.closeAllConnections?.();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it("lists pods when the CA is trusted, reusing the client for several requests", async () => {
    await using client = createKubeClient({ config: KubeConfig.fromOptions({ server: url, caPem }) });
    for (let i = 0; i < 3; i++) {
      const list = await client.listPods({ namespace: "default" });
      assert.equal(list.metadata.resourceVersion, "7");
    }
  });

  it("fails with a TLS error naming the server when the CA is wrong", async () => {
    await using client = createKubeClient({ config: KubeConfig.fromOptions({ server: url, caPem: otherCaPem }) });
    await assert.rejects(client.listPods({ namespace: "default" }), (err: unknown) => {
      assert.ok(err instanceof KubeConnectionError, String(err));
      assert.equal(err.tls, true, err.message);
      assert.equal(err.code, "KUBE_CONNECTION_ERROR");
      assert.match(err.message, /TLS verification/);
      assert.ok(err.message.includes(url), err.message);
      return true;
    });
  });

  it("fails with a TLS error without a CA (the runtime's roots do not know the test CA)", async () => {
    await using client = createKubeClient({ config: KubeConfig.fromOptions({ server: url }) });
    await assert.rejects(client.listPods({ namespace: "default" }), (err: unknown) => {
      assert.ok(err instanceof KubeConnectionError && err.tls, String(err));
      return true;
    });
  });

  it("skips verification with insecureSkipTlsVerify", async () => {
    await using client = createKubeClient({
      config: KubeConfig.fromOptions({ server: url, insecureSkipTlsVerify: true }),
    });
    const list = await client.listPods({ namespace: "default" });
    assert.deepEqual(list.items, []);
  });

  it("verifies against tlsServerName instead of the URL's host", async () => {
    await using client = createKubeClient({
      config: KubeConfig.fromOptions({ server: url, caPem, tlsServerName: "kubernetes.test" }),
    });
    const list = await client.listPods({ namespace: "default" });
    assert.equal(list.metadata.resourceVersion, "7");
  });

  it("rejects a tlsServerName the certificate does not carry", async () => {
    await using client = createKubeClient({
      config: KubeConfig.fromOptions({ server: url, caPem, tlsServerName: "elsewhere.test" }),
    });
    await assert.rejects(client.listPods({ namespace: "default" }), (err: unknown) => {
      assert.ok(err instanceof KubeConnectionError && err.tls, String(err));
      return true;
    });
  });

  it("authenticates with a client certificate", async () => {
    await using client = createKubeClient({
      config: KubeConfig.fromOptions({ server: url, caPem, certPem: clientCertPem, keyPem: clientKeyPem }),
    });
    const res = await client.request("GET", "/whoami");
    const who = (await res.json()) as { authorized: boolean; cn: string | null };
    assert.equal(who.authorized, true);
    if (who.cn !== null) assert.equal(who.cn, "kratos-test-user");
  });

  it("sends no client certificate when none is configured", async () => {
    await using client = createKubeClient({ config: KubeConfig.fromOptions({ server: url, caPem }) });
    const res = await client.request("GET", "/whoami");
    assert.equal(((await res.json()) as { authorized: boolean }).authorized, false);
  });

  it("aborting a watch closes the connection on the server", async () => {
    await using client = createKubeClient({ config: KubeConfig.fromOptions({ server: url, caPem }) });
    const ac = new AbortController();
    armWatchClosed();
    const body = await client.watchPods({ namespace: "default", signal: ac.signal, allowWatchBookmarks: true });
    const reader = body.getReader();
    const first = await reader.read();
    assert.equal(first.done, false);
    assert.match(new TextDecoder().decode(first.value), /BOOKMARK/);
    ac.abort(new Error("stop watching"));
    await assert.rejects(reader.read());
    await nextWatchClosed;
  });

  it("close() ends an open watch", async () => {
    const client = createKubeClient({ config: KubeConfig.fromOptions({ server: url, caPem }) });
    armWatchClosed();
    const body = await client.watchPods({ namespace: "default" });
    const reader = body.getReader();
    await reader.read();
    await client.close();
    await assert.rejects(reader.read());
    await nextWatchClosed;
  });

  for (const [name, options] of [
    ["a trusted CA", { caPem }],
    ["insecureSkipTlsVerify", { insecureSkipTlsVerify: true }],
    ["tlsServerName", { caPem, tlsServerName: "kubernetes.test" }],
  ] as const) {
    it(`a dropped connection errors the watch stream (${name})`, async () => {
      await using client = createKubeClient({ config: KubeConfig.fromOptions({ server: url, ...options }) });
      const res = await client.request("GET", "/api/v1/pods", { query: { watch: true, drop: true } });
      const reader = res.body!.getReader();
      let failed = false;
      try {
        for (;;) {
          const r = await reader.read();
          if (r.done) break;
        }
      } catch {
        failed = true;
      }
      // A reset mid-chunk is an error (the chunked body is incomplete), never a hang.
      assert.equal(failed, true);
    });
  }
});
