// The endpoint probe of `doctor`: TCP connect, then grpc.health.v1 Check.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createServer as createTcpServer, type Server, type Socket } from "node:net";
import { createServer as createH2Server, type Http2Server } from "node:http2";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { parseEndpoint, probeEndpoint } from "../../cli/probe.ts";
import { Greeter } from "../../proto/gen/helloworld_pb.ts";
import { startGreeter, type GreeterServer } from "../../cli/demo/greeter-server.ts";

function port(server: Server | Http2Server): number {
  const a = server.address();
  return typeof a === "object" && a !== null ? a.port : 0;
}

describe("cli/probe", () => {
  let greeter: GreeterServer;
  let silent: Server;
  const silentSockets = new Set<Socket>();
  let plain: Http2Server;
  let noHealth: Http2Server;

  before(async () => {
    greeter = await startGreeter({ name: "probe", workMs: 0 });
    silent = createTcpServer((s) => {
      silentSockets.add(s);
      s.on("error", () => {});
      s.on("close", () => silentSockets.delete(s));
    });
    plain = createH2Server((_req, res) => {
      res.writeHead(200, { "content-type": "text/html" });
      res.end("<html>a web server</html>");
    });
    // A connect-node gRPC server with Greeter only: no grpc.health.v1.
    noHealth = createH2Server(connectNodeAdapter({ grpc: true, routes: (router) => void router.service(Greeter, { sayHello: (req) => ({ message: `Hello ${req.name}` }) }) }));
    await new Promise<void>((r) => silent.listen(0, "127.0.0.1", r));
    await new Promise<void>((r) => plain.listen(0, "127.0.0.1", r));
    await new Promise<void>((r) => noHealth.listen(0, "127.0.0.1", r));
  });
  after(async () => {
    await greeter.drain();
    for (const s of silentSockets) s.destroy();
    await new Promise<void>((r) => silent.close(() => r()));
    await new Promise<void>((r) => plain.close(() => r()));
    await new Promise<void>((r) => noHealth.close(() => r()));
  });

  it("parses endpoints, IPv6 included", () => {
    assert.deepEqual(parseEndpoint("grpc://10.0.0.1:9000"), { scheme: "grpc", host: "10.0.0.1", port: 9000 });
    assert.deepEqual(parseEndpoint("grpc://[fd00::1]:9000"), { scheme: "grpc", host: "fd00::1", port: 9000 });
    assert.equal(parseEndpoint("grpc://10.0.0.1"), "no port in grpc://10.0.0.1");
  });

  it("a serving greeter passes", async () => {
    const r = await probeEndpoint(`grpc://127.0.0.1:${greeter.port}`, 2000);
    assert.equal(r.ok, true);
    assert.match(r.detail, /^SERVING in \d+ ms$/);
  });

  it("a port that accepts TCP but never answers fails at the deadline with the fix", async () => {
    const r = await probeEndpoint(`grpc://127.0.0.1:${port(silent)}`, 200);
    assert.equal(r.ok, false);
    assert.equal(r.stage, "health");
    assert.match(r.fix ?? "", /accepts TCP but does not answer gRPC/);
  });

  it("a gRPC server without grpc.health.v1 is reachable with no health service, as the transport treats it", async () => {
    const r = await probeEndpoint(`grpc://127.0.0.1:${port(noHealth)}`, 2000);
    assert.equal(r.ok, true, r.detail);
    assert.equal(r.stage, "ok");
    assert.match(r.detail, /^reachable in \d+ ms, no health service \(Check answered Unimplemented.*\); the transport treats it as up$/);
  });

  it("an HTTP/2 server that is not gRPC is named as such", async () => {
    const r = await probeEndpoint(`grpc://127.0.0.1:${port(plain)}`, 2000);
    assert.equal(r.ok, false, r.detail);
    assert.match(r.fix ?? "", /answers HTTP on 127\.0\.0\.1:\d+ but not as a gRPC server \(unsupported content type text\/html\)/);
  });
});
