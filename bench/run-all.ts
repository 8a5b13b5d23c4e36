/**
 * `npm run bench`: every benchmark, one after the other, each in its own
 * process (so one's heap and JIT state cannot colour the next), then
 * bench/RESULTS.md is rebuilt from their sections. Pass names to run only
 * some: `npm run bench -- watch transport`. `BENCH_RUNS` (default 5) and
 * `BENCH_RUNTIMES` (default all four) are passed through.
 *
 * @module
 */
import { spawnSync } from "node:child_process";
import process from "node:process";
import { rebuild } from "./lib/results.ts";
import { command, ROOT } from "./lib/runtimes.ts";

const ALL = ["watch", "sync", "propagation", "transport", "apiserver-load", "slices", "resilience"];
const wanted = process.argv.slice(2).filter((a) => !a.startsWith("-"));
const names = wanted.length > 0 ? wanted : ALL;
const unknown = names.filter((n) => !ALL.includes(n));
if (unknown.length > 0) {
  process.stderr.write(`unknown benchmark(s): ${unknown.join(", ")}; known: ${ALL.join(", ")}\n`);
  process.exit(2);
}
const t0 = performance.now();
let failed = 0;
for (const name of names) {
  const t = performance.now();
  process.stderr.write(`\n# ── bench/${name}.ts\n`);
  const [cmd, args] = command("node20", `bench/${name}.ts`, process.argv.includes("--quick") ? ["--quick"] : []);
  const r = spawnSync(cmd, args, { cwd: ROOT, stdio: "inherit" });
  if (r.status !== 0) failed++;
  process.stderr.write(`# ── ${name}: ${r.status === 0 ? "done" : `FAILED (${r.status ?? r.signal})`} in ${((performance.now() - t) / 1000).toFixed(0)} s\n`);
}
rebuild();
process.stderr.write(`\n# bench: ${names.length - failed}/${names.length} benchmarks done in ${((performance.now() - t0) / 60_000).toFixed(1)} min; see bench/RESULTS.md\n`);
process.exit(failed > 0 ? 1 : 0);
