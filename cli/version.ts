/**
 * `kratos-kube --version`: the version of the installed package, read from
 * the nearest `package.json` named kratos-kube above this file (two levels
 * up from `dist/cli/`, one from `cli/` in the repository).
 *
 * @module
 */
import { readFile } from "node:fs/promises";

/** The package's version, or `unknown` when its package.json cannot be found. */
export async function packageVersion(from: string | URL = import.meta.url): Promise<string> {
  let dir = new URL(".", from);
  for (let i = 0; i < 4; i++) {
    try {
      const pkg = JSON.parse(await readFile(new URL("package.json", dir), "utf8")) as { name?: unknown; version?: unknown };
      if (pkg.name === "kratos-kube" && typeof pkg.version === "string") return pkg.version;
    } catch {
      // not here: look one level up
    }
    dir = new URL("..", dir);
  }
  return "unknown";
}
