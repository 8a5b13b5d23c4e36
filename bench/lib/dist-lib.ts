/**
 * The library as npm users run it: the tsup build in dist/ (tsx, which runs
 * src/ on Node 20, adds a `__name()` call to every closure it creates). Full
 * benchmark runs build it and point their clients at it through `KK_LIB`;
 * quick runs use src/.
 *
 * @module
 */
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import process from "node:process";
import { QUICK } from "./options.ts";
import { ROOT } from "./runtimes.ts";

/** Builds dist/ (full runs only) and returns the env that points clients at `dist/connect/index.js`. */
export function distLibEnv(): Record<string, string> {
  if (QUICK) return {};
  process.stderr.write("# building dist/ (npm run build)\n");
  const b = spawnSync("npm", ["run", "build"], { cwd: ROOT, stdio: ["ignore", "ignore", "inherit"] });
  if (b.status !== 0) throw new Error("npm run build failed");
  return { KK_LIB: join(ROOT, "dist", "connect", "index.js") };
}
