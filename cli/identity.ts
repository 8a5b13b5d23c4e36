/**
 * Who the API server sees: the identity `doctor` names and binds its RBAC fix
 * to. SelfSubjectReview (authentication.k8s.io/v1, GA since Kubernetes 1.28)
 * when the server has it, else the username in a 403.
 *
 * @module
 */
import { KubeApiError, type KubeClient } from "../src/kube/index.ts";
import { identityFromForbidden } from "./rbac-fix.ts";

/** The username the API server sees (SelfSubjectReview), or undefined when it cannot say. */
export async function whoAmI(client: KubeClient, signal: AbortSignal | undefined): Promise<string | undefined> {
  try {
    const res = await client.request("POST", "/apis/authentication.k8s.io/v1/selfsubjectreviews", {
      body: { apiVersion: "authentication.k8s.io/v1", kind: "SelfSubjectReview" },
      signal,
    });
    const doc = (await res.json()) as { status?: { userInfo?: { username?: unknown } } };
    const name = doc.status?.userInfo?.username;
    return typeof name === "string" && name !== "" ? name : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Without SelfSubjectReview (before Kubernetes 1.28), the identity from the
 * 403 of a request the review said is denied: authorization runs before the
 * object is looked up, so a patch of a pod that does not exist is answered
 * 403 naming the user, and nothing is changed.
 */
export async function identityFromDenial(client: KubeClient, namespace: string, denied: readonly string[], signal: AbortSignal | undefined): Promise<string | undefined> {
  const pods = `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods`;
  const probe = `${pods}/kratos-kube-doctor-identity-probe`;
  const attempts: Record<string, () => Promise<unknown>> = {
    list: () => client.request("GET", pods, { query: { limit: 1 }, signal }),
    patch: () => client.request("PATCH", probe, { body: "{}", contentType: "application/merge-patch+json", signal }),
    watch: () => client.request("GET", pods, { query: { watch: "true", timeoutSeconds: 1 }, signal }),
  };
  for (const verb of ["list", "patch", "watch"]) {
    if (!denied.includes(verb)) continue;
    try {
      const res = (await attempts[verb]!()) as Response;
      await res.body?.cancel().catch(() => {});
    } catch (error) {
      if (error instanceof KubeApiError && error.isForbidden()) {
        const who = identityFromForbidden(error.message);
        if (who !== undefined) return who;
      }
    }
  }
  return undefined;
}
