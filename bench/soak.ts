/**
 * `npm run soak`: a long chaos run (issue 8, item 3) — replicas replaced and
 * flapping, API-server faults (drops, hangs, compaction, 410/429/500, token
 * rotation) — under RPC load, sampling the heap after a forced GC every
 * `--sample` seconds. Passes when no call failed while an endpoint was ready,
 * every view converged to the server's state at the end, and the heap grew by
 * at most 5 % after warm-up. Writes the report to bench/SOAK.md.
 *
 *   npm run soak                      10 minutes
 *   npm run soak -- --duration 120    a 2-minute run
 *   npm run soak -- --duration 600 --seed 7 --rate 200 --out bench/SOAK.md
 *
 * Runs on whatever runtime starts it (`node --import tsx`, `bun`, `deno run -A`).
 *
 * @module
 */
import { writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { Code } from "@connectrpc/connect";
import { RETRIABLE, runChaos } from "../test/reliability/support/chaos.ts";
import { canForceGc, heapAfterGc } from "../test/reliability/support/heap.ts";

interface Args {
  duration: number;
  seed: number;
  rate: number;
  sample: number;
  out: string;
}

function readArgs(argv: string[]): Args {
  const usage = "(--duration s, --seed n, --rate rps, --sample s, --out file)";
  let values: Record<string, string | undefined>;
  try {
    values = parseArgs({
      args: argv,
      options: { duration: { type: "string" }, seed: { type: "string" }, rate: { type: "string" }, sample: { type: "string" }, out: { type: "string" } },
      strict: true,
    }).values;
  } catch (e) {
    throw new Error(`soak: ${e instanceof Error ? e.message : String(e)} ${usage}`);
  }
  const num = (name: string, dflt: number): number => {
    const value = values[name];
    if (value === undefined) return dflt;
    const n = Number(value);
    if (!Number.isFinite(n) || n <= 0) throw new Error(`soak: --${name} needs a positive number, got ${JSON.stringify(value)}`);
    return n;
  };
  return {
    duration: num("duration", 600),
    seed: num("seed", 1),
    rate: num("rate", 150),
    sample: num("sample", 10),
    out: values["out"] ?? join(dirname(fileURLToPath(import.meta.url)), "SOAK.md"),
  };
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((x, y) => x - y);
  return s.length === 0 ? 0 : s[Math.floor(s.length / 2)]!;
};
const mib = (b: number): string => (b / 2 ** 20).toFixed(2);

function runtimeName(): string {
  const g = globalThis as { Bun?: { version: string }; Deno?: { version: { deno: string } } };
  if (g.Bun) return `Bun ${g.Bun.version}`;
  if (g.Deno) return `Deno ${g.Deno.version.deno}`;
  return `Node ${process.versions.node}`;
}

async function main(): Promise<number> {
  const args = readArgs(process.argv.slice(2));
  if (!canForceGc) console.error("soak: cannot force a GC on this runtime; heap samples will be noisy");
  const samples: { s: number; heap: number }[] = [];
  let nextSample = args.sample * 1000;
  const t0 = new Date();
  console.log(`soak: ${args.duration} s on ${runtimeName()}, seed ${args.seed}, ${args.rate} RPC/s, heap sampled every ${args.sample} s`);
  const r = await runChaos({
    seconds: args.duration,
    seed: args.seed,
    rate: args.rate,
    churnEveryMs: 250,
    distinctIps: true,
    faultEveryMs: 400,
    onTick: (ms) => {
      if (ms < nextSample) return;
      nextSample += args.sample * 1000;
      const heap = heapAfterGc();
      samples.push({ s: Math.round(ms / 1000), heap });
      console.log(`soak: ${Math.round(ms / 1000)} s, heap ${mib(heap)} MiB`);
    },
  });
  // Warm-up: the first fifth of the run (at least one sample). Baseline and end are medians of three samples.
  const warm = samples.filter((x) => x.s >= args.duration / 5);
  const baseline = median(warm.slice(0, 3).map((x) => x.heap));
  const end = median(warm.slice(-3).map((x) => x.heap));
  const growth = baseline > 0 ? (end - baseline) / baseline : 0;
  const badFailures = r.failures.filter((f) => !RETRIABLE.has(f.code) || (f.readyAtStart > 0 && f.readyAtEnd > 0));
  const checks = [
    { name: "heap growth after warm-up ≤ 5 %", ok: warm.length >= 2 && growth <= 0.05, detail: `${(growth * 100).toFixed(2)} % (${mib(baseline)} → ${mib(end)} MiB, ${warm.length} samples after warm-up)` },
    { name: "views converged to the server's state", ok: r.divergence === undefined, detail: r.divergence ?? `in ${r.convergeMs.toFixed(0)} ms after the faults stopped` },
    { name: "no call failed while an endpoint was ready, or with a non-retriable code", ok: badFailures.length === 0, detail: `${r.failures.length} failed of ${r.sent} (${badFailures.length} not allowed)` },
  ];
  const passed = checks.every((c) => c.ok);
  const codes: Record<string, number> = {};
  for (const f of r.failures) codes[Code[f.code] ?? String(f.code)] = (codes[Code[f.code] ?? String(f.code)] ?? 0) + 1;
  const md = [
    "# Soak report",
    "",
    `Generated by \`npm run soak -- --duration ${args.duration} --seed ${args.seed} --rate ${args.rate}\` (bench/soak.ts) on ${t0.toISOString()}.`,
    "",
    `**Result: ${passed ? "PASS" : "FAIL"}** — ${runtimeName()}, ${process.platform}/${process.arch}, ${(r.elapsedMs / 1000).toFixed(0)} s wall time (${args.duration} s of faults and churn, then convergence).`,
    "",
    "| Check | Result | Detail |",
    "|---|---|---|",
    ...checks.map((c) => `| ${c.name} | ${c.ok ? "pass" : "FAIL"} | ${c.detail} |`),
    "",
    "## What ran",
    "",
    `- RPCs: ${r.sent} sent, ${r.ok} ok, ${r.failures.length} failed${r.failures.length > 0 ? ` (${JSON.stringify(codes)})` : ""}, ${r.shed} not issued because 128 were in flight.`,
    `- Churn: ${r.replaced} replicas replaced with graceful termination, ${r.flaps} Ready flaps.`,
    `- Faults: ${Object.entries(r.faults).map(([k, v]) => `${k} ×${v}`).join(", ")}.`,
    `- The registry reported ${r.registryErrors} watch errors (all retried): ${Object.entries(r.errorKinds).map(([k, v]) => `${k} ×${v}`).join(", ")}.`,
    `- The fake API server logged ${r.apiRequests} requests (the harness bounds its request log to 500 entries so it does not count as growth).`,
    "",
    "## Heap after forced GC",
    "",
    "| t (s) | heap (MiB) |",
    "|---|---|",
    ...samples.map((x) => `| ${x.s} | ${mib(x.heap)} |`),
    "",
  ].join("\n");
  writeFileSync(args.out, md);
  console.log(`soak: ${passed ? "PASS" : "FAIL"}; report in ${args.out}`);
  for (const c of checks) console.log(`  ${c.ok ? "pass" : "FAIL"}  ${c.name}: ${c.detail}`);
  return passed ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    console.error(e instanceof Error ? e.message : String(e));
    process.exit(2);
  },
);
