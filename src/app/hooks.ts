/**
 * Running one step's hooks: in order, each awaited. A failing start hook
 * ends its step (the start stops there); stop hooks all run, and every
 * failure is named in the one `HOOK_FAILED` error of the step.
 *
 * @module
 */
import { AppError, messageOf } from "./errors.ts";
import type { AppHook } from "./options.ts";

/** The steps that run hooks. */
export type HookStep = "beforeStart" | "afterStart" | "beforeStop" | "afterStop";

/** Runs `hooks` with `app`; throws `HOOK_FAILED` naming the step and every failure. */
export async function runHooks<A>(step: HookStep, hooks: readonly AppHook<A>[], app: A): Promise<void> {
  const failures: unknown[] = [];
  for (const hook of hooks) {
    try {
      await hook(app);
    } catch (e) {
      failures.push(e);
      if (step === "beforeStart" || step === "afterStart") break;
    }
  }
  if (failures.length === 1) throw new AppError("HOOK_FAILED", `${step} hook failed: ${messageOf(failures[0])}`, { step, cause: failures[0] });
  if (failures.length > 1) {
    throw new AppError("HOOK_FAILED", `${failures.length} ${step} hooks failed: ${failures.map(messageOf).join("; ")}`, { step, cause: new AggregateError(failures) });
  }
}
