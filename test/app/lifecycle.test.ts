/**
 * The pure lifecycle: a table of transitions, then whole runs driven to the
 * end with chosen failures (which stop steps run after a start that got how
 * far, and that a failed stop step never skips a later one).
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  currentStep,
  STOP_STEPS,
  transition,
  type LifecycleEvent,
  type LifecycleState,
  type Progress,
  type StartStep,
  type StopStep,
} from "../../src/app/lifecycle.ts";

const NONE: Progress = { beforeStart: false, listen: false, register: false, running: false };
const ALL: Progress = { beforeStart: true, listen: true, register: true, running: true };
const boom = new Error("boom");

const starting = (step: StartStep, progress: Progress, extra: Partial<Extract<LifecycleState, { kind: "starting" }>> = {}): LifecycleState => ({
  kind: "starting",
  step,
  progress,
  steps: [],
  stopRequested: undefined,
  forced: false,
  ...extra,
});
const stopping = (step: StopStep, progress: Progress, extra: Partial<Extract<LifecycleState, { kind: "stopping" }>> = {}): LifecycleState => ({
  kind: "stopping",
  step,
  cause: { by: "stop" },
  progress,
  steps: [],
  forced: false,
  startError: undefined,
  ...extra,
});

describe("lifecycle transitions", () => {
  const rows: { name: string; from: LifecycleState; event: LifecycleEvent; to: LifecycleState | "same" }[] = [
    { name: "idle + run → beforeStart", from: { kind: "idle" }, event: { type: "run" }, to: starting("beforeStart", NONE) },
    { name: "idle + stop → stopped, nothing ran", from: { kind: "idle" }, event: { type: "stop", cause: { by: "stop" } }, to: { kind: "stopped", cause: undefined, steps: [], startError: undefined } },
    { name: "idle ignores stepDone", from: { kind: "idle" }, event: { type: "stepDone" }, to: "same" },
    {
      name: "beforeStart done → listen (attempt counts)",
      from: starting("beforeStart", NONE),
      event: { type: "stepDone" },
      to: starting("listen", { ...NONE, beforeStart: true, listen: true }, { steps: [{ step: "beforeStart", ok: true }] }),
    },
    {
      name: "listen done → register (attempt counts)",
      from: starting("listen", { ...NONE, beforeStart: true, listen: true }),
      event: { type: "stepDone" },
      to: starting("register", { ...NONE, beforeStart: true, listen: true, register: true }, { steps: [{ step: "listen", ok: true }] }),
    },
    {
      name: "afterStart done → running",
      from: starting("afterStart", { ...ALL, running: false }),
      event: { type: "stepDone" },
      to: { kind: "running", progress: ALL, steps: [{ step: "afterStart", ok: true }] },
    },
    {
      name: "a stop while starting is remembered, the step goes on",
      from: starting("listen", NONE),
      event: { type: "stop", cause: { by: "signal", signal: "SIGTERM" } },
      to: starting("listen", NONE, { stopRequested: { by: "signal", signal: "SIGTERM" } }),
    },
    {
      name: "the first stop cause wins",
      from: starting("listen", NONE, { stopRequested: { by: "signal", signal: "SIGTERM" } }),
      event: { type: "stop", cause: { by: "stop" } },
      to: "same",
    },
    {
      name: "the step after a remembered stop is the stop",
      from: starting("register", { ...NONE, beforeStart: true, listen: true, register: true }, { stopRequested: { by: "stop" } }),
      event: { type: "stepDone" },
      to: stopping("notServing", { ...NONE, beforeStart: true, listen: true, register: true }, { steps: [{ step: "register", ok: true }] }),
    },
    {
      name: "a failed start step stops with startFailed",
      from: starting("listen", { ...NONE, beforeStart: true, listen: true }),
      event: { type: "stepFailed", error: boom },
      to: stopping("notServing", { ...NONE, beforeStart: true, listen: true }, { cause: { by: "startFailed" }, startError: boom, steps: [{ step: "listen", ok: false, error: boom }] }),
    },
    { name: "running + stop → notServing", from: { kind: "running", progress: ALL, steps: [] }, event: { type: "stop", cause: { by: "abort", reason: "x" } }, to: stopping("notServing", ALL, { cause: { by: "abort", reason: "x" } }) },
    { name: "running + force → a forced stop", from: { kind: "running", progress: ALL, steps: [] }, event: { type: "force" }, to: stopping("notServing", ALL, { forced: true }) },
    { name: "running ignores stepDone", from: { kind: "running", progress: ALL, steps: [] }, event: { type: "stepDone" }, to: "same" },
    { name: "stopping ignores a second stop", from: stopping("delay", ALL), event: { type: "stop", cause: { by: "stop" } }, to: "same" },
    { name: "stopping + force → forced", from: stopping("delay", ALL), event: { type: "force" }, to: stopping("delay", ALL, { forced: true }) },
    { name: "notServing → beforeStop", from: stopping("notServing", ALL), event: { type: "stepDone" }, to: stopping("beforeStop", ALL, { steps: [{ step: "notServing", ok: true }] }) },
    {
      name: "a failed deregister is recorded and the delay follows",
      from: stopping("deregister", ALL),
      event: { type: "stepFailed", error: boom },
      to: stopping("delay", ALL, { steps: [{ step: "deregister", ok: false, error: boom }] }),
    },
    { name: "delay → drain", from: stopping("delay", ALL), event: { type: "stepDone" }, to: stopping("drain", ALL, { steps: [{ step: "delay", ok: true }] }) },
    { name: "forced during the delay: the drain is skipped", from: stopping("delay", ALL, { forced: true }), event: { type: "stepDone" }, to: stopping("goaway", ALL, { forced: true, steps: [{ step: "delay", ok: true }] }) },
    {
      name: "afterStop → stopped",
      from: stopping("afterStop", ALL, { steps: [{ step: "close", ok: true }] }),
      event: { type: "stepDone" },
      to: { kind: "stopped", cause: { by: "stop" }, steps: [{ step: "close", ok: true }, { step: "afterStop", ok: true }], startError: undefined },
    },
    { name: "stopped ignores everything", from: { kind: "stopped", cause: undefined, steps: [], startError: undefined }, event: { type: "run" }, to: "same" },
  ];
  for (const row of rows) {
    it(row.name, () => {
      const next = transition(row.from, row.event);
      if (row.to === "same") assert.equal(next, row.from);
      else assert.deepEqual(next, row.to);
    });
  }
});

/** Drives a whole run: `fail` names steps that fail; `stopAt` requests a stop when that start step is current. */
function drive(o: { fail?: readonly (StartStep | StopStep)[]; stopAt?: StartStep; forceAt?: StopStep }): { ran: string[]; end: LifecycleState } {
  let s = transition({ kind: "idle" }, { type: "run" });
  const ran: string[] = [];
  for (let guard = 0; guard < 50; guard++) {
    if (s.kind === "running") {
      s = transition(s, { type: "stop", cause: { by: "stop" } });
      continue;
    }
    const step = currentStep(s);
    if (step === undefined) break;
    if (step === o.stopAt && s.kind === "starting") s = transition(s, { type: "stop", cause: { by: "stop" } });
    if (step === o.forceAt) s = transition(s, { type: "force" });
    const failed = o.fail?.includes(step) ?? false;
    ran.push(failed ? `${step}!` : step);
    s = transition(s, failed ? { type: "stepFailed", error: new Error(step) } : { type: "stepDone" });
  }
  return { ran, end: s };
}

describe("whole runs", () => {
  it("a clean run passes every step once, in order", () => {
    const { ran, end } = drive({});
    assert.deepEqual(ran, ["beforeStart", "listen", "register", "afterStart", ...STOP_STEPS]);
    assert.equal(end.kind, "stopped");
  });

  it("failing stop steps never skip the later ones", () => {
    const { ran } = drive({ fail: ["notServing", "beforeStop", "deregister", "delay", "drain", "goaway", "close"] });
    assert.deepEqual(ran, ["beforeStart", "listen", "register", "afterStart", "notServing!", "beforeStop!", "deregister!", "delay!", "drain!", "goaway!", "close!", "afterStop"]);
  });

  const startFailures: [StartStep, string[]][] = [
    ["beforeStart", ["notServing"]],
    ["listen", ["notServing", "drain", "goaway", "close", "afterStop"]],
    ["register", ["notServing", "deregister", "delay", "drain", "goaway", "close", "afterStop"]],
    ["afterStart", ["notServing", "deregister", "delay", "drain", "goaway", "close", "afterStop"]],
  ];
  for (const [step, stops] of startFailures) {
    it(`a failed ${step} stops what was started (${stops.length} stop steps) and keeps the error`, () => {
      const { ran, end } = drive({ fail: [step] });
      const i = ran.indexOf(`${step}!`);
      assert.deepEqual(ran.slice(i + 1), stops);
      assert.ok(end.kind === "stopped" && end.startError instanceof Error && end.startError.message === step);
    });
  }

  it("a stop requested during listen lets listen end, then stops without beforeStop (never ran)", () => {
    const { ran, end } = drive({ stopAt: "listen" });
    assert.deepEqual(ran, ["beforeStart", "listen", "notServing", "drain", "goaway", "close", "afterStop"]);
    assert.ok(end.kind === "stopped" && end.startError === undefined && end.cause?.by === "stop");
  });

  it("a force during the delay skips the drain but still sends GOAWAY and closes", () => {
    const { ran } = drive({ forceAt: "delay" });
    assert.deepEqual(ran.slice(4), ["notServing", "beforeStop", "deregister", "delay", "goaway", "close", "afterStop"]);
  });

  it("without a registrar step that registers (static labels), the delay still runs for a running App", () => {
    // progress.register is set by the attempt; an App always enters register (a no-op without registrar).
    const s = transition({ kind: "running", progress: { ...ALL, register: false }, steps: [] }, { type: "stop", cause: { by: "stop" } });
    const ran: string[] = [];
    let t = s;
    while (t.kind === "stopping") {
      ran.push(t.step);
      t = transition(t, { type: "stepDone" });
    }
    assert.deepEqual(ran, ["notServing", "beforeStop", "delay", "drain", "goaway", "close", "afterStop"]);
  });
});
