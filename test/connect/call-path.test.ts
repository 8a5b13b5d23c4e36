/**
 * kratos-kube's own call path against an in-process
 * connect-node server, per protocol: every call kind, errors with their
 * metadata, headers and trailers, deadlines, aborts, JSON, gzip both ways,
 * message size limits, interceptors (which never see the health probes),
 * and a server that dies under a call in flight (Unavailable).
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Code, ConnectError, createClient, type Interceptor } from "@connectrpc/connect";
import { createDiscoveryTransport, createManualDiscovery, type DiscoveryTransportOptions } from "../../src/connect/index.ts";
import { Echo } from "../../proto/gen/echo_pb.ts";
import { generateTlsMaterial } from "../../src/testing/index.ts";
import { instance, startServer, type TestServer } from "./support/servers.ts";
import { watchdog, within, WAIT_LIMIT_MS } from "./support/load.ts";

async function* items<T>(xs: T[]): AsyncIterable<T> {
  for (const x of xs) yield x;
}

async function withTransport(server: TestServer, o: Partial<DiscoveryTransportOptions>, fn: (client: ReturnType<typeof createClient<typeof Echo>>) => Promise<void>): Promise<void> {
  const discovery = createManualDiscovery({ "echo.service": [instance(server.address)] });
  const transport = createDiscoveryTransport({ discovery, target: "discovery:///echo.service", ...o });
  try {
    await within(transport.ready(), WAIT_LIMIT_MS, () => "the endpoint to be ready");
    await fn(createClient(Echo, transport));
  } finally {
    await transport.close();
  }
}

for (const protocol of ["grpc", "grpc-web", "connect"] as const) {
  describe(`call path, protocol ${protocol}`, () => {
    it("runs unary, server-, client- and bidi-streaming calls", watchdog, async () => {
      const server = await startServer();
      try {
        await withTransport(server, { protocol }, async (client) => {
          assert.equal((await client.say({ text: "u" })).text, "u");
          const got: string[] = [];
          for await (const r of client.repeat({ text: "r", count: 3 })) got.push(r.text);
          assert.deepEqual(got, ["r-0", "r-1", "r-2"]);
          assert.equal((await client.collect(items([{ text: "a" }, { text: "b" }]))).text, "a,b");
          const chat: string[] = [];
          for await (const r of client.chat(items([{ text: "x" }, { text: "y" }]))) chat.push(r.text);
          assert.deepEqual(chat, ["X", "Y"]);
        });
      } finally {
        await server.close();
      }
    });

    it("reports server errors with code and message, and response headers and trailers", watchdog, async () => {
      const server = await startServer();
      try {
        await withTransport(server, { protocol }, async (client) => {
          const err = await client.say({ text: "fail" }).catch((e: unknown) => e);
          assert.ok(err instanceof ConnectError);
          assert.equal(err.code, Code.FailedPrecondition);
          assert.equal(err.rawMessage, "asked to fail");
          let header: Headers | undefined;
          let trailer: Headers | undefined;
          await client.say({ text: "h" }, { onHeader: (h) => (header = h), onTrailer: (t) => (trailer = t) });
          assert.match(header?.get("content-type") ?? "", protocol === "connect" ? /^application\/proto/ : /^application\/grpc/);
          assert.ok(trailer instanceof Headers);
          if (protocol !== "connect") assert.equal(trailer.get("grpc-status"), "0");
        });
      } finally {
        await server.close();
      }
    });

    it("ends a call at its deadline with DeadlineExceeded and an aborted one with Canceled", watchdog, async () => {
      const server = await startServer();
      try {
        await withTransport(server, { protocol }, async (client) => {
          const late = await client.say({ text: "slow", delayMs: 5000 }, { timeoutMs: 50 }).catch((e: unknown) => e);
          assert.ok(late instanceof ConnectError && late.code === Code.DeadlineExceeded, String(late));
          const ac = new AbortController();
          const p = client.say({ text: "hold" }, { signal: ac.signal }).catch((e: unknown) => e);
          await server.waitHeld(1);
          ac.abort();
          const aborted = await p;
          assert.ok(aborted instanceof ConnectError && aborted.code === Code.Canceled, String(aborted));
          server.release();
        });
      } finally {
        await server.close();
      }
    });

    it("speaks JSON and gzip in both directions", watchdog, async () => {
      const server = await startServer();
      try {
        const text = "z".repeat(5000);
        await withTransport(server, { protocol, useBinaryFormat: false, sendCompression: "gzip", compressMinBytes: 0 }, async (client) => {
          assert.equal((await client.say({ text })).text, text);
          const got: string[] = [];
          for await (const r of client.repeat({ text: "j", count: 2 })) got.push(r.text);
          assert.deepEqual(got, ["j-0", "j-1"]);
        });
      } finally {
        await server.close();
      }
    });

    it("refuses a response larger than readMaxBytes with ResourceExhausted", watchdog, async () => {
      const server = await startServer();
      try {
        await withTransport(server, { protocol, readMaxBytes: 1000 }, async (client) => {
          const err = await client.say({ text: "y".repeat(2000) }).catch((e: unknown) => e);
          assert.ok(err instanceof ConnectError && err.code === Code.ResourceExhausted, String(err));
          assert.equal((await client.say({ text: "small" })).text, "small");
        });
        await withTransport(server, { protocol, writeMaxBytes: 100 }, async (client) => {
          const err = await client.say({ text: "y".repeat(200) }).catch((e: unknown) => e);
          assert.ok(err instanceof ConnectError && err.code === Code.ResourceExhausted, String(err));
        });
      } finally {
        await server.close();
      }
    });

    it("runs interceptors on calls (with the deadline header) but not on health probes", watchdog, async () => {
      const server = await startServer();
      const seen: string[] = [];
      const tag: Interceptor = (next) => async (req) => {
        seen.push(`${req.method.name} ${req.header.get(protocol === "connect" ? "connect-timeout-ms" : "grpc-timeout") ?? "-"}`);
        req.header.set("x-tag", "1");
        return next(req);
      };
      try {
        await withTransport(server, { protocol, interceptors: [tag] }, async (client) => {
          await client.say({ text: "i" }, { timeoutMs: 5000 });
          for await (const _ of client.repeat({ text: "s", count: 1 })) void _;
        });
        assert.equal(seen.length, 2, seen.join("; "));
        assert.match(seen[0]!, /^Say \d+m?$/);
        assert.equal(seen[1], "Repeat -");
      } finally {
        await server.close();
      }
    });
  });
}

describe("call path: a server that dies", () => {
  it("fails the call in flight with Unavailable", watchdog, async () => {
    const server = await startServer();
    try {
      await withTransport(server, {}, async (client) => {
        const p = client.say({ text: "hold" }).catch((e: unknown) => e);
        await server.waitHeld(1);
        await server.kill();
        const err = await p;
        assert.ok(err instanceof ConnectError, String(err));
        assert.equal(err.code, Code.Unavailable, String(err));
      });
    } finally {
      await server.close();
    }
  });
});

describe("call path: TLS to Pod IPs", () => {
  it("verifies the configured serverName instead of the IP", watchdog, async () => {
    const tls = await generateTlsMaterial(); // names: 127.0.0.1, ::1, localhost
    const server = await startServer({ tls: { certPem: tls.certPem, keyPem: tls.keyPem } });
    const discovery = createManualDiscovery({ "echo.service": [{ ...instance(server.address), endpoints: [`grpcs://${server.address}`] }] });
    const events: string[] = [];
    const wrong = createDiscoveryTransport({
      discovery,
      target: "discovery:///echo.service",
      secure: { ca: tls.caPem, serverName: "wrong.example" },
      onEvent: (e) => events.push(`${e.state}${e.error === undefined ? "" : `: ${String(e.error)}`}`),
      resolveTimeoutMs: 20_000,
    });
    const right = createDiscoveryTransport({ discovery, target: "discovery:///echo.service", secure: { ca: tls.caPem, serverName: "localhost" } });
    try {
      const err = await createClient(Echo, wrong).say({ text: "x" }).catch((e: unknown) => e);
      assert.ok(err instanceof ConnectError && err.code === Code.Unavailable, String(err));
      assert.ok(events.some((e) => e.startsWith("backoff") && /wrong\.example|altname|certificate|Hostname/i.test(e)), events.join("\n"));
      assert.equal((await createClient(Echo, right).say({ text: "tls" })).text, "tls");
    } finally {
      await wrong.close();
      await right.close();
      await server.close();
    }
  });
});
