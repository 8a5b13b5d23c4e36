/**
 * In-cluster configuration, as client-go's `rest.InClusterConfig` and
 * `clientcmd`'s namespace lookup do it: the API server from
 * `KUBERNETES_SERVICE_HOST`/`_PORT`, the service account's token, `ca.crt` and
 * `namespace` files, and `POD_NAMESPACE` overriding the namespace.
 *
 * @module
 */
import type { Host } from "../runtime/host.ts";
import type { ConfigParts, InClusterOptions } from "./config-parts.ts";
import { subjectOfToken } from "./config-parts.ts";
import { KubeConfigError } from "./errors.ts";

/** Where kubelet mounts the service account (client-go `rest.InClusterConfig`). */
export const SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";

/** Both variables must be non-empty (client-go `rest/config.go` `InClusterConfig`). */
export function inClusterEnvPresent(env: Record<string, string | undefined>): boolean {
  return !!env["KUBERNETES_SERVICE_HOST"] && !!env["KUBERNETES_SERVICE_PORT"];
}

/** `https://` + `net.JoinHostPort(host, port)`: IPv6 addresses go in brackets. */
export function inClusterServer(hostName: string, port: string): string {
  const h = hostName.includes(":") && !hostName.startsWith("[") ? `[${hostName}]` : hostName;
  return `https://${h}:${port}`;
}

/** Reads the in-cluster config. The token must be readable; `ca.crt` and `namespace` are optional. */
export async function loadInCluster(o: InClusterOptions, host: Host): Promise<ConfigParts> {
  const env = o.env ?? host.env();
  if (!inClusterEnvPresent(env)) {
    throw new KubeConfigError(
      "not running in a cluster: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must both be set",
    );
  }
  const dir = o.serviceAccountDir ?? SERVICE_ACCOUNT_DIR;
  const tokenPath = host.resolvePath(dir, "token");
  let token: string;
  try {
    token = (await host.readFile(tokenPath)).trim();
  } catch (err) {
    throw new KubeConfigError(`in-cluster: cannot read the service-account token ${tokenPath}: ${describe(err)}`, {
      cause: err,
    });
  }
  if (token === "") throw new KubeConfigError(`in-cluster: the service-account token ${tokenPath} is empty`);
  // client-go only logs an unreadable ca.crt and carries on with the default roots.
  const caPem = await host.readFile(host.resolvePath(dir, "ca.crt")).catch(() => undefined);
  let namespace = env["POD_NAMESPACE"]?.trim() || undefined;
  if (namespace === undefined) {
    const file = await host.readFile(host.resolvePath(dir, "namespace")).catch(() => undefined);
    namespace = file?.trim() || "default";
  }
  const server = inClusterServer(env["KUBERNETES_SERVICE_HOST"]!, env["KUBERNETES_SERVICE_PORT"]!);
  return {
    fields: { server, namespace, user: subjectOfToken(token) },
    secret: {
      tls: { caPem: caPem?.trim() === "" ? undefined : caPem },
      auth: { type: "file", path: tokenPath, initial: token },
      host,
      source: "in-cluster",
    },
  };
}

function describe(err: unknown): string {
  const code = (err as { code?: unknown })?.code;
  return typeof code === "string" && code === "ENOENT" ? "no such file" : String((err as Error)?.message ?? err);
}
