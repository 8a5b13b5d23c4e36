/**
 * `kratos-kube doctor <service>`: the design document's troubleshooting list
 * as checks, each PASS or FAIL with the fix. Exit code 0 only when every check
 * passes.
 *
 * @module
 */
import { clusterOptions, numberOption, stringOption, UsageError, type CommandSpec } from "./args.ts";
import { loadConfig } from "./cluster.ts";
import { renderCheck, runDoctor, type Check } from "./doctor-checks.ts";
import { parseOrExit } from "./instances.ts";
import { defaultIo, type CliIo } from "./io.ts";
import { probeEndpoint } from "./probe.ts";
import { createKubeClient } from "../src/kube/index.ts";

const spec: CommandSpec = {
  name: "doctor",
  positionals: ["<service>"],
  summary: "Check why a Kratos service (name or discovery://namespace/name) or a Kubernetes Service (kubernetes:///service.namespace:port) cannot be discovered or called: config and auth, RBAC, namespace, labels or EndpointSlices, a streaming watch, annotations, readiness, terminating pods, protocols, reachability.",
  options: {
    ...clusterOptions,
    timeout: { type: "string", value: "MS", help: "deadline of each endpoint probe (TCP connect, then grpc.health.v1 Check)", default: "1000" },
  },
  details: [
    "The checks follow the design document's troubleshooting list. Run doctor where the client runs",
    "(inside the cluster network) so the endpoint probes reach Pod IPs. There is no informer to start:",
    "kratos-kube's discovery starts its pod watch on the first getService()/watch().",
    "A kubernetes:/// target checks list/watch on endpointslices in its namespace, the Service's slices,",
    "the port in them, ready endpoints and each endpoint, as EndpointSlice discovery reads them.",
    "The watch check waits up to max(2000 ms, --timeout) for the first event of a pod watch: a proxy that",
    "buffers responses delivers none. WARN marks what is worth knowing but does not fail.",
    "Exit code 0 when every check passes (or warns), 1 when one fails or is skipped, 2 on a usage error.",
  ].join("\n"),
};

/** Runs `kratos-kube doctor`; resolves to the exit code. */
export async function run(argv: string[], io: CliIo = defaultIo()): Promise<number> {
  const args = parseOrExit(spec, argv, io);
  if (typeof args === "number") return args;
  let timeoutMs: number;
  try {
    timeoutMs = numberOption(args, "timeout", 1000, { min: 10, max: 60_000 }, "doctor");
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    io.stderr.write(`kratos-kube doctor: ${error.message}\n`);
    return 2;
  }
  const service = args.positionals[0] ?? "";
  const json = args.values.output === "json";
  const width = 12;
  if (!json) io.stdout.write(`Checking ${service}…\n`);
  const checks: Check[] = await runDoctor({
    service,
    loadConfig: () => loadConfig(args, io),
    openClient: (config) => createKubeClient({ config }),
    namespace: (config) => stringOption(args, "namespace") ?? config.namespace,
    probe: (endpoint) => probeEndpoint(endpoint, timeoutMs),
    watchDeadlineMs: Math.max(2000, timeoutMs),
    onCheck: json ? undefined : (c) => void io.stdout.write(`${renderCheck(c, width)}\n`),
    signal: io.signal,
  });
  const count = (v: string): number => checks.filter((c) => c.verdict === v).length;
  const failed = count("FAIL") + count("SKIP");
  if (json) {
    io.stdout.write(`${JSON.stringify({ service, ok: failed === 0, checks }, null, 2)}\n`);
  } else {
    const warned = count("WARN") > 0 ? ` (${count("WARN")} warning${count("WARN") === 1 ? "" : "s"} above)` : "";
    io.stdout.write(
      failed === 0
        ? `\nAll ${count("PASS") + count("WARN")} checks passed${warned}: ${service} can be discovered and called from here.\n`
        : `\n${count("PASS")} passed, ${count("WARN")} warned, ${count("FAIL")} failed, ${count("SKIP")} skipped. Fix the first FAIL above and run doctor again.\n`,
    );
  }
  return failed === 0 ? 0 : 1;
}
