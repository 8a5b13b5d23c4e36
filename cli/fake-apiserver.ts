/**
 * `kratos-kube fake-apiserver`: serves the in-memory Kubernetes API server
 * (`kratos-kube/testing`) on loopback until Ctrl-C or SIGTERM, and writes a
 * kubeconfig for it that kubectl and `KubeConfig.fromKubeconfig()` both
 * accept.
 *
 * `--pods N` makes N ready pods. By default each is served by a real
 * helloworld.Greeter with grpc.health.v1 on 127.0.0.1 (its own port), so
 * `instances`, `doctor` and the transport work against them from this
 * machine; `--pod-ips cluster` makes 10.244.x.y pods on port 9000 with
 * nothing behind them, as a cluster would list them.
 *
 * kubectl never sends a bearer token over plain `http://`, and asks for a
 * username when a kubeconfig user has no credentials: `--token` and `--grant`
 * imply `--tls`, and `--tls` without `--token` generates an admin token.
 *
 * @module
 */
import { rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse as parseYaml, stringify as toYaml } from "yaml";
import { FakeKubeApiServer, makePod, type TokenGrant } from "../src/testing/index.ts";
import { helpText, numberOption, parseCommandArgs, stringOption, UsageError } from "./args.ts";
import type { CommandSpec } from "./args.ts";
import { startGreeter, type GreeterServer } from "./demo/greeter-server.ts";
import { defaultIo } from "./io.ts";
import type { CliIo } from "./io.ts";

const spec: CommandSpec = {
  name: "fake-apiserver",
  positionals: [],
  summary: "Serve an in-memory Kubernetes API server (pods, watch, discovery) on loopback until Ctrl-C.",
  options: {
    port: { type: "string", value: "N", help: "port to listen on (0 picks a free one)", default: "0" },
    host: { type: "string", value: "H", help: "address to listen on", default: "127.0.0.1" },
    tls: { type: "boolean", help: "serve https with a fresh CA (written into the kubeconfig); without --token an admin token is generated" },
    token: { type: "string", value: "T", help: "the admin bearer token, allowed everything (implies --tls: kubectl sends no token over http)" },
    grant: {
      type: "string",
      value: "SPEC",
      multiple: true,
      help: "another token: TOKEN=USER[/VERBS[/NAMESPACES]], e.g. nowatch=system:serviceaccount:shop:sayhello/get,list,patch/shop (verbs and namespaces comma-separated, all when left out; implies --tls; the kubeconfig gets a context per grant, named after the user's last part)",
    },
    kubeconfig: { type: "string", value: "PATH", help: "write the kubeconfig here (default: a temporary file, removed on exit)" },
    context: { type: "string", value: "NAME", help: "name of the admin context (and its cluster and user) in the kubeconfig", default: "fake" },
    namespace: { type: "string", short: "n", value: "NS", help: "the kubeconfig's namespace, and where --pods go", default: "default" },
    pods: { type: "string", value: "N", help: "create N ready pods with a grpc port (see --pod-ips)", default: "0" },
    "pod-ips": {
      type: "string",
      value: "KIND",
      help: "loopback: each pod is 127.0.0.1 with a real Greeter and grpc.health.v1 on its own port (doctor passes from here); cluster: 10.244.x.y on port 9000, nothing listening",
      default: "loopback",
      choices: ["loopback", "cluster"],
    },
    app: { type: "string", value: "NAME", help: "the kratos-service-app of the --pods", default: "demo" },
    output: { type: "string", short: "o", value: "FORMAT", help: "table: `url:` and `kubeconfig:` lines; json: one JSON object (url, kubeconfig, contexts, pods)", default: "table", choices: ["table", "json"] },
  },
  details: [
    "examples:",
    "  kratos-kube fake-apiserver --port 6443 --tls --kubeconfig /tmp/fake.kubeconfig --pods 3 --app shop.service",
    "  kratos-kube doctor shop.service --kubeconfig /tmp/fake.kubeconfig",
    "  kubectl --kubeconfig /tmp/fake.kubeconfig get pods",
    "  kratos-kube fake-apiserver --token admin --grant nowatch=system:serviceaccount:default:app/get,list --kubeconfig /tmp/kc",
    "  kratos-kube doctor shop.service --kubeconfig /tmp/kc --context app",
    "",
    "Prints `url: URL` and `kubeconfig: PATH` (one line each; with -o json one JSON object) once it",
    "serves. Exit code 0 after Ctrl-C or SIGTERM, 2 on a usage error, 1 when it cannot listen.",
  ].join("\n"),
};

/** The IP of the i-th cluster-style pod: 10.244.0.2, 10.244.0.3, … 10.244.0.251, 10.244.1.2, … */
function podIp(i: number): string {
  return `10.244.${Math.floor(i / 250) % 256}.${(i % 250) + 2}`;
}

/**
 * A ReplicaSet-like pod name, `<app>-<hash>-<5 chars>`: the suffix is the
 * index scrambled by a bijection on [0, 27^5), so names are unique and stable.
 */
function podName(app: string, i: number): string {
  const alphabet = "bcdfghjklmnpqrstvwxz2456789"; // apimachinery util/rand's alphabet
  const space = alphabet.length ** 5;
  let n = (i * 7919 + 104729) % space; // 7919 is coprime with 27^5
  let suffix = "";
  for (let k = 0; k < 5; k++) {
    suffix += alphabet[n % alphabet.length];
    n = Math.floor(n / alphabet.length);
  }
  return `${app}-7c9d8f6b5-${suffix}`;
}

/** One `--grant`: the token, its grant, and the kubeconfig context named for it. */
export interface GrantSpec {
  readonly token: string;
  readonly grant: TokenGrant;
  readonly context: string;
}

const VERBS = new Set(["get", "list", "watch", "create", "update", "patch", "delete", "deletecollection", "*"]);

/** Parses `TOKEN=USER[/VERBS[/NAMESPACES]]`; throws {@link UsageError} naming what is wrong. */
export function parseGrant(spec: string): GrantSpec {
  const eq = spec.indexOf("=");
  const hint = "--grant takes TOKEN=USER[/VERBS[/NAMESPACES]], e.g. nowatch=system:serviceaccount:shop:app/get,list/shop";
  if (eq <= 0) throw new UsageError(`${hint}; got no TOKEN= in the value`);
  const token = spec.slice(0, eq);
  if (!/^[\x21-\x7e]+$/.test(token)) throw new UsageError("--grant: the token must be printable ASCII without spaces (it goes into an Authorization header)");
  const [user = "", verbs, namespaces, ...extra] = spec.slice(eq + 1).split("/");
  if (user === "" || extra.length > 0) throw new UsageError(`${hint}; the value after TOKEN= is not USER[/VERBS[/NAMESPACES]]`);
  const grant: TokenGrant = { user };
  if (verbs !== undefined && verbs !== "") {
    const list = verbs.split(",");
    const bad = list.filter((v) => !VERBS.has(v));
    if (bad.length > 0) throw new UsageError(`--grant: unknown verb ${bad.map((v) => JSON.stringify(v)).join(", ")} (known: ${[...VERBS].join(", ")})`);
    grant.verbs = list;
  }
  if (namespaces !== undefined && namespaces !== "") grant.namespaces = namespaces.split(",");
  const context = (user.split(":").pop() ?? user).toLowerCase().replace(/[^a-z0-9.-]+/g, "-") || "grant";
  return { token, grant, context };
}

function fail(io: CliIo, message: string, code: number): number {
  io.stderr.write(`kratos-kube fake-apiserver: ${message}\n`);
  return code;
}

/** Merges one-context kubeconfig documents into one; `current` is the current-context. */
function mergeKubeconfigs(texts: readonly string[], current: string): string {
  const merged = { apiVersion: "v1", kind: "Config", clusters: [] as unknown[], users: [] as unknown[], contexts: [] as unknown[], "current-context": current, preferences: {} };
  for (const t of texts) {
    const doc = parseYaml(t) as { clusters: unknown[]; users: unknown[]; contexts: unknown[] };
    merged.clusters.push(...doc.clusters);
    merged.users.push(...doc.users);
    merged.contexts.push(...doc.contexts);
  }
  return toYaml(merged);
}

/**
 * Runs the command. Resolves with the exit code once `io.signal` aborts and
 * the server has closed (0), or at once on a usage error (2) or when it
 * cannot listen or write the kubeconfig (1).
 */
export async function run(argv: string[], io: CliIo = defaultIo()): Promise<number> {
  let port: number;
  let podCount: number;
  let grants: GrantSpec[];
  let args;
  try {
    args = parseCommandArgs(spec, argv);
    if (args.help) {
      io.stdout.write(helpText(spec));
      return 0;
    }
    port = numberOption(args, "port", 0, { min: 0, max: 65535 }, spec.name);
    podCount = numberOption(args, "pods", 0, { min: 0, max: 100_000 }, spec.name);
    if (!Number.isInteger(port)) throw new UsageError(`--port must be a whole number, not "${String(port)}"`);
    if (!Number.isInteger(podCount)) throw new UsageError(`--pods must be a whole number, not "${String(podCount)}"`);
    grants = (args.lists["grant"] ?? []).map(parseGrant);
  } catch (error) {
    if (error instanceof UsageError) return fail(io, error.message, 2);
    throw error;
  }
  const host = stringOption(args, "host") ?? "127.0.0.1";
  const explicitToken = stringOption(args, "token");
  const namespace = stringOption(args, "namespace") ?? "default";
  const app = stringOption(args, "app") ?? "demo";
  const context = stringOption(args, "context") ?? "fake";
  const loopback = stringOption(args, "pod-ips") !== "cluster";
  const json = args.values.output === "json";
  if (explicitToken !== undefined && !/^[\x21-\x7e]+$/.test(explicitToken)) {
    return fail(io, "--token must be printable ASCII without spaces (it goes into an Authorization header)", 2);
  }
  const names = new Set([context]);
  for (const [i, g] of grants.entries()) {
    if (g.token === explicitToken || grants.filter((x) => x.token === g.token).length > 1) return fail(io, "--grant: each token may be given once, and not also as --token", 2);
    let name = g.context;
    for (let n = 2; names.has(name); n++) name = `${g.context}-${n}`;
    names.add(name);
    grants[i] = { ...g, context: name };
  }
  const tls = args.values["tls"] === true || explicitToken !== undefined || grants.length > 0;
  if (args.values["tls"] !== true && tls) {
    io.stderr.write(`kratos-kube fake-apiserver: ${explicitToken !== undefined ? "--token" : "--grant"} implies --tls (kubectl never sends a token over plain http)\n`);
  }
  // kubectl prompts for a username when the kubeconfig user has no
  // credentials, so a TLS server always gets an admin token.
  const token = explicitToken ?? (tls ? `fake-${crypto.randomUUID()}` : undefined);
  if (tls && explicitToken === undefined) io.stderr.write("kratos-kube fake-apiserver: generated an admin token (it is in the kubeconfig)\n");
  const tokens: Record<string, TokenGrant> | undefined = token === undefined ? undefined : { [token]: { user: "kratos-kube-admin" } };
  for (const g of grants) if (tokens) tokens[g.token] = g.grant;

  const server = new FakeKubeApiServer(tokens === undefined ? {} : { tokens });
  const greeters: GreeterServer[] = [];
  const stop = async (): Promise<void> => {
    await server.close();
    await Promise.all(greeters.map((g) => g.drain().catch(() => {})));
  };
  let kubeconfigPath = stringOption(args, "kubeconfig");
  const temporary = kubeconfigPath === undefined;
  const pods: { name: string; ip: string; port: number }[] = [];
  let url: string;
  try {
    const started = new Date().toISOString().replace(/\.\d{3}Z$/, "Z");
    for (let i = 0; i < podCount; i++) {
      const name = podName(app, i);
      let ip = podIp(i);
      let containerPort = 9000;
      if (loopback) {
        const g = await startGreeter({ name, workMs: 0 });
        greeters.push(g);
        ip = "127.0.0.1";
        containerPort = g.port;
      }
      const pod = makePod({
        name,
        namespace,
        app,
        ip,
        ports: [{ name: "grpc", containerPort, protocol: "TCP" }],
        protocols: `{"${containerPort}":"grpc"}`,
        ready: true,
      });
      pod.metadata.creationTimestamp = started; // kubectl's AGE column: born now, not at makePod's fixed date
      if (pod.status) pod.status.startTime = started;
      server.createPod(pod);
      pods.push({ name, ip, port: containerPort });
    }
    url = (await server.listen({ port, host, tls })).url;
    kubeconfigPath ??= join(tmpdir(), `kratos-kube-fake-apiserver-${new URL(url).port}.kubeconfig`);
    const docs = [server.kubeconfig({ namespace, context, ...(token !== undefined ? { token } : {}) })];
    for (const g of grants) docs.push(server.kubeconfig({ namespace, context: g.context, token: g.token }));
    await writeFile(kubeconfigPath, docs.length === 1 ? docs[0]! : mergeKubeconfigs(docs, context), { mode: 0o600 });
  } catch (error) {
    await stop();
    return fail(io, error instanceof Error ? error.message : String(error), 1);
  }
  if (json) {
    const contexts = [{ name: context, user: tokens ? "kratos-kube-admin" : "kubernetes-admin" }, ...grants.map((g) => ({ name: g.context, user: g.grant.user }))];
    io.stdout.write(`${JSON.stringify({ url, kubeconfig: kubeconfigPath, namespace, contexts, app, pods })}\n`);
  } else {
    io.stdout.write(`url: ${url}\n`);
    io.stdout.write(`kubeconfig: ${kubeconfigPath}\n`);
  }

  await new Promise<void>((resolve) => {
    if (io.signal.aborted) resolve();
    else io.signal.addEventListener("abort", () => resolve(), { once: true });
  });
  await stop();
  if (temporary) await rm(kubeconfigPath, { force: true });
  io.stderr.write("kratos-kube fake-apiserver: stopped\n");
  return 0;
}
