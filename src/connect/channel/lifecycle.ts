/**
 * The lifecycle of a balanced endpoint as a pure state machine: a tagged
 * union of states and one {@link transition} function from a state and an
 * event to the next state and the effects its driver must carry out
 * (`channel/endpoint.ts`). No I/O, no clock: delays arrive computed.
 *
 * - `connecting`: probing the endpoint (dial, then a `grpc.health.v1`
 *   Check or a PING); not picked.
 * - `ready`: picked for calls.
 * - `not-serving`: its `grpc.health.v1` Watch reported NOT_SERVING (the
 *   server is stopping); not picked, its calls run on; back to `ready` on
 *   SERVING.
 * - `backoff`: the last probe (or a call's dial) failed; probed again after
 *   a gRPC connection backoff delay.
 * - `draining`: discovery removed it; calls still running finish, then it
 *   closes (or when the drain timeout passes).
 * - `closed`: final.
 *
 * @module
 */

/** States. `failures` counts consecutive failed probes and dials. */
export type Lifecycle =
  | { readonly s: "connecting"; readonly failures: number }
  | { readonly s: "ready" }
  | { readonly s: "not-serving" }
  | { readonly s: "backoff"; readonly failures: number }
  | { readonly s: "draining" }
  | { readonly s: "closed" };

/** The names of the states. */
export type LifecycleName = Lifecycle["s"];

/** Events. */
export type LifecycleEvent =
  | { readonly ev: "probe-ok" }
  /** `delayMs`: the backoff delay for the failure count after this one. */
  | { readonly ev: "probe-failed"; readonly error: unknown; readonly delayMs: (failures: number) => number }
  /** A call could not dial the endpoint. */
  | { readonly ev: "dial-failed"; readonly error: unknown; readonly delayMs: (failures: number) => number }
  | { readonly ev: "backoff-elapsed" }
  /** The last connection went away (GOAWAY, closed). */
  | { readonly ev: "connection-lost"; readonly error: unknown }
  /** A call hit its deadline without any response: verify the endpoint. */
  | { readonly ev: "suspect" }
  /** The health watch reported a status: NOT_SERVING (`serving` false, with why) or another one. */
  | { readonly ev: "health"; readonly serving: boolean; readonly error?: unknown }
  | { readonly ev: "drain"; readonly inflight: number; readonly timeoutMs: number | undefined }
  /** The last call of a draining endpoint ended. */
  | { readonly ev: "idle" }
  | { readonly ev: "drain-timeout"; readonly timeoutMs: number }
  | { readonly ev: "close" };

/** What the driver must do, in order. */
export type LifecycleEffect =
  /** Start a probe. */
  | { readonly fx: "probe" }
  /** Replace the pending timer with one firing `then` after `ms`. */
  | { readonly fx: "timer"; readonly ms: number; readonly then: "backoff-elapsed" | "drain-timeout" }
  /** Cancel the pending timer. */
  | { readonly fx: "cancel-timer" }
  /** Close every connection; with `drainTimeoutMs`, calls still running fail with Unavailable. */
  | { readonly fx: "close-connections"; readonly drainTimeoutMs?: number }
  /** Tell the owner the state changed (with the error that caused it, if any). */
  | { readonly fx: "emit"; readonly error?: unknown };

/** A transition's result. */
export interface Step {
  readonly state: Lifecycle;
  readonly effects: readonly LifecycleEffect[];
}

/** The state of a new endpoint, and its first effects (an eager probe). */
export const INITIAL: Step = { state: { s: "connecting", failures: 0 }, effects: [{ fx: "probe" }] };

const stay = (state: Lifecycle): Step => ({ state, effects: [] });

/** The failure count of a state. */
export function failuresOf(state: Lifecycle): number {
  return state.s === "connecting" || state.s === "backoff" ? state.failures : 0;
}

/** The next state and effects; events that do not apply to a state leave it as it is. */
export function transition(state: Lifecycle, e: LifecycleEvent): Step {
  if (state.s === "closed") return stay(state);
  switch (e.ev) {
    case "probe-ok":
      return state.s === "connecting" ? { state: { s: "ready" }, effects: [{ fx: "emit" }] } : stay(state);
    case "probe-failed": {
      if (state.s !== "connecting") return stay(state);
      const failures = state.failures + 1;
      return { state: { s: "backoff", failures }, effects: [{ fx: "timer", ms: e.delayMs(failures), then: "backoff-elapsed" }, { fx: "emit", error: e.error }] };
    }
    case "dial-failed": {
      if (state.s !== "ready") return stay(state);
      return { state: { s: "backoff", failures: 1 }, effects: [{ fx: "timer", ms: e.delayMs(1), then: "backoff-elapsed" }, { fx: "emit", error: e.error }] };
    }
    case "backoff-elapsed":
      return state.s === "backoff" ? { state: { s: "connecting", failures: state.failures }, effects: [{ fx: "emit" }, { fx: "probe" }] } : stay(state);
    case "connection-lost":
      return state.s === "ready" || state.s === "not-serving" ? { state: { s: "connecting", failures: 0 }, effects: [{ fx: "emit", error: e.error }, { fx: "probe" }] } : stay(state);
    case "suspect":
      return state.s === "ready" ? { state: { s: "connecting", failures: 0 }, effects: [{ fx: "emit" }, { fx: "probe" }] } : stay(state);
    case "health":
      if (state.s === "ready" && !e.serving) return { state: { s: "not-serving" }, effects: [{ fx: "emit", error: e.error }] };
      return state.s === "not-serving" && e.serving ? { state: { s: "ready" }, effects: [{ fx: "emit" }] } : stay(state);
    case "drain": {
      if (state.s === "draining") return stay(state);
      if (e.inflight === 0) return { state: { s: "closed" }, effects: [{ fx: "cancel-timer" }, { fx: "close-connections" }, { fx: "emit" }] };
      const effects: LifecycleEffect[] = [{ fx: "cancel-timer" }];
      if (e.timeoutMs !== undefined && Number.isFinite(e.timeoutMs)) effects.push({ fx: "timer", ms: Math.max(0, e.timeoutMs), then: "drain-timeout" });
      effects.push({ fx: "emit" });
      return { state: { s: "draining" }, effects };
    }
    case "idle":
      return state.s === "draining" ? { state: { s: "closed" }, effects: [{ fx: "cancel-timer" }, { fx: "close-connections" }, { fx: "emit" }] } : stay(state);
    case "drain-timeout":
      return state.s === "draining"
        ? { state: { s: "closed" }, effects: [{ fx: "close-connections", drainTimeoutMs: e.timeoutMs }, { fx: "emit" }] }
        : stay(state);
    case "close":
      return { state: { s: "closed" }, effects: [{ fx: "cancel-timer" }, { fx: "close-connections" }, { fx: "emit" }] };
  }
}
