/**
 * Benchmark 1 (and 6 for watching): watch throughput and memory, on the
 * path users run and on the layers under it.
 *
 * Two scenarios over Kratos-shaped pods (`--kratos=1` of
 * `lib/fake-server-process.ts`: all five `kratos-service-*` keys, a metadata
 * annotation, managedFields, ownerReferences, a projected token volume, two
 * containers): one service of 10,000 pods, and 100 services of 100 pods. One
 * fake API server process per scenario serves the pods and replays the same
 * 50,000 MODIFIED events to every client; each client runs in its own
 * process:
 * - `KubernetesRegistry.watch()` per service, a consumer holding the latest
 *   set (Node 20, Node 24, Bun, Deno): the headline rows;
 * - kratos-kube's `createPodCache` alone (one service scenario);
 * - @kubernetes/client-node's informer (Node 24: it needs undici 8);
 * - bare `fetch` + `JSON.parse` of the same lines (every runtime);
 * - two decoders side by side (`ndjson` over node:http vs kratos-kube's
 *   web-stream decoder; one service scenario).
 *
 *     node --import tsx bench/watch.ts        (or npm run bench:watch)
 *
 * `BENCH_WATCH_PODS` and `BENCH_WATCH_EVENTS` scale both scenarios down for
 * a quick look (results are then printed, not written).
 *
 * @module
 */
import { dirname } from "node:path";
import process from "node:process";
import { pathToFileURL } from "node:url";
import { runClient } from "./lib/child.ts";
import { distLibEnv } from "./lib/dist-lib.ts";
import { startFakeServer } from "./lib/fake-server.ts";
import { QUICK, RUNS, size, wantRuntime } from "./lib/options.ts";
import { sectionHeader, table, writeChart, writeSection } from "./lib/results.ts";
import type { RuntimeName } from "./lib/runtimes.ts";
import { fmt, fmtSummary, summarizeFields, type Summary } from "./lib/stats.ts";
import { barChart, type Bar } from "./lib/svg.ts";

// The kratos-kube clients run the library as npm users do, the tsup build in
// dist/ (tsx, which runs src/ on Node, gives every closure a name property of
// its own); quick runs use src/. The clients read KK_DIST.
if (!QUICK) process.env["KK_DIST"] = pathToFileURL(dirname(dirname(distLibEnv()["KK_LIB"]!))).href;

const SCALED = process.env["BENCH_WATCH_PODS"] !== undefined || process.env["BENCH_WATCH_EVENTS"] !== undefined;
const PODS = Number(process.env["BENCH_WATCH_PODS"] ?? size(10_000, 50));
const EVENTS = Number(process.env["BENCH_WATCH_EVENTS"] ?? size(50_000, 200));
const RUNTIMES = ["node20", "node24", "bun", "deno"] as const;
/** Events of the small fleet's runs (see {@link smallPods}). */
const SMALL_EVENTS = Math.min(EVENTS, 5_000);

interface Scenario {
  readonly id: "one" | "many";
  readonly apps: number;
  readonly title: string;
}
const SCENARIOS: Scenario[] = [
  { id: "one", apps: 1, title: `One service of ${PODS.toLocaleString("en-US")} pods` },
  { id: "many", apps: Math.max(2, Math.min(100, Math.floor(PODS / 100))), title: "" },
];
SCENARIOS[1] = { ...SCENARIOS[1]!, title: `${SCENARIOS[1]!.apps} services of ${Math.floor(PODS / SCENARIOS[1]!.apps).toLocaleString("en-US")} pods` };

/**
 * V8 (Node, Deno) flushes the bytecode of functions that did not run for a
 * while, so a longer run frees more of the startup's code and the heap's
 * growth reads low (Node 24: ≈ 100 B per pod for the pod cache). Kept, every
 * run holds the code it compiled, and the small fleet's run subtracts it.
 */
const V8_FLAGS = ["--no-flush-bytecode"];

/**
 * The small fleet of a scenario: the same services with 1 % of the pods (one
 * per service at least). Each client also runs on it, and the heap it keeps
 * there is the fixed part (the library's code compiled during the run, the
 * per-service state); what each further pod adds is the slope between the two
 * fleets.
 */
const smallPods = (sc: Scenario): number => sc.apps * Math.max(1, Math.floor(PODS / sc.apps / 100));

interface Variant {
  readonly id: string;
  readonly label: string;
  readonly rt: RuntimeName;
  readonly script: string;
  readonly args: readonly string[];
  readonly ours: boolean;
}

const V = (id: string, label: string, rt: RuntimeName, script: string, args: string[], ours: boolean): Variant => ({ id, label, rt, script, args, ours });
const REGISTRY = "KubernetesRegistry.watch()";
function variants(sc: Scenario): Variant[] {
  const out: Variant[] = [];
  for (const rt of RUNTIMES) if (wantRuntime(rt)) out.push(V(`registry-${rt}`, REGISTRY, rt, "bench/watch/client-registry.ts", [`--apps=${sc.apps}`], true));
  for (const rt of RUNTIMES) if (wantRuntime(rt)) out.push(V(`registry-pb-${rt}`, `${REGISTRY}, protobuf`, rt, "bench/watch/client-registry.ts", [`--apps=${sc.apps}`, "--encoding=protobuf"], true));
  for (const rt of RUNTIMES) {
    if (!wantRuntime(rt)) continue;
    if (sc.id === "one") out.push(V(`kratos-${rt}`, "kratos-kube createPodCache", rt, "bench/watch/client-kratos.ts", [], true));
    if (sc.id === "one") out.push(V(`kratos-pb-${rt}`, "kratos-kube createPodCache, protobuf", rt, "bench/watch/client-kratos.ts", ["--encoding=protobuf"], true));
    if (rt === "node24") out.push(V(`informer-${rt}`, "client-node informer", rt, "bench/watch/client-informer.ts", [], false));
    out.push(V(`bare-${rt}`, "bare JSON.parse", rt, "bench/watch/client-baseline.ts", ["--mode=bare"], false));
  }
  if (sc.id === "one" && wantRuntime("node24")) {
    out.push(V("decoder-node24", "web-stream decoder (kratos-kube)", "node24", "bench/watch/client-baseline.ts", ["--mode=decoder"], true));
    out.push(V("ndjson-node24", "ndjson over node:http", "node24", "bench/watch/client-baseline.ts", ["--mode=ndjson"], false));
  }
  return out;
}

const KEYS = ["syncMs", "eventsPerSec", "cpuUsPerEvent", "eventsPerCpuSec", "heapPerPodBytes", "heapMarginalBytes", "heapFixedMiB", "peakRssMiB", "serverUsPerEvent"] as const;
type Key = (typeof KEYS)[number];

const t0 = performance.now();
const sum = new Map<string, Partial<Record<Key, Summary>>>();
const s = (sc: Scenario, id: string, k: Key): Summary | undefined => sum.get(`${sc.id}:${id}`)?.[k];
for (const sc of SCENARIOS) {
  process.stderr.write(`# watch (${sc.title}): starting the fake API server (${EVENTS} events pre-generated)…\n`);
  const server = await startFakeServer({ pods: PODS, apps: sc.apps, events: EVENTS, kratos: true });
  const few = smallPods(sc);
  const small = await startFakeServer({ pods: few, apps: sc.apps, events: SMALL_EVENTS, kratos: true });
  const results = new Map<string, Partial<Record<Key, number>>[]>();
  try {
    // Runs interleave the variants, so drift on the machine hits all of them alike.
    for (let run = 0; run < RUNS; run++) {
      for (const v of variants(sc)) {
        const cpu0 = await server.cpuUs();
        const r = await runClient(v.rt, v.script, [`--url=${server.url}`, `--pods=${PODS}`, `--events=${EVENTS}`, ...v.args], { v8Flags: V8_FLAGS });
        // The server's CPU for this client's whole run (its LIST included), per event.
        const serverUsPerEvent = ((await server.cpuUs()) - cpu0) / Math.max(1, EVENTS);
        // The same client on the small fleet: the heap it keeps there is the fixed part.
        const f = await runClient(v.rt, v.script, [`--url=${small.url}`, `--pods=${few}`, `--events=${SMALL_EVENTS}`, ...v.args], { v8Flags: V8_FLAGS });
        const heapBig = Number(r["heapMiB"]) * 2 ** 20;
        const heapSmall = Number(f["heapMiB"]) * 2 ** 20;
        const heapMarginalBytes = (heapBig - heapSmall) / (PODS - few);
        const heapFixedMiB = (heapSmall - few * heapMarginalBytes) / 2 ** 20;
        const list = results.get(v.id) ?? [];
        list.push({ ...(r as Partial<Record<Key, number>>), serverUsPerEvent, heapMarginalBytes, heapFixedMiB });
        results.set(v.id, list);
        process.stderr.write(`# watch ${sc.id} run ${run + 1}/${RUNS} ${v.rt} ${v.label}: ${fmt(Number(r["eventsPerSec"]))} events/s, ${fmt(Number(r["cpuUsPerEvent"]))} µs CPU/event, ${fmt(heapMarginalBytes)} B/pod + ${fmt(heapFixedMiB, 2)} MiB fixed (${fmt(Number(r["heapPerPodBytes"]))} B/pod in all)\n`);
      }
    }
  } finally {
    await server.close();
    await small.close();
  }
  for (const v of variants(sc)) sum.set(`${sc.id}:${v.id}`, summarizeFields(results.get(v.id) ?? [], KEYS));
}

const ratio = (sc: Scenario, id: string, rt: string): number => (s(sc, id, "eventsPerCpuSec")?.median ?? Number.NaN) / (s(sc, `bare-${rt}`, "eventsPerCpuSec")?.median ?? Number.NaN);
function rows(sc: Scenario): string[][] {
  return variants(sc).map((v) => [
    `${v.ours ? "**" + v.label + "**" : v.label}`,
    v.rt,
    fmtSummary(s(sc, v.id, "syncMs")),
    fmtSummary(s(sc, v.id, "eventsPerSec")),
    fmtSummary(s(sc, v.id, "cpuUsPerEvent")),
    v.id.startsWith("bare") ? "–" : `${fmt(ratio(sc, v.id, v.rt), 2)}×`,
    fmtSummary(s(sc, v.id, "heapMarginalBytes")),
    fmtSummary(s(sc, v.id, "heapFixedMiB"), 2),
    fmtSummary(s(sc, v.id, "heapPerPodBytes")),
    fmtSummary(s(sc, v.id, "peakRssMiB")),
    fmtSummary(s(sc, v.id, "serverUsPerEvent")),
  ]);
}

const heap = (sc: Scenario, id: string): number => s(sc, id, "heapMarginalBytes")?.median ?? Number.NaN;
const verdict = (ok: boolean): string => (ok ? "meets" : "**misses**");
const verdictLines: string[] = [];
for (const rt of RUNTIMES) {
  if (!wantRuntime(rt)) continue;
  const user = SCENARIOS.map((sc) => `${sc.title}: ${fmt(heap(sc, `registry-${rt}`) / 1024, 2)} KB/pod (${verdict(heap(sc, `registry-${rt}`) <= 1024)}), ${fmt(ratio(sc, `registry-${rt}`, rt), 2)}× bare`);
  const one = SCENARIOS[0]!;
  const pb = SCENARIOS.map((sc) => `${fmt(ratio(sc, `registry-pb-${rt}`, rt), 2)}× (${verdict(ratio(sc, `registry-pb-${rt}`, rt) >= 3)} ≥ 3×)`);
  const js = SCENARIOS.map((sc) => `${fmt(ratio(sc, `registry-${rt}`, rt), 2)}× (${verdict(ratio(sc, `registry-${rt}`, rt) >= 1)} ≥ 1×)`);
  verdictLines.push(
    `- ${rt}: \`watch()\` ${user.join("; ")}. Events per CPU-second against bare \`JSON.parse\` through \`watch()\` (one service; many): protobuf ${pb.join(", ")}, JSON ${js.join(", ")}. Pod cache alone: ${fmt(heap(one, `kratos-${rt}`) / 1024, 2)} KB/pod (${verdict(heap(one, `kratos-${rt}`) <= 512)} ≤ 0.5 KB; protobuf ${fmt(heap(one, `kratos-pb-${rt}`) / 1024, 2)} KB), ${fmt(ratio(one, `kratos-${rt}`, rt), 2)}× bare (${verdict(ratio(one, `kratos-${rt}`, rt) >= 0.8)} ≥ 0.8×; protobuf ${fmt(ratio(one, `kratos-pb-${rt}`, rt), 2)}×).`,
  );
}
const one = SCENARIOS[0]!;
if (wantRuntime("node24")) {
  const sync = (id: string): number => s(one, id, "syncMs")?.median ?? Number.NaN;
  const inf = sync("informer-node24");
  const part = (id: string): string => `${fmt(sync(id))} ms (${fmt(sync(id) / inf, 2)}×, ${verdict(sync(id) / inf <= 0.5)} ≤ 0.5×)`;
  verdictLines.push(`- Initial sync of ${one.title.toLowerCase()} on Node 24 against client-node's informer (${fmt(inf)} ms): \`watch()\` over JSON ${part("registry-node24")}, over protobuf ${part("registry-pb-node24")}.`);
}
const dec = s(one, "decoder-node24", "cpuUsPerEvent");
const nd = s(one, "ndjson-node24", "cpuUsPerEvent");
const decoderVerdict =
  dec && nd
    ? `Decoder verdict (Node 24, same lines, both keeping the objects in a Map): kratos-kube's web-stream decoder costs ${fmt(dec.median)} µs CPU per event, \`ndjson\` over node:http ${fmt(nd.median)} µs (${fmt(dec.median / nd.median, 2)}×). ` +
      (dec.median <= nd.median * 1.1
        ? `Keep the web-stream decoder: it is ${dec.median < nd.median * 0.95 ? "faster" : "as fast (within 10 %)"}, works on every runtime's \`fetch\` body, enforces the line limit and types its errors; \`ndjson\` (a Node-stream transform over split2/through2) needs node:http streams and adds dependencies.`
        : "`ndjson` is faster here, but it is a Node-stream transform (needs node:http or a stream adapter) and has no line limit; keep the web-stream decoder for portability and note the gap.")
    : "";

const HEAD = ["Client", "Runtime", "Sync ms", "Events/s", "CPU µs/event", "vs bare", "Heap B/pod", "Fixed heap MiB", "Heap/pods B", "Peak RSS MiB", "Server CPU µs/event"];
const md = [
  sectionHeader("1. Watch throughput and memory", "npm run bench:watch", [...RUNTIMES]),
  `Kratos-shaped pods (≈5 KB of JSON each: \`makePod\` with all five \`kratos-service-*\` keys, a 6-entry \`kratos-service-metadata\` annotation, managedFields, ownerReferences, a projected token volume and a second container) listed, then ${EVENTS.toLocaleString("en-US")} MODIFIED events replayed from the server's history as fast as each client reads (status-style changes: nothing an instance shows changes), then one visible change per service. The fake API server runs in its own process (Node 20), one per scenario; every client is a fresh process, ${RUNS} runs each, interleaved. Cells: median (min–max).`,
  "",
  `- **${REGISTRY}**: what users run: \`new KubernetesRegistry({ client, namespace })\`, one \`watch()\` per service, each consumer holding the latest yielded set. Its event phase runs from the first sync to the last service's visible change (a watcher yields changed sets only, not events).`,
  "- **Sync**: process start of the client (after one warm-up request) to the cache being synced (every watcher's first set, for `watch()`).",
  "- **Events/s**: wall rate from the first to the last MODIFIED event applied. **CPU/event**: the client process's user+system CPU over that interval per event (all its threads, GC included). **vs bare**: events per CPU-second relative to bare `fetch` + `JSON.parse` on the same runtime and pods.",
  "- **Server CPU/event**: the fake API server process's CPU over one client's whole run (its LIST included) divided by the events: what serving JSON or protobuf costs the fake users run in their tests. The fake encodes each protobuf frame from the stored object, and batches the events of one tick into one write in both encodings, as the apiserver flushes when idle.",
  "- **Library build**: the kratos-kube clients import the npm build (dist/), as users run it.",
  `- **Heap**: JS heap after forced GC at the end (all events applied; for \`watch()\` the latest sets held) minus the heap before the LIST. Clients on Node and Deno run with V8's \`--no-flush-bytecode\` (V8 otherwise frees the code of functions idle for a while, more of it in a longer run, and the growth reads low: about 100 B per pod for the pod cache on Node 24 before). Each client also runs on a small fleet of the same services (1 % of the pods, at least one per service; ${SMALL_EVENTS.toLocaleString("en-US")} events): **Heap B/pod** is what each further pod adds (the heap's growth between the two fleets per pod), **Fixed heap MiB** the rest, which does not grow with the pods: the library's code loaded and compiled during the run, per-service state, interning tables. **Heap/pods B** is the whole growth divided by the pods (fixed part included), as earlier runs reported it. Targets (per pod): ≤ 1 KB through \`watch()\`, ≤ 0.5 KB for the pod cache alone. **Peak RSS**: Linux \`VmHWM\` of the client.`,
  "",
  ...SCENARIOS.flatMap((sc) => [`### ${sc.title}`, "", table(HEAD, rows(sc)), ""]),
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
  const x = s(one, id, k);
  return { label, value: x?.median ?? Number.NaN, min: x?.min ?? Number.NaN, max: x?.max ?? Number.NaN, ours };
};
const chartIds = variants(one).filter((v) => !v.id.startsWith("decoder") && !v.id.startsWith("ndjson"));
const svg = barChart(`Watch: ${one.title.toLowerCase()}, ${EVENTS.toLocaleString("en-US")} MODIFIED events`, [
  { title: "Client CPU per event", unit: "µs", better: "lower", bars: chartIds.map((v) => bar(v.id, `${v.label} (${v.rt})`, "cpuUsPerEvent", v.ours)) },
  { title: "Retained heap per further pod", unit: "bytes", better: "lower", target: 1024, bars: chartIds.map((v) => bar(v.id, `${v.label} (${v.rt})`, "heapMarginalBytes", v.ours)) },
  { title: "Peak RSS", unit: "MiB", better: "lower", bars: chartIds.map((v) => bar(v.id, `${v.label} (${v.rt})`, "peakRssMiB", v.ours)) },
], `medians of ${RUNS} runs; fake API server in a separate process`);

if (QUICK || SCALED) process.stdout.write(`${md}\n`);
else {
  writeSection("watch", md);
  writeChart("watch", svg);
  process.stderr.write("# watch: wrote bench/results/watch.md, bench/watch.svg, bench/RESULTS.md\n");
}
