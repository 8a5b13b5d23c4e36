/**
 * Benchmark 4 (and 6 for transports): unary calls over 3 Greeter servers
 * (grpc-go processes when `go` is available, else connect-node processes).
 * Clients, each in its own process: kratos-kube's `createDiscoveryTransport`
 * (round_robin, p2c) vs 3 direct connect-node transports vs @grpc/grpc-js
 * round_robin over static addresses, at concurrency 1, 32 and 128 on Node 20;
 * at 32 on Node 24, Bun and Deno. Plus picker ns per pick and a --cpu-prof summary of
 * our path.
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

const LEVELS = QUICK ? [1, 4] : [1, 32, 128];
const WINDOW = QUICK ? ["--window-ms=150", "--warm-ms=50"] : ["--window-ms=1000", "--warm-ms=300"];
const MODES = [
  { mode: "discovery-rr", label: "kratos-kube discovery, round_robin", ours: true },
  { mode: "discovery-p2c", label: "kratos-kube discovery, p2c", ours: true },
  { mode: "direct", label: "connect-node direct ×3", ours: false },
  { mode: "grpcjs", label: "grpc-js round_robin", ours: false },
] as const;

interface Cell { readonly rt: RuntimeName; readonly mode: (typeof MODES)[number]; readonly levels: readonly number[] }
const cells: Cell[] = [];
if (wantRuntime("node20")) for (const m of MODES) cells.push({ rt: "node20", mode: m, levels: LEVELS });
for (const rt of ["node24", "bun", "deno"] as const) {
  if (!wantRuntime(rt)) continue;
  for (const m of MODES) if (m.mode !== "discovery-p2c") cells.push({ rt, mode: m, levels: [QUICK ? 4 : 32] });
}

const t0 = performance.now();
const greeters = await startGreeters(3);
const addrs = `--addrs=${greeters.addresses.join(",")}`;
const data = new Map<string, Record<string, number>[]>();
const key = (c: Cell): string => `${c.rt}/${c.mode.mode}`;
let profileMd = "";
try {
  for (let run = 0; run < RUNS; run++) {
    for (const c of cells) {
      const r = (await runClient(c.rt, "bench/transport/client.ts", [`--mode=${c.mode.mode}`, addrs, `--concurrency=${c.levels.join(",")}`, ...WINDOW])) as Record<string, number>;
      data.set(key(c), [...(data.get(key(c)) ?? []), r]);
      process.stderr.write(`# transport run ${run + 1}/${RUNS} ${c.rt} ${c.mode.mode}: ${c.levels.map((l) => `c${l} ${fmt(r[`rps@${l}`]!)}/s ${fmt(r[`cpu@${l}`]!)} µs`).join(", ")}\n`);
    }
  }
  // A CPU profile of our path at concurrency 32 on Node 20.
  if (wantRuntime("node20")) {
    const dir = mkdtempSync(join(tmpdir(), "kratos-kube-prof-"));
    try {
      await runClient("node20", "bench/transport/client.ts", ["--mode=discovery-rr", addrs, `--concurrency=${QUICK ? 4 : 32}`, QUICK ? "--window-ms=300" : "--window-ms=3000", "--warm-ms=300"], {
        nodeFlags: ["--cpu-prof", `--cpu-prof-dir=${dir}`],
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
  const v = (data.get(key(c)) ?? []).map((r) => r[field]).filter((x): x is number => typeof x === "number" && Number.isFinite(x));
  return v.length ? summarize(v) : undefined;
};
const direct = (rt: RuntimeName): Cell | undefined => cells.find((c) => c.rt === rt && c.mode.mode === "direct");
const rows: string[][] = [];
for (const c of cells) {
  for (const l of c.levels) {
    const d = direct(c.rt);
    const rps = S(c, `rps@${l}`);
    const drps = d ? S(d, `rps@${l}`) : undefined;
    const cpu = S(c, `cpu@${l}`);
    const dcpu = d ? S(d, `cpu@${l}`) : undefined;
    const vs = c.mode.mode !== "direct" && rps && drps ? `${fmt(rps.median / drps.median, 2)}×` : "–";
    const vsCpu = c.mode.mode !== "direct" && cpu && dcpu ? `${fmt(cpu.median / dcpu.median, 2)}×` : "–";
    rows.push([c.mode.ours ? `**${c.mode.label}**` : c.mode.label, c.rt, String(l), fmtSummary(rps), vs, fmtSummary(cpu), vsCpu]);
  }
}

const pickRows: string[][] = [];
for (const [rt, m] of picks) {
  for (const n of [4, 16, 64, 256]) pickRows.push([rt, String(n), fmt(m[`rr@${n}`]!), fmt(m[`wrr@${n}`]!), fmt(m[`random@${n}`]!), fmt(m[`p2c@${n}`]!)]);
}
const n20 = picks.get("node20");
const pickVerdict = n20
  ? `Targets on Node 20: round robin ≤ 50 ns (worst ${fmt(Math.max(...[4, 16, 64, 256].map((n) => n20[`rr@${n}`]!)))} ns: ${Math.max(...[4, 16, 64, 256].map((n) => n20[`rr@${n}`]!)) <= 50 ? "meets" : "**misses**"}); p2c pick + done ≤ 300 ns (worst ${fmt(Math.max(...[4, 16, 64, 256].map((n) => n20[`p2c@${n}`]!)))} ns: ${Math.max(...[4, 16, 64, 256].map((n) => n20[`p2c@${n}`]!)) <= 300 ? "meets" : "**misses**"}); WRR at 256 ≤ 200 ns (${fmt(n20["wrr@256"]!)} ns: ${n20["wrr@256"]! <= 200 ? "meets" : "**misses**"}).`
  : "";

const rrCell = cells.find((c) => c.rt === "node20" && c.mode.mode === "discovery-rr");
const dCell = direct("node20");
const tpVerdict = rrCell && dCell
  ? "Throughput target (≥ 0.95× direct) on Node 20: " + LEVELS.map((l) => {
      const r = (S(rrCell, `rps@${l}`)?.median ?? Number.NaN) / (S(dCell, `rps@${l}`)?.median ?? Number.NaN);
      return `c${l} ${fmt(r, 2)}× (${r >= 0.95 ? "meets" : "**misses**"})`;
    }).join(", ") + ". Client CPU per RPC target (≤ 1.05× direct): " + LEVELS.map((l) => {
      const r = (S(rrCell, `cpu@${l}`)?.median ?? Number.NaN) / (S(dCell, `cpu@${l}`)?.median ?? Number.NaN);
      return `c${l} ${fmt(r, 2)}× (${r <= 1.05 ? "meets" : "**misses**"})`;
    }).join(", ") + "."
  : "";

const md = [
  sectionHeader("4. Transport: unary calls over 3 servers", "npm run bench:transport", ["node20", "node24", "bun", "deno"], `; servers: 3 × ${greeters.kind} Greeter processes on loopback (h2c)`),
  `Each client process runs every concurrency level in turn: ${QUICK ? "short" : "300 ms warm-up, then a 1 s"} window; calls/s and the client process's user+system CPU per call over that window. ${RUNS} runs (fresh processes, interleaved), median (min–max). \`direct\` alternates calls over 3 connect-node gRPC transports by hand; grpc-js gets the same @bufbuild/protobuf (de)serialisation. Node 24, Bun and Deno run at concurrency 32 only (p2c is the same code path as round_robin there).`,
  "",
  table(["Client", "Runtime", "Concurrency", "Calls/s", "vs direct", "Client CPU µs/call", "CPU vs direct"], rows),
  "",
  tpVerdict,
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
