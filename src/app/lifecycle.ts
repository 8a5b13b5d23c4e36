/**
 * Pure: the App's lifecycle as a state machine over tagged unions. No I/O,
 * no clock: the driver (`app.ts`) runs the step a state names and feeds the
 * outcome back as an event.
 *
 * ```
 * idle ──run──▶ starting(beforeStart → listen → register → afterStart) ──▶ running
 *                  │ a step failed, or stop requested                         │ stop
 *                  ▼                                                          ▼
 *              stopping(notServing → beforeStop → deregister → delay → drain → goaway → close → afterStop) ──▶ stopped
 * ```
 *
 * A failed stop step is recorded and never skips the later ones. Which stop
 * steps run depends on how far the start got ({@link Progress}): hooks pair
 * up (`afterStart` ↔ `beforeStop`, `beforeStart` ↔ `afterStop`), the
 * deregistration runs when a registration was attempted, the servers are
 * drained and closed when a listen was attempted. A forced stop (a second
 * signal) skips the waits (`delay`, `drain`) that have not begun.
 *
 * @module
 */

/** The start steps, in order. */
export type StartStep = "beforeStart" | "listen" | "register" | "afterStart";

/** The stop steps, in order. */
export type StopStep = "notServing" | "beforeStop" | "deregister" | "delay" | "drain" | "goaway" | "close" | "afterStop";

/** Start steps in the order they run. */
export const START_STEPS: readonly StartStep[] = ["beforeStart", "listen", "register", "afterStart"];

/** Stop steps in the order they run (each only when it applies, see {@link stopStepApplies}). */
export const STOP_STEPS: readonly StopStep[] = ["notServing", "beforeStop", "deregister", "delay", "drain", "goaway", "close", "afterStop"];

/** Why the App stops. */
export type StopCause =
  | { readonly by: "signal"; readonly signal: string }
  | { readonly by: "stop" }
  | { readonly by: "abort"; readonly reason: unknown }
  | { readonly by: "startFailed" };

/** One step that ran, and how it ended. */
export type StepRecord =
  | { readonly step: StartStep | StopStep; readonly ok: true }
  | { readonly step: StartStep | StopStep; readonly ok: false; readonly error: unknown };

/** How far the start got. */
export interface Progress {
  /** The `beforeStart` hooks completed. */
  readonly beforeStart: boolean;
  /** A listen was attempted (some servers may be listening). */
  readonly listen: boolean;
  /** A registration was attempted (it may have reached the registry). */
  readonly register: boolean;
  /** The App reached `running`. */
  readonly running: boolean;
}

/** The App's state. */
export type LifecycleState =
  | { readonly kind: "idle" }
  | {
      readonly kind: "starting";
      readonly step: StartStep;
      readonly progress: Progress;
      readonly steps: readonly StepRecord[];
      /** A stop requested during the start: it begins once the current step ends. */
      readonly stopRequested: StopCause | undefined;
      readonly forced: boolean;
    }
  | { readonly kind: "running"; readonly progress: Progress; readonly steps: readonly StepRecord[] }
  | {
      readonly kind: "stopping";
      readonly step: StopStep;
      readonly cause: StopCause;
      readonly progress: Progress;
      readonly steps: readonly StepRecord[];
      readonly forced: boolean;
      /** The error that ended the start, when it failed. */
      readonly startError: unknown;
    }
  | {
      readonly kind: "stopped";
      /** Undefined when the App was stopped before it ran. */
      readonly cause: StopCause | undefined;
      readonly steps: readonly StepRecord[];
      readonly startError: unknown;
    };

/** What happens to the App. */
export type LifecycleEvent =
  | { readonly type: "run" }
  | { readonly type: "stepDone" }
  | { readonly type: "stepFailed"; readonly error: unknown }
  | { readonly type: "stop"; readonly cause: StopCause }
  /** Stop now: skip the waits that have not begun (a second signal). */
  | { readonly type: "force" };

const NONE: Progress = { beforeStart: false, listen: false, register: false, running: false };

/** Whether stop step `step` runs after a start that got as far as `progress`. */
export function stopStepApplies(step: StopStep, progress: Progress, forced: boolean): boolean {
  switch (step) {
    case "notServing":
      return true;
    case "beforeStop":
      return progress.running;
    case "deregister":
      return progress.register;
    case "delay":
      // Clients may know the instance: it registered, or it ran (static labels).
      return !forced && progress.listen && (progress.register || progress.running);
    case "drain":
      return !forced && progress.listen;
    case "goaway":
    case "close":
      return progress.listen;
    case "afterStop":
      return progress.beforeStart;
  }
}

function nextStopStep(after: StopStep | undefined, progress: Progress, forced: boolean): StopStep | undefined {
  const from = after === undefined ? 0 : STOP_STEPS.indexOf(after) + 1;
  for (let i = from; i < STOP_STEPS.length; i++) {
    const s = STOP_STEPS[i]!;
    if (stopStepApplies(s, progress, forced)) return s;
  }
  return undefined;
}

/** Progress once `step` is entered: a listen or registration counts from its attempt. */
function entering(step: StartStep, p: Progress): Progress {
  if (step === "listen") return { ...p, listen: true };
  if (step === "register") return { ...p, register: true };
  return p;
}

function beginStop(cause: StopCause, progress: Progress, steps: readonly StepRecord[], forced: boolean, startError: unknown): LifecycleState {
  const step = nextStopStep(undefined, progress, forced)!; // notServing always applies
  return { kind: "stopping", step, cause, progress, steps, forced, startError };
}

/** The state after `event`. Events that do not apply leave the state as it is (the same object). */
export function transition(state: LifecycleState, event: LifecycleEvent): LifecycleState {
  switch (state.kind) {
    case "idle":
      if (event.type === "run") return { kind: "starting", step: "beforeStart", progress: NONE, steps: [], stopRequested: undefined, forced: false };
      if (event.type === "stop") return { kind: "stopped", cause: undefined, steps: [], startError: undefined };
      return state;
    case "starting": {
      if (event.type === "stop") return state.stopRequested === undefined ? { ...state, stopRequested: event.cause } : state;
      if (event.type === "force") return { ...state, forced: true, stopRequested: state.stopRequested ?? { by: "stop" } };
      if (event.type === "stepFailed") {
        const steps = [...state.steps, { step: state.step, ok: false as const, error: event.error }];
        return beginStop({ by: "startFailed" }, state.progress, steps, state.forced, event.error);
      }
      if (event.type !== "stepDone") return state;
      const steps = [...state.steps, { step: state.step, ok: true as const }];
      let progress = state.progress;
      if (state.step === "beforeStart") progress = { ...progress, beforeStart: true };
      if (state.step === "afterStart") progress = { ...progress, running: true };
      if (state.stopRequested !== undefined) return beginStop(state.stopRequested, progress, steps, state.forced, undefined);
      const i = START_STEPS.indexOf(state.step);
      const next = START_STEPS[i + 1];
      if (next === undefined) return { kind: "running", progress, steps };
      return { ...state, step: next, progress: entering(next, progress), steps };
    }
    case "running":
      if (event.type === "stop") return beginStop(event.cause, state.progress, state.steps, false, undefined);
      if (event.type === "force") return beginStop({ by: "stop" }, state.progress, state.steps, true, undefined);
      return state;
    case "stopping": {
      if (event.type === "force") return state.forced ? state : { ...state, forced: true };
      if (event.type !== "stepDone" && event.type !== "stepFailed") return state;
      const record: StepRecord = event.type === "stepDone" ? { step: state.step, ok: true } : { step: state.step, ok: false, error: event.error };
      const steps = [...state.steps, record];
      const next = nextStopStep(state.step, state.progress, state.forced);
      if (next === undefined) return { kind: "stopped", cause: state.cause, steps, startError: state.startError };
      return { ...state, step: next, steps };
    }
    case "stopped":
      return state;
  }
}

/** The step the driver runs in `state`, if any. */
export function currentStep(state: LifecycleState): StartStep | StopStep | undefined {
  return state.kind === "starting" || state.kind === "stopping" ? state.step : undefined;
}

/** A short text for logs: `SIGTERM`, `stop()`, `signal aborted`, `the start failed`. */
export function describeCause(c: StopCause): string {
  switch (c.by) {
    case "signal":
      return c.signal;
    case "stop":
      return "stop()";
    case "abort":
      return "signal aborted";
    case "startFailed":
      return "the start failed";
  }
}
