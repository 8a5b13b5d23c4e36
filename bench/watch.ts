/**
 * Benchmark 1 (and 6 for watching): watch throughput and memory.
 *
 * One fake API server process serves 10,000 realistic pods and replays the
 * same 50,000 MODIFIED events to every client (see
 * `lib/fake-server-process.ts`); each client runs in its own process:
 * kratos-kube's `createPodCache` (Node 20, Node 24, Bun, Deno),
 * @kubernetes/client-node's informer (Node 24: it needs undici 8), bare
 * `JSON.parse` of the same lines (every runtime), and two decoders side by
 * side (`ndjson` over node:http vs kratos-kube's web-stream decoder).
 *
 *     node --import tsx bench/watch.ts        (or npm run bench:watch)
 *
 * @module
 */
import process from "node:process";
import { runClient } from "./lib/child.ts";
import { startFakeServer } from "./lib/fake-server.ts";
import { QUICK, RUNS, size, wantRuntime } from "./lib/options.ts";
import { sectionHeader, table, writeChart, writeSection } from "./lib/results.ts";
import type { RuntimeName } from "./lib/runtimes.ts";
import { fmt, fmtSummary, summarizeFields, type Summary } from "./lib/stats.ts";
import { barChart, type Bar } from "./lib/svg.ts";

const PODS = size(10_000, 50);
const EVENTS = size(50_000, 200);

interface Variant {
  readonly id: string;
  readonly label: string;
  readonly rt: RuntimeName;
  readonly script: string;
  readonly args: readonly string[];
  readonly ours: boolean;
}

const V = (id: string, label: string, rt: RuntimeName, script: string, args: string[], ours: boolean): Variant => ({ id, label, rt, script, args, ours });
const all: Variant[] = [];
for (const rt of ["node20", "node24", "bun", "deno"] as const) {
  if (!wantRuntime(rt)) continue;
  all.push(V(`kratos-${rt}`, `kratos-kube createPodCache`, rt, "bench/watch/client-kratos.ts", [], true));
  if (rt === "node24") all.push(V(`informer-${rt}`, `client-node informer`, rt, "bench/watch/client-informer.ts", [], false));
  all.push(V(`bare-${rt}`, `bare JSON.parse`, rt, "bench/watch/client-baseline.ts", ["--mode=bare"], false));
}
if (wantRuntime("node24")) {
  all.push(V("decoder-node24", "web-stream decoder (kratos-kube)", "node24", "bench/watch/client-baseline.ts", ["--mode=decoder"], true));
  all.push(V("ndjson-node24", "ndjson over node:http", "node24", "bench/watch/client-baseline.ts", ["--mode=ndjson"], false));
}

const KEYS = ["syncMs", "eventsPerSec", "cpuUsPerEvent", "eventsPerCpuSec", "heapPerPodBytes", "peakRssMiB"] as const;
type Key = (typeof KEYS)[number];

const t0 = performance.now();
process.stderr.write(`# watch: starting the fake API server (${PODS} pods, ${EVENTS} events pre-generated)…\n`);
const server = await startFakeServer({ pods: PODS, events: EVENTS });
const results = new Map<string, Partial<Record<Key, number>>[]>();
try {
  // Runs interleave the variants, so drift on the machine hits all of them alike.
  for (let run = 0; run < RUNS; run++) {
    for (const v of all) {
      const r = await runClient(v.rt, v.script, [`--url=${server.url}`, `--pods=${PODS}`, `--events=${EVENTS}`, ...v.args]);
      const list = results.get(v.id) ?? [];
      list.push(r as Partial<Record<Key, number>>);
      results.set(v.id, list);
      process.stderr.write(`# watch run ${run + 1}/${RUNS} ${v.rt} ${v.label}: ${fmt(Number(r["eventsPerSec"]))} events/s, ${fmt(Number(r["cpuUsPerEvent"]))} µs CPU/event, ${fmt(Number(r["heapPerPodBytes"]))} B/pod\n`);
    }
  }
} finally {
  await server.close();
}

const sum = new Map<string, Partial<Record<Key, Summary>>>();
for (const v of all) sum.set(v.id, summarizeFields(results.get(v.id) ?? [], KEYS));
const s = (id: string, k: Key): Summary | undefined => sum.get(id)?.[k];

const rows = all.map((v) => {
  const bare = s(`bare-${v.rt}`, "eventsPerCpuSec");
  const mine = s(v.id, "eventsPerCpuSec");
  const ratio = bare && mine && !v.id.startsWith("bare") ? `${fmt(mine.median / bare.median, 2)}×` : "–";
  return [
    `${v.ours ? "**" + v.label + "**" : v.label}`,
    v.rt,
    fmtSummary(s(v.id, "syncMs")),
    fmtSummary(s(v.id, "eventsPerSec")),
    fmtSummary(s(v.id, "cpuUsPerEvent")),
    ratio,
    fmtSummary(s(v.id, "heapPerPodBytes")),
    fmtSummary(s(v.id, "peakRssMiB")),
  ];
});

const heapK = (rt: string): string => fmt((s(`kratos-${rt}`, "heapPerPodBytes")?.median ?? Number.NaN) / 1024, 2);
const ratioK = (rt: string): number => (s(`kratos-${rt}`, "eventsPerCpuSec")?.median ?? Number.NaN) / (s(`bare-${rt}`, "eventsPerCpuSec")?.median ?? Number.NaN);
const verdictLines = (["node20", "node24", "bun", "deno"] as const)
  .filter((rt) => sum.has(`kratos-${rt}`))
  .map((rt) => {
    const h = (s(`kratos-${rt}`, "heapPerPodBytes")?.median ?? Number.NaN) <= 1024;
    const r = ratioK(rt) >= 0.8;
    return `- ${rt}: heap ${heapK(rt)} KB/pod (${h ? "meets" : "**misses**"} ≤ 1 KB); events per CPU-second ${fmt(ratioK(rt), 2)}× bare JSON.parse (${r ? "meets" : "**misses**"} ≥ 0.8×).`;
  });
const dec = s("decoder-node24", "cpuUsPerEvent");
const nd = s("ndjson-node24", "cpuUsPerEvent");
const decoderVerdict =
  dec && nd
    ? `Decoder verdict (Node 24, same lines, both keeping the objects in a Map): kratos-kube's web-stream decoder costs ${fmt(dec.median)} µs CPU per event, \`ndjson\` over node:http ${fmt(nd.median)} µs (${fmt(dec.median / nd.median, 2)}×). ` +
      (dec.median <= nd.median * 1.1
        ? `Keep the web-stream decoder: it is ${dec.median < nd.median * 0.95 ? "faster" : "as fast (within 10 %)"}, works on every runtime's \`fetch\` body, enforces the line limit and types its errors; \`ndjson\` (a Node-stream transform over split2/through2) needs node:http streams and adds dependencies. Drop \`ndjson\` from dependencies.`
        : "`ndjson` is faster here, but it is a Node-stream transform (needs node:http or a stream adapter) and has no line limit; keep the web-stream decoder for portability and note the gap.")
    : "";

const md = [
  sectionHeader("1. Watch throughput and memory", "npm run bench:watch", ["node20", "node24", "bun", "deno"]),
  `${PODS.toLocaleString("en-US")} realistic pods (≈5 KB of JSON each, \`makePod\`) listed, then ${EVENTS.toLocaleString("en-US")} MODIFIED events replayed from the server's history as fast as each client reads. The fake API server runs in its own process (Node 20); every client is a fresh process, ${RUNS} runs each, interleaved. Cells: median (min–max).`,
  "",
  "- **Sync**: process start of the client (after one warm-up request) to the cache being synced.",
  "- **Events/s**: wall rate from the first to the last MODIFIED event applied. **CPU/event**: the client process's user+system CPU over that interval per event (all its threads, GC included). **vs bare**: events per CPU-second relative to bare `JSON.parse` on the same runtime (target ≥ 0.8×).",
  "- **Heap/pod**: JS heap after forced GC at the end (all events applied, cache full) minus the heap before the LIST, divided by the pod count (target ≤ 1 KB). **Peak RSS**: Linux `VmHWM` of the client.",
  "",
  table(["Client", "Runtime", "Sync ms", "Events/s", "CPU µs/event", "vs bare", "Heap B/pod", "Peak RSS MiB"], rows),
  "",
  "Targets:",
  ...verdictLines,
  "",
  decoderVerdict,
  "",
  "![watch chart](watch.svg)",
  "",
  `Took ${fmt((performance.now() - t0) / 1000)} s.`,
].join("\n");

const bar = (id: string, label: string, k: Key, ours: boolean): Bar => {
  const x = s(id, k);
  return { label, value: x?.median ?? Number.NaN, min: x?.min ?? Number.NaN, max: x?.max ?? Number.NaN, ours };
};
const chartIds = all.filter((v) => !v.id.startsWith("decoder") && !v.id.startsWith("ndjson"));
const svg = barChart(`Watch: ${PODS.toLocaleString("en-US")} pods, ${EVENTS.toLocaleString("en-US")} MODIFIED events`, [
  { title: "Client CPU per event", unit: "µs", better: "lower", bars: chartIds.map((v) => bar(v.id, `${v.label} (${v.rt})`, "cpuUsPerEvent", v.ours)) },
  { title: "Retained heap per pod", unit: "bytes", better: "lower", target: 1024, bars: chartIds.map((v) => bar(v.id, `${v.label} (${v.rt})`, "heapPerPodBytes", v.ours)) },
  { title: "Peak RSS", unit: "MiB", better: "lower", bars: chartIds.map((v) => bar(v.id, `${v.label} (${v.rt})`, "peakRssMiB", v.ours)) },
], `medians of ${RUNS} runs; fake API server in a separate process`);

if (QUICK) process.stdout.write(`${md}\n`);
else {
  writeSection("watch", md);
  writeChart("watch", svg);
  process.stderr.write("# watch: wrote bench/results/watch.md, bench/watch.svg, bench/RESULTS.md\n");
}
