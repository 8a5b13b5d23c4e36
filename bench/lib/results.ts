/**
 * Where benchmark results go: each benchmark writes its section to
 * `bench/results/<name>.md` (and charts to `bench/<name>.svg`), and
 * `bench/RESULTS.md` is rebuilt from every section present, so a benchmark
 * run alone updates only its own part.
 *
 * @module
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { join } from "node:path";
import { machine, ROOT, runtimeVersion, type RuntimeName } from "./runtimes.ts";

const DIR = join(ROOT, "bench", "results");

/** Order of the sections in RESULTS.md. */
const ORDER = ["watch", "sync", "propagation", "transport", "apiserver-load", "node-fetch", "slices", "resilience"];

/** The header every section starts with: command, date, runtimes, machine. */
export function sectionHeader(title: string, cmd: string, runtimes: readonly RuntimeName[], extra = ""): string {
  const m = machine();
  return [
    `## ${title}`,
    "",
    `Command: \`${cmd}\` · run ${new Date().toISOString().replace(/\.\d+Z$/, "Z")} · ${runtimes.map(runtimeVersion).join(", ")} · ${m.cores} × ${m.cpu}, ${m.memoryGiB} GiB RAM, ${m.os}${extra} · load average at the end ${loadavg().map((x) => x.toFixed(1)).join(" / ")} (1/5/15 min, the benchmark's own processes included)`,
    "",
  ].join("\n");
}

/** Writes one section and rebuilds RESULTS.md. */
export function writeSection(name: string, markdown: string): void {
  mkdirSync(DIR, { recursive: true });
  writeFileSync(join(DIR, `${name}.md`), markdown.trimEnd() + "\n");
  rebuild();
}

/** Writes `bench/<name>.svg`. */
export function writeChart(name: string, svg: string): void {
  writeFileSync(join(ROOT, "bench", `${name}.svg`), svg);
}

/** Rebuilds bench/RESULTS.md from the intro and every section file. */
export function rebuild(): void {
  const intro = join(DIR, "_intro.md");
  const parts: string[] = [];
  if (existsSync(intro)) parts.push(readFileSync(intro, "utf8").trimEnd());
  const files = existsSync(DIR) ? readdirSync(DIR).filter((f) => f.endsWith(".md") && !f.startsWith("_")) : [];
  const rank = (f: string): number => {
    const i = ORDER.indexOf(f.replace(/\.md$/, ""));
    return i < 0 ? ORDER.length : i;
  };
  for (const f of files.sort((a, b) => rank(a) - rank(b) || a.localeCompare(b))) parts.push(readFileSync(join(DIR, f), "utf8").trimEnd());
  writeFileSync(join(ROOT, "bench", "RESULTS.md"), parts.join("\n\n") + "\n");
}

/** A markdown table. */
export function table(head: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]): string => `| ${cells.join(" | ")} |`;
  return [line(head), line(head.map((_, i) => (i === 0 ? "---" : "---:"))), ...rows.map(line)].join("\n");
}
