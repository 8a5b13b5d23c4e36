/**
 * Pure: the RBAC fix the CLI prints for missing verbs on pods (or on
 * endpointslices) — one complete
 * Role and RoleBinding, for every missing verb at once, bound to the identity
 * the API server actually sees (from a SelfSubjectReview, or from the 403
 * message), ready for `kubectl apply -f -`.
 *
 * @module
 */
/** Who a RoleBinding names (rbac.authorization.k8s.io/v1 `Subject`). */
export type RbacSubject =
  | { readonly kind: "ServiceAccount"; readonly name: string; readonly namespace: string }
  | { readonly kind: "User"; readonly name: string };

/** Why kratos-kube needs each verb on pods, as a comment in the Role. */
const WHY: Readonly<Record<string, string>> = {
  list: "discovery lists pods to fill its cache",
  watch: "discovery watches pods to see changes",
  patch: "register() patches its own pod's kratos labels (RBAC cannot name a Deployment's pods, so this allows every pod of the namespace; a ValidatingAdmissionPolicy on request.userInfo.extra['authentication.kubernetes.io/pod-name'] can narrow it to the token's own pod)",
};

const VERB_ORDER = ["list", "watch", "patch"];

/** The subject of a username: `system:serviceaccount:NS:NAME` is a ServiceAccount, anything else a User. */
export function subjectOf(username: string): RbacSubject {
  const m = /^system:serviceaccount:([^:]+):([^:]+)$/.exec(username);
  return m ? { kind: "ServiceAccount", namespace: m[1]!, name: m[2]! } : { kind: "User", name: username };
}

/**
 * The username in an apiserver 403 message, e.g. `pods is forbidden: User
 * "system:serviceaccount:shop:sayhello" cannot list resource "pods" …`
 * (apiserver `endpoints/handlers/responsewriters/errors.go`), or undefined.
 */
export function identityFromForbidden(message: string): string | undefined {
  const m = /\bUser "((?:[^"\\]|\\.)*)" cannot /.exec(message);
  return m ? m[1]!.replace(/\\(.)/g, "$1") : undefined;
}

/** A name usable for a Role (lowercase RFC 1123 subdomain characters), derived from the subject. */
function roleName(subject: RbacSubject | undefined): string {
  if (subject === undefined) return "kratos-kube";
  const base = subject.name.toLowerCase().replace(/[^a-z0-9.-]+/g, "-").replace(/^[-.]+|[-.]+$/g, "").slice(0, 50);
  return base === "" ? "kratos-kube" : `kratos-kube-${base}`;
}

/** Why EndpointSlice discovery needs each verb. */
const WHY_SLICES: Readonly<Record<string, string>> = {
  list: "EndpointSlice discovery lists the Service's slices",
  watch: "EndpointSlice discovery watches them to see changes",
};

/**
 * The `kubectl apply -f -` command with one Role granting `verbs` on pods
 * (or on `resource` of `group`, e.g. endpointslices of discovery.k8s.io) in
 * `namespace` and one RoleBinding of it to `identity` (a placeholder
 * ServiceAccount when the identity is unknown).
 */
export function rbacManifest(o: { verbs: readonly string[]; namespace: string; identity: string | undefined; resource?: "pods" | "endpointslices" }): string {
  const verbs = [...new Set(o.verbs)].sort((a, b) => rank(a) - rank(b));
  const subject = o.identity === undefined ? undefined : subjectOf(o.identity);
  const slices = o.resource === "endpointslices";
  const name = slices ? `${roleName(subject)}-endpointslices`.slice(0, 63) : roleName(subject);
  const why = slices ? WHY_SLICES : WHY;
  const q = (s: string): string => JSON.stringify(s); // a JSON string is a YAML scalar
  const subjectLines = subject === undefined
    ? ["  # the identity is unknown: name the service account the workload runs as", "  - kind: ServiceAccount", `    name: REPLACE-WITH-THE-SERVICE-ACCOUNT`, `    namespace: ${q(o.namespace)}`]
    : subject.kind === "ServiceAccount"
    ? ["  - kind: ServiceAccount", `    name: ${q(subject.name)}`, `    namespace: ${q(subject.namespace)}`]
    : ["  - apiGroup: rbac.authorization.k8s.io", "    kind: User", `    name: ${q(subject.name)}`];
  return [
    "kubectl apply -f - <<'EOF'",
    `# kratos-kube needs on ${slices ? "endpointslices" : "pods"} in ${o.namespace}:`,
    ...verbs.map((v) => `#   ${v}: ${why[v] ?? "needed by kratos-kube"}`),
    "apiVersion: rbac.authorization.k8s.io/v1",
    "kind: Role",
    "metadata:",
    `  name: ${name}`,
    `  namespace: ${q(o.namespace)}`,
    "rules:",
    `  - apiGroups: [${slices ? '"discovery.k8s.io"' : '""'}]`,
    `    resources: [${slices ? "endpointslices" : "pods"}]`,
    `    verbs: [${verbs.join(", ")}]`,
    "---",
    "apiVersion: rbac.authorization.k8s.io/v1",
    "kind: RoleBinding",
    "metadata:",
    `  name: ${name}`,
    `  namespace: ${q(o.namespace)}`,
    "roleRef:",
    "  apiGroup: rbac.authorization.k8s.io",
    "  kind: Role",
    `  name: ${name}`,
    "subjects:",
    ...subjectLines,
    "EOF",
  ].join("\n");
}

function rank(verb: string): number {
  const i = VERB_ORDER.indexOf(verb);
  return i === -1 ? VERB_ORDER.length : i;
}
