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

/** The fix for an RBAC denial of `verb` on pods in `namespace`. */
export function rbacFix(verbs: readonly string[], namespace: string): string {
  return `grant it with a Role and RoleBinding in ${namespace} (deploy/role.yaml, deploy/rolebinding.yaml: kubectl apply -k deploy/ -n ${namespace}), or: kubectl create role kratos-kube --verb=${verbs.join(",")} --resource=pods -n ${namespace}`;
}

/** One line describing `error` and what to do about it. */
export function explainError(error: unknown, config: KubeConfig | undefined, what: string): string {
  const who = config?.user ? ` as ${config.user}` : "";
  if (error instanceof KubeConfigError) {
    return `${error.message} (fix: pass --kubeconfig FILE and --context NAME, set KUBECONFIG, or run inside a Pod with a service account)`;
  }
  if (error instanceof KubeConnectionError) {
    return error.tls
      ? `${error.message} (fix: the kubeconfig's certificate-authority does not match the server; refresh the kubeconfig)`
      : `${error.message} (fix: is the API server at ${error.server} running and reachable from here? check the kubeconfig's server URL)`;
  }
  if (error instanceof KubeApiError) {
    if (error.isUnauthorized()) return `the API server rejected the credentials while trying to ${what} (401 Unauthorized) (fix: the token is missing or expired; refresh the kubeconfig, e.g. your cloud's get-credentials command)`;
    if (error.isForbidden()) return `forbidden to ${what}${who}: ${error.message} (fix: ${rbacFix(["get", "list", "watch", "patch"], config?.namespace ?? "<namespace>")})`;
    return `${what} failed: ${error.message}`;
  }
  return `${what} failed: ${error instanceof Error ? error.message : String(error)}`;
}
