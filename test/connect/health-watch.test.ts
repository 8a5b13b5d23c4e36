/**
 * Health watching end to end, with real servers on loopback and the
 * transport on a manual clock: a server whose grpc.health.v1 status flips to
 * NOT_SERVING gets no new calls at once (discovery says nothing), its calls
 * in flight finish, and it takes calls again on SERVING; a server without
 * Watch (Check only) or without the health service still works; the watch
 * stream reopens after its connection broke; it never passes the user's
 * interceptors and ends with the transport.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createClient, type Interceptor } from "@connectrpc/connect";
import { createDiscoveryTransport, createManualDiscovery, EndpointConfigError, type DiscoveryTransport, type LogRecord } from "../../src/connect/index.ts";
import { Echo } from "../../proto/gen/echo_pb.ts";
import { Greeter } from "../../proto/gen/helloworld_pb.ts";
import { createApp, grpcServer } from "../../src/app/index.ts";
import { createManualClock } from "../../src/testing/index.ts";
import { heldGreeter, inStep, stateWaiter } from "../app/support/harness.ts";
import { createFakeClock, type FakeClock } from "./support/fake-clock.ts";
import { createWaiter, watchdog } from "./support/load.ts";
import { instance, startServer, type TestServer, type TestServerOptions } from "./support/servers.ts";

const WATCH_PATH = "/grpc.health.v1.Health/Watch";

interface Setup {
  readonly servers: TestServer[];
  readonly transport: DiscoveryTransport;
  readonly client: ReturnType<typeof createClient<typeof Echo>>;
  readonly clock: FakeClock;
  readonly waiter: ReturnType<typeof createWaiter>;
  readonly logs: LogRecord[];
  readonly paths: string[];
  readonly seen: string[];
  state(s: TestServer): string | undefined;
  close(): Promise<void>;
}

async function setup(options: TestServerOptions[], extra: { interceptors?: Interceptor[]; attemptInterceptors?: Interceptor[]; random?: () => number } = {}): Promise<Setup> {
  const paths: string[] = [];
  const seen: string[] = [];
  const logs: LogRecord[] = [];
  const waiter = createWaiter(() => JSON.stringify(transport.endpoints()));
  const servers = await Promise.all(options.map((o) => startServer({ ...o, onStats: () => waiter.notify(), onRequest: (p) => (paths.push(p), waiter.notify()) })));
  const clock = createFakeClock();
  const transport: DiscoveryTransport = createDiscoveryTransport({
    discovery: createManualDiscovery({ "echo.service": servers.map((s) => instance(s.address)) }),
    target: "discovery:///echo.service",
    clock,
    logger: (r) => logs.push(r),
    onEvent: () => waiter.notify(),
    ...extra,
  });
  const state = (s: TestServer): string | undefined => transport.endpoints().find((e) => e.address === s.address)?.state;
  return {
    servers, transport, client: createClient(Echo, transport), clock, waiter, logs, paths, seen, state,
    async close() {
      await transport.close();
      await Promise.all(servers.map((s) => s.close()));
    },
  };
}

async function answeredBy(client: Setup["client"], n: number): Promise<string[]> {
  return (await Promise.all(Array.from({ length: n }, () => client.say({ text: "hi" })))).map((r) => r.server);
}

describe("health watching (grpc.health.v1 Watch)", () => {
  it("refuses a bad healthCheck option, naming the field", () => {
    const make = (healthCheck: unknown): unknown =>
      createDiscoveryTransport({ discovery: createManualDiscovery({}), target: "discovery:///x", healthCheck: healthCheck as never });
    for (const [v, re] of [[{ service: "", watch: "yes" }, /healthCheck\.watch must be a boolean/], [{ watch: true }, /healthCheck must be a boolean or/], ["on", /healthCheck must be/]] as const) {
      assert.throws(() => make(v), (e: unknown) => e instanceof EndpointConfigError && e.code === "BAD_OPTION" && re.test(e.message), JSON.stringify(v));
    }
  });

  it("NOT_SERVING stops new calls at once and lets calls in flight finish; SERVING brings the server back", watchdog, async () => {
    const t = await setup([{}, {}]);
    const [a, b] = t.servers as [TestServer, TestServer];
    try {
      await t.transport.ready({ count: 2 });
      await t.waiter.until(() => a.watches.open === 1 && b.watches.open === 1);
      // One held call on each server (round robin), then a's health flips.
      const held = [t.client.say({ text: "hold" }), t.client.say({ text: "hold" })];
      await Promise.all([a.waitHeld(1), b.waitHeld(1)]);
      a.serving = false;
      await t.waiter.until(() => t.state(a) === "not-serving");
      const before = a.calls.total;
      const servers = await answeredBy(t.client, 20);
      assert.deepEqual(new Set(servers), new Set([b.address]), "every new call went to the serving server");
      assert.equal(a.calls.total, before, "the NOT_SERVING server got no new call");
      a.release();
      b.release();
      const done = await Promise.all(held);
      assert.deepEqual(done.map((r) => r.server).sort(), [a.address, b.address].sort(), "the call in flight on the NOT_SERVING server finished there");

      a.serving = true;
      await t.waiter.until(() => t.state(a) === "ready");
      const after = await answeredBy(t.client, 10);
      assert.ok(after.includes(a.address), `calls reach the server again: ${after.join(", ")}`);
      const messages = t.logs.filter((r) => r.fields["address"] === a.address).map((r) => r.message);
      assert.ok(messages.includes("endpoint reports NOT_SERVING, no new calls (its calls run on)"), messages.join(" | "));
      assert.ok(messages.includes("endpoint reports SERVING again, taking calls"), messages.join(" | "));
      assert.equal(a.watches.started, 1, "one watch stream served both changes");
    } finally {
      await t.close();
    }
  });

  it("a server answering Watch with Unimplemented keeps Check probes; one without the health service still works", watchdog, async () => {
    const t = await setup([{ healthWatch: false }, { health: false }]);
    const [checkOnly, none] = t.servers as [TestServer, TestServer];
    try {
      await t.transport.ready({ count: 2 });
      await t.waiter.until(() => t.paths.includes(WATCH_PATH));
      const servers = await answeredBy(t.client, 4);
      assert.deepEqual(servers.filter((s) => s === checkOnly.address).length, 2);
      assert.deepEqual(servers.filter((s) => s === none.address).length, 2);
      // Backoff time passes: an unsupported watch is not tried again (a retry would precede the next call on the connection).
      t.clock.advance(600_000);
      await answeredBy(t.client, 4);
      assert.equal(t.paths.filter((p) => p === WATCH_PATH).length, 1, `requests: ${t.paths.join(", ")}`);
      assert.ok(t.transport.endpoints().every((e) => e.state === "ready"));
    } finally {
      await t.close();
    }
  });

  it("the watch reopens after its connection broke, and keeps telling NOT_SERVING", watchdog, async () => {
    const t = await setup([{}]);
    const [a] = t.servers as [TestServer];
    try {
      await t.transport.ready();
      await t.waiter.until(() => a.watches.open === 1);
      a.dropSessions();
      // The endpoint reconnects and its probe succeeds: the watch reopens at once, without waiting for its backoff.
      await t.waiter.until(() => a.watches.started === 2 && a.watches.open === 1);
      assert.equal(t.state(a), "ready");
      a.serving = false;
      await t.waiter.until(() => t.state(a) === "not-serving");
    } finally {
      await t.close();
    }
  });

  it("a watch stream that ends is opened again after the endpoint's backoff, not before", watchdog, async () => {
    // No jitter: the first backoff delay is exactly 1000 ms.
    const t = await setup([{ watchEnds: true }], { random: () => 0.5 });
    const [a] = t.servers as [TestServer];
    try {
      await t.transport.ready();
      await t.waiter.until(() => a.watches.started === 1 && a.watches.open === 0);
      // A reopened watch would reach the server before a call sent after it on the same connection.
      await t.client.say({ text: "hi" });
      assert.equal(a.watches.started, 1, "not reopened at once");
      t.clock.advance(999);
      await t.client.say({ text: "hi" });
      assert.equal(a.watches.started, 1, "not before the backoff");
      t.clock.advance(1);
      await t.waiter.until(() => a.watches.started === 2);
      assert.equal(t.state(a), "ready");
    } finally {
      await t.close();
    }
  });

  it("a stopping Kratos App gets no new call from its NOT_SERVING on, before discovery removes it, and its stop is not held by the watch", watchdog, async () => {
    const appClock = createManualClock();
    const greeter = heldGreeter();
    const states = stateWaiter();
    const app = createApp({
      name: "sayhello.service", registrar: undefined, signals: false, logger: false, clock: appClock, shutdownDelayMs: 1000,
      servers: [grpcServer({ host: "127.0.0.1", port: 0, routes: greeter.routes })], onStateChange: (st) => states.notify(st),
    });
    const running = app.run();
    await states.until((st) => st.kind === "running", "running");
    const other = await startServer();
    const appAddress = app.endpoints[0]!.replace(/^grpc:\/\//, "");
    const waiter = createWaiter(() => JSON.stringify(transport.endpoints()));
    const transport = createDiscoveryTransport({
      discovery: createManualDiscovery({ "sayhello.service": [{ ...instance(appAddress), name: "sayhello.service" }, { ...instance(other.address), name: "sayhello.service" }] }),
      target: "discovery:///sayhello.service",
      clock: createFakeClock(),
      onEvent: () => waiter.notify(),
    });
    const client = createClient(Greeter, transport);
    const appState = (): string | undefined => transport.endpoints().find((e) => e.address === appAddress)?.state;
    try {
      await transport.ready({ count: 2 });
      await client.sayHello({ name: "a" });
      await client.sayHello({ name: "b" });
      assert.equal(greeter.answered.length, 1, "round robin reached the App");
      void app.stop();
      await states.until(inStep("delay"), "the shutdown delay");
      await waiter.until(() => appState() === "not-serving");
      const before = other.calls.total;
      for (let i = 0; i < 6; i++) await client.sayHello({ name: `after-${i}` });
      assert.equal(other.calls.total - before, 6, "every call after NOT_SERVING went to the other server");
      assert.equal(greeter.answered.length, 1);
      await appClock.advance(1000);
      await running; // the stop ran to its end: the watch stream did not hold the drain
      await waiter.until(() => appState() === "backoff" || appState() === "connecting");
    } finally {
      await transport.close();
      await app.stop();
      await other.close();
    }
  });

  it("is invisible to interceptors and ends with the transport", watchdog, async () => {
    const urls: string[] = [];
    const record: Interceptor = (next) => (req) => {
      urls.push(req.url);
      return next(req);
    };
    const t = await setup([{}], { interceptors: [record], attemptInterceptors: [record] });
    const [a] = t.servers as [TestServer];
    try {
      await t.transport.ready();
      await t.waiter.until(() => a.watches.open === 1);
      await t.client.say({ text: "hi" });
      assert.equal(urls.length, 2, urls.join(", "));
      assert.ok(urls.every((u) => u.endsWith("/kratoskube.echo.v1.Echo/Say")), urls.join(", "));
      await t.transport.close();
      await t.waiter.until(() => a.watches.open === 0);
    } finally {
      await t.close();
    }
  });
});
