/**
 * Exec credential plugins (`users[].user.exec` in a kubeconfig): what `aws eks
 * get-token`, `gke-gcloud-auth-plugin` and `kubelogin` implement. The plugin is
 * run with `KUBERNETES_EXEC_INFO` set and prints an `ExecCredential`
 * (`client.authentication.k8s.io/v1`, or `v1beta1`) whose `status.token` is
 * used until `status.expirationTimestamp` (client-go
 * `plugin/pkg/client/auth/exec/exec.go`).
 *
 * @module
 */
import type { Host } from "../runtime/host.ts";
import { KubeConfigError } from "./errors.ts";
import { parseExecCredential } from "./kubeconfig-schema.ts";

/** The API versions of ExecCredential kratos-kube speaks. */
export const EXEC_API_VERSIONS: readonly string[] = [
  "client.authentication.k8s.io/v1",
  "client.authentication.k8s.io/v1beta1",
];

/** An exec plugin, as a kubeconfig's `user.exec` describes it. */
export interface ExecPluginConfig {
  apiVersion: string;
  command: string;
  args: readonly string[];
  env: readonly { name: string; value: string }[];
  installHint?: string | undefined;
  interactiveMode?: string | undefined;
  provideClusterInfo?: boolean | undefined;
  /** Directory of the kubeconfig, for commands given as relative paths. */
  baseDir?: string | undefined;
  /** The kubeconfig user's name, for messages. */
  userName?: string | undefined;
  /** `spec.cluster` of KUBERNETES_EXEC_INFO, when `provideClusterInfo`. */
  cluster?: Record<string, unknown> | undefined;
}

/** A credential an exec plugin returned: a bearer token, a client certificate, or both. */
export interface ExecCredentialResult {
  token: string | undefined;
  /** `status.clientCertificateData` (PEM), with {@link keyPem}. */
  certPem: string | undefined;
  /** `status.clientKeyData` (PEM). */
  keyPem: string | undefined;
  /** Wall-clock expiry (ms since the epoch), or undefined for "until a 401". */
  expiresAt: number | undefined;
}

const MAX_STDERR = 500;

function pluginName(c: ExecPluginConfig): string {
  return `exec credential plugin "${c.command}"${c.userName ? ` of user "${c.userName}"` : ""}`;
}

/** Runs the plugin once and decodes its ExecCredential. Throws {@link KubeConfigError}. */
export async function runExecPlugin(
  config: ExecPluginConfig,
  host: Host,
  signal?: AbortSignal,
): Promise<ExecCredentialResult> {
  const name = pluginName(config);
  if (!EXEC_API_VERSIONS.includes(config.apiVersion)) {
    throw new KubeConfigError(
      `${name}: apiVersion "${config.apiVersion}" is not supported (use ${EXEC_API_VERSIONS.join(" or ")})`,
    );
  }
  if (config.interactiveMode === "Always") {
    throw new KubeConfigError(`${name} has interactiveMode "Always", but kratos-kube runs without a terminal`);
  }
  const command =
    /[\\/]/.test(config.command) && config.baseDir !== undefined
      ? host.resolvePath(config.baseDir, config.command)
      : config.command;
  const spec: Record<string, unknown> = { interactive: false };
  if (config.provideClusterInfo === true && config.cluster !== undefined) spec["cluster"] = config.cluster;
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(host.env())) if (v !== undefined) env[k] = v;
  for (const e of config.env) env[e.name] = e.value;
  env["KUBERNETES_EXEC_INFO"] = JSON.stringify({ apiVersion: config.apiVersion, kind: "ExecCredential", spec });

  let result;
  try {
    result = await host.exec(command, config.args, { env, signal });
  } catch (err) {
    if (signal?.aborted) throw signal.reason;
    const code = (err as { code?: unknown }).code;
    if (code === "ENOENT" || /not found|no such file/i.test(String((err as Error).message))) {
      throw new KubeConfigError(
        `${name} was not found: "${command}" is not an executable on PATH${config.installHint ? `. ${config.installHint.trim()}` : ""}`,
        { cause: err },
      );
    }
    throw new KubeConfigError(`${name} could not be started: ${(err as Error).message}`, { cause: err });
  }
  if (result.code !== 0) {
    const stderr = result.stderr.trim().slice(0, MAX_STDERR);
    throw new KubeConfigError(`${name} exited with code ${result.code}${stderr ? `: ${stderr}` : ""}`);
  }
  let cred: unknown;
  try {
    cred = JSON.parse(result.stdout);
  } catch {
    throw new KubeConfigError(`${name} printed something that is not JSON (expected an ExecCredential)`);
  }
  const status = parseExecCredential(cred, name, config.apiVersion);
  const { token, clientCertificateData: certPem, clientKeyData: keyPem, expirationTimestamp: exp } = status;
  if ((certPem === undefined) !== (keyPem === undefined)) {
    throw new KubeConfigError(`${name} returned only one of status.clientCertificateData and status.clientKeyData`);
  }
  if (token === undefined && certPem === undefined) {
    throw new KubeConfigError(`${name} returned an ExecCredential with neither status.token nor a client certificate`);
  }
  let expiresAt: number | undefined;
  if (exp !== undefined) {
    expiresAt = Date.parse(exp);
    if (Number.isNaN(expiresAt)) {
      throw new KubeConfigError(`${name} returned an invalid status.expirationTimestamp ${JSON.stringify(exp)}`);
    }
  }
  return { token, certPem, keyPem, expiresAt };
}
