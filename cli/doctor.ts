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
  summary: "Check why a Kratos service cannot be discovered or called: config and auth, RBAC, namespace, labels, readiness, protocols, reachability.",
  options: {
    ...clusterOptions,
    timeout: { type: "string", value: "MS", help: "deadline of each endpoint probe (TCP connect, then grpc.health.v1 Check)", default: "1000" },
  },
  details: [
    "The checks follow the design document's troubleshooting list. Run doctor where the client runs",
    "(inside the cluster network) so the endpoint probes reach Pod IPs. There is no informer to start:",
    "kratos-kube's discovery starts its pod watch on the first getService()/watch().",
    "Exit code 0 when every check passes, 1 when one fails or is skipped, 2 on a usage error.",
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
    onCheck: json ? undefined : (c) => void io.stdout.write(`${renderCheck(c, width)}\n`),
    signal: io.signal,
  });
  const failed = checks.filter((c) => c.verdict !== "PASS");
  if (json) {
    io.stdout.write(`${JSON.stringify({ service, ok: failed.length === 0, checks }, null, 2)}\n`);
  } else {
    const passed = checks.length - failed.length;
    io.stdout.write(
      failed.length === 0
        ? `\nAll ${passed} checks passed: ${service} can be discovered and called from here.\n`
        : `\n${passed} passed, ${failed.filter((c) => c.verdict === "FAIL").length} failed, ${failed.filter((c) => c.verdict === "SKIP").length} skipped. Fix the first FAIL above and run doctor again.\n`,
    );
  }
  return failed.length === 0 ? 0 : 1;
}
