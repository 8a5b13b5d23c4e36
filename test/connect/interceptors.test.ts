/**
 * Interceptors of the balancing transport: `interceptors` run once per
 * logical call (before the pick, whatever the retries), `attemptInterceptors`
 * once per attempt with the picked endpoint; what a call interceptor sets
 * reaches every attempt; neither sees the health probes.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Code, ConnectError, createClient, type Interceptor } from "@connectrpc/connect";
import { createDiscoveryTransport, createManualDiscovery } from "../../src/connect/index.ts";
import { Echo } from "../../proto/gen/echo_pb.ts";
import { instance, startServer } from "./support/servers.ts";
import { watchdog } from "./support/load.ts";

describe("interceptors", () => {
  it("run once per call through retries; attemptInterceptors once per attempt", watchdog, async () => {
    const refuser = await startServer({ refuseEcho: true });
    const tags: string[] = [];
    const good = await startServer({ onRequest: (path, h) => path.includes("Echo") && tags.push(String(h["x-call"])) });
    const calls: string[] = [];
    const attempts: string[] = [];
    const perCall: Interceptor = (next) => async (req) => {
      calls.push(`${req.method.name} ${req.url} ${req.header.get("grpc-timeout") === null ? "-" : "t"}`);
      req.header.set("x-call", String(calls.length));
      return next(req);
    };
    const perAttempt: Interceptor = (next) => async (req) => {
      attempts.push(`${req.url} x-call=${req.header.get("x-call")}`);
      return next(req);
    };
    const discovery = createManualDiscovery({ "echo.service": [instance(refuser.address), instance(good.address)] });
    const transport = createDiscoveryTransport({
      discovery,
      target: "discovery:///echo.service",
      interceptors: [perCall],
      attemptInterceptors: [perAttempt],
    });
    try {
      await transport.ready({ count: 2 });
      const client = createClient(Echo, transport);
      for (let i = 0; i < 4; i++) assert.equal((await client.say({ text: `i${i}` }, { timeoutMs: 10_000 })).server, good.address);
      const refused = refuser.refused.count;
      assert.ok(refused >= 1, "some calls were retried");
      assert.deepEqual(calls, Array.from({ length: 4 }, () => "Say http://echo.service/kratoskube.echo.v1.Echo/Say t"));
      assert.equal(attempts.length, 4 + refused);
      assert.equal(attempts.filter((a) => a.startsWith(`http://${refuser.address}/`)).length, refused);
      assert.equal(attempts.filter((a) => a.startsWith(`http://${good.address}/`)).length, 4);
      // every attempt carries what the call's interceptor set
      assert.ok(attempts.every((a) => /x-call=[1-4]$/.test(a)), attempts.join("; "));
      assert.deepEqual(tags, ["1", "2", "3", "4"]);
    } finally {
      await transport.close();
      await Promise.all([refuser.close(), good.close()]);
    }
  });

  it("run once per streaming call and may replace the request and response", watchdog, async () => {
    const server = await startServer();
    let seen = 0;
    const upper: Interceptor = (next) => async (req) => {
      seen++;
      const res = await next(req);
      if (!res.stream) return res;
      return {
        ...res,
        message: (async function* () {
          for await (const m of res.message) yield { ...m, text: `<${(m as unknown as { text: string }).text}>` };
        })(),
      };
    };
    const discovery = createManualDiscovery({ "echo.service": [instance(server.address)] });
    const transport = createDiscoveryTransport({ discovery, target: "discovery:///echo.service", interceptors: [upper] });
    try {
      const got: string[] = [];
      for await (const r of createClient(Echo, transport).repeat({ text: "s", count: 2 })) got.push(r.text);
      assert.deepEqual(got, ["<s-0>", "<s-1>"]);
      assert.equal(seen, 1);
    } finally {
      await transport.close();
      await server.close();
    }
  });

  it("see a call that fails without any endpoint once, with its error", watchdog, async () => {
    const errors: unknown[] = [];
    const spy: Interceptor = (next) => async (req) => {
      try {
        return await next(req);
      } catch (e) {
        errors.push(e);
        throw e;
      }
    };
    const discovery = createManualDiscovery();
    const transport = createDiscoveryTransport({ discovery, target: "discovery:///nobody", interceptors: [spy], resolveTimeoutMs: 1 });
    try {
      const err = await createClient(Echo, transport).say({ text: "x" }).catch((e: unknown) => e);
      assert.ok(err instanceof ConnectError && err.code === Code.Unavailable, String(err));
      assert.equal(errors.length, 1);
      assert.equal(errors[0], err);
    } finally {
      await transport.close();
    }
  });
});
