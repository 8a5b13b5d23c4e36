/**
 * Benchmark 2: initial sync at scale. 1,000 / 10,000 / 50,000 realistic pods,
 * kratos-kube's pod cache with paged LIST (limit=500, the client-go pager
 * default) vs streaming list (`sendInitialEvents=true` watch, KEP-3157):
 * time to synced, client CPU, peak RSS and retained heap per pod.
 *
 *     node --import tsx bench/sync.ts        (or npm run bench:sync)
 *
 * @module
 */
import process from "node:process";
import { runClient } from "./lib/child.ts";
import { startFakeServer } from "./lib/fake-server.ts";
import { QUICK, RUNS, size } from "./lib/options.ts";
import { sectionHeader, table, writeSection } from "./lib/results.ts";
import { fmt, fmtSummary, summarizeFields } from "./lib/stats.ts";

const SIZES = QUICK ? [20, 60] : [1_000, 10_000, 50_000];
const RT = "node20" as const;
const KEYS = ["syncMs", "syncCpuMs", "peakRssMiB", "heapPerPodBytes"] as const;
type Key = (typeof KEYS)[number];

const t0 = performance.now();
const rows: string[][] = [];
for (const pods of SIZES) {
  process.stderr.write(`# sync: fake API server with ${pods} pods…\n`);
  const server = await startFakeServer({ pods, apps: size(10, 2) });
  const runs: Record<string, Partial<Record<Key, number>>[]> = { paged: [], streaming: [] };
  const failures = { paged: 0, streaming: 0 };
  try {
    for (let run = 0; run < RUNS; run++) {
      for (const mode of ["paged", "streaming"] as const) {
        let r: Record<string, number | string>;
        try {
          r = await runClient(RT, "bench/watch/client-kratos.ts", [`--url=${server.url}`, `--pods=${pods}`, "--events=0", `--streaming=${mode === "streaming" ? 1 : 0}`], { timeoutMs: 120_000 });
        } catch (e) {
          // A sync that never completes is a finding, not a reason to lose the other cells.
          failures[mode]++;
          process.stderr.write(`# sync ${pods} ${mode} run ${run + 1}/${RUNS} FAILED: ${String(e).split("\n")[0]}\n`);
          continue;
        }
        runs[mode]!.push(r as Partial<Record<Key, number>>);
        process.stderr.write(`# sync ${pods} ${mode} run ${run + 1}/${RUNS}: ${fmt(Number(r["syncMs"]))} ms, peak RSS ${fmt(Number(r["peakRssMiB"]))} MiB\n`);
      }
    }
  } finally {
    await server.close();
  }
  for (const mode of ["paged", "streaming"] as const) {
    const s = summarizeFields(runs[mode]!, KEYS);
    const failed = failures[mode] > 0 ? ` (**${failures[mode]} of ${RUNS} runs never synced within 120 s**)` : "";
    rows.push([pods.toLocaleString("en-US"), `${mode === "paged" ? "paged LIST (limit 500)" : "streaming list (sendInitialEvents)"}${failed}`, fmtSummary(s.syncMs), fmtSummary(s.syncCpuMs), fmtSummary(s.peakRssMiB), fmtSummary(s.heapPerPodBytes)]);
  }
}

const md = [
  sectionHeader("2. Initial sync at scale", "npm run bench:sync", [RT]),
  `kratos-kube's \`createPodCache\` (one namespace, \`labelSelector=kratos-service-app\`) against the fake API server in its own process; a fresh client process per run, ${RUNS} runs per cell, median (min–max). Sync time counts from after one warm-up request to \`ready()\`; heap per pod is the JS heap after forced GC once synced, minus the heap before, over the pod count.`,
  "",
  table(["Pods", "Mode", "Sync ms", "Client CPU ms", "Peak RSS MiB", "Heap B/pod"], rows),
  "",
  `Took ${fmt((performance.now() - t0) / 1000)} s.`,
].join("\n");
if (QUICK) process.stdout.write(`${md}\n`);
else writeSection("sync", md);
