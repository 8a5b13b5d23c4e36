/**
 * Reads the table of known differences from src/testing/DIFFERENCES.md: one
 * row per case, `| \`case/id\` | \`/path\`, \`/path\` | why |`, where each path
 * is a prefix of the normalised answer paths that differ.
 */
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** One documented difference. */
export interface Documented {
  id: string;
  paths: string[];
  why: string;
}

/** The file the table lives in. */
export const DIFFERENCES_FILE: string = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "src", "testing", "DIFFERENCES.md");

/** The documented differences by case id. */
export function documentedDifferences(text: string = readFileSync(DIFFERENCES_FILE, "utf8")): Map<string, Documented> {
  const out = new Map<string, Documented>();
  for (const line of text.split("\n")) {
    const m = /^\|\s*`([^`]+)`\s*\|([^|]*)\|(.*)\|\s*$/.exec(line);
    if (m === null) continue;
    const paths = [...m[2]!.matchAll(/`([^`]+)`/g)].map((p) => p[1]!);
    if (out.has(m[1]!)) throw new Error(`${DIFFERENCES_FILE}: case ${m[1]} is listed twice`);
    out.set(m[1]!, { id: m[1]!, paths, why: m[3]!.trim() });
  }
  return out;
}
