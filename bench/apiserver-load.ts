/**
 * Benchmark 5: API server load in steady state, in compressed time.
 *
 * Method: the fake API server (own process) and each client run on clocks
 * `SCALE`× faster than real time. The server's clock drives watch
 * `timeoutSeconds`, its default timeout and 60 s bookmarks; kratos-kube gets
 * the same scaled `Clock` injected (watch timeouts, idle watchdog, backoff);
 * @kubernetes/client-node has no clock to inject, so its two time constants
 * are divided by `SCALE` (the watch's 30 s inactivity timeout and the
 * reconnect delay). Both clients watch the same 1,000 quiet pods at once
 * (requests told apart by User-Agent); after both synced, each window counts
 * the requests of each client and converts them to requests per simulated hour.
 *
 *     node --import tsx bench/apiserver-load.ts        (or npm run bench:apiserver-load)
 *
 * @module
 */
import process from "node:process";
import { startLineProcess } from "./lib/child.ts";
import { startFakeServer } from "./lib/fake-server.ts";
import { QUICK, RUNS, wantRuntime } from "./lib/options.ts";
import { sectionHeader, table, writeSection } from "./lib/results.ts";
import { fmt, fmtSummary, summarize } from "./lib/stats.ts";

const SCALE = QUICK ? 60 : 120;
const WINDOW_MS = QUICK ? 1_000 : 20_000;
const simHours = (WINDOW_MS * SCALE) / 3_600_000;

const t0 = performance.now();
const server = await startFakeServer({ pods: QUICK ? 20 : 1_000, apps: 10, scale: SCALE });
const clients = [startLineProcess("bench/apiserver-load/client-kratos.ts", [`--url=${server.url}`, `--scale=${SCALE}`], "node20")];
const withInformer = wantRuntime("node24");
if (withInformer) clients.push(startLineProcess("bench/apiserver-load/client-informer.ts", [`--url=${server.url}`, `--scale=${SCALE}`], "node24"));
const perHour: Record<string, number[]> = {};
try {
  await Promise.all(clients.map((c) => c.next()));
  let prev = (await server.requests()).byClient;
  for (let run = 0; run < RUNS; run++) {
    await new Promise((r) => setTimeout(r, WINDOW_MS));
    const cur = (await server.requests()).byClient;
    for (const k of new Set([...Object.keys(cur), ...Object.keys(prev)])) {
      (perHour[k] ??= []).push(((cur[k] ?? 0) - (prev[k] ?? 0)) / simHours);
    }
    process.stderr.write(`# apiserver-load window ${run + 1}/${RUNS}: ${JSON.stringify(Object.fromEntries(Object.entries(cur).map(([k, v]) => [k, v - (prev[k] ?? 0)])))}\n`);
    prev = cur;
  }
} finally {
  await Promise.all(clients.map((c) => c.close()));
  await server.close();
}

const cell = (who: string, kind: string): string => {
  const v = perHour[`${who} ${kind}`];
  return v === undefined ? "0" : fmtSummary(summarize(v));
};
const rows = [
  ["**kratos-kube createPodCache** (Node 20)", cell("kratos-kube", "watch"), cell("kratos-kube", "list"), cell("kratos-kube", "other")],
];
if (withInformer) rows.push(["client-node informer (Node 24)", cell("other", "watch"), cell("other", "list"), cell("other", "other")]);
const md = [
  sectionHeader("5. API server load in steady state", "npm run bench:apiserver-load", ["node20", "node24"]),
  `Compressed time: server and clients run ${SCALE}× faster than real time (see the method in \`bench/apiserver-load.ts\`: the fake API server's clock and kratos-kube's injected \`Clock\` are scaled; client-node's 30 s watch inactivity timeout and reconnect delay are divided by ${SCALE}). 1,000 quiet pods, both clients at once, ${RUNS} windows of ${WINDOW_MS / 1000} s real = ${fmt(simHours)} simulated hours each, after the first sync. Requests per simulated hour per client, median (min–max) over windows.`,
  "",
  table(["Client", "Watch requests/h", "LIST requests/h", "Other/h"], rows),
  "",
  "Why: kratos-kube asks for `timeoutSeconds` in [300, 600) s with `allowWatchBookmarks=true` (client-go's 5–10 min), so the server ends a quiet watch every ~7.5 min and bookmarks keep it alive; client-node's informer requests no bookmarks and aborts any watch silent for 30 s, so a quiet namespace costs a new watch every 30 s (peers.md §8.4: ≈120/h). Neither relists in steady state.",
  "",
  `Took ${fmt((performance.now() - t0) / 1000)} s.`,
].join("\n");
if (QUICK) process.stdout.write(`${md}\n`);
else writeSection("apiserver-load", md);
