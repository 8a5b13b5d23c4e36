/**
 * Bearer-token authentication and a per-token allow list, with the
 * apiserver's 401 and 403 bodies (apiserver `endpoints/filters/authentication.go`,
 * `endpoints/handlers/responsewriters/errors.go`).
 *
 * @module
 */

/** What one accepted token may do. Undefined lists allow everything. */
export interface TokenGrant {
  /** The user name reported in 403 messages and reviews, e.g. `system:serviceaccount:shop:kratos`. */
  user: string;
  /** The user's uid, reported by SelfSubjectReview (`kubectl auth whoami`); none by default. */
  uid?: string;
  /** Allowed verbs (`get`, `list`, `watch`, `create`, `update`, `patch`, `delete`); undefined = all. */
  verbs?: string[];
  /** Allowed namespaces; undefined = all, including cluster-wide requests. */
  namespaces?: string[];
  /** Allowed resources (`pods`, `endpointslices`, …); undefined = all. */
  resources?: string[];
}

/** The authorization attributes of a resource request. */
export interface RequestAttributes {
  verb: string;
  namespace: string | undefined;
  resource: string;
  subresource: string | undefined;
  name: string | undefined;
}

/** The user of requests without credentials (kube-apiserver `--anonymous-auth`). */
export const ANONYMOUS = "system:anonymous";

/**
 * The user name of a grant (or the server's identity when it does not
 * authenticate), the anonymous user with no rights for a request without an
 * Authorization header (when `anonymous`), or undefined for a rejected token.
 */
export function authenticate(
  tokens: Readonly<Record<string, TokenGrant>> | undefined,
  authorization: string | null,
  anonymous = false,
): { user: string; grant: TokenGrant | undefined } | undefined {
  if (tokens === undefined) return { user: "", grant: undefined };
  if (authorization === null && anonymous) return { user: ANONYMOUS, grant: { user: ANONYMOUS, verbs: [] } };
  const m = /^Bearer\s+(.+)$/i.exec(authorization ?? "");
  if (m === null) return undefined;
  const token = m[1]!.trim();
  if (!Object.prototype.hasOwnProperty.call(tokens, token)) return undefined;
  const grant = tokens[token]!;
  return { user: grant.user, grant };
}

/** Whether `grant` allows the request (undefined grant = no authentication = allowed). */
export function authorize(grant: TokenGrant | undefined, a: { verb: string; namespace: string | undefined; resource?: string | undefined }): boolean {
  if (grant === undefined) return true;
  if (grant.resources !== undefined && a.resource !== undefined && !grant.resources.includes(a.resource) && !grant.resources.includes("*")) return false;
  if (grant.verbs !== undefined && !grant.verbs.includes(a.verb) && !grant.verbs.includes("*")) return false;
  if (grant.namespaces !== undefined) {
    if (a.namespace === undefined || a.namespace === "") return false;
    if (!grant.namespaces.includes(a.namespace)) return false;
  }
  return true;
}

/** The RBAC verb of a request (apiserver `endpoints/request/requestinfo.go`). */
export function verbOf(method: string, hasName: boolean, watch: boolean): string {
  switch (method) {
    case "GET":
    case "HEAD":
      return watch ? "watch" : hasName ? "get" : "list";
    case "POST":
      return "create";
    case "PUT":
      return "update";
    case "PATCH":
      return "patch";
    case "DELETE":
      return hasName ? "delete" : "deletecollection";
    default:
      return method.toLowerCase();
  }
}
