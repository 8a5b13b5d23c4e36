/**
 * Where the real control plane's binaries live, and the Kubernetes versions
 * the test suites run against. Shared by the build script, the launcher and
 * the tests.
 *
 * Binaries are cached outside the repository, keyed by version, so every
 * clone on a machine (a developer's work tree, CI's fresh clone) shares one
 * build: `$KRATOS_KUBE_CACHE`, else `$XDG_CACHE_HOME/kratos-kube`, else
 * `~/.cache/kratos-kube`.
 */
import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";

/** The Kubernetes release the real-apiserver suites run against by default. */
export const KUBERNETES_VERSION = "1.34.4";

/** The oldest release the library claims to support (WatchList off by default there). */
export const KUBERNETES_OLDEST = "1.33.13";

/** Every release `scripts/k8s/build.ts` knows how to build (one Go module per release). */
export const KUBERNETES_VERSIONS: readonly string[] = [KUBERNETES_VERSION, KUBERNETES_OLDEST];

/** The folder of the Go module that builds `version`: `scripts/k8s/v<major>.<minor>`. */
export function moduleDir(root: string, version: string): string {
  return join(root, "scripts", "k8s", `v${version.split(".").slice(0, 2).join(".")}`);
}

/** The cache root for built binaries (outside the repository). */
export function cacheRoot(): string {
  const env = process.env;
  if (env.KRATOS_KUBE_CACHE) return env.KRATOS_KUBE_CACHE;
  if (env.XDG_CACHE_HOME) return join(env.XDG_CACHE_HOME, "kratos-kube");
  return join(homedir(), ".cache", "kratos-kube");
}

/** The folder holding `kube-apiserver`, `etcd` (and `kubectl`) of `version`. */
export function binDir(version: string = KUBERNETES_VERSION): string {
  return process.env.KRATOS_KUBE_K8S_BIN ?? join(cacheRoot(), "k8s", `v${version}`, "bin");
}

/** The command that builds the control plane, for skip messages. */
export const BUILD_COMMAND = "node --import tsx scripts/k8s/build.ts";

/**
 * Why the real control plane of `version` cannot run here, or undefined when
 * its binaries are present.
 */
export function controlPlaneMissing(version: string = KUBERNETES_VERSION): string | undefined {
  const dir = binDir(version);
  for (const name of ["kube-apiserver", "etcd"]) {
    if (!existsSync(join(dir, name))) return `${join(dir, name)} is missing: build it with \`${BUILD_COMMAND}\``;
  }
  return undefined;
}
