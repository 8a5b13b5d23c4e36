/**
 * `SelfSubjectReview` (authentication.k8s.io/v1, GA since Kubernetes 1.28,
 * KEP-3325): "who am I" as the API server sees the caller, what `kubectl auth
 * whoami` asks. Any authenticated user may create one; no RBAC is checked
 * (kube-apiserver `pkg/registry/authentication/selfsubjectreview/rest.go`).
 *
 * @module
 */

const KIND = "SelfSubjectReview";
const GROUP_VERSION = "authentication.k8s.io/v1";
/** The magic prefix of Kubernetes protobuf bodies (apimachinery `runtime/serializer/protobuf`). */
const PROTOBUF_MAGIC = [0x6b, 0x38, 0x73, 0x00] as const;

/**
 * The groups the API server adds to a user: every authenticated user is in
 * `system:authenticated`; a service account also in `system:serviceaccounts`
 * and `system:serviceaccounts:<namespace>` (apiserver
 * `pkg/serviceaccount/util.go` `MakeGroupNames`, `authentication/group`).
 */
export function groupsOf(username: string): string[] {
  const m = /^system:serviceaccount:([^:]+):[^:]+$/.exec(username);
  return m ? ["system:serviceaccounts", `system:serviceaccounts:${m[1]}`, "system:authenticated"] : ["system:authenticated"];
}

/**
 * Checks a `SelfSubjectReview` POST body (JSON, or kubectl's protobuf) and
 * returns an error message for a wrong kind or apiVersion, or undefined. The
 * review has no spec: nothing else in it matters.
 */
export async function checkSelfSubjectReview(req: Request): Promise<string | undefined> {
  const bytes = new Uint8Array(await req.arrayBuffer());
  if (PROTOBUF_MAGIC.every((b, i) => bytes[i] === b)) return undefined;
  if (bytes.length === 0) return undefined;
  let obj: unknown;
  try {
    obj = JSON.parse(new TextDecoder().decode(bytes));
  } catch (e) {
    return `malformed SelfSubjectReview: body is not JSON (${e instanceof Error ? e.message : String(e)})`;
  }
  if (typeof obj !== "object" || obj === null || Array.isArray(obj)) return "malformed SelfSubjectReview: body must be a JSON object";
  const o = obj as { kind?: unknown; apiVersion?: unknown };
  if (o.kind !== undefined && o.kind !== KIND) return `malformed SelfSubjectReview: kind is ${JSON.stringify(o.kind)}, expected ${KIND}`;
  if (o.apiVersion !== undefined && o.apiVersion !== GROUP_VERSION) {
    return `malformed SelfSubjectReview: apiVersion is ${JSON.stringify(o.apiVersion)}, expected ${GROUP_VERSION}`;
  }
  return undefined;
}

/** The response body: the caller's username, uid (when known) and groups in `status.userInfo`, created at `now`. */
export function selfSubjectReviewResponse(username: string, uid?: string, now?: string): unknown {
  return {
    kind: KIND,
    apiVersion: GROUP_VERSION,
    metadata: now === undefined ? {} : { creationTimestamp: now },
    status: { userInfo: { username, ...(uid !== undefined ? { uid } : {}), groups: groupsOf(username) } },
  };
}
