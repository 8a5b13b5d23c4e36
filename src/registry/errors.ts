/**
 * The error of the registry: one class with a stable string `code`, and a
 * `Symbol.for` brand so `instanceof` keeps working when two copies of the
 * package are loaded (as undici's `lib/core/errors.js` does).
 *
 * @module
 */

const BRAND: unique symbol = Symbol.for("kratos-kube.RegistryError") as never;

/**
 * The stable codes of {@link RegistryError}:
 * - `INVALID_INSTANCE`: a label value, endpoint or metadata value cannot be written to a Pod
 *   (raised before any request is sent);
 * - `NO_POD_IDENTITY`: the registrar does not know its own Pod's name or namespace;
 * - `FORBIDDEN`: RBAC refused a request (the message names verb, resource, namespace, identity);
 * - `REGISTER_FAILED`: the API refused the patch for another reason (`cause` is the `KubeApiError`);
 * - `SYNC_TIMEOUT`: the pod cache did not finish its first sync in time;
 * - `CLOSED`: the registry or watcher was closed.
 */
export type RegistryErrorCode =
  | "INVALID_INSTANCE"
  | "NO_POD_IDENTITY"
  | "FORBIDDEN"
  | "REGISTER_FAILED"
  | "SYNC_TIMEOUT"
  | "CLOSED";

/** An error of the registry's public API. */
export class RegistryError extends Error {
  /** Stable code; see {@link RegistryErrorCode}. */
  readonly code: RegistryErrorCode;

  /** Creates an error with a code, a message naming what was wrong, and an optional cause. */
  constructor(code: RegistryErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = "RegistryError";
    this.code = code;
    Object.defineProperty(this, BRAND, { value: true });
  }

  /** `instanceof` across package copies. */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[BRAND] === true;
  }
}
