/**
 * `grpc.health.v1` as the App serves it, over a real server on 127.0.0.1:
 * Check for `""` and the served services, NOT_FOUND for others; Watch sends
 * SERVING once running, NOT_SERVING the moment the stop begins, and ends
 * when the drain starts so it never holds the stop.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { Code, ConnectError } from "@connectrpc/connect";
import { createApp, grpcServer, HealthState, ServingStatus } from "../../src/app/index.ts";
import { createManualClock } from "../../src/testing/index.ts";
import { watchdog } from "../connect/support/load.ts";
import { clientOf, heldGreeter, inStep, recordingRegistrar, stateWaiter } from "./support/harness.ts";

describe("HealthState", () => {
  it("counts every change and ends watches once", () => {
    const h = new HealthState();
    const seen: number[] = [];
    const off = h.subscribe(() => seen.push(h.status));
    assert.equal(h.status, ServingStatus.NOT_SERVING);
    h.set(true);
    h.set(true); // no change
    h.set(false);
    h.endWatches();
    h.endWatches();
    off();
    h.set(true);
    assert.deepEqual(seen, [ServingStatus.SERVING, ServingStatus.NOT_SERVING, ServingStatus.NOT_SERVING]);
    assert.equal(h.version, 4);
    assert.equal(h.watchesEnded, true);
  });
});

describe("grpc.health.v1 served by the App", () => {
  it("Check answers for \"\" and the served services, NOT_FOUND for others; Watch follows the App", watchdog, async () => {
    const clock = createManualClock();
    const states = stateWaiter();
    const greeter = heldGreeter();
    let releaseRegister!: () => void;
    const registered = new Promise<void>((resolve) => (releaseRegister = resolve));
    const log: string[] = [];
    const inner = recordingRegistrar(log);
    const app = createApp({
      name: "sayhello.service",
      registrar: { register: async (i, o) => (await registered, inner.register(i, o)), deregister: (i, o) => inner.deregister(i, o) },
      servers: [grpcServer({ host: "127.0.0.1", port: 0, routes: greeter.routes })],
      shutdownDelayMs: 2000,
      signals: false,
      logger: false,
      clock,
      onStateChange: (s) => states.notify(s),
    });
    const running = app.run();
    await states.until(inStep("register"), "register");
    const { health } = clientOf(app.endpoints[0]!);
    assert.equal((await health.check({ service: "" })).status, ServingStatus.NOT_SERVING, "NOT_SERVING until registered");
    const watched: number[] = [];
    let notify: () => void = () => {};
    const watch = (async () => {
      for await (const m of health.watch({ service: "helloworld.Greeter" })) {
        watched.push(m.status);
        notify();
      }
    })();
    const seen = (n: number): Promise<void> => (watched.length >= n ? Promise.resolve() : new Promise<void>((resolve) => (notify = () => watched.length >= n && resolve())));
    await seen(1);
    releaseRegister();
    await states.until((s) => s.kind === "running", "running");
    await seen(2);
    assert.equal((await health.check({ service: "" })).status, ServingStatus.SERVING);
    assert.equal((await health.check({ service: "helloworld.Greeter" })).status, ServingStatus.SERVING);
    const notFound = await health.check({ service: "unknown.Service" }).catch((e: unknown) => ConnectError.from(e));
    assert.ok(notFound instanceof ConnectError && notFound.code === Code.NotFound, String(notFound));
    const unknown: number[] = [];
    let firstUnknown!: () => void;
    const unknownSeen = new Promise<void>((resolve) => (firstUnknown = resolve));
    const unknownWatch = (async () => {
      for await (const m of health.watch({ service: "unknown.Service" })) {
        unknown.push(m.status);
        firstUnknown();
      }
    })();
    await unknownSeen; // the server has the stream before the stop (a stream it never saw is refused by GOAWAY)

    const stopped = app.stop();
    await seen(3);
    assert.deepEqual(watched, [ServingStatus.NOT_SERVING, ServingStatus.SERVING, ServingStatus.NOT_SERVING]);
    await states.until(inStep("delay"), "the delay");
    assert.ok(inStep("delay")(app.state), "the watch got NOT_SERVING before the delay ended: it is open during the delay");
    await clock.advance(2000);
    await watch; // ended by the drain, without error
    await unknownWatch;
    assert.deepEqual(unknown, [ServingStatus.SERVICE_UNKNOWN]);
    await stopped;
    await running;
    assert.deepEqual(log, ["register serving=?", "deregister serving=?"]);
  });
});
