/**
 * Benchmark 3: propagation latency. A pod of the watched service flips
 * readiness on the fake API server; we time from the moment the watch chunk
 * carrying that event reaches the client (a pass-through on the response
 * body) to (a) `KubernetesRegistry.watch()` yielding the new instance set and
 * (b) `createDiscoveryTransport` rebuilding its picker (its `onEvent` for the
 * added or drained endpoint). The watched service has 100 pods (127.0.x.y, a
 * closed port, so endpoint channels fail fast and stay in backoff); the cache
 * holds 100 or 10,000 pods. A last case puts all 10,000 pods in the service
 * (registry only: a transport would dial 10,000 endpoints).
 *
 * The fake API server runs in its own process (so its heap and GC do not
 * colour the client's tail); the client (registry, transport) runs in this
 * Node 20 process over loopback HTTP, with Node's fetch and a pass-through
 * on watch bodies that stamps each chunk's arrival.
 *
 *     node --import tsx bench/propagation.ts        (or npm run bench:propagation)
 *
 * @module
 */
import process from "node:process";
import { KubernetesRegistry } from "../src/index.ts";
import { createDiscoveryTransport } from "../src/connect/index.ts";
import { KubeConfig } from "../src/kube/index.ts";
import { startFakeServer } from "./lib/fake-server.ts";
import { QUICK, RUNS, size } from "./lib/options.ts";
import { sectionHeader, table, writeSection } from "./lib/results.ts";
import { fmt, fmtSummary, percentile, summarize } from "./lib/stats.ts";
import { stampingFetch } from "./lib/stamping-fetch.ts";

const ITER = size(400, 20);
const NS = "bench";
const SVC = "bench.svc";

interface Case { readonly label: string; readonly cached: number; readonly inService: number; readonly transport: boolean }
const CASES: Case[] = QUICK
  ? [{ label: "quick", cached: 30, inService: 10, transport: true }]
  : [
      { label: "100 cached, 100 in the service", cached: 100, inService: 100, transport: true },
      { label: "10,000 cached, 100 in the service", cached: 10_000, inService: 100, transport: true },
      { label: "10,000 cached, 10,000 in the service", cached: 10_000, inService: 10_000, transport: false },
    ];

async function once(c: Case): Promise<{ yieldMs: number[]; pickerMs: number[] }> {
  const server = await startFakeServer({ pods: c.cached, apps: 50, inService: c.inService });
  // Stamps the arrival of each watch chunk (the clock start of a flip).
  const { fetch, lastArrival } = stampingFetch();
  const registry = new KubernetesRegistry({
    config: KubeConfig.fromOptions({ server: server.url, namespace: NS }),
    fetch, namespace: NS, podName: "bench-client", podNamespace: NS,
  });
  const yieldMs: number[] = [];
  const pickerMs: number[] = [];
  let waitYield: (() => void) | undefined;
  let waitPicker: { address: string; resolve: () => void } | undefined;
  const watcher = await registry.watch(SVC);
  await watcher.next();
  void (async () => {
    try {
      for (;;) {
        await watcher.next();
        yieldMs.push(performance.now() - lastArrival());
        waitYield?.();
      }
    } catch {
      // stopped
    }
  })();
  const transport = c.transport
    ? createDiscoveryTransport({
        discovery: registry, target: `discovery:///${SVC}`, subset: 0, healthCheck: false,
        onEvent: (ev) => {
          const w = waitPicker;
          if (w !== undefined && ev.address === w.address && (ev.state === "connecting" || ev.state === "draining" || ev.state === "closed")) {
            pickerMs.push(performance.now() - lastArrival());
            waitPicker = undefined;
            w.resolve();
          }
        },
      })
    : undefined;
  if (transport) while (transport.endpoints().length < c.inService) await new Promise((r) => setTimeout(r, 10));
  try {
    for (let i = 0; i < ITER + 20; i++) {
      const idx = (i >> 1) % c.inService;
      const ip = `127.${1 + (idx >> 16)}.${(idx >> 8) & 255}.${idx & 255}`;
      const y = new Promise<void>((r) => (waitYield = r));
      const p = transport ? new Promise<void>((r) => (waitPicker = { address: `${ip}:9000`, resolve: r })) : Promise.resolve();
      const beforeY = yieldMs.length;
      const beforeP = pickerMs.length;
      server.proc.send({ cmd: "ready", name: `p-${idx}`, ready: i % 2 === 1 });
      await Promise.all([y, p, server.proc.next()]);
      if (i < 20) {
        // warm-up iterations are dropped
        yieldMs.length = beforeY;
        pickerMs.length = beforeP;
      }
    }
  } finally {
    await watcher.stop();
    await transport?.close();
    await registry.close();
    await server.close();
  }
  return { yieldMs, pickerMs };
}

const t0 = performance.now();
const rows: string[][] = [];
for (const c of CASES) {
  const p50y: number[] = [];
  const p99y: number[] = [];
  const p50p: number[] = [];
  const p99p: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    const r = await once(c);
    const y = [...r.yieldMs].sort((a, b) => a - b);
    const p = [...r.pickerMs].sort((a, b) => a - b);
    p50y.push(percentile(y, 50));
    p99y.push(percentile(y, 99));
    if (p.length > 0) {
      p50p.push(percentile(p, 50));
      p99p.push(percentile(p, 99));
    }
    process.stderr.write(`# propagation ${c.label} run ${run + 1}/${RUNS}: yield p50 ${fmt(percentile(y, 50))} ms p99 ${fmt(percentile(y, 99))} ms; picker p50 ${fmt(percentile(p, 50))} p99 ${fmt(percentile(p, 99))} ms\n`);
  }
  const verdict = (v: number[]): string => (summarize(v).median <= 1 ? "meets" : "**misses**");
  rows.push([c.label, fmtSummary(summarize(p50y)), fmtSummary(summarize(p99y)), verdict(p99y),
    p50p.length ? fmtSummary(summarize(p50p)) : "–", p99p.length ? fmtSummary(summarize(p99p)) : "–", p99p.length ? verdict(p99p) : "–"]);
}

const md = [
  sectionHeader("3. Propagation: watch event → watch() yields → picker updated", "npm run bench:propagation", ["node20"]),
  `Each iteration flips one pod of the service between Ready and not Ready (${ITER} timed iterations after 20 warm-up ones, per run; ${RUNS} runs; cells are the median (min–max) over runs of each run's p50 / p99). Clock start: the watch chunk carrying the event reaching the client's response body. Target: p99 ≤ 1 ms. The fake API server runs in its own process; the client (\`KubernetesRegistry\`, and \`createDiscoveryTransport\` over it with \`subset: 0\`, no health check) runs on Node 20 over loopback HTTP. *Picker* is the transport's \`onEvent\` for the added or drained endpoint, fired when it rebuilds its picker. The service's pods have loopback IPs on a closed port, so the transport's dials fail fast and its channels sit in backoff. Tails track machine load (see the load average above): compare the best run (min) with the median.`,
  "",
  table(["Cache", "yield p50 ms", "yield p99 ms", "target", "picker p50 ms", "picker p99 ms", "target"], rows),
  "",
  `Took ${fmt((performance.now() - t0) / 1000)} s.`,
].join("\n");
if (QUICK) process.stdout.write(`${md}\n`);
else writeSection("propagation", md);
