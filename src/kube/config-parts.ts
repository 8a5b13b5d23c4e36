/**
 * The shapes the config loaders share with `KubeConfig` (`config.ts`): what a
 * loader produces, the loaders' options, and reading the identity out of a
 * service-account token. Its own module so that `config.ts` imports the
 * loaders (`in-cluster.ts`, `kubeconfig.ts`) and they import only this, with
 * no import cycle.
 *
 * @module
 */
import type { RuntimeTlsOptions } from "../runtime/fetch.ts";
import type { Host } from "../runtime/host.ts";
import type { AuthSpec } from "./token-source.ts";

/** Internal parts of a config (secrets included). Not exported from the package. */
export interface KubeConfigInternals {
  readonly tls: RuntimeTlsOptions;
  readonly auth: AuthSpec;
  readonly host: Host;
  /** Where this config came from, for messages. */
  readonly source: string;
}

/** What the loaders produce: public fields and the secrets. */
export interface ConfigParts {
  fields: { server: string; namespace: string; user: string | undefined };
  secret: KubeConfigInternals;
}

/** Options of {@link KubeConfig.inCluster}. */
export interface InClusterOptions {
  /** Default `/var/run/secrets/kubernetes.io/serviceaccount`. */
  serviceAccountDir?: string | undefined;
  /** Environment to read instead of the process's. */
  env?: Record<string, string | undefined> | undefined;
}

/** Options of {@link KubeConfig.fromKubeconfig}. */
export interface FromKubeconfigOptions {
  /** Context to use instead of `current-context`. */
  context?: string | undefined;
  /** Environment to read (`KUBECONFIG`, `HOME`) instead of the process's. */
  env?: Record<string, string | undefined> | undefined;
}

/**
 * The `sub` claim of a JWT (service-account tokens carry
 * `system:serviceaccount:NS:NAME`), or undefined. Only the identity is kept.
 */
export function subjectOfToken(token: string | undefined): string | undefined {
  if (token === undefined) return undefined;
  const part = token.split(".")[1];
  if (part === undefined) return undefined;
  try {
    const b64 = part.replace(/-/g, "+").replace(/_/g, "/");
    const json = JSON.parse(new TextDecoder().decode(Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))));
    return typeof json?.sub === "string" ? json.sub : undefined;
  } catch {
    return undefined;
  }
}
