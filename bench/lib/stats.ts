/**
 * Summary statistics for repeated benchmark runs: median with min and max,
 * and percentiles of latency samples.
 *
 * @module
 */

/** Median, min and max of repeated runs of one metric. */
export interface Summary {
  readonly median: number;
  readonly min: number;
  readonly max: number;
  readonly runs: number;
}

/** Summarises `values` (at least one). */
export function summarize(values: readonly number[]): Summary {
  if (values.length === 0) throw new Error("summarize: no values");
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  const median = s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
  return { median, min: s[0]!, max: s[s.length - 1]!, runs: s.length };
}

/** The `p`-th percentile (0–100) of `sorted` (ascending), nearest rank. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

/** Formats a number with a sensible number of significant digits. */
export function fmt(n: number, digits = 3): string {
  if (!Number.isFinite(n)) return "n/a";
  const a = Math.abs(n);
  if (a >= 10 ** digits) return Math.round(n).toLocaleString("en-US");
  return Number(n.toPrecision(digits)).toLocaleString("en-US", { maximumFractionDigits: 6 });
}

/** `median (min–max)`. */
export function fmtSummary(s: Summary | undefined, digits = 3): string {
  if (s === undefined) return "–";
  return `${fmt(s.median, digits)} (${fmt(s.min, digits)}–${fmt(s.max, digits)})`;
}

/** Summarises each numeric field over runs (fields missing in a run are skipped). */
export function summarizeFields<K extends string>(runs: readonly Partial<Record<K, number>>[], keys: readonly K[]): Partial<Record<K, Summary>> {
  const out: Partial<Record<K, Summary>> = {};
  for (const k of keys) {
    const vals = runs.map((r) => r[k]).filter((v): v is number => typeof v === "number" && Number.isFinite(v));
    if (vals.length > 0) out[k] = summarize(vals);
  }
  return out;
}
