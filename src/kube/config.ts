/**
 * {@link KubeConfig}: where the Kubernetes API is and how to authenticate to it.
 *
 * A config is immutable and safe to print: `toString()`, `JSON.stringify` and
 * `util.inspect` show the server, namespace, user and the kind of credential,
 * never a token or key. Secrets stay in a module-private table.
 *
 * Sources: {@link KubeConfig.fromOptions} (explicit), {@link KubeConfig.inCluster}
 * (a pod's service account), {@link KubeConfig.fromKubeconfig} (kubectl's
 * files, exec plugins included) and {@link KubeConfig.load} (in-cluster when
 * its environment is present, else kubeconfig).
 *
 * @module
 */
import { host as defaultHost } from "../runtime/host.ts";
import { KubeConfigError } from "./errors.ts";
import type { ConfigParts, FromKubeconfigOptions, InClusterOptions, KubeConfigInternals } from "./config-parts.ts";
import { subjectOfToken } from "./config-parts.ts";
import { inClusterEnvPresent, loadInCluster } from "./in-cluster.ts";
import { loadKubeconfig } from "./kubeconfig.ts";
import type { AuthSpec } from "./token-source.ts";

/** What {@link KubeConfig.fromOptions} takes. */
export interface KubeConfigOptions {
  /** API server URL, e.g. `https://10.0.0.1:443` or `http://127.0.0.1:8080`. */
  server: string;
  /** A fixed bearer token. */
  token?: string | undefined;
  /** A file holding the bearer token, re-read about every 50 s and after a 401. */
  tokenFile?: string | undefined;
  /** PEM of the CA(s) that signed the server's certificate. */
  caPem?: string | undefined;
  /** Client certificate (PEM), with {@link keyPem}. */
  certPem?: string | undefined;
  /** Client key (PEM). */
  keyPem?: string | undefined;
  /** Do not verify the server's certificate. */
  insecureSkipTlsVerify?: boolean | undefined;
  /** Name to verify the server's certificate against (and send as SNI). */
  tlsServerName?: string | undefined;
  /** Default namespace; `"default"` when absent. */
  namespace?: string | undefined;
  /** The identity, if known (for messages). */
  user?: string | undefined;
}

const internals = new WeakMap<KubeConfig, KubeConfigInternals>();

/** @internal The secrets of `config`, for the client. Not part of the public API. */
export function configInternals(config: KubeConfig): KubeConfigInternals {
  const i = internals.get(config);
  if (i === undefined) throw new TypeError("not a KubeConfig built by kratos-kube");
  return i;
}

/** True for `localhost`, 127.0.0.0/8 and `::1`: the only hosts a token may reach over plain http. */
export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, "").toLowerCase();
  return h === "localhost" || h.endsWith(".localhost") || /^127\.\d+\.\d+\.\d+$/.test(h) || h === "::1";
}

function parseServer(server: string, source: string): URL {
  let url: URL;
  try {
    url = new URL(server);
  } catch {
    throw new KubeConfigError(`${source}: server ${JSON.stringify(server)} is not a URL`);
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw new KubeConfigError(`${source}: server ${JSON.stringify(server)} must be http:// or https://`);
  }
  if (url.username !== "" || url.password !== "") {
    throw new KubeConfigError(`${source}: the server URL must not contain credentials`);
  }
  return url;
}

/** Where the Kubernetes API is and how to authenticate to it. Immutable. */
export class KubeConfig {
  /** API server URL without a trailing slash (it may carry a path prefix). */
  readonly server: string;
  /** The default namespace. */
  readonly namespace: string;
  /** The identity, when known (the service account, or the kubeconfig user's name). */
  readonly user: string | undefined;
  /** `none`, `token`, `token-file`, `exec` or `client-certificate` (never the credential itself). */
  readonly auth: string;

  /** @internal Use the static factories. */
  constructor(
    fields: { server: string; namespace: string; user: string | undefined },
    secret: KubeConfigInternals,
  ) {
    const url = parseServer(fields.server, secret.source);
    const hasBearer = secret.auth.type !== "none";
    if (hasBearer && url.protocol === "http:" && !isLoopbackHost(url.hostname)) {
      throw new KubeConfigError(
        `${secret.source}: refusing to send a bearer token over plain http to ${url.host}; use https (plain http is allowed only to loopback)`,
      );
    }
    if ((secret.tls.certPem === undefined) !== (secret.tls.keyPem === undefined)) {
      throw new KubeConfigError(`${secret.source}: a client certificate needs both the certificate and its key`);
    }
    this.server = url.href.replace(/\/+$/, "");
    this.namespace = fields.namespace;
    this.user = fields.user;
    this.auth =
      secret.auth.type === "file"
        ? "token-file"
        : secret.auth.type !== "none"
          ? secret.auth.type
          : secret.tls.certPem !== undefined
            ? "client-certificate"
            : "none";
    internals.set(this, secret);
    Object.freeze(this);
  }

  /** A config from explicit values. Throws {@link KubeConfigError} on a bad server URL or a token over http. */
  static fromOptions(o: KubeConfigOptions): KubeConfig {
    if (o.token !== undefined && o.tokenFile !== undefined) {
      throw new KubeConfigError("KubeConfig.fromOptions: give token or tokenFile, not both");
    }
    const auth: AuthSpec =
      o.token !== undefined && o.token !== ""
        ? { type: "token", token: o.token }
        : o.tokenFile !== undefined
          ? { type: "file", path: o.tokenFile }
          : { type: "none" };
    return new KubeConfig(
      { server: o.server, namespace: o.namespace || "default", user: o.user ?? subjectOfToken(o.token) },
      {
        tls: {
          caPem: o.caPem,
          certPem: o.certPem,
          keyPem: o.keyPem,
          insecureSkipTlsVerify: o.insecureSkipTlsVerify,
          serverName: o.tlsServerName,
        },
        auth,
        host: defaultHost,
        source: "KubeConfig.fromOptions",
      },
    );
  }

  /** Where this config came from (e.g. `in-cluster`, `kubeconfig /home/me/.kube/config context "dev"`). */
  get source(): string {
    return configInternals(this).source;
  }

  /** Safe to log: no secrets. */
  toString(): string {
    return `KubeConfig(${this.server}, namespace ${this.namespace}, auth ${this.auth}${this.user ? `, user ${this.user}` : ""})`;
  }

  /** Safe to serialise: no secrets. */
  toJSON(): { server: string; namespace: string; user: string | undefined; auth: string } {
    return { server: this.server, namespace: this.namespace, user: this.user, auth: this.auth };
  }

  /** Loads the in-cluster config. See `in-cluster.ts`. */
  static async inCluster(o?: InClusterOptions): Promise<KubeConfig> {
    return KubeConfig.#fromParts(await loadInCluster(o ?? {}, defaultHost));
  }

  /** Loads a kubeconfig (a path, YAML text, or `KUBECONFIG` / `~/.kube/config`). See `kubeconfig.ts`. */
  static async fromKubeconfig(pathOrText?: string, o?: FromKubeconfigOptions): Promise<KubeConfig> {
    return KubeConfig.#fromParts(await loadKubeconfig(pathOrText, o ?? {}, defaultHost));
  }

  /**
   * In-cluster when `KUBERNETES_SERVICE_HOST` and `_PORT` are set, else the
   * kubeconfig. When nothing works, one {@link KubeConfigError} lists every
   * attempt.
   */
  static async load(o?: LoadOptions): Promise<KubeConfig> {
    const tried: string[] = [];
    const env = o?.env ?? defaultHost.env();
    if (inClusterEnvPresent(env)) {
      try {
        return await KubeConfig.inCluster({ ...o, env });
      } catch (err) {
        tried.push(`in-cluster: ${(err as Error).message}`);
      }
    } else {
      tried.push("in-cluster: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are not both set");
    }
    try {
      return await KubeConfig.fromKubeconfig(undefined, { context: o?.context, env });
    } catch (err) {
      tried.push(`kubeconfig: ${(err as Error).message}`);
    }
    throw new KubeConfigError(`no Kubernetes configuration found; tried:\n  - ${tried.join("\n  - ")}`);
  }

  static #fromParts(parts: ConfigParts): KubeConfig {
    return new KubeConfig(parts.fields, parts.secret);
  }
}

// `util.inspect` (Node, Bun, Deno's node:util) and Deno's console show toString(),
// never the fields' secrets. Defined on the prototype, non-enumerable.
for (const key of ["nodejs.util.inspect.custom", "Deno.customInspect"]) {
  Object.defineProperty(KubeConfig.prototype, Symbol.for(key), {
    value(this: KubeConfig): string {
      return this.toString();
    },
  });
}

/** Options of {@link KubeConfig.load}. */
export interface LoadOptions extends InClusterOptions {
  /** Kubeconfig context. */
  context?: string | undefined;
}

export type { ConfigParts, FromKubeconfigOptions, InClusterOptions, KubeConfigInternals } from "./config-parts.ts";
export { subjectOfToken } from "./config-parts.ts";
