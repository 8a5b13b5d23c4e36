/**
 * Options shared by every benchmark entry: `BENCH_RUNS` (default 5) and
 * `--quick` (tiny sizes, one run: the smoke test's mode, numbers meaningless,
 * RESULTS.md untouched).
 *
 * @module
 */
import process from "node:process";

/** Tiny sizes and one run; results are not written. */
export const QUICK: boolean = process.argv.includes("--quick") || process.env["BENCH_QUICK"] === "1";

/** Runs per variant. */
export const RUNS: number = QUICK ? 1 : Math.max(1, Number(process.env["BENCH_RUNS"] ?? 5));

/** `full` normally, `quick` in quick mode. */
export function size(full: number, quick: number): number {
  return QUICK ? quick : full;
}

/** Runtimes to include, from `BENCH_RUNTIMES` (default all four). */
export function wantRuntime(rt: string): boolean {
  const list = process.env["BENCH_RUNTIMES"];
  return list === undefined || list.split(",").includes(rt);
}
