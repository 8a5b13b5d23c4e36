/**
 * `kratos-kube demo` (`npm run demo`): the library's three parts working
 * together on loopback — an embedded fake API server, sayhello servers that
 * register their own pods, and a micro-forge client balancing calls over
 * them — through a scale-up, a rolling restart, an abrupt kill and a
 * scale-down. Ends with a summary and the expected result.
 *
 * @module
 */
import { numberOption, stringOption, UsageError, type CommandSpec } from "./args.ts";
import { runDemo, type DemoOptions } from "./demo/run-demo.ts";
import { parseOrExit } from "./instances.ts";
import { defaultIo, type CliIo } from "./io.ts";

const spec: CommandSpec = {
  name: "demo",
  positionals: [],
  summary: "Run sayhello servers and a micro-forge client on an embedded fake Kubernetes API server, through scaling, a rolling restart and a crash.",
  options: {
    duration: { type: "string", value: "SECONDS", help: "how long the scenario runs", default: "20" },
    replicas: { type: "string", value: "N", help: "sayhello replicas (the scenario scales to N+2 and back)", default: "3" },
    balancer: { type: "string", value: "NAME", help: "load balancer of the client", default: "round_robin", choices: ["round_robin", "p2c", "wrr", "random"] },
    rate: { type: "string", value: "N", help: "calls per second", default: "50" },
    output: { type: "string", short: "o", value: "FORMAT", help: "summary format (json: the log goes to stderr)", default: "table", choices: ["table", "json"] },
    kubeconfig: { type: "string", value: "FILE", help: "run on this API server instead of the embedded fake: one without a kubelet (a test control plane), as the demo plays the kubelet" },
    source: { type: "string", value: "SOURCE", help: "how micro-forge finds sayhello: its Pods' Kratos labels (discovery:///sayhello.service) or the EndpointSlices of Service sayhello (kubernetes:///sayhello.default:grpc, embedded fake only)", default: "pods", choices: ["pods", "endpointslices"] },
  },
  details: [
    "Expected result: no failed call except calls in flight on the killed server.",
    "Exit code 0 when it held, 1 when it did not or the scenario failed, 2 on a usage error.",
    "On a terminal the view is redrawn in place; otherwise plain lines are printed.",
  ].join("\n"),
};

/** Runs `kratos-kube demo`; resolves to the exit code. */
export async function run(argv: string[], io: CliIo = defaultIo()): Promise<number> {
  const args = parseOrExit(spec, argv, io);
  if (typeof args === "number") return args;
  let o: DemoOptions;
  try {
    o = {
      durationMs: Math.round(numberOption(args, "duration", 20, { min: 1, max: 3600 }, "demo") * 1000),
      replicas: Math.round(numberOption(args, "replicas", 3, { min: 1, max: 50 }, "demo")),
      rate: numberOption(args, "rate", 50, { min: 1, max: 5000 }, "demo"),
      balancer: (stringOption(args, "balancer") ?? "round_robin") as DemoOptions["balancer"],
      json: args.values.output === "json",
      ...(typeof args.values.kubeconfig === "string" ? { kubeconfig: args.values.kubeconfig } : {}),
      source: (stringOption(args, "source") ?? "pods") as "pods" | "endpointslices",
    };
    if (o.source === "endpointslices" && o.kubeconfig !== undefined) {
      // A real apiserver runs no endpointslice controller here and refuses the demo's loopback addresses in slices.
      throw new UsageError("--source endpointslices runs on the embedded fake API server only (it plays the endpointslice controller there)");
    }
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    io.stderr.write(`kratos-kube demo: ${error.message}\n`);
    return 2;
  }
  return runDemo(o, io);
}
