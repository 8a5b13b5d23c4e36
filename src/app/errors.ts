/**
 * The error of the App: one class with a stable string `code` and the step
 * it belongs to, branded with `Symbol.for` so `instanceof` holds across two
 * copies of the package.
 *
 * @module
 */
import type { StartStep, StopStep } from "./lifecycle.ts";

const BRAND: unique symbol = Symbol.for("kratos-kube.AppError") as never;

/**
 * The stable codes of {@link AppError}:
 * - `INVALID_OPTIONS`: `createApp` or a server was given a value it cannot use (thrown at once);
 * - `ALREADY_RUNNING`: `run()` was called a second time;
 * - `STOPPED`: `run()` was called after the App stopped;
 * - `HOOK_FAILED`: a `beforeStart`/`afterStart`/`beforeStop`/`afterStop` hook threw;
 * - `LISTEN_FAILED`: a server could not listen (port taken, address not on this host);
 * - `REGISTER_FAILED`: the registrar rejected the instance or did not answer in time;
 * - `DEREGISTER_FAILED`: the same, on the way out;
 * - `STOP_TIMEOUT`: calls were still running when `stopTimeoutMs` ran out (they are cancelled);
 * - `CLOSE_FAILED`: a server failed to send GOAWAY or to close.
 */
export type AppErrorCode =
  | "INVALID_OPTIONS"
  | "ALREADY_RUNNING"
  | "STOPPED"
  | "HOOK_FAILED"
  | "LISTEN_FAILED"
  | "REGISTER_FAILED"
  | "DEREGISTER_FAILED"
  | "STOP_TIMEOUT"
  | "CLOSE_FAILED";

/** An error of the App's public API, or of one of its steps. */
export class AppError extends Error {
  /** Stable code; see {@link AppErrorCode}. */
  readonly code: AppErrorCode;
  /** The lifecycle step it happened in, when it happened in one. */
  readonly step: StartStep | StopStep | undefined;

  /** Creates an error with a code, a message naming what was wrong, and optionally the step and cause. */
  constructor(code: AppErrorCode, message: string, options?: { step?: StartStep | StopStep | undefined; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = "AppError";
    this.code = code;
    this.step = options?.step;
    Object.defineProperty(this, BRAND, { value: true });
  }

  /** `instanceof` across package copies. */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[BRAND] === true;
  }
}

/** The message of any thrown value. */
export function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
