/**
 * Benchmark 4 (and 6 for transports): unary calls over 3 Greeter servers
 * (grpc-go processes when `go` is available, else connect-node processes).
 * Clients, interleaved in one process per runtime and run
 * (bench/transport/client.ts): a hand-rolled `node:http2` unary call (the
 * floor, bench/transport/floor.ts, the baseline of every ratio),
 * kratos-kube's `createDiscoveryTransport` (round_robin, p2c, from the build
 * in dist/) and 3 direct connect-node transports (what kratos-kube's former
 * connect-node call path cost); @grpc/grpc-js round_robin over static
 * addresses right after, in a process of its own. Concurrency 1, 32 and 128
 * on Node 20, 32 and 128 on Node 24, 32 on Bun and Deno. Plus a server
 * stream of 100,000 small messages (bench/transport/stream-client.ts),
 * picker ns per pick, JS heap allocated per call and a --cpu-prof summary
 * of our path.
 *
 *     node --import tsx bench/transport.ts        (or npm run bench:transport)
 *
 * @module
 */
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { runClient } from "./lib/child.ts";
import { startGreeters } from "./lib/greeters.ts";
import { QUICK, RUNS, wantRuntime } from "./lib/options.ts";
import { sectionHeader, table, writeChart, writeSection } from "./lib/results.ts";
import type { RuntimeName } from "./lib/runtimes.ts";
import { fmt, fmtSummary, summarize, type Summary } from "./lib/stats.ts";
import { barChart, type Bar } from "./lib/svg.ts";
import { summarizeProfile } from "./transport/profile.ts";
import { distLibEnv } from "./lib/dist-lib.ts";

const LEVELS = QUICK ? [1, 4] : [1, 32, 128];
const SLICES = QUICK ? ["--slice-ms=60", "--rounds=2", "--warm-ms=50"] : ["--slice-ms=250", "--rounds=12", "--warm-ms=300"];
const MODES = [
  { mode: "floor", label: "floor: hand-rolled node:http2", ours: false },
  { mode: "discovery-rr", label: "kratos-kube discovery, round_robin", ours: true },
  { mode: "discovery-p2c", label: "kratos-kube discovery, p2c", ours: true },
  { mode: "direct", label: "connect-node direct ×3 (former path)", ours: false },
  { mode: "grpcjs", label: "grpc-js round_robin", ours: false },
] as const;
/**
 * The node:http2 clients share one process, the floor first (the baseline
 * every ratio is taken against). grpc-js runs in a process of its own: in
 * the shared one, its background work (keepalive timers, its garbage) landed
 * in the other clients' slices and moved their figures by up to 20 %.
 */
const MODE_ARG = "--mode=floor,discovery-rr,discovery-p2c,direct";
const STREAM_MESSAGES = QUICK ? 2000 : 100_000;
const WINDOW = QUICK ? ["--window-ms=150", "--warm-ms=50"] : ["--window-ms=3000", "--warm-ms=300"];

interface Cell { readonly rt: RuntimeName; readonly mode: (typeof MODES)[number]; readonly levels: readonly number[] }
const runtimes: { rt: RuntimeName; levels: readonly number[] }[] = [];
if (wantRuntime("node20")) runtimes.push({ rt: "node20", levels: LEVELS });
if (wantRuntime("node24")) runtimes.push({ rt: "node24", levels: QUICK ? [4] : [32, 128] });
for (const rt of ["bun", "deno"] as const) if (wantRuntime(rt)) runtimes.push({ rt, levels: [QUICK ? 4 : 32] });
const cells: Cell[] = runtimes.flatMap(({ rt, levels }) => MODES.map((mode) => ({ rt, mode, levels })));

const libEnv = distLibEnv();

const t0 = performance.now();
const greeters = await startGreeters(3);
const addrs = `--addrs=${greeters.addresses.join(",")}`;
/** Per runtime, each run's RESULT (fields `rps@L@mode`, `cpu@L@mode`, `ratio-rps@L@mode`, `ratio-cpu@L@mode`). */
const data = new Map<RuntimeName, Record<string, number>[]>();
let profileMd = "";
let allocMd = "";
/** Per runtime, each run's stream RESULT (`msgs-cpu@mode`, `msgs-wall@mode`). */
const streams = new Map<RuntimeName, Record<string, number>[]>();
try {
  for (let run = 0; run < RUNS; run++) {
    for (const { rt, levels } of runtimes) {
      const r = (await runClient(rt, "bench/transport/client.ts", [MODE_ARG, addrs, `--concurrency=${levels.join(",")}`, ...SLICES], { env: libEnv, timeoutMs: 600_000 })) as Record<string, number>;
      const g = (await runClient(rt, "bench/transport/client.ts", ["--mode=grpcjs", addrs, `--concurrency=${levels.join(",")}`, ...WINDOW], { timeoutMs: 600_000 })) as Record<string, number>;
      for (const l of levels) {
        r[`rps@${l}@grpcjs`] = g[`rps@${l}`]!;
        r[`cpu@${l}@grpcjs`] = g[`cpu@${l}`]!;
        r[`ratio-rps@${l}@grpcjs`] = g[`rps@${l}`]! / r[`rps@${l}@floor`]!;
        r[`ratio-cpu@${l}@grpcjs`] = g[`cpu@${l}`]! / r[`cpu@${l}@floor`]!;
        // Ours against grpc-js of the same run.
        r[`vs-grpcjs-rps@${l}@discovery-rr`] = r[`rps@${l}@discovery-rr`]! / g[`rps@${l}`]!;
        r[`vs-grpcjs-cpu@${l}@discovery-rr`] = r[`cpu@${l}@discovery-rr`]! / g[`cpu@${l}`]!;
      }
      data.set(rt, [...(data.get(rt) ?? []), r]);
      const st = (await runClient(rt, "bench/transport/stream-client.ts", ["--mode=discovery-rr,direct,grpcjs", addrs, `--messages=${STREAM_MESSAGES}`, `--rounds=${QUICK ? 1 : 3}`], { env: libEnv, timeoutMs: 600_000 })) as Record<string, number>;
      streams.set(rt, [...(streams.get(rt) ?? []), st]);
      for (const l of levels) {
        const each = MODES.map((m) => `${m.mode} ${fmt(r[`rps@${l}@${m.mode}`]!)}/s ${fmt(r[`cpu@${l}@${m.mode}`]!)} µs`).join(", ");
        process.stderr.write(`# transport run ${run + 1}/${RUNS} ${rt} c${l}: ${each}\n`);
      }
    }
  }
  // A CPU profile of our path at concurrency 32 on Node 20.
  if (wantRuntime("node20")) {
    const dir = mkdtempSync(join(tmpdir(), "kratos-kube-prof-"));
    try {
      await runClient("node20", "bench/transport/client.ts", ["--mode=discovery-rr", addrs, `--concurrency=${QUICK ? 4 : 32}`, QUICK ? "--window-ms=300" : "--window-ms=3000", "--warm-ms=300"], {
        nodeFlags: ["--cpu-prof", `--cpu-prof-dir=${dir}`],
        env: libEnv,
      });
      const f = readdirSync(dir).find((x) => x.endsWith(".cpuprofile"));
      if (f !== undefined) {
        const p = summarizeProfile(join(dir, f));
        const pct = (t: number): string => `${fmt((100 * t) / p.total, 2)} %`;
        profileMd = [
          `CPU profile of the kratos-kube round_robin client at concurrency 32 on Node 20 (\`node --cpu-prof\`, ${fmt(p.total / 1000)} ms of non-idle samples, whole process including warm-up). Self time by package:`,
          "",
          table(["Package", "Self time"], p.byCategory.map(([c, t]) => [c, pct(t)])),
          "",
          "Top functions by self time:",
          "",
          table(["Function", "Package", "Self time"], p.topFunctions.map(([fn, c, t]) => [`\`${fn}\``, c, pct(t)])),
        ].join("\n");
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    // JS heap allocated per call: the floor, ours and connect-node (interleaved fresh processes).
    const allocs: Record<string, number[]> = { floor: [], "discovery-rr": [], direct: [] };
    for (let run = 0; run < Math.min(RUNS, 3); run++) {
      for (const mode of Object.keys(allocs)) {
        const r = await runClient("node20", "bench/transport/client.ts", [`--mode=${mode}`, addrs, `--concurrency=${QUICK ? 4 : 32}`, ...WINDOW, "--alloc"], { env: libEnv });
        allocs[mode]!.push(Number(r[`alloc@${QUICK ? 4 : 32}`]));
      }
    }
    const kb = (mode: string): number => summarize(allocs[mode]!).median / 1024;
    const allocRatio = kb("discovery-rr") / kb("floor");
    allocMd = `JS heap allocated per unary call at concurrency ${QUICK ? 4 : 32} on Node 20 (\`--alloc\`: \`v8.GCProfiler\` over a ${QUICK ? "short" : "3 s"} window, median of ${Math.min(RUNS, 3)} runs): floor ${fmt(kb("floor"))} KB, kratos-kube round_robin ${fmt(kb("discovery-rr"))} KB (${fmt(allocRatio, 3)}× the floor; target ≤ 2×: ${allocRatio <= 2 ? "meets" : "**misses**"}), connect-node direct ${fmt(kb("direct"))} KB.`;
  }
} finally {
  await greeters.close();
}

// Picker micro-benchmark, on each runtime.
const pickRuntimes = (["node20", "node24", "bun", "deno"] as const).filter((rt) => wantRuntime(rt));
const picks = new Map<string, Record<string, number>>();
for (const rt of pickRuntimes) {
  const runs: Record<string, number>[] = [];
  for (let run = 0; run < Math.min(RUNS, 5); run++) runs.push((await runClient(rt, "bench/transport/pickers.ts", [QUICK ? "--picks=20000" : "--picks=2000000"])) as Record<string, number>);
  const med: Record<string, number> = {};
  for (const k of Object.keys(runs[0]!)) med[k] = summarize(runs.map((r) => r[k]!)).median;
  picks.set(rt, med);
}

const S = (c: Cell, field: string): Summary | undefined => {
  const v = (data.get(c.rt) ?? []).map((r) => r[`${field}@${c.mode.mode}`]).filter((x): x is number => typeof x === "number" && Number.isFinite(x));
  return v.length ? summarize(v) : undefined;
};
const rows: string[][] = [];
for (const c of cells) {
  for (const l of c.levels) {
    const vs = c.mode.mode === "floor" ? undefined : S(c, `ratio-rps@${l}`);
    const vsCpu = c.mode.mode === "floor" ? undefined : S(c, `ratio-cpu@${l}`);
    const jsCpu = c.mode.mode === "discovery-rr" ? S(c, `vs-grpcjs-cpu@${l}`) : undefined;
    rows.push([
      c.mode.ours ? `**${c.mode.label}**` : c.mode.label,
      c.rt,
      String(l),
      fmtSummary(S(c, `rps@${l}`)),
      vs ? `${fmt(vs.median, 3)}×` : "–",
      fmtSummary(S(c, `cpu@${l}`)),
      vsCpu ? `${fmt(vsCpu.median, 3)}×` : "–",
      jsCpu ? `${fmt(jsCpu.median, 3)}×` : "–",
    ]);
  }
}

// The server stream: messages per CPU-second, per runtime and client.
const streamModes = [["discovery-rr", "**kratos-kube discovery**"], ["direct", "connect-node direct"], ["grpcjs", "grpc-js"]] as const;
const streamRows: string[][] = [];
const streamVerdicts: string[] = [];
for (const [rt, runs] of streams) {
  const med = (k: string): Summary => summarize(runs.map((r) => r[k]!));
  for (const [mode, label] of streamModes) streamRows.push([label, rt, fmtSummary(med(`msgs-cpu@${mode}`)), fmtSummary(med(`msgs-wall@${mode}`))]);
  const ratio = summarize(runs.map((r) => r["msgs-cpu@discovery-rr"]! / r["msgs-cpu@grpcjs"]!)).median;
  streamVerdicts.push(`${rt} ${fmt(ratio, 3)}× (${ratio >= 1 ? "meets" : "**misses**"})`);
}

const pickRows: string[][] = [];
for (const [rt, m] of picks) {
  for (const n of [4, 16, 64, 256]) pickRows.push([rt, String(n), fmt(m[`rr@${n}`]!), fmt(m[`wrr@${n}`]!), fmt(m[`random@${n}`]!), fmt(m[`p2c@${n}`]!)]);
}
const n20 = picks.get("node20");
const pickVerdict = n20
  ? `Targets on Node 20: round robin ≤ 50 ns (worst ${fmt(Math.max(...[4, 16, 64, 256].map((n) => n20[`rr@${n}`]!)))} ns: ${Math.max(...[4, 16, 64, 256].map((n) => n20[`rr@${n}`]!)) <= 50 ? "meets" : "**misses**"}); p2c pick + done ≤ 300 ns (worst ${fmt(Math.max(...[4, 16, 64, 256].map((n) => n20[`p2c@${n}`]!)))} ns: ${Math.max(...[4, 16, 64, 256].map((n) => n20[`p2c@${n}`]!)) <= 300 ? "meets" : "**misses**"}); WRR at 256 ≤ 200 ns (${fmt(n20["wrr@256"]!)} ns: ${n20["wrr@256"]! <= 200 ? "meets" : "**misses**"}).`
  : "";

/** `field`'s median ratio for a cell against `bound`: `le` means lower is better. */
const verdict = (c: Cell, l: number, field: string, bound: number, le: boolean): string => {
  const r = S(c, `${field}@${l}`)?.median ?? Number.NaN;
  const ok = le ? r <= bound : r >= bound;
  return `${c.rt} c${l} ${fmt(r, 3)}× (${ok ? "meets" : "**misses**"})`;
};
const rrCells = cells.filter((c) => c.mode.mode === "discovery-rr");
const node = (c: Cell): boolean => c.rt === "node20" || c.rt === "node24";
const tpVerdict = rrCells.length === 0
  ? ""
  : [
      "Targets (round_robin, same-run ratios): client CPU per call ≤ 1.3× the floor: " +
        rrCells.flatMap((c) => c.levels.map((l) => verdict(c, l, "ratio-cpu", 1.3, true))).join(", ") + ".",
      "Client CPU per call against grpc-js ≤ 0.8× on Node 20/24 at 32 and 128, ≤ 1.0× on Bun and Deno: " +
        rrCells.flatMap((c) => c.levels.filter((l) => l >= 32 || QUICK).map((l) => verdict(c, l, "vs-grpcjs-cpu", node(c) ? 0.8 : 1.0, true))).join(", ") + ".",
      "Calls per second ≥ 1.2× grpc-js on Node 20/24: " +
        rrCells.filter(node).flatMap((c) => c.levels.filter((l) => l >= 32 || QUICK).map((l) => verdict(c, l, "vs-grpcjs-rps", 1.2, false))).join(", ") + ".",
    ].join(" ");

const md = [
  sectionHeader("4. Transport: unary calls over 3 servers", "npm run bench:transport", ["node20", "node24", "bun", "deno"], `; servers: 3 × ${greeters.kind} Greeter processes on loopback (h2c)`),
  `Per runtime and run, one client process holds the four node:http2 clients (the floor, round_robin, p2c, connect-node direct) and interleaves them: after a warm-up of each, every round runs each client for ${QUICK ? "a short slice" : "250 ms"} at the level's concurrency (all its calls end before the next client starts), ${QUICK ? "2" : "12"} rounds per level, in alternating order. Machine drift (this VM's speed moves by up to ±30 % within minutes) then hits them alike. Calls/s and the process's user+system CPU per call are pooled over a run's rounds; "vs floor" is the median over runs of each run's median per-round ratio to the floor. The floor is a hand-rolled unary call over \`node:http2\` (bench/transport/floor.ts: one stream per call, the envelope written once, the status from the trailers, round robin over 3 sessions). grpc-js runs right after in a process of its own (${QUICK ? "a short" : "a 3 s"} window after a warm-up: in the shared process its background work moved the others' figures by up to 20 %); its "vs floor" compares it with that run's floor, and "CPU vs grpc-js" compares round_robin with that run's grpc-js. ${RUNS} runs, median (min–max). kratos-kube is the tsup build in dist/ (what npm users run). \`direct\` alternates calls over 3 connect-node gRPC transports by hand, the cost of kratos-kube's former connect-node call path; grpc-js gets the same @bufbuild/protobuf (de)serialisation. Node 24 runs at concurrency 32 and 128, Bun and Deno at 32.`,
  "",
  table(["Client", "Runtime", "Concurrency", "Calls/s", "vs floor", "Client CPU µs/call", "CPU vs floor", "CPU vs grpc-js"], rows),
  "",
  tpVerdict,
  "",
  `### A server stream of ${fmt(STREAM_MESSAGES)} small messages`,
  "",
  `One \`Echo/Repeat\` stream from one of the servers per client and round, ${QUICK ? "1 round" : "3 rounds"} after a warm-up, interleaved in one process (bench/transport/stream-client.ts); messages per CPU-second of the client process and per wall-second, medians of ${RUNS} runs.`,
  "",
  table(["Client", "Runtime", "Messages per CPU-second", "Messages per second"], streamRows),
  "",
  streamVerdicts.length === 0 ? "" : `Target: messages per CPU-second ≥ grpc-js: ${streamVerdicts.join(", ")}.`,
  "",
  "![transport chart](transport.svg)",
  "",
  "### Picker cost (ns per pick; p2c includes `done()` and its two clock reads)",
  "",
  table(["Runtime", "Endpoints", "round robin", "smooth WRR", "random", "p2c pick+done"], pickRows),
  "",
  pickVerdict,
  "",
  "### Where our path spends its time",
  "",
  profileMd,
  "",
  allocMd,
  "",
  `Took ${fmt((performance.now() - t0) / 1000)} s.`,
].join("\n");

const bars = (level: number, field: "rps" | "cpu"): Bar[] =>
  cells.filter((c) => c.levels.includes(level)).map((c) => {
    const s = S(c, `${field}@${level}`);
    return { label: `${c.mode.label} (${c.rt})`, value: s?.median ?? Number.NaN, min: s?.min ?? Number.NaN, max: s?.max ?? Number.NaN, ours: c.mode.ours };
  });
const mid = LEVELS[1] ?? LEVELS[0]!;
const svg = barChart(`Transport: unary SayHello over 3 ${greeters.kind} servers`, [
  { title: `Calls per second at concurrency ${mid}`, unit: "calls/s", better: "higher", bars: bars(mid, "rps") },
  { title: `Client CPU per call at concurrency ${mid}`, unit: "µs", better: "lower", bars: bars(mid, "cpu") },
  { title: "Calls per second at concurrency 1 (Node 20)", unit: "calls/s", better: "higher", bars: bars(LEVELS[0]!, "rps") },
], `medians of ${RUNS} runs`);

if (QUICK) process.stdout.write(`${md}\n`);
else {
  writeSection("transport", md);
  writeChart("transport", svg);
}
