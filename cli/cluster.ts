/**
 * Loading the cluster connection for the CLI commands: `--kubeconfig`,
 * `--context` and `--namespace` over `KubeConfig`, and turning the errors of
 * that into one line with the fix.
 *
 * @module
 */
import { createKubeClient, KubeApiError, KubeConfig, KubeConfigError, KubeConnectionError, type KubeClient } from "../src/kube/index.ts";
import type { Pod } from "../src/kube/index.ts";
import { stringOption, type ParsedArgs } from "./args.ts";
import type { CliIo } from "./io.ts";
import { identityFromForbidden, rbacManifest } from "./rbac-fix.ts";

/** A loaded config and a client over it. */
export interface Cluster extends AsyncDisposable {
  readonly config: KubeConfig;
  readonly client: KubeClient;
  /** `--namespace`, else the config's namespace. */
  readonly namespace: string;
  close(): Promise<void>;
}

/** Loads the config the flags name (kubeconfig file, context; else `KubeConfig.load()`). */
export async function loadConfig(args: ParsedArgs, io: CliIo): Promise<KubeConfig> {
  const kubeconfig = stringOption(args, "kubeconfig");
  const context = stringOption(args, "context");
  if (kubeconfig !== undefined) return KubeConfig.fromKubeconfig(kubeconfig, { context, env: io.env });
  return KubeConfig.load({ context, env: io.env });
}

/** Loads the config and creates a client. */
export async function openCluster(args: ParsedArgs, io: CliIo): Promise<Cluster> {
  const config = await loadConfig(args, io);
  const client = createKubeClient({ config });
  const namespace = stringOption(args, "namespace") ?? config.namespace;
  return {
    config,
    client,
    namespace,
    close: () => client.close(),
    [Symbol.asyncDispose]: () => client.close(),
  };
}

/** Lists every pod matching `labelSelector` in `namespace` (undefined = all namespaces), following `continue`. */
export async function listAllPods(client: KubeClient, namespace: string | undefined, labelSelector: string, signal?: AbortSignal): Promise<Pod[]> {
  const out: Pod[] = [];
  let token: string | undefined;
  do {
    const page = await client.listPods({ namespace, labelSelector, limit: 500, continue: token, signal });
    out.push(...(page.items ?? []));
    token = page.metadata?.continue || undefined;
  } while (token !== undefined);
  return out;
}

/** What a command needs on pods, so a 403 prints a Role granting all of it at once. */
export interface PodNeeds {
  readonly verbs: readonly string[];
  readonly namespace: string | undefined;
}

/**
 * One line describing `error` and what to do about it; for a 403, followed by
 * the Role and RoleBinding that grant `needs.verbs` to the identity the 403
 * names (not the kubeconfig's user entry, which is only a local label).
 */
export function explainError(error: unknown, config: KubeConfig | undefined, what: string, needs?: PodNeeds): string {
  if (error instanceof KubeConfigError) {
    return `${error.message} (fix: pass --kubeconfig FILE and --context NAME, set KUBECONFIG, or run inside a Pod with a service account)`;
  }
  if (error instanceof KubeConnectionError) {
    if (error.notTls) {
      return `${error.message} (fix: the server URL says https://, but that port answers without TLS: use the API server's TLS port, or http:// for a local plain-HTTP server)`;
    }
    return error.tls
      ? `${error.message} (fix: the kubeconfig's certificate-authority does not match the server; refresh the kubeconfig)`
      : `${error.message} (fix: is the API server at ${error.server} running and reachable from here? check the kubeconfig's server URL)`;
  }
  if (error instanceof KubeApiError) {
    if (error.isUnauthorized()) return `the API server rejected the credentials while trying to ${what} (401 Unauthorized) (fix: the token is missing or expired; refresh the kubeconfig, e.g. your cloud's get-credentials command)`;
    if (error.isForbidden()) {
      const identity = identityFromForbidden(error.message);
      const namespace = needs?.namespace ?? config?.namespace ?? "default";
      const verbs = needs?.verbs ?? ["list", "watch", "patch"];
      return `forbidden to ${what}${identity ? ` as ${identity}` : ""}: ${error.message} (fix: grant ${verbs.join(", ")} on pods in ${namespace} with this Role and RoleBinding)\n${rbacManifest({ verbs, namespace, identity })}`;
    }
    return `${what} failed: ${error.message}`;
  }
  return `${what} failed: ${error instanceof Error ? error.message : String(error)}`;
}
