/**
 * Process measurements every bench client reports the same way on Node, Bun
 * and Deno: CPU time, peak RSS (Linux `VmHWM`), heap after forced GC.
 *
 * @module
 */
import { readFileSync } from "node:fs";
import process from "node:process";

/** User + system CPU of this process so far, in microseconds. */
export function cpuMicros(): number {
  try {
    const u = process.cpuUsage();
    if (u.user + u.system > 0) return u.user + u.system;
  } catch {
    // fall through to /proc
  }
  // /proc/self/stat fields 14 and 15 (utime, stime) in clock ticks (USER_HZ = 100 on Linux).
  const stat = readFileSync("/proc/self/stat", "utf8");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(f[11]) + Number(f[12])) * 10_000;
}

function procStatusKb(field: string): number {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(readFileSync("/proc/self/status", "utf8"));
    return m ? Number(m[1]) : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

/** Peak resident set size of this process, in MiB (Linux `VmHWM`). */
export function peakRssMiB(): number {
  return procStatusKb("VmHWM") / 1024;
}

/** Current resident set size, in MiB. */
export function rssMiB(): number {
  return procStatusKb("VmRSS") / 1024;
}

declare const Bun: { gc(force: boolean): void } | undefined;

/** Forces full garbage collections (needs `--expose-gc` on Node and Deno); false when unavailable. */
export function forceGc(): boolean {
  const g = (globalThis as { gc?: () => void }).gc;
  if (typeof Bun !== "undefined") {
    Bun.gc(true);
    Bun.gc(true);
    return true;
  }
  if (typeof g !== "function") return false;
  for (let i = 0; i < 4; i++) g();
  return true;
}

/** Used JS heap in bytes, after {@link forceGc}. */
export function heapUsed(): number {
  forceGc();
  return process.memoryUsage().heapUsed;
}

/** Prints the result line the orchestrator reads (`RESULT {json}`). */
export function report(result: Record<string, unknown>): void {
  process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
}

/** Argument `--name=value` from the command line. */
export function arg(name: string, fallback: string): string {
  const p = `--${name}=`;
  const hit = process.argv.find((a) => a.startsWith(p));
  return hit === undefined ? fallback : hit.slice(p.length);
}

/** Numeric {@link arg}. */
export function numArg(name: string, fallback: number): number {
  return Number(arg(name, String(fallback)));
}
