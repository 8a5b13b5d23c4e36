/**
 * The App's driver on a manual clock with real servers on 127.0.0.1: the
 * start and stop order, the shutdown delay, the drain and its bound, errors
 * at every step, start failures, the registrar's timeout, AbortSignal,
 * `await using`, and that nothing is left behind (no timer, no listener).
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:net";
import { ConnectError } from "@connectrpc/connect";
import { AppError, createApp, grpcServer, type App, type CreateAppOptions } from "../../src/app/index.ts";
import { createManualClock, type ManualClock } from "../../src/testing/index.ts";
import { denoPrematureClose, watchdog } from "../connect/support/load.ts";
import { clientOf, heldGreeter, inStep, recordingRegistrar, stateWaiter, stepNames, type HeldGreeter } from "./support/harness.ts";

const ALL_STEPS = ["beforeStart", "listen", "register", "afterStart", "notServing", "beforeStop", "deregister", "delay", "drain", "goaway", "close", "afterStop"];

interface Setup {
  app: App;
  clock: ManualClock;
  greeter: HeldGreeter;
  log: string[];
  errors: AppError[];
  states: ReturnType<typeof stateWaiter>;
  registrar: ReturnType<typeof recordingRegistrar>;
}

function setup(o: Partial<CreateAppOptions> & { registrarBehaviour?: Parameters<typeof recordingRegistrar>[1] } = {}): Setup {
  const clock = createManualClock();
  const greeter = heldGreeter();
  const log: string[] = [];
  const errors: AppError[] = [];
  const states = stateWaiter();
  let app: App | undefined;
  const registrar = recordingRegistrar(log, { serving: () => app?.serving ?? false, ...o.registrarBehaviour });
  const { registrarBehaviour: _, ...rest } = o;
  app = createApp({
    name: "sayhello.service",
    version: "v1.2.0",
    metadata: { region: "eu-west-1" },
    env: { POD_NAME: "sayhello-7d9f-abcde", HOSTNAME: "ignored" },
    registrar,
    servers: [grpcServer({ host: "127.0.0.1", port: 0, routes: greeter.routes })],
    signals: false,
    logger: false,
    clock,
    onError: (e) => errors.push(e),
    onStateChange: (s) => states.notify(s),
    beforeStart: () => void log.push("beforeStart"),
    afterStart: (a) => void log.push(`afterStart serving=${a.serving}`),
    beforeStop: (a) => void log.push(`beforeStop serving=${a.serving}`),
    afterStop: () => void log.push("afterStop"),
    ...rest,
  });
  return { app, clock, greeter, log, errors, states, registrar };
}

/** Connection refused: nothing listens on `endpoint` any more. */
async function refused(endpoint: string): Promise<boolean> {
  try {
    await clientOf(endpoint).greeter.sayHello({ name: "late" }, { timeoutMs: 5000 });
    return false;
  } catch (e) {
    return /ECONNREFUSED|refused/i.test(String(ConnectError.from(e).message) + String((e as { cause?: unknown }).cause));
  }
}

describe("App run and stop", () => {
  it("starts (listen, register, SERVING), then stops in order: NOT_SERVING, deregister, delay, drain, GOAWAY, close", watchdog, async () => {
    const t = setup({ shutdownDelayMs: 3000 });
    const running = t.app.run();
    await t.states.until((s) => s.kind === "running", "running");
    assert.equal(t.app.id, "sayhello-7d9f-abcde", "id from POD_NAME");
    assert.match(t.app.endpoints[0]!, /^grpc:\/\/127\.0\.0\.1:\d+$/);
    assert.deepEqual(t.registrar.registered, [
      { id: "sayhello-7d9f-abcde", name: "sayhello.service", version: "v1.2.0", metadata: { region: "eu-west-1" }, endpoints: t.app.endpoints },
    ]);
    assert.equal(t.app.serving, true);
    const { greeter, health } = clientOf(t.app.endpoints[0]!);
    assert.equal((await greeter.sayHello({ name: "a" })).message, "Hello a");
    assert.equal((await health.check({ service: "" })).status, 1);

    const stopped = t.app.stop();
    await t.states.until(inStep("delay"), "the delay");
    assert.equal(t.app.serving, false);
    assert.equal((await health.check({ service: "" })).status, 2, "NOT_SERVING as soon as the stop begins");
    // The delay: still serving calls that arrive.
    assert.equal((await greeter.sayHello({ name: "during-delay" })).message, "Hello during-delay");
    await t.clock.advance(2999);
    assert.ok(inStep("delay")(t.app.state), "still in the delay 1 ms before its end");
    await t.clock.advance(1);
    await stopped;
    await running;
    assert.deepEqual(t.log, ["beforeStart", "register serving=false", "afterStart serving=true", "beforeStop serving=false", "deregister serving=false", "afterStop"]);
    assert.deepEqual(stepNames(t.app.state), ALL_STEPS);
    assert.deepEqual(t.errors, []);
    assert.equal(t.clock.pending, 0, "no timer left");
    assert.ok(await refused(t.app.endpoints[0]!), "the listener is closed");
  });

  it("waits for calls in flight before GOAWAY; they answer", watchdog, async () => {
    const t = setup({ shutdownDelayMs: 100 });
    const running = t.app.run();
    await t.states.until((s) => s.kind === "running", "running");
    const { greeter } = clientOf(t.app.endpoints[0]!);
    const held = greeter.sayHello({ name: "hold-1" });
    await t.greeter.waitHeld(1);
    void t.app.stop();
    await t.states.until(inStep("delay"), "the delay");
    await t.clock.advance(100);
    await t.states.until(inStep("drain"), "the drain");
    await t.clock.advance(20_000); // within stopTimeoutMs (25 s): the drain keeps waiting
    assert.ok(inStep("drain")(t.app.state), "still draining");
    t.greeter.release();
    const reply = await held.catch((e: unknown) => e);
    // Deno's node:http2 client (2.9) may fail a call that was answered when the server closes right after the drain.
    if (!denoPrematureClose(reply)) assert.equal((reply as { message?: string }).message, "Hello hold-1", String(reply));
    assert.deepEqual(t.greeter.answered, ["hold-1"]);
    await running;
    assert.deepEqual(stepNames(t.app.state), ALL_STEPS);
    assert.deepEqual(t.errors, []);
    assert.equal(t.clock.pending, 0);
  });

  it("stopTimeoutMs bounds the whole stop: a call still running is cancelled, STOP_TIMEOUT is reported, the later steps run", watchdog, async () => {
    const t = setup({ shutdownDelayMs: 1000, stopTimeoutMs: 5000 });
    const running = t.app.run();
    await t.states.until((s) => s.kind === "running", "running");
    // Bun's and Deno's node:http2 clients never settle a call whose connection the server
    // destroyed (the balancing transport works around it): the client side is aborted by
    // the test; the cancellation is observed on the server.
    const caller = new AbortController();
    const held = clientOf(t.app.endpoints[0]!).greeter.sayHello({ name: "hold-forever" }, { signal: caller.signal }).then(() => "answered", (e: unknown) => ConnectError.from(e));
    await t.greeter.waitHeld(1);
    void t.app.stop();
    await t.states.until(inStep("delay"), "the delay");
    await t.clock.advance(1000);
    await t.states.until(inStep("drain"), "the drain");
    await t.clock.advance(3999);
    assert.ok(inStep("drain")(t.app.state), "draining until the stop budget (5 s from the stop) is spent");
    await t.clock.advance(1);
    await running;
    await t.greeter.waitCancelled(1);
    assert.deepEqual(t.greeter.answered, [], "the held call was cancelled on the server, never answered");
    caller.abort();
    assert.notEqual(await held, "answered");
    assert.deepEqual(t.errors.map((e) => [e.code, e.step]), [["STOP_TIMEOUT", "drain"]]);
    assert.match(t.errors[0]!.message, /1 call\(s\) still running when stopTimeoutMs \(5000 ms\) ran out/);
    assert.deepEqual(stepNames(t.app.state), ALL_STEPS.map((s) => (s === "drain" ? "drain!" : s)));
    assert.equal(t.clock.pending, 0);
  });

  it("a failing stop step is reported and never skips the later ones", watchdog, async () => {
    const t = setup({
      shutdownDelayMs: 0,
      registrarBehaviour: { failDeregister: new Error("apiserver unreachable") },
      beforeStop: () => {
        throw new Error("beforeStop broke");
      },
      afterStop: [
        () => {
          throw new Error("first afterStop broke");
        },
        () => {
          throw new Error("second afterStop broke");
        },
      ],
    });
    const running = t.app.run();
    await t.states.until((s) => s.kind === "running", "running");
    await t.app.stop();
    await running; // a failed stop step does not reject run()
    assert.deepEqual(t.errors.map((e) => [e.code, e.step]), [
      ["HOOK_FAILED", "beforeStop"],
      ["DEREGISTER_FAILED", "deregister"],
      ["HOOK_FAILED", "afterStop"],
    ]);
    assert.match(t.errors[1]!.message, /^deregister sayhello\.service as sayhello-7d9f-abcde failed: apiserver unreachable$/);
    assert.match(t.errors[2]!.message, /2 afterStop hooks failed: first afterStop broke; second afterStop broke/);
    assert.deepEqual(stepNames(t.app.state), ["beforeStart", "listen", "register", "afterStart", "notServing", "beforeStop!", "deregister!", "delay", "drain", "goaway", "close", "afterStop!"]);
    assert.ok(await refused(t.app.endpoints[0]!));
  });
});

describe("App start failures", () => {
  it("a taken port: run() rejects with LISTEN_FAILED, the server that listened is closed again", watchdog, async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      const greeter = heldGreeter();
      const t = setup({
        servers: [grpcServer({ host: "127.0.0.1", port: 0, routes: greeter.routes }), grpcServer({ host: "127.0.0.1", port, routes: greeter.routes })],
      });
      const error = await t.app.run().catch((e: unknown) => e);
      const state = t.app.state;
      assert.ok(state.kind === "stopped");
      const startError = state.startError;
      assert.equal(error, startError, "run() rejects with the start's error");
      assert.ok(startError instanceof AppError, String(startError));
      assert.equal(startError.code, "LISTEN_FAILED");
      assert.match(startError.message, new RegExp(`cannot listen on 127\\.0\\.0\\.1:${port}: the port is already in use`));
      assert.deepEqual(stepNames(state), ["beforeStart", "listen!", "notServing", "drain", "goaway", "close", "afterStop"]);
      assert.deepEqual(t.log, ["beforeStart", "afterStop"], "no registration, no beforeStop (never ran), afterStop pairs with beforeStart");
      assert.deepEqual(t.app.endpoints, [], "no instance was built");
      assert.equal(t.clock.pending, 0);
    } finally {
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
    }
  });

  it("a registrar that rejects: run() rejects with REGISTER_FAILED after deregistering and closing", watchdog, async () => {
    const t = setup({ shutdownDelayMs: 0, registrarBehaviour: { failRegister: new Error("forbidden: cannot patch pods") } });
    const error = await t.app.run().catch((e: unknown) => e);
    assert.ok(error instanceof AppError, String(error));
    assert.equal(error.code, "REGISTER_FAILED");
    assert.equal(error.step, "register");
    assert.match(error.message, /^register sayhello\.service as sayhello-7d9f-abcde failed: forbidden: cannot patch pods$/);
    assert.deepEqual(stepNames(t.app.state), ["beforeStart", "listen", "register!", "notServing", "deregister", "delay", "drain", "goaway", "close", "afterStop"]);
    assert.equal(t.app.serving, false, "never SERVING");
    assert.ok(await refused(t.app.endpoints[0]!));
  });

  it("a registrar that hangs: REGISTER_FAILED after registrarTimeoutMs on the clock, its signal aborted", watchdog, async () => {
    const t = setup({ registrarTimeoutMs: 10_000, shutdownDelayMs: 0, registrarBehaviour: { hangRegister: true } });
    const run = t.app.run().catch((e: unknown) => e);
    await t.states.until(inStep("register"), "register");
    await t.clock.advance(9_999);
    assert.ok(inStep("register")(t.app.state));
    await t.clock.advance(1);
    const error = await run;
    assert.ok(error instanceof AppError && error.code === "REGISTER_FAILED", String(error));
    assert.match(error.message, /did not finish within 10000 ms \(registrarTimeoutMs\)/);
    assert.equal(t.registrar.lastSignal?.aborted, true);
    assert.equal(t.clock.pending, 0);
  });

  it("a throwing beforeStart hook: HOOK_FAILED, nothing listened", watchdog, async () => {
    const t = setup({
      beforeStart: () => {
        throw new Error("config missing");
      },
    });
    const error = await t.app.run().catch((e: unknown) => e);
    assert.ok(error instanceof AppError && error.code === "HOOK_FAILED" && error.step === "beforeStart", String(error));
    assert.deepEqual(stepNames(t.app.state), ["beforeStart!", "notServing"]);
    assert.deepEqual(t.app.endpoints, []);
  });

  it("a stop while registering: the start ends after register, the App stops, run() resolves", watchdog, async () => {
    let releaseRegister!: () => void;
    const log: string[] = [];
    const t = setup({
      shutdownDelayMs: 0,
      registrar: {
        register: () => new Promise<void>((resolve) => (releaseRegister = () => (log.push("registered"), resolve()))),
        deregister: async () => void log.push("deregistered"),
      },
    });
    const running = t.app.run();
    await t.states.until(inStep("register"), "register");
    const stopped = t.app.stop();
    releaseRegister();
    await stopped;
    await running;
    assert.deepEqual(log, ["registered", "deregistered"]);
    assert.deepEqual(stepNames(t.app.state), ["beforeStart", "listen", "register", "notServing", "deregister", "delay", "drain", "goaway", "close", "afterStop"]);
  });
});

describe("App API edges", () => {
  it("an AbortSignal stops it; an already aborted one starts nothing", watchdog, async () => {
    const t = setup({ shutdownDelayMs: 0 });
    const ac = new AbortController();
    const running = t.app.run({ signal: ac.signal });
    await t.states.until((s) => s.kind === "running", "running");
    ac.abort(new Error("shutting down"));
    await running;
    const state = t.app.state;
    assert.ok(state.kind === "stopped" && state.cause?.by === "abort");

    const u = setup();
    await u.app.run({ signal: AbortSignal.abort() });
    assert.equal(u.app.state.kind, "stopped");
    assert.deepEqual(u.log, []);
  });

  it("await using stops it at the end of the scope", watchdog, async () => {
    const t = setup({ shutdownDelayMs: 0 });
    let running: Promise<void> | undefined;
    {
      await using app = t.app;
      running = app.run();
      await t.states.until((s) => s.kind === "running", "running");
    }
    assert.equal(t.app.state.kind, "stopped");
    await running;
  });

  it("run() twice rejects with ALREADY_RUNNING, after stop() with STOPPED; stop() before run() just stops", watchdog, async () => {
    const r = setup({ shutdownDelayMs: 0 });
    const running = r.app.run();
    const twice = await r.app.run().catch((e: unknown) => e);
    assert.ok(twice instanceof AppError && twice.code === "ALREADY_RUNNING", String(twice));
    await r.states.until((s) => s.kind === "running", "running");
    await r.app.stop();
    await running;

    const t = setup();
    await t.app.stop();
    assert.equal(t.app.state.kind, "stopped");
    const error = await t.app.run().catch((e: unknown) => e);
    assert.ok(error instanceof AppError && error.code === "STOPPED", String(error));
    assert.deepEqual(t.log, []);
  });

  it("without a registrar it registers nothing and reports SERVING once listening", watchdog, async () => {
    const t = setup({ registrar: undefined, shutdownDelayMs: 0 });
    const running = t.app.run();
    await t.states.until((s) => s.kind === "running", "running");
    assert.equal(t.app.serving, true);
    await t.app.stop();
    await running;
    assert.deepEqual(t.log, ["beforeStart", "afterStart serving=true", "beforeStop serving=false", "afterStop"]);
  });

  it("the id defaults to POD_NAME, then HOSTNAME, then a random UUID; endpoints can be given", () => {
    const make = (env: Record<string, string>, extra: Partial<CreateAppOptions> = {}): App => createApp({ name: "x", env, logger: false, signals: false, ...extra });
    assert.equal(make({ POD_NAME: "pod-1", HOSTNAME: "host-1" }).id, "pod-1");
    assert.equal(make({ POD_NAME: "", HOSTNAME: "host-1" }).id, "host-1");
    assert.match(make({}).id, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    assert.equal(make({ POD_NAME: "pod-1" }, { id: "explicit" }).id, "explicit");
  });

  it("bad options throw INVALID_OPTIONS naming the option", () => {
    const bad: [Partial<CreateAppOptions> & Record<string, unknown>, RegExp][] = [
      [{ name: "" }, /name must be a non-empty string/],
      [{ name: "x", metadata: { weight: 100 as unknown as string } }, /metadata\.weight must be a string, not number/],
      [{ name: "x", stopTimeoutMs: -1 }, /stopTimeoutMs must be a finite number of milliseconds >= 0, not -1/],
      [{ name: "x", shutdownDelayMs: Number.NaN }, /shutdownDelayMs must be/],
      [{ name: "x", servers: [{} as never] }, /servers\[0\] is not a server/],
      [{ name: "x", registrar: { register: async () => {} } as never }, /registrar must have register\(\) and deregister\(\)/],
      [{ name: "x", signals: ["SIGKILL" as never] }, /signals: "SIGKILL" is not one of SIGTERM, SIGINT, SIGQUIT, SIGHUP/],
      [{ name: "x", endpoints: ["10.0.0.1:9000"] }, /endpoints must be a list of URLs such as grpc:\/\/10\.0\.0\.7:9000/],
      [{ name: "x", beforeStart: "no" as never }, /beforeStart must be a function or a list of functions/],
    ];
    for (const [o, re] of bad) {
      assert.throws(() => createApp(o as CreateAppOptions), (e: unknown) => e instanceof AppError && e.code === "INVALID_OPTIONS" && re.test(e.message), JSON.stringify(o));
    }
    assert.throws(() => grpcServer({ port: 70000, routes: () => {} }), /grpcServer: port must be an integer from 0 to 65535, not 70000/);
    assert.throws(() => grpcServer({ port: 9000 } as never), /grpcServer: routes must be a function/);
  });
});
