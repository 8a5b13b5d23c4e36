/**
 * The kubeconfig text (YAML) that points kubectl or the library at a fake
 * apiserver: one cluster, one user, one context.
 *
 * @module
 */
import { stringify as toYaml } from "yaml";

/** What goes into the kubeconfig. */
export interface KubeconfigParts {
  /** The server URL. */
  server: string;
  /** CA certificate (PEM), written as `certificate-authority-data`. */
  caPem?: string | undefined;
  /** Bearer token of the user; none when undefined. */
  token?: string | undefined;
  /** Default namespace of the context; default `default`. */
  namespace?: string | undefined;
  /** Name of the cluster, user and context; default `fake`. */
  context?: string | undefined;
}

/** Writes a kubeconfig document. */
export function buildKubeconfig(p: KubeconfigParts): string {
  const name = p.context ?? "fake";
  const cluster: Record<string, string> = { server: p.server };
  if (p.caPem !== undefined) cluster["certificate-authority-data"] = btoa(p.caPem);
  return toYaml({
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name, cluster }],
    users: [{ name, user: p.token !== undefined ? { token: p.token } : {} }],
    contexts: [{ name, context: { cluster: name, user: name, namespace: p.namespace ?? "default" } }],
    "current-context": name,
    preferences: {},
  });
}
