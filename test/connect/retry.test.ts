/**
 * Retries, the retry budget and hedging of createDiscoveryTransport end to
 * end, with real servers on loopback: an idempotent method's Unavailable
 * answers are retried on another endpoint (5 servers, one failing 20 % of
 * calls: no call fails), by name or by the descriptor's idempotency level;
 * the backoff runs on the transport's clock and never past the deadline; a
 * budget stops a retry storm when every server fails; a hedge goes to
 * another server after the delay, the first answer wins and the slow attempt
 * is cancelled; an exhausted budget sends no hedge.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Code, ConnectError, createClient, type Interceptor } from "@connectrpc/connect";
import type { DescMethod } from "@bufbuild/protobuf";
import { createDiscoveryTransport, createManualDiscovery, type LogRecord, type Picker, type PickerNode, type PickerPolicy } from "../../src/connect/index.ts";
import { Echo } from "../../proto/gen/echo_pb.ts";
import { instance, startServer, type TestServer } from "./support/servers.ts";
import { createFakeClock } from "./support/fake-clock.ts";
import { createWaiter, watchdog } from "./support/load.ts";
import { createTestOtel, sumOf } from "./support/otel.ts";

const SAY = "kratoskube.echo.v1.Echo/Say";

type SayClient = { say(r: { text: string }): Promise<{ server: string }> };

/** `n` calls, `batch` at a time; returns the servers that answered and the failures. */
async function calls(client: SayClient, n: number, batch = 10, text = "hi"): Promise<{ servers: string[]; failed: ConnectError[] }> {
  const servers: string[] = [];
  const failed: ConnectError[] = [];
  for (let done = 0; done < n; done += batch) {
    const rs = await Promise.allSettled(Array.from({ length: Math.min(batch, n - done) }, () => client.say({ text })));
    for (const r of rs) {
      if (r.status === "fulfilled") servers.push(r.value.server);
      else failed.push(ConnectError.from(r.reason));
    }
  }
  return { servers, failed };
}

const count = (xs: string[], x: string): number => xs.filter((y) => y === x).length;
const total = (servers: TestServer[]): number => servers.reduce((a, s) => a + s.calls.total, 0);
const failing = (code = Code.Unavailable) => (): Promise<void> => Promise.reject(new ConnectError("down", code));

/** Echo.Say as a descriptor declaring `option idempotency_level = IDEMPOTENT;` has it. */
const idempotentSay = Object.create(Echo.method.say, { idempotency: { value: 2 } }) as DescMethod;

describe("retries of idempotent methods", () => {
  it("5 servers, one failing 20 % of calls with Unavailable: no call fails (the failures answered by another server); without retries they do", watchdog, async () => {
    let n = 0;
    const bad = await startServer({ gate: () => (++n % 5 === 0 ? Promise.reject(new ConnectError("flaky Pod", Code.Unavailable)) : Promise.resolve()) });
    const good = await Promise.all([0, 1, 2, 3].map(() => startServer()));
    const all = [...good, bad];
    const discovery = createManualDiscovery({ "echo.service": all.map((s) => instance(s.address)) });
    let intercepted = 0;
    const counting: Interceptor = (next) => (req) => (intercepted++, next(req));
    const retrying = createDiscoveryTransport({
      discovery, target: "discovery:///echo.service", clock: createFakeClock(), interceptors: [counting],
      retry: { methods: [SAY], initialBackoffMs: 0 },
    });
    const plain = createDiscoveryTransport({ discovery, target: "discovery:///echo.service", clock: createFakeClock() });
    try {
      await Promise.all([retrying.ready({ count: 5 }), plain.ready({ count: 5 })]);
      const r = await calls(createClient(Echo, retrying), 500);
      assert.deepEqual(r.failed.map((e) => e.message), []);
      assert.equal(r.servers.length, 500);
      assert.equal(intercepted, 500, "interceptors run once per logical call, whatever the retries");
      const badCalls = bad.calls.total;
      assert.ok(badCalls >= 50, `the flaky server took its share: ${badCalls}`);
      assert.equal(count(r.servers, bad.address), badCalls - Math.floor(badCalls / 5), "each of its failures was answered by another server");

      // Echo.Say declares no idempotency level: by default it is not retried.
      const before = bad.calls.total;
      const p = await calls(createClient(Echo, plain), 500);
      const failedThere = Math.floor(bad.calls.total / 5) - Math.floor(before / 5);
      assert.ok(failedThere >= 10);
      assert.equal(p.failed.length, failedThere);
      assert.ok(p.failed.every((e) => e.code === Code.Unavailable));
    } finally {
      await Promise.all([retrying.close(), plain.close()]);
      await Promise.all(all.map((s) => s.close()));
    }
  });

  it("by default, a method whose descriptor declares idempotency_level IDEMPOTENT is retried (with the default backoff); retry: false turns it off", watchdog, async () => {
    const bad = await startServer({ gate: failing() });
    const good = await startServer();
    const discovery = createManualDiscovery({ "echo.service": [instance(bad.address), instance(good.address)] });
    const on = createDiscoveryTransport({ discovery, target: "discovery:///echo.service", outlierDetection: false });
    const off = createDiscoveryTransport({ discovery, target: "discovery:///echo.service", outlierDetection: false, retry: false });
    try {
      await Promise.all([on.ready({ count: 2 }), off.ready({ count: 2 })]);
      const call = (t: typeof on) => t.unary(idempotentSay as never, undefined, undefined, undefined, { text: "hi" } as never);
      for (let i = 0; i < 4; i++) assert.equal(((await call(on)).message as unknown as { server: string }).server, good.address);
      assert.ok(bad.calls.total >= 2, "round robin sent first attempts to the failing server");
      const rs = await Promise.allSettled([0, 1, 2, 3].map(() => call(off)));
      assert.equal(rs.filter((r) => r.status === "rejected").length, 2);
    } finally {
      await Promise.all([on.close(), off.close()]);
      await Promise.all([bad.close(), good.close()]);
    }
  });

  it("a retry goes to another endpoint: with a picker that offers the failing endpoint twice in a row, every call succeeds in 2 attempts", watchdog, async () => {
    const bad = await startServer({ gate: failing() });
    const good = await startServer();
    // Each endpoint twice in a row: a retry on the same endpoint would fail again.
    const pairs: PickerPolicy = {
      name: "pairs",
      build<T>(nodes: readonly PickerNode<T>[]): Picker<T> {
        let i = 0;
        return { nodes, pick: () => nodes[Math.floor(i++ / 2) % nodes.length], done() {}, release() {} };
      },
    };
    const transport = createDiscoveryTransport({
      discovery: createManualDiscovery({ "echo.service": [instance(bad.address), instance(good.address)] }),
      target: "discovery:///echo.service", clock: createFakeClock(), balancer: pairs, outlierDetection: false,
      retry: { methods: [SAY], maxAttempts: 2, initialBackoffMs: 0 },
    });
    try {
      await transport.ready({ count: 2 });
      const r = await calls(createClient(Echo, transport), 12, 1);
      assert.deepEqual(r.failed.map((e) => e.message), []);
      assert.deepEqual(r.servers, Array(12).fill(good.address));
      assert.ok(bad.calls.total >= 4, `first attempts reached the failing server: ${bad.calls.total}`);
    } finally {
      await transport.close();
      await Promise.all([bad.close(), good.close()]);
    }
  });

  it("waits its backoff on the transport's clock, and does not retry when the backoff would pass the deadline", watchdog, async () => {
    let n = 0;
    // Calls 1 and 3 fail.
    const server = await startServer({ gate: () => (++n % 2 === 1 ? Promise.reject(new ConnectError("down", Code.Unavailable)) : Promise.resolve()) });
    const clock = createFakeClock();
    const transport = createDiscoveryTransport({
      discovery: createManualDiscovery({ "echo.service": [instance(server.address)] }),
      target: "discovery:///echo.service", clock, random: () => 0.5, outlierDetection: false,
      retry: { methods: [SAY], initialBackoffMs: 100 },
    });
    try {
      await transport.ready();
      const client = createClient(Echo, transport);
      const pending = clock.pending;
      let settled = false;
      const p = client.say({ text: "hi" }).finally(() => (settled = true));
      await clock.whenPending(pending + 1); // the backoff: 0.5 × 100 ms
      clock.advance(49);
      await Promise.resolve();
      assert.equal(settled, false);
      assert.equal(server.calls.total, 1);
      clock.advance(1);
      assert.equal((await p).server, server.address, "the retry (same endpoint: the only one) answered");
      assert.equal(server.calls.total, 2);

      // 40 ms left, a 50 ms backoff: the failure is the answer.
      const e = await client.say({ text: "hi" }, { timeoutMs: 40 }).then(() => undefined, (x: unknown) => ConnectError.from(x));
      assert.equal(e?.code, Code.Unavailable);
      assert.equal(server.calls.total, 3);
    } finally {
      await transport.close();
      await server.close();
    }
  });
});

describe("retry budget", () => {
  it("stops a retry storm when every server fails: 100 calls make 125 attempts (100 + 20 % + a floor of 5), 500 without a budget", watchdog, async () => {
    const servers = await Promise.all([0, 1, 2].map(() => startServer({ gate: failing() })));
    const discovery = createManualDiscovery({ "echo.service": servers.map((s) => instance(s.address)) });
    const common = { discovery, target: "discovery:///echo.service", outlierDetection: false as const, retry: { methods: [SAY], maxAttempts: 5, initialBackoffMs: 0 } };
    const otel = createTestOtel();
    const records: LogRecord[] = [];
    const budgeted = createDiscoveryTransport({
      ...common, clock: createFakeClock(), retryBudget: { minRetriesPerSecond: 0.5 }, telemetry: otel.options, logger: (r) => records.push(r),
    });
    const unbounded = createDiscoveryTransport({ ...common, clock: createFakeClock(), retryBudget: false });
    try {
      await Promise.all([budgeted.ready({ count: 3 }), unbounded.ready({ count: 3 })]);
      const b = await calls(createClient(Echo, budgeted), 100, 1);
      assert.equal(b.failed.length, 100);
      assert.ok(b.failed.every((e) => e.code === Code.Unavailable && e.message === "[unavailable] down"), "the server's failure is returned");
      assert.equal(total(servers), 125);
      // Call 1 made its 5 attempts (a balance of 5.2); each of the 99 others met an exhausted budget.
      const exhausted = await otel.points("kratos_kube.client.retry_budget.exhausted");
      assert.equal(sumOf(exhausted, { "rpc.method": SAY, "kratos_kube.retry.kind": "retry", "kratos_kube.service": "echo.service" }), 99);
      const skipped = records.filter((r) => r.message === "retry skipped: retry budget exhausted");
      assert.equal(skipped.length, 99);
      assert.deepEqual({ level: skipped[0]!.level, fields: skipped[0]!.fields }, { level: "debug", fields: { service: "echo.service", method: SAY } });
      const u = await calls(createClient(Echo, unbounded), 100, 1);
      assert.equal(u.failed.length, 100);
      assert.equal(total(servers) - 125, 500);
    } finally {
      await Promise.all([budgeted.close(), unbounded.close()]);
      await Promise.all(servers.map((s) => s.close()));
      await otel.close();
    }
  });
});

describe("hedging", () => {
  it("sends a second attempt to another server after the delay; the first answer wins and the slow attempt is cancelled; counted as a hedge", watchdog, async () => {
    const waiter = createWaiter();
    const servers = await Promise.all([0, 1].map(() => startServer({ onStats: () => waiter.notify() })));
    const clock = createFakeClock();
    const otel = createTestOtel();
    const transport = createDiscoveryTransport({
      discovery: createManualDiscovery({ "echo.service": servers.map((s) => instance(s.address)) }),
      target: "discovery:///echo.service", clock, hedging: { methods: [SAY], delayMs: 100 }, telemetry: otel.options,
    });
    try {
      await transport.ready({ count: 2 });
      const p = createClient(Echo, transport).say({ text: "hold" });
      await waiter.until(() => servers.some((s) => s.held === 1));
      const slow = servers.find((s) => s.held === 1)!;
      const fast = servers.find((s) => s !== slow)!;
      clock.advance(99);
      assert.equal(transport.endpoints().reduce((a, e) => a + e.inflight, 0), 1, "no hedge before the delay");
      clock.advance(1);
      await waiter.until(() => fast.held === 1);
      fast.release();
      assert.equal((await p).server, fast.address);
      await waiter.until(() => slow.cancelled.count === 1);
      assert.equal(slow.calls.total + fast.calls.total, 2);
      const method = "kratoskube.echo.v1.Echo/Say";
      assert.equal(sumOf(await otel.points("kratos_kube.client.hedges"), { "rpc.method": method }), 1);
      assert.equal(sumOf(await otel.points("kratos_kube.client.retries"), { "rpc.method": method }), 0);
    } finally {
      await transport.close();
      await Promise.all(servers.map((s) => s.close()));
      await otel.close();
    }
  });

  it("a hedged attempt failing with a non-fatal code sends the next one at once", watchdog, async () => {
    const bad = await startServer({ gate: failing() });
    const good = await startServer();
    const discovery = createManualDiscovery({ "echo.service": [instance(bad.address), instance(good.address)] });
    const hedged = createDiscoveryTransport({
      discovery, target: "discovery:///echo.service", clock: createFakeClock(), outlierDetection: false, hedging: { methods: [SAY], delayMs: 60_000 },
    });
    try {
      await hedged.ready({ count: 2 });
      // The clock never reaches the 60 s delay: the Unavailable answers are hedged at once.
      const r = await calls(createClient(Echo, hedged), 4, 1);
      assert.deepEqual(r.failed, []);
      assert.deepEqual(r.servers, Array(4).fill(good.address));
      assert.ok(bad.calls.total >= 1, "round robin sent first attempts to the failing server");
    } finally {
      await hedged.close();
      await Promise.all([bad.close(), good.close()]);
    }
  });

  it("an exhausted budget sends no hedge: the call stays on its first endpoint past the delay", watchdog, async () => {
    const waiter = createWaiter();
    const servers = await Promise.all([0, 1].map(() => startServer({ onStats: () => waiter.notify() })));
    const clock = createFakeClock();
    const records: LogRecord[] = [];
    const transport = createDiscoveryTransport({
      discovery: createManualDiscovery({ "echo.service": servers.map((s) => instance(s.address)) }),
      target: "discovery:///echo.service", clock, hedging: { methods: [SAY], delayMs: 100 }, retryBudget: { ratio: 0, minRetriesPerSecond: 0 },
      logger: (r) => records.push(r),
    });
    try {
      await transport.ready({ count: 2 });
      const p = createClient(Echo, transport).say({ text: "hold" });
      await waiter.until(() => servers.some((s) => s.held === 1));
      const first = servers.find((s) => s.held === 1)!;
      clock.advance(1_000);
      assert.equal(transport.endpoints().reduce((a, e) => a + e.inflight, 0), 1, "no hedge sent");
      assert.deepEqual(records.filter((r) => r.level !== "debug" || r.message.startsWith("hedge")).map((r) => r.message), ["hedge skipped: retry budget exhausted"]);
      first.release();
      assert.equal((await p).server, first.address);
      assert.equal(total(servers), 1);
    } finally {
      await transport.close();
      await Promise.all(servers.map((s) => s.close()));
    }
  });
});
