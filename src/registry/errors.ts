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
 * - `UNAUTHORIZED`: the API server rejected the credentials (401, after the client's one retry);
 * - `REGISTER_FAILED`: the API refused the patch for another reason (`cause` is the `KubeApiError`);
 * - `INVALID_TARGET`: a discovery target (`discovery://…`, `kubernetes:///…`) cannot be parsed,
 *   or names a scheme the discovery does not serve;
 * - `SYNC_TIMEOUT`: a watch (pods or EndpointSlices of a namespace) did not finish its first sync in time;
 * - `CLOSED`: the registry or watcher was closed.
 */
export type RegistryErrorCode =
  | "INVALID_INSTANCE"
  | "NO_POD_IDENTITY"
  | "FORBIDDEN"
  | "UNAUTHORIZED"
  | "REGISTER_FAILED"
  | "INVALID_TARGET"
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

/** The parts of an RBAC refusal, as far as they are known. */
export interface ForbiddenParts {
  verb: string;
  resource: string;
  /** Undefined for cluster-scoped requests (all namespaces). */
  namespace: string | undefined;
  /** The user the request ran as, when known from the config (the apiserver's message wins). */
  identity: string | undefined;
}

/**
 * Builds the `FORBIDDEN` error for an RBAC refusal: "cannot watch pods in
 * namespace shop as system:serviceaccount:shop:sayhello". Verb, namespace and
 * user are taken from the apiserver's message when it names them (its 403s say
 * `User "u" cannot list resource "pods" in API group "" in the namespace "ns"`),
 * else from `parts`.
 */
export function forbiddenError(parts: ForbiddenParts, cause: unknown): RegistryError {
  const text = cause instanceof Error ? cause.message : "";
  const m = /User "([^"]*)" cannot (\w+) resource "([^"]+)"(?: in API group "[^"]*")?(?: in the namespace "([^"]*)")?/.exec(text);
  const verb = m?.[2] ?? parts.verb;
  const resource = m?.[3] ?? parts.resource;
  const namespace = m ? m[4] : parts.namespace;
  const identity = m?.[1] ?? parts.identity ?? "an unknown identity";
  const where = namespace === undefined ? "at the cluster scope (all namespaces)" : `in namespace ${namespace}`;
  return new RegistryError(
    "FORBIDDEN",
    `cannot ${verb} ${resource} ${where} as ${identity}; grant it "${verb}" on ${resource} with a Role and RoleBinding${namespace === undefined ? " (a ClusterRole for all namespaces)" : ""}`,
    { cause },
  );
}
