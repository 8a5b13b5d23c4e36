/**
 * `kratos-kube watch <service>`: the `instances` table, live. Lists and
 * watches the service's pods (the same pod cache discovery uses) and redraws
 * the table in place on a terminal, with each change logged above it; when
 * stdout is not a terminal, prints the table once and then one line per
 * change (`-o json`: one JSON object per line). Runs until Ctrl-C.
 * `--connect` also runs a client transport over the service and shows what
 * it sees of each endpoint (CLIENT column and lines): connects, connect
 * failures, NOT_SERVING / SERVING from the health watch, slow start.
 *
 * @module
 */
import type { PodRecord } from "../src/kube/index.ts";
import { createPodCache, KRATOS_LABEL_APP, type PodChange } from "../src/index.ts";
import type { Selection } from "../src/index.ts";
import type { RoutingOptions } from "../src/connect/index.ts";
import { numberOption, stringOption, UsageError, type CommandSpec } from "./args.ts";
import { explainError, openCluster } from "./cluster.ts";
import { instanceRow, instanceRows, renderInstanceTable, summaryLine, type InstanceRow } from "./instance-rows.ts";
import { instanceOptions, parseOrExit, routingOf } from "./instances.ts";
import { defaultIo, type CliIo } from "./io.ts";
import { createLiveScreen } from "./live-view.ts";
import { clientCell, startClientMonitor, type ClientLine, type ClientMonitor } from "./watch-client.ts";

const spec: CommandSpec = {
  name: "watch",
  positionals: ["<service>"],
  summary: "Follow the pods of a Kratos service live, as discovery sees them, until Ctrl-C.",
  options: {
    ...instanceOptions,
    connect: { type: "boolean", help: "also dial every endpoint as a client transport does and show what it sees: connects, connect failures, health (NOT_SERVING/SERVING), slow start (no calls are made)" },
    "slow-start": { type: "string", value: "MS", help: "with --connect: the slow-start window the client applies to endpoints that become ready (default 0 = off)" },
  },
  details: "Watch errors are shown and retried with backoff. Exit code 0 after Ctrl-C, 1 when the config cannot be loaded, 2 on a usage error.",
};

function stamp(): string {
  return new Date().toISOString().slice(11, 19);
}

/** One line describing a change, e.g. `MODIFIED sayhello-1: Ready True → False (not Ready …)`. */
export function describeChange(change: PodChange, selection: Selection, routing: RoutingOptions = {}): string {
  const now = instanceRow(change.pod, selection, routing);
  const state = (r: InstanceRow): string => (r.included ? "routable" : `excluded: ${r.excluded}`);
  if (change.type === "added") return `ADDED    ${change.pod.namespace}/${change.pod.name} ${change.pod.podIPs[0] ?? "<no ip>"} (${state(now)})`;
  if (change.type === "deleted") return `DELETED  ${change.pod.namespace}/${change.pod.name}`;
  const before = instanceRow(change.old, selection, routing);
  const diffs: string[] = [];
  if (before.ready !== now.ready) diffs.push(`Ready ${before.ready} → ${now.ready}`);
  if (before.terminating !== now.terminating) diffs.push("terminating");
  if (before.phase !== now.phase) diffs.push(`phase ${before.phase || "-"} → ${now.phase || "-"}`);
  if (before.ip !== now.ip) diffs.push(`IP ${before.ip || "-"} → ${now.ip || "-"}`);
  if (before.endpoints.join() !== now.endpoints.join()) diffs.push(`endpoints ${now.endpoints.join(",") || "-"}`);
  return `MODIFIED ${change.pod.namespace}/${change.pod.name}${diffs.length ? ` ${diffs.join(", ")}` : ""} (${state(now)})`;
}

/** Runs `kratos-kube watch`; resolves to the exit code once `io.signal` aborts. */
export async function run(argv: string[], io: CliIo = defaultIo()): Promise<number> {
  const args = parseOrExit(spec, argv, io);
  if (typeof args === "number") return args;
  const service = args.positionals[0] ?? "";
  const selection = (stringOption(args, "selection") ?? "ready") as Selection;
  const json = args.values.output === "json";
  const routing = routingOf(args);
  const connect = args.values["connect"] === true;
  let slowStartMs: number;
  try {
    slowStartMs = numberOption(args, "slow-start", 0, { min: 0, max: 3_600_000 }, "watch");
    if (!connect && args.values["slow-start"] !== undefined) throw new UsageError("--slow-start needs --connect; see `kratos-kube watch --help`");
  } catch (error) {
    io.stderr.write(`kratos-kube watch: ${(error as Error).message}\n`);
    return 2;
  }
  let cluster;
  try {
    cluster = await openCluster(args, io);
  } catch (error) {
    io.stderr.write(`kratos-kube watch: ${explainError(error, undefined, "load the config")}\n`);
    return 1;
  }
  const namespaces = args.values["all-namespaces"] === true ? ("*" as const) : [cluster.namespace];
  const screen = createLiveScreen(io.stdout, json ? { live: false } : {});
  const config = cluster.config;
  let lastError = "";
  const cache = createPodCache({
    api: cluster.client,
    namespaces,
    labelSelector: `${KRATOS_LABEL_APP}=${service}`,
    onError: (e) => {
      const line = explainError(e, config, `watch pods in ${namespaces === "*" ? "all namespaces" : namespaces.join(",")}`, { verbs: ["list", "watch"], namespace: namespaces === "*" ? undefined : namespaces[0] });
      if (line === lastError) return;
      lastError = line;
      if (json) io.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), error: line })}\n`);
      else screen.log(`${stamp()} watch error (retrying): ${line}`);
    },
  });
  const rows = (): InstanceRow[] => instanceRows(cache.values() as Iterable<PodRecord>, service, selection, routing);
  let monitor: ClientMonitor | undefined;
  const clientColumn = (): ((r: InstanceRow) => string) | undefined => {
    if (monitor === undefined) return undefined;
    const statuses = monitor.statuses();
    return (r) => (r.address === undefined ? "" : clientCell(statuses.get(r.address)));
  };
  const podOf = (address: string): string => {
    for (const r of rows()) if (r.address === address) return `${r.namespace}/${r.pod} `;
    return "";
  };
  const onClientLine = (l: ClientLine): void => {
    if (json) io.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), type: "client", ...l })}\n`);
    else screen.log(`${stamp()} client: ${l.address ? `${podOf(l.address)}${l.address} ` : ""}${l.message}${l.detail !== undefined ? ` (${l.detail})` : ""}`);
    if (!json) screen.render(frame());
  };
  const frame = (): string[] => {
    const r = rows();
    const where = namespaces === "*" ? "all namespaces" : `namespace ${namespaces[0]}`;
    return [
      `${service} in ${where} — ${stamp()} — Ctrl-C to stop`,
      "",
      ...(r.length ? renderInstanceTable(r, clientColumn()) : [`(no pods labelled ${KRATOS_LABEL_APP}=${service})`]),
      "",
      summaryLine(r, service, routing),
    ];
  };
  try {
    cache.start();
    try {
      await cache.ready(io.signal);
    } catch {
      return 0; // interrupted before the first sync
    }
    lastError = "";
    if (connect) monitor = startClientMonitor({ client: cluster.client, namespaces, service, routing, slowStartMs, onLine: onClientLine });
    if (json) io.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), type: "synced", instances: rows() })}\n`);
    else if (screen.live) screen.render(frame());
    else io.stdout.write(`${frame().slice(2).join("\n")}\n`);
    const unsubscribe = cache.subscribe((changes) => {
      for (const c of changes) {
        if (json) io.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), type: c.type, instance: instanceRow(c.pod, selection, routing) })}\n`);
        else screen.log(`${stamp()} ${describeChange(c, selection, routing)}`);
      }
      if (!json) screen.render(frame());
    });
    // Slow-start shares and backoff errors change without events: redraw.
    const redraw = connect && screen.live ? setInterval(() => screen.render(frame()), 1000) : undefined;
    await new Promise<void>((resolve) => {
      if (io.signal.aborted) resolve();
      else io.signal.addEventListener("abort", () => resolve(), { once: true });
    });
    clearInterval(redraw);
    unsubscribe();
    return 0;
  } finally {
    screen.close();
    await monitor?.close();
    await cache.close();
    await cluster.close();
  }
}
