/**
 * Benchmark 8: resilience under bad backends. Five grpc-go Greeter servers
 * (test/peers/greeter-bench with its misbehaviour flags) per client run, a
 * closed loop of 6,000 unary SayHello calls at concurrency 16, through
 * kratos-kube (defaults with SayHello marked idempotent, and with outlier
 * detection and retries off) and @grpc/grpc-js (round_robin, with and
 * without its `outlier_detection` policy, and with a `retryPolicy` too).
 * Scenario A: 3 servers at 5 ms, one at 50 ms, one failing 20 % of calls
 * with Unavailable. Scenario B: the failing one replaced by one flapping its
 * health every second, and a rolling update replacing one server a second
 * by a fresh one that is 5× slower for its first 2 s. Each client runs in a
 * fresh process with fresh servers (bench/resilience/client.ts), the
 * clients' order rotating from run to run; Node 20.
 *
 *     node --import tsx bench/resilience.ts        (or npm run bench:resilience)
 *
 * @module
 */
import { spawnSync } from "node:child_process";
import process from "node:process";
import { buildPeer } from "../scripts/build-peers.mjs";
import { runClient } from "./lib/child.ts";
import { QUICK, RUNS, size } from "./lib/options.ts";
import { sectionHeader, table, writeChart, writeSection } from "./lib/results.ts";
import { ROOT } from "./lib/runtimes.ts";
import { fmt, fmtSummary, summarize, type Summary } from "./lib/stats.ts";
import { barChart, type Bar, type Panel } from "./lib/svg.ts";
import { distLibEnv } from "./lib/dist-lib.ts";

const CALLS = size(6000, 600);
const CONCURRENCY = 16;
/** Time between replacements of the rolling update (short in quick mode, so the smoke test replaces servers too). */
const ROLL_MS = size(1000, 150);
const MODES = [
  { mode: "kk", label: "kratos-kube defaults, SayHello idempotent", ours: true },
  { mode: "kk-plain", label: "kratos-kube, outlierDetection/retry off", ours: true },
  { mode: "kk-p2c", label: "kratos-kube defaults + p2c, SayHello idempotent", ours: true },
  { mode: "grpcjs-od", label: "grpc-js outlier_detection + round_robin", ours: false },
  { mode: "grpcjs-od-retry", label: "grpc-js outlier_detection + retryPolicy", ours: false },
  { mode: "grpcjs", label: "grpc-js round_robin", ours: false },
] as const;
type ModeName = (typeof MODES)[number]["mode"];
const SCENARIOS = [
  { id: "a", title: "Scenario A: 3 servers at 5 ms, one at 50 ms, one failing 20 % with Unavailable", slots: ["5 ms", "5 ms", "5 ms", "50 ms", "5 ms, 20 % fail"] },
  { id: "b", title: `Scenario B: 3 at 5 ms, one at 50 ms, one flapping its health every 1 s; a rolling update replaces a server every ${fmt(ROLL_MS / 1000)} s (cold: 5× slower for 2 s)`, slots: ["5 ms", "5 ms", "5 ms", "50 ms", "5 ms, flapping"] },
] as const;

const go = buildPeer("greeter-bench");
if (go.built) process.stderr.write(`# built test/peers/greeter-bench in ${(go.ms / 1000).toFixed(1)} s\n`);

const libEnv = distLibEnv();

const t0 = performance.now();
/** Per scenario, each run's RESULT per mode. */
const data = new Map<string, Map<ModeName, Record<string, number>>[]>();
for (let run = 0; run < RUNS; run++) {
  for (const sc of SCENARIOS) {
    const results = new Map<ModeName, Record<string, number>>();
    // Rotate the order so no client always runs first (or right after another).
    const order = MODES.map((_, i) => MODES[(i + run) % MODES.length]!);
    for (const m of order) {
      const r = (await runClient("node20", "bench/resilience/client.ts", [`--mode=${m.mode}`, `--scenario=${sc.id}`, `--bin=${go.path}`, `--calls=${CALLS}`, `--concurrency=${CONCURRENCY}`, `--roll-ms=${ROLL_MS}`], {
        env: libEnv,
        timeoutMs: 300_000,
      })) as Record<string, number>;
      results.set(m.mode, r);
      process.stderr.write(`# resilience run ${run + 1}/${RUNS} ${sc.id} ${m.mode}: ${r["failed"]} failed, p50 ${fmt(r["p50"]!)} p99 ${fmt(r["p99"]!)} p999 ${fmt(r["p999"]!)} ms, ${fmt(r["wallMs"]! / 1000)} s${sc.id === "b" ? `, ${r["replacements"]} replacements` : ""}\n`);
    }
    data.set(sc.id, [...(data.get(sc.id) ?? []), results]);
  }
}

const S = (sc: string, mode: ModeName, field: string): Summary => summarize((data.get(sc) ?? []).map((r) => r.get(mode)![field]!));
const pctCell = (s: Summary): string => `${fmt(100 * s.median, 2)} %`;
const sections: string[] = [];
const verdicts: string[] = [];
for (const sc of SCENARIOS) {
  const rows = MODES.map((m) => [
    m.ours ? `**${m.label}**` : m.label,
    "node20",
    fmtSummary(S(sc.id, m.mode, "failed")),
    fmtSummary(S(sc.id, m.mode, "p50")),
    fmtSummary(S(sc.id, m.mode, "p99")),
    fmtSummary(S(sc.id, m.mode, "p999")),
    ...sc.slots.map((_, i) => pctCell(S(sc.id, m.mode, `share${i}`))),
  ]);
  sections.push(`### ${sc.title}`, "", table(["Client", "Runtime", "Failed calls", "p50 ms", "p99 ms", "p999 ms", ...sc.slots.map((s, i) => `${"ABCDE"[i]} (${s})`)], rows), "");
  const runs = data.get(sc.id) ?? [];
  if (sc.id === "a") {
    const zero = runs.filter((r) => r.get("kk")!["failed"] === 0).length;
    const p99 = runs.filter((r) => r.get("kk")!["p99"]! <= r.get("grpcjs-od")!["p99"]!).length;
    const ratio = summarize(runs.map((r) => r.get("kk")!["p99"]! / r.get("grpcjs-od")!["p99"]!)).median;
    verdicts.push(
      `Scenario A: kratos-kube (defaults) 0 failed calls in ${zero}/${runs.length} runs (${zero === runs.length ? "meets" : "**misses**"}); p99 ≤ grpc-js with outlier detection of the same run in ${p99}/${runs.length} runs, median ratio ${fmt(ratio, 3)}× (${ratio <= 1 ? "meets" : "**misses**"}).`,
    );
  } else {
    const ok = runs.filter((r) => r.get("kk")!["failed"]! <= r.get("grpcjs-od")!["failed"]!).length;
    verdicts.push(`Scenario B: kratos-kube (defaults) failed calls ≤ grpc-js with outlier detection of the same run in ${ok}/${runs.length} runs (${ok === runs.length ? "meets" : "**misses**"}).`);
  }
}
const repl = S("b", "kk", "replacements");

const md = [
  sectionHeader("8. Resilience under bad backends", "npm run bench:resilience", ["node20"], "; servers: 5 × grpc-go Greeter processes per client run on loopback (h2c)"),
  `Each client runs in a fresh process that starts its own 5 grpc-go servers (test/peers/greeter-bench with \`-delay\`, \`-fail-percent\`, \`-flap\`, \`-cold\`; bench/resilience/client.ts) and makes ${fmt(CALLS)} unary SayHello calls in a closed loop at concurrency ${CONCURRENCY} (10 s deadline each); the clients' order rotates from run to run. Failed calls are the calls that ended in an error; latency is per call, retries included; the share per server is the share of SayHello attempts each server slot answered (retries included, replacements summed into their slot). ${RUNS} runs, median (min–max); shares are medians.`,
  "",
  "Clients: kratos-kube's `createDiscoveryTransport` over `createManualDiscovery()` at its defaults (round robin, outlier detection on with its 10 s interval, health watching, retry budget) with `retry: { methods: [\"helloworld.Greeter/SayHello\"] }` (the method marked idempotent), and the same with `outlierDetection: false, retry: false`; @grpc/grpc-js " +
    `${grpcJsVersion()} with \`round_robin\`, with its \`outlier_detection\` policy over \`round_robin\` (interval 1 s, base ejection 30 s, max ejection 10 %, success-rate ejection at its defaults: stdev factor 1.9, 5 hosts, 100 requests), and with that policy plus a gRPC \`retryPolicy\` for SayHello (3 attempts, 10 ms backoff ×2 up to 1 s, UNAVAILABLE) — the grpc-js equivalent of marking the method idempotent. The grpc-js outlier-detection interval is shorter than kratos-kube's default, which only makes the comparison harder for kratos-kube.`,
  "",
  `In scenario B the rolling update (a median of ${fmt(repl.median)} replacements per run) starts the new server, publishes the new list, then stops the old one (SIGTERM: NOT_SERVING, GOAWAY, calls in flight finish), as Kubernetes does; kratos-kube follows it through the manual discovery's \`set()\`, grpc-js through a resolver registered for the benchmark (\`grpc.experimental.registerResolver\`) whose list changes at the same moments. grpc-js has no client-side health checking (no \`healthCheckConfig\` support), so the flapping server keeps its share there; kratos-kube's health watch takes it out while it reports NOT_SERVING. A server reporting NOT_SERVING still answers the calls it gets, so flapping causes no failed calls by itself.`,
  "",
  ...sections,
  verdicts.join(" "),
  "",
  "![resilience chart](resilience.svg)",
  "",
  `Took ${fmt((performance.now() - t0) / 1000)} s.`,
].join("\n");

const bars = (sc: string, field: string): Bar[] =>
  MODES.map((m) => {
    const s = S(sc, m.mode, field);
    return { label: m.label, value: s.median, min: s.min, max: s.max, ours: m.ours };
  });
const panels: Panel[] = [
  { title: "Scenario A: p99 latency", unit: "ms", better: "lower", bars: bars("a", "p99") },
  { title: `Scenario A: failed calls of ${fmt(CALLS)}`, unit: "calls", better: "lower", bars: bars("a", "failed") },
  { title: "Scenario B: p99 latency", unit: "ms", better: "lower", bars: bars("b", "p99") },
  { title: `Scenario B: failed calls of ${fmt(CALLS)}`, unit: "calls", better: "lower", bars: bars("b", "failed") },
];
const svg = barChart("Resilience: 5 grpc-go servers, some bad, concurrency 16", panels, `medians of ${RUNS} runs, Node 20`);

function grpcJsVersion(): string {
  const r = spawnSync(process.execPath, ["-p", "require('@grpc/grpc-js/package.json').version"], { cwd: ROOT, encoding: "utf8" });
  return r.stdout.trim() || "?";
}

if (QUICK) process.stdout.write(`${md}\n`);
else {
  writeSection("resilience", md);
  writeChart("resilience", svg);
}
