/**
 * The built package: `dist/` as `npm run build` makes it, rebuilt first when
 * any input is newer (so `npm test` without a build, or after an edit, tests
 * what would be published), and the tarball `npm pack` makes of it.
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const repoRoot: string = fileURLToPath(new URL("../../../", import.meta.url));

const BUILD_INPUTS = ["src", "cli", "proto/gen", "package.json", "tsup.config.ts", "tsconfig.json"];

function newestMtime(path: string): { ms: number; path: string } {
  const st = statSync(path);
  if (!st.isDirectory()) return { ms: st.mtimeMs, path };
  let best = { ms: 0, path };
  for (const e of readdirSync(path)) {
    const n = newestMtime(join(path, e));
    if (n.ms > best.ms) best = n;
  }
  return best;
}

/** Files under dist/ (relative paths). */
export function distFiles(dir: string = join(repoRoot, "dist"), prefix = ""): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.isDirectory()) out.push(...distFiles(join(dir, e.name), `${prefix}${e.name}/`));
    else out.push(prefix + e.name);
  }
  return out.sort();
}

/**
 * Runs `npm run build` unless dist/ is newer than every build input. Returns
 * why it built, or undefined. Throws with the build's output when it fails.
 */
export function ensureBuilt(): string | undefined {
  const marker = join(repoRoot, "dist", "index.js");
  let reason: string | undefined;
  if (!existsSync(marker)) {
    reason = "dist/ is missing";
  } else {
    const built = statSync(marker).mtimeMs;
    for (const input of BUILD_INPUTS) {
      const n = newestMtime(join(repoRoot, input));
      if (n.ms > built) {
        reason = `${n.path.slice(repoRoot.length)} is newer than dist/`;
        break;
      }
    }
  }
  if (reason === undefined) return undefined;
  const r = spawnSync("npm", ["run", "build"], { cwd: repoRoot, encoding: "utf8", timeout: 300_000 });
  if (r.status !== 0) {
    throw new Error(`npm run build failed (${reason}; exit ${r.status}):\n${r.stdout}\n${r.stderr}`.slice(-6000));
  }
  return reason;
}

/** `npm pack` of the repository into `dir`: the tarball's path and the sha256 of its bytes. */
export function packTarball(dir: string): { path: string; sha256: string } {
  mkdirSync(dir, { recursive: true });
  const r = spawnSync("npm", ["pack", "--json", "--pack-destination", dir], { cwd: repoRoot, encoding: "utf8", timeout: 120_000 });
  if (r.status !== 0) throw new Error(`npm pack failed (exit ${r.status}):\n${r.stderr}`);
  const [info] = JSON.parse(r.stdout) as { filename: string }[];
  const path = join(dir, info!.filename);
  return { path, sha256: createHash("sha256").update(readFileSync(path)).digest("hex") };
}
