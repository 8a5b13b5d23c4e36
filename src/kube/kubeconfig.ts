/**
 * Kubeconfig files, as kubectl reads them (client-go `tools/clientcmd`):
 * `KUBECONFIG` (a list of files, merged: for each cluster, user and context
 * name the first file that defines it wins, and `current-context` comes from
 * the first file that sets one) or `~/.kube/config`. Relative paths inside a
 * file resolve against that file's directory.
 *
 * @module
 */
import type { Host } from "../runtime/host.ts";
import type { ConfigParts, FromKubeconfigOptions } from "./config-parts.ts";
import { KubeConfigError } from "./errors.ts";
import type { ExecPluginConfig } from "./exec-credential.ts";
import type { KubeconfigExec } from "./kubeconfig-schema.ts";
import { entryName, parseCluster, parseContext, parseKubeconfigDocument, parseUser } from "./kubeconfig-schema.ts";
import type { AuthSpec } from "./token-source.ts";

type Obj = Record<string, unknown>;

interface Named {
  /** The entry's `cluster`/`user`/`context` value, checked only when selected. */
  value: unknown;
  /** Directory of the file that defined it, for relative paths. */
  dir: string | undefined;
  /** The document (`kubeconfig <file>` or `kubeconfig text`) and the entry's path in it, for messages. */
  where: string;
  path: string;
}

interface Merged {
  clusters: Map<string, Named>;
  users: Map<string, Named>;
  contexts: Map<string, Named>;
  currentContext: string | undefined;
  files: string[];
}

function looksLikeText(s: string): boolean {
  return s.includes("\n") || /^\s*(?:\{|apiVersion\s*:|kind\s*:|clusters\s*:)/.test(s);
}

function mergeInto(m: Merged, raw: unknown, where: string, dir: string | undefined): void {
  const doc = parseKubeconfigDocument(raw, where);
  const label = where === "kubeconfig text" ? where : `kubeconfig ${where}`;
  for (const [key, field, target] of [
    ["clusters", "cluster", m.clusters],
    ["users", "user", m.users],
    ["contexts", "context", m.contexts],
  ] as const) {
    doc[key].forEach((entry, i) => {
      // A malformed entry cannot be selected by name; skip it rather than let it
      // hide the healthy ones (the chosen context still fails if it needs it).
      const name = entryName(entry);
      if (name === undefined || target.has(name)) return;
      target.set(name, { value: (entry as Obj)[field], dir, where: label, path: `${key}[${i}].${field}` });
    });
  }
  if (m.currentContext === undefined) m.currentContext = doc.currentContext;
}

async function readMerged(pathOrText: string | undefined, env: Record<string, string | undefined>, host: Host): Promise<Merged> {
  const m: Merged = { clusters: new Map(), users: new Map(), contexts: new Map(), currentContext: undefined, files: [] };
  // Loaded on first use, so importing kratos-kube/kube does not load a YAML parser.
  const { parse: parseYaml } = await import("yaml");
  const parse = (text: string, where: string): unknown => {
    try {
      return parseYaml(text);
    } catch (err) {
      // No `cause`: the parser's error quotes the offending source line, which may hold a token or a key.
      throw new KubeConfigError(`${where}: invalid YAML: ${(err as Error).message.split("\n")[0]}`);
    }
  };
  if (pathOrText !== undefined && looksLikeText(pathOrText)) {
    m.files.push("<text>");
    mergeInto(m, parse(pathOrText, "kubeconfig text"), "kubeconfig text", undefined);
    return m;
  }
  if (pathOrText !== undefined) {
    const text = await read(host, pathOrText);
    m.files.push(pathOrText);
    mergeInto(m, parse(text, pathOrText), pathOrText, host.dirname(pathOrText));
    return m;
  }
  const list = env["KUBECONFIG"];
  if (list !== undefined && list.trim() !== "") {
    // kubectl skips files of the list that do not exist.
    const paths = list.split(host.pathListSeparator).filter((p) => p !== "");
    for (const p of [...new Set(paths)]) {
      let text: string;
      try {
        text = await host.readFile(p);
      } catch (err) {
        if ((err as { code?: unknown }).code === "ENOENT") continue;
        throw new KubeConfigError(`cannot read kubeconfig ${p}: ${(err as Error).message}`, { cause: err });
      }
      m.files.push(p);
      mergeInto(m, parse(text, p), p, host.dirname(p));
    }
    if (m.files.length === 0) throw new KubeConfigError(`none of the KUBECONFIG files exists (${paths.join(", ")})`);
    return m;
  }
  const home = env["HOME"] || env["USERPROFILE"];
  if (!home) throw new KubeConfigError("no KUBECONFIG and no home directory to find ~/.kube/config in");
  const p = host.resolvePath(host.resolvePath(home, ".kube"), "config");
  const text = await read(host, p);
  m.files.push(p);
  mergeInto(m, parse(text, p), p, host.dirname(p));
  return m;
}

async function read(host: Host, path: string): Promise<string> {
  try {
    return await host.readFile(path);
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    throw new KubeConfigError(
      `cannot read kubeconfig ${path}: ${code === "ENOENT" ? "no such file" : (err as Error).message}`,
      { cause: err },
    );
  }
}

function decodeBase64(data: string, what: string): string {
  try {
    const bin = atob(data.replace(/\s+/g, ""));
    return new TextDecoder().decode(Uint8Array.from(bin, (c) => c.charCodeAt(0)));
  } catch {
    throw new KubeConfigError(`${what} is not valid base64`);
  }
}

/** Reads `<key>-data` (base64) or `<key>` (a file relative to the kubeconfig). */
async function pem(
  data: string | undefined,
  file: string | undefined,
  key: string,
  n: Named,
  where: string,
  host: Host,
): Promise<string | undefined> {
  if (data !== undefined) return decodeBase64(data, `${where}: ${key}-data`);
  if (file === undefined) return undefined;
  const p = n.dir !== undefined ? host.resolvePath(n.dir, file) : file;
  try {
    return await host.readFile(p);
  } catch (err) {
    throw new KubeConfigError(`${where}: cannot read ${key} ${p}: ${(err as Error).message}`, { cause: err });
  }
}

function execConfig(e: KubeconfigExec, where: string, userName: string, dir: string | undefined, cluster: Obj): ExecPluginConfig {
  if (e.command === undefined) throw new KubeConfigError(`${where} has no command`);
  return {
    apiVersion: e.apiVersion ?? "",
    command: e.command,
    args: e.args ?? [],
    env: (e.env ?? []).map(({ name, value }) => ({ name, value })),
    installHint: e.installHint,
    interactiveMode: e.interactiveMode,
    provideClusterInfo: e.provideClusterInfo === true,
    baseDir: dir,
    userName,
    cluster,
  };
}

/**
 * The server URL client-go dials for a cluster's `server` value
 * (`rest.DefaultServerURL` in k8s.io/client-go `rest/url_utils.go`): a value
 * without a scheme and host, such as `127.0.0.1:16443` or `localhost:6443`,
 * gets `https://` when the cluster or user sets a certificate authority, a
 * client certificate or `insecure-skip-tls-verify`, else `http://`; a value
 * that then carries a path is refused ("must be a URL or a host:port pair").
 * Values with a scheme are returned as they are.
 */
export function defaultServerUrl(server: string, defaultTls: boolean, where = "kubeconfig"): string {
  let parsed: URL | undefined;
  try {
    parsed = new URL(server);
  } catch {
    parsed = undefined;
  }
  if (parsed !== undefined && parsed.host !== "") return server;
  const withScheme = `${defaultTls ? "https" : "http"}://${server}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new KubeConfigError(`${where}: server ${JSON.stringify(server)} must be a URL or a host:port pair`);
  }
  if (url.pathname !== "/" || url.search !== "" || url.hash !== "" || url.host === "") {
    throw new KubeConfigError(`${where}: server ${JSON.stringify(server)} must be a URL or a host:port pair`);
  }
  return withScheme;
}

/** Loads a kubeconfig into config parts. Throws {@link KubeConfigError} naming what is wrong. */
export async function loadKubeconfig(pathOrText: string | undefined, o: FromKubeconfigOptions, baseHost: Host): Promise<ConfigParts> {
  const env = o.env ?? baseHost.env();
  const host: Host = o.env === undefined ? baseHost : { ...baseHost, env: () => env, pathListSeparator: baseHost.pathListSeparator };
  const m = await readMerged(pathOrText, env, host);
  const files = m.files.join(", ");
  const contextName = o.context ?? m.currentContext;
  if (contextName === undefined) {
    throw new KubeConfigError(`kubeconfig ${files}: no current-context is set and no context was given`);
  }
  const ctx = m.contexts.get(contextName);
  if (ctx === undefined) {
    const known = [...m.contexts.keys()];
    throw new KubeConfigError(
      `kubeconfig ${files}: context "${contextName}" not found${known.length ? ` (known: ${known.join(", ")})` : ""}`,
    );
  }
  const cxw = `context "${contextName}"`;
  const cx = parseContext(ctx.value, { where: ctx.where, entry: cxw, path: ctx.path });
  const clusterName = cx.cluster;
  const cluster = clusterName === undefined ? undefined : m.clusters.get(clusterName);
  if (cluster === undefined) {
    throw new KubeConfigError(`kubeconfig ${files}: ${cxw} names cluster "${clusterName ?? ""}", which is not defined`);
  }
  const cw = `cluster "${clusterName}"`;
  const c = parseCluster(cluster.value, { where: cluster.where, entry: cw, path: cluster.path });
  if (c.server === undefined) throw new KubeConfigError(`kubeconfig ${files}: ${cw} has no server`);
  const caPem = await pem(c["certificate-authority-data"], c["certificate-authority"], "certificate-authority", cluster, cw, host);
  const insecure = c["insecure-skip-tls-verify"] === true;
  if (insecure && caPem !== undefined) {
    // client-go rest.Config validation refuses this combination too.
    throw new KubeConfigError(`kubeconfig ${files}: ${cw} sets both a certificate authority and insecure-skip-tls-verify`);
  }
  if (c["proxy-url"] !== undefined) {
    throw new KubeConfigError(`kubeconfig ${files}: ${cw} sets proxy-url, which kratos-kube does not support`);
  }

  const userName = cx.user;
  const user = userName === undefined ? undefined : m.users.get(userName);
  if (userName !== undefined && user === undefined) {
    throw new KubeConfigError(`kubeconfig ${files}: ${cxw} names user "${userName}", which is not defined`);
  }
  let auth: AuthSpec = { type: "none" };
  let certPem: string | undefined;
  let keyPem: string | undefined;
  const uw = `user "${userName ?? ""}"`;
  const u = user === undefined ? undefined : parseUser(user.value, { where: user.where, entry: uw, path: user.path });
  if (user !== undefined && u !== undefined) {
    for (const unsupported of ["auth-provider", "username", "password", "as"] as const) {
      if (u[unsupported] !== undefined) {
        throw new KubeConfigError(`kubeconfig ${files}: ${uw} uses "${unsupported}", which kratos-kube does not support`);
      }
    }
    certPem = await pem(u["client-certificate-data"], u["client-certificate"], "client-certificate", user, uw, host);
    keyPem = await pem(u["client-key-data"], u["client-key"], "client-key", user, uw, host);
  }
  const server = defaultServerUrl(c.server, caPem !== undefined || certPem !== undefined || insecure, `kubeconfig ${files}: ${cw}`);
  if (user !== undefined && userName !== undefined && u !== undefined) {
    const token = u.token;
    const tokenFile = u.tokenFile;
    if (u.exec !== undefined && u.exec !== null) {
      const clusterInfo: Obj = { server, "insecure-skip-tls-verify": insecure };
      if (caPem !== undefined) clusterInfo["certificate-authority-data"] = btoa(caPem);
      const tlsName = c["tls-server-name"];
      if (tlsName !== undefined) clusterInfo["tls-server-name"] = tlsName;
      auth = {
        type: "exec",
        exec: execConfig(u.exec, `${user.where}: ${uw}: ${user.path}.exec`, userName, user.dir, clusterInfo),
      };
    } else if (tokenFile !== undefined) {
      const path = user.dir !== undefined ? host.resolvePath(user.dir, tokenFile) : tokenFile;
      auth = { type: "file", path, initial: token };
    } else if (token !== undefined) {
      auth = { type: "token", token };
    }
  }
  const namespace = cx.namespace ?? "default";
  return {
    fields: { server, namespace, user: userName },
    secret: {
      tls: { caPem, certPem, keyPem, insecureSkipTlsVerify: insecure || undefined, serverName: c["tls-server-name"] },
      auth,
      host,
      source: `kubeconfig ${files} context "${contextName}"`,
    },
  };
}
