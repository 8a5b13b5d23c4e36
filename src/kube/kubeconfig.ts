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
import type { ConfigParts, FromKubeconfigOptions } from "./config.ts";
import { KubeConfigError } from "./errors.ts";
import type { ExecPluginConfig } from "./exec-credential.ts";
import type { AuthSpec } from "./token-source.ts";

type Obj = Record<string, unknown>;

interface Named {
  value: Obj;
  /** Directory of the file that defined it, for relative paths. */
  dir: string | undefined;
}

interface Merged {
  clusters: Map<string, Named>;
  users: Map<string, Named>;
  contexts: Map<string, Named>;
  currentContext: string | undefined;
  files: string[];
}

const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

function looksLikeText(s: string): boolean {
  return s.includes("\n") || /^\s*(?:\{|apiVersion\s*:|kind\s*:|clusters\s*:)/.test(s);
}

function mergeInto(m: Merged, doc: unknown, where: string, dir: string | undefined): void {
  if (doc === null || doc === undefined) return; // an empty file
  if (!isObj(doc)) throw new KubeConfigError(`${where}: not a kubeconfig (expected a YAML mapping)`);
  for (const [key, field, target] of [
    ["clusters", "cluster", m.clusters],
    ["users", "user", m.users],
    ["contexts", "context", m.contexts],
  ] as const) {
    const list = doc[key];
    if (list === undefined || list === null) continue;
    if (!Array.isArray(list)) throw new KubeConfigError(`${where}: "${key}" must be a list`);
    for (const entry of list) {
      // A malformed entry cannot be selected by name; skip it rather than let it
      // hide the healthy ones (the chosen context still fails if it needs it).
      if (!isObj(entry) || typeof entry["name"] !== "string" || entry["name"] === "") continue;
      const value = entry[field];
      if (!target.has(entry["name"])) target.set(entry["name"], { value: isObj(value) ? value : {}, dir });
    }
  }
  const cc = doc["current-context"];
  if (m.currentContext === undefined && typeof cc === "string" && cc !== "") m.currentContext = cc;
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

function str(o: Obj, key: string, where: string): string | undefined {
  const v = o[key];
  if (v === undefined || v === null || v === "") return undefined;
  if (typeof v !== "string") throw new KubeConfigError(`${where}: "${key}" must be a string`);
  return v;
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
async function pem(o: Obj, key: string, n: Named, where: string, host: Host): Promise<string | undefined> {
  const data = str(o, `${key}-data`, where);
  if (data !== undefined) return decodeBase64(data, `${where}: ${key}-data`);
  const file = str(o, key, where);
  if (file === undefined) return undefined;
  const p = n.dir !== undefined ? host.resolvePath(n.dir, file) : file;
  try {
    return await host.readFile(p);
  } catch (err) {
    throw new KubeConfigError(`${where}: cannot read ${key} ${p}: ${(err as Error).message}`, { cause: err });
  }
}

function execConfig(o: Obj, where: string, userName: string, dir: string | undefined, cluster: Obj): ExecPluginConfig {
  const command = str(o, "command", where);
  if (command === undefined) throw new KubeConfigError(`${where}: exec has no command`);
  const args = o["args"] ?? [];
  if (!Array.isArray(args) || !args.every((a) => typeof a === "string")) {
    throw new KubeConfigError(`${where}: exec.args must be a list of strings`);
  }
  const envList = o["env"] ?? [];
  if (!Array.isArray(envList)) throw new KubeConfigError(`${where}: exec.env must be a list`);
  const env = envList.map((e, i) => {
    if (!isObj(e) || typeof e["name"] !== "string" || typeof e["value"] !== "string") {
      throw new KubeConfigError(`${where}: exec.env[${i}] needs a string name and value`);
    }
    return { name: e["name"], value: e["value"] };
  });
  return {
    apiVersion: str(o, "apiVersion", where) ?? "",
    command,
    args: args as string[],
    env,
    installHint: str(o, "installHint", where),
    interactiveMode: str(o, "interactiveMode", where),
    provideClusterInfo: o["provideClusterInfo"] === true,
    baseDir: dir,
    userName,
    cluster,
  };
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
  const clusterName = str(ctx.value, "cluster", `context "${contextName}"`);
  const cluster = clusterName === undefined ? undefined : m.clusters.get(clusterName);
  if (cluster === undefined) {
    throw new KubeConfigError(`kubeconfig ${files}: context "${contextName}" names cluster "${clusterName ?? ""}", which is not defined`);
  }
  const cw = `cluster "${clusterName}"`;
  const server = str(cluster.value, "server", cw);
  if (server === undefined) throw new KubeConfigError(`kubeconfig ${files}: ${cw} has no server`);
  const caPem = await pem(cluster.value, "certificate-authority", cluster, cw, host);
  const insecure = cluster.value["insecure-skip-tls-verify"] === true;
  if (insecure && caPem !== undefined) {
    // client-go rest.Config validation refuses this combination too.
    throw new KubeConfigError(`kubeconfig ${files}: ${cw} sets both a certificate authority and insecure-skip-tls-verify`);
  }
  if (str(cluster.value, "proxy-url", cw) !== undefined) {
    throw new KubeConfigError(`kubeconfig ${files}: ${cw} sets proxy-url, which kratos-kube does not support`);
  }

  const userName = str(ctx.value, "user", `context "${contextName}"`);
  const user = userName === undefined ? undefined : m.users.get(userName);
  if (userName !== undefined && user === undefined) {
    throw new KubeConfigError(`kubeconfig ${files}: context "${contextName}" names user "${userName}", which is not defined`);
  }
  let auth: AuthSpec = { type: "none" };
  let certPem: string | undefined;
  let keyPem: string | undefined;
  if (user !== undefined) {
    const uw = `user "${userName}"`;
    const u = user.value;
    for (const unsupported of ["auth-provider", "username", "password", "as"] as const) {
      if (u[unsupported] !== undefined) {
        throw new KubeConfigError(`kubeconfig ${files}: ${uw} uses "${unsupported}", which kratos-kube does not support`);
      }
    }
    certPem = await pem(u, "client-certificate", user, uw, host);
    keyPem = await pem(u, "client-key", user, uw, host);
    const token = str(u, "token", uw);
    const tokenFile = str(u, "tokenFile", uw);
    if (isObj(u["exec"])) {
      const clusterInfo: Obj = { server, "insecure-skip-tls-verify": insecure };
      if (caPem !== undefined) clusterInfo["certificate-authority-data"] = btoa(caPem);
      const tlsName = str(cluster.value, "tls-server-name", cw);
      if (tlsName !== undefined) clusterInfo["tls-server-name"] = tlsName;
      auth = { type: "exec", exec: execConfig(u["exec"], `${uw} exec`, userName!, user.dir, clusterInfo) };
    } else if (tokenFile !== undefined) {
      const path = user.dir !== undefined ? host.resolvePath(user.dir, tokenFile) : tokenFile;
      auth = { type: "file", path, initial: token };
    } else if (token !== undefined) {
      auth = { type: "token", token };
    }
  }
  const namespace = str(ctx.value, "namespace", `context "${contextName}"`) ?? "default";
  return {
    fields: { server, namespace, user: userName },
    secret: {
      tls: { caPem, certPem, keyPem, insecureSkipTlsVerify: insecure || undefined, serverName: str(cluster.value, "tls-server-name", cw) },
      auth,
      host,
      source: `kubeconfig ${files} context "${contextName}"`,
    },
  };
}
