/**
 * Builds kube-apiserver and etcd (and kubectl when the machine has none) of
 * each pinned Kubernetes release from the Go module proxy, into the cache
 * that `paths.ts` names. A second run with the same go.mod/go.sum is a no-op.
 *
 *   node --import tsx scripts/k8s/build.ts            every release in KUBERNETES_VERSIONS
 *   node --import tsx scripts/k8s/build.ts 1.34.4     one release
 *   node --import tsx scripts/k8s/build.ts --bin-dir  prints the default release's bin folder
 *
 * `go install k8s.io/kubernetes/cmd/kube-apiserver@v1.34.x` does not work:
 * k8s.io/kubernetes replaces its staging modules with `./staging/...` paths.
 * Each release therefore has a small wrapper module (scripts/k8s/v1.NN) that
 * requires k8s.io/kubernetes and replaces every staging module with its
 * published v0.NN.x version; etcd's server is built from the same module
 * (its own go.mod has local replaces too). The version is stamped into the
 * binaries so `/version` reports it.
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { binDir, KUBERNETES_VERSION, KUBERNETES_VERSIONS, moduleDir } from "./paths.ts";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");

function goBinary(): string {
  const onPath = spawnSync("go", ["version"], { encoding: "utf8" });
  if (onPath.status === 0) return "go";
  if (existsSync("/usr/local/go/bin/go")) return "/usr/local/go/bin/go";
  throw new Error("the Go toolchain is not installed (go on PATH or /usr/local/go/bin/go)");
}

function hasKubectl(): boolean {
  return spawnSync("kubectl", ["version", "--client"], { encoding: "utf8" }).status === 0;
}

/** Builds one release; returns what it did. */
export function buildRelease(version: string, log: (s: string) => void = console.log): string {
  const mod = moduleDir(root, version);
  const goMod = readFileSync(join(mod, "go.mod"), "utf8");
  if (!goMod.includes(`k8s.io/kubernetes v${version}`)) throw new Error(`${mod}/go.mod does not require k8s.io/kubernetes v${version}`);
  const [major, minor] = version.split(".");
  const ldflags = [
    "-s -w",
    `-X k8s.io/component-base/version.gitVersion=v${version}`,
    `-X k8s.io/component-base/version.gitMajor=${major}`,
    `-X k8s.io/component-base/version.gitMinor=${minor}`,
    `-X k8s.io/client-go/pkg/version.gitVersion=v${version}`,
  ].join(" ");
  const packages = ["k8s.io/kubernetes/cmd/kube-apiserver", "go.etcd.io/etcd/server/v3"];
  const withKubectl = !hasKubectl();
  if (withKubectl) packages.push("k8s.io/kubernetes/cmd/kubectl");
  const stamp = createHash("sha256")
    .update(goMod)
    .update(readFileSync(join(mod, "go.sum")))
    .update(ldflags)
    .update(packages.join(" "))
    .digest("hex");
  const out = binDir(version);
  const stampFile = join(out, ".stamp");
  const binaries = ["kube-apiserver", "etcd", ...(withKubectl ? ["kubectl"] : [])];
  if (existsSync(stampFile) && readFileSync(stampFile, "utf8") === stamp && binaries.every((b) => existsSync(join(out, b)))) {
    return `Kubernetes v${version}: up to date in ${out}`;
  }
  mkdirSync(out, { recursive: true });
  log(`# building ${binaries.join(", ")} v${version} into ${out} (a cold build takes several minutes)`);
  const started = Date.now();
  const r = spawnSync(goBinary(), ["build", "-trimpath", "-ldflags", ldflags, "-o", out + "/", ...packages], {
    cwd: mod,
    stdio: "inherit",
    env: { ...process.env, CGO_ENABLED: "0", GOFLAGS: "-mod=readonly -buildvcs=false" },
  });
  if (r.status !== 0) throw new Error(`go build in ${mod} failed (exit ${r.status ?? r.signal})`);
  // etcd's main package is go.etcd.io/etcd/server/v3, which `go build` names "server".
  renameSync(join(out, "server"), join(out, "etcd"));
  writeFileSync(stampFile, stamp);
  return `Kubernetes v${version}: built ${binaries.join(", ")} in ${((Date.now() - started) / 1000).toFixed(0)} s`;
}

const isMain = process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain && process.argv[2] === "--bin-dir") {
  console.log(binDir(KUBERNETES_VERSION));
} else if (isMain) {
  const wanted = process.argv.slice(2);
  const versions = wanted.length > 0 ? wanted : [...KUBERNETES_VERSIONS];
  const started = Date.now();
  for (const v of versions) console.log(buildRelease(v));
  console.log(`control plane build: ${((Date.now() - started) / 1000).toFixed(0)} s`);
}
