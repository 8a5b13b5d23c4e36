/**
 * An `https://` server URL pointing at a plain-HTTP port, on every runtime:
 * the runtime fetch fails the handshake with its own words (OpenSSL, BoringSSL,
 * rustls) and the client reports `notTls`, not a certificate problem.
 */
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createKubeClient, KubeConfig, KubeConnectionError } from "../../src/kube/index.ts";

describe("an https:// server URL on a plain-HTTP port", () => {
  let server: Server;
  let port = 0;
  before(async () => {
    server = createServer((_req, res) => {
      res.setHeader("content-type", "application/json");
      res.end('{"gitVersion":"v1.34.4"}');
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    port = (server.address() as AddressInfo).port;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it("is reported as a server that does not speak TLS, not as a CA mismatch", async () => {
    await using client = createKubeClient({ config: KubeConfig.fromOptions({ server: `https://127.0.0.1:${port}`, namespace: "default" }) });
    await assert.rejects(client.request("GET", "/version"), (e: unknown) => {
      assert.ok(e instanceof KubeConnectionError, String(e));
      assert.equal(e.notTls, true, e.message);
      assert.equal(e.tls, false, e.message);
      assert.match(e.message, new RegExp(`https://127\\.0\\.0\\.1:${port} is https://, but the server there does not speak TLS`));
      return true;
    });
  });

  it("the same port over http:// answers", async () => {
    await using client = createKubeClient({ config: KubeConfig.fromOptions({ server: `http://127.0.0.1:${port}`, namespace: "default" }) });
    const res = await client.request("GET", "/version");
    assert.deepEqual(await res.json(), { gitVersion: "v1.34.4" });
  });
});
