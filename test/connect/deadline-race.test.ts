/**
 * A gRPC server that ends a call at its own deadline without a status (a
 * stream ended without trailers, or reset with CANCEL) while the client's
 * deadline timer has not run yet, as when the event loop is busy: the call
 * fails with DeadlineExceeded, as grpc-go reports a reset after its context
 * expired, not with Internal ("missing status") or Canceled. A call the
 * caller aborts stays Canceled.
 *
 * The client's lag is simulated deterministically: while the call runs,
 * timers of at most the deadline's length (the attempt's deadline timer: the
 * time left once connected) are postponed.
 */
import { afterEach, describe, it } from "node:test";
import assert from "node:assert/strict";
import http2 from "node:http2";
import type { AddressInfo } from "node:net";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createDiscoveryTransport, createManualDiscovery } from "../../src/connect/index.ts";
import { Echo } from "../../proto/gen/echo_pb.ts";
import { instance } from "./support/servers.ts";

const DEADLINE_MS = 40;
const realSetTimeout = globalThis.setTimeout;

afterEach(() => {
  globalThis.setTimeout = realSetTimeout;
});

/** Postpones timers of 1..`ms` ms by a minute (the call's deadline timer is cleared when the call settles). */
function lagTimersUpTo(ms: number): void {
  globalThis.setTimeout = ((fn: (...a: unknown[]) => void, delay?: number, ...args: unknown[]) =>
    realSetTimeout(fn, delay !== undefined && delay > 0 && delay <= ms ? 60_000 : delay, ...args)) as typeof setTimeout;
}

/** A raw gRPC server that answers headers, then, past the call's deadline, ends the stream the way `how` says. */
async function rawServer(how: "end" | "cancel"): Promise<{ address: string; close(): Promise<void> }> {
  const server = http2.createServer();
  server.on("stream", (stream) => {
    stream.respond({ ":status": 200, "content-type": "application/grpc" });
    realSetTimeout(() => {
      if (how === "end") stream.end();
      else stream.close(http2.constants.NGHTTP2_CANCEL);
    }, DEADLINE_MS + 10);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  return { address: `127.0.0.1:${port}`, close: () => new Promise<void>((r) => server.close(() => r())) };
}

/** A gRPC transport to the one server at `address`, without health checks (the raw server has none). */
function grpcTransport(address: string): ReturnType<typeof createDiscoveryTransport> {
  return createDiscoveryTransport({
    discovery: createManualDiscovery({ "echo.service": [instance(address)] }),
    target: "discovery:///echo.service",
    protocol: "grpc",
    healthCheck: false,
  });
}

describe("a server ending a call at the deadline before the client's timer ran", () => {
  for (const how of ["end", "cancel"] as const) {
    it(`${how === "end" ? "ended without trailers" : "reset with CANCEL"}: DeadlineExceeded, naming the timeout`, async () => {
      const server = await rawServer(how);
      const transport = grpcTransport(server.address);
      try {
        const client = createClient(Echo, transport);
        lagTimersUpTo(DEADLINE_MS);
        const err = await client.say({ text: "x" }, { timeoutMs: DEADLINE_MS }).catch((e: unknown) => e);
        assert.ok(err instanceof ConnectError, String(err));
        assert.equal(err.code, Code.DeadlineExceeded, err.message);
        assert.match(err.message, /the operation timed out after \d+ ms/);
        assert.ok(err.cause instanceof ConnectError, "the server's ending is kept as the cause");
      } finally {
        globalThis.setTimeout = realSetTimeout;
        await transport.close();
        await server.close();
      }
    });
  }

  it("a call its caller aborted stays Canceled", async () => {
    const server = await rawServer("cancel");
    const transport = grpcTransport(server.address);
    try {
      const client = createClient(Echo, transport);
      const ac = new AbortController();
      const p = client.say({ text: "x" }, { signal: ac.signal }).catch((e: unknown) => e);
      ac.abort();
      const err = await p;
      assert.ok(err instanceof ConnectError && err.code === Code.Canceled, String(err));
    } finally {
      await transport.close();
      await server.close();
    }
  });
});
