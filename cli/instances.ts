/**
 * `kratos-kube instances <service>`: one row per pod labelled with the
 * service — pod, IP, endpoints, version, ready — including the pods discovery
 * leaves out, with the reason.
 *
 * @module
 */
import type { PodRecord } from "../src/kube/index.ts";
import { KRATOS_LABEL_APP, projectKratosPod } from "../src/index.ts";
import type { Selection } from "../src/index.ts";
import type { RoutingOptions, RoutingProtocol } from "../src/connect/index.ts";
import { clusterOptions, helpText, parseCommandArgs, stringOption, UsageError, type CommandSpec, type ParsedArgs } from "./args.ts";
import { explainError, listAllPods, openCluster } from "./cluster.ts";
import { instanceRows, renderInstanceTable, summaryLine } from "./instance-rows.ts";
import { defaultIo, type CliIo } from "./io.ts";

/** Options shared by `instances` and `watch`. */
export const instanceOptions: CommandSpec["options"] = {
  ...clusterOptions,
  "all-namespaces": { type: "boolean", short: "A", help: "look in every namespace (needs list on pods cluster-wide)" },
  selection: { type: "string", value: "RULE", help: "which pods count: ready (Running, Ready, not terminating) or kratos (Go Kratos: Running only)", default: "ready", choices: ["ready", "kratos"] },
  protocol: { type: "string", value: "P", help: "the transport's protocol: a pod counts only with an endpoint for it (grpc://, or http:// for connect and grpc-web)", default: "grpc", choices: ["grpc", "connect", "grpc-web"] },
  secure: { type: "boolean", help: "the transport uses TLS (secure: true): grpcs:// or https:// endpoints count instead" },
};

/** The transport settings `--protocol` and `--secure` describe. */
export function routingOf(args: ParsedArgs): RoutingOptions {
  return { protocol: (stringOption(args, "protocol") ?? "grpc") as RoutingProtocol, secure: args.values["secure"] === true };
}

/** Quotes a shell word when needed. */
function shellWord(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/** `kratos-kube doctor <service>` with the cluster flags the user gave (kubeconfig, context, namespace). */
export function doctorCommand(service: string, args: ParsedArgs): string {
  const words = ["kratos-kube", "doctor", service];
  const kubeconfig = stringOption(args, "kubeconfig");
  const context = stringOption(args, "context");
  const namespace = stringOption(args, "namespace");
  if (kubeconfig !== undefined) words.push("--kubeconfig", kubeconfig);
  if (context !== undefined) words.push("--context", context);
  if (namespace !== undefined) words.push("-n", namespace);
  return words.map(shellWord).join(" ");
}

const spec: CommandSpec = {
  name: "instances",
  positionals: ["<service>"],
  summary: "List the pods of a Kratos service (label kratos-service-app) as discovery sees them, including excluded pods and why.",
  options: instanceOptions,
  details: "Exit code 0 when the list was read (even if empty), 1 when the cluster could not be read, 2 on a usage error.",
};

/** Reads the pods of `service` once and returns them projected. */
export async function readServicePods(client: Parameters<typeof listAllPods>[0], namespace: string | undefined, service: string, signal?: AbortSignal): Promise<PodRecord[]> {
  const pods = await listAllPods(client, namespace, `${KRATOS_LABEL_APP}=${service}`, signal);
  const out: PodRecord[] = [];
  for (const p of pods) {
    const r = projectKratosPod(p);
    if (typeof r !== "string") out.push(r);
  }
  return out;
}

/** Parses argv, printing help or a usage error; returns the args or an exit code. */
export function parseOrExit(s: CommandSpec, argv: string[], io: CliIo): ParsedArgs | number {
  try {
    const args = parseCommandArgs(s, argv);
    if (args.help) {
      io.stdout.write(helpText(s));
      return 0;
    }
    return args;
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr.write(`kratos-kube ${s.name}: ${error.message}\n`);
      return 2;
    }
    throw error;
  }
}

/** Runs `kratos-kube instances`; resolves to the exit code. */
export async function run(argv: string[], io: CliIo = defaultIo()): Promise<number> {
  const args = parseOrExit(spec, argv, io);
  if (typeof args === "number") return args;
  const service = args.positionals[0] ?? "";
  const selection = (stringOption(args, "selection") ?? "ready") as Selection;
  let cluster;
  try {
    cluster = await openCluster(args, io);
  } catch (error) {
    io.stderr.write(`kratos-kube instances: ${explainError(error, undefined, "load the config")}\n`);
    return 1;
  }
  try {
    const namespace = args.values["all-namespaces"] === true ? undefined : cluster.namespace;
    let pods: PodRecord[];
    try {
      pods = await readServicePods(cluster.client, namespace, service, io.signal);
    } catch (error) {
      io.stderr.write(`kratos-kube instances: ${explainError(error, cluster.config, `list pods in ${namespace ?? "all namespaces"}`, { verbs: ["list"], namespace })}\n`);
      return 1;
    }
    const routing = routingOf(args);
    const rows = instanceRows(pods, service, selection, routing);
    if (args.values.output === "json") {
      io.stdout.write(`${JSON.stringify({ service, namespace: namespace ?? "*", selection, protocol: routing.protocol, secure: routing.secure, instances: rows }, null, 2)}\n`);
      return 0;
    }
    if (rows.length === 0) {
      io.stdout.write(`No pods labelled ${KRATOS_LABEL_APP}=${service} in ${namespace === undefined ? "any namespace" : `namespace ${namespace}`}. Run \`${doctorCommand(service, args)}\` to find out why.\n`);
      return 0;
    }
    const hint = rows.some((r) => r.included) ? "" : `\nRun \`${doctorCommand(service, args)}\` to find out why.`;
    io.stdout.write(`${renderInstanceTable(rows).join("\n")}\n\n${summaryLine(rows, service, routing)}${hint}\n`);
    return 0;
  } finally {
    await cluster.close();
  }
}
