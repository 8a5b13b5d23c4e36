#!/usr/bin/env node
// Builds the Go test peers and bench servers of the test/peers Go module
// (module mode, dependencies from the Go module proxy) into
// ${XDG_CACHE_HOME:-$HOME/.cache}/kratos-kube/peers/<name>, outside the
// repository, so fresh clones on the same machine reuse them.
//
//   node scripts/build-peers.mjs              every peer
//   node scripts/build-peers.mjs kratos       some of them
//
// A peer is rebuilt when the content of its sources (test/peers/<name>/,
// test/peers/internal/, go.mod, go.sum) or the Go version changed since its
// last build: content, not mtimes, since a fresh clone makes every file new.
// The Connect conformance runner (connectconformance) is a `tool` of go.mod,
// built from the module proxy's connectrpc.com/conformance.
// A second run is a no-op. The test launchers (test/peers/*/peer.ts) call
// buildPeer() from this file. No dependencies beyond Node.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
/** The Go module of the peers. */
export const MODULE_DIR = join(ROOT, "test", "peers");
/** Every peer of the module: a main package in test/peers/<name>, or a `tool` of go.mod (TOOLS). */
export const PEERS = Object.freeze(["grpc-go", "greeter-bench", "kratos", "connectconformance"]);
/**
 * Peers built from a package of a required module (a `tool` line of go.mod)
 * rather than from sources in test/peers: the Connect conformance runner.
 */
const TOOLS = Object.freeze({ connectconformance: "connectrpc.com/conformance/cmd/connectconformance" });
const FALLBACK_GO = "/usr/local/go/bin/go";

/** Where built peers live. */
export function peersCacheDir() {
  const base = process.env.XDG_CACHE_HOME || join(process.env.HOME || homedir(), ".cache");
  return join(base, "kratos-kube", "peers");
}

let goCache;
/** The go command: `go` on PATH, else /usr/local/go/bin/go; undefined when neither runs. */
export function goCommand() {
  if (goCache !== undefined) return goCache || undefined;
  goCache = "";
  for (const cmd of ["go", FALLBACK_GO]) {
    const r = spawnSync(cmd, ["env", "GOVERSION"], { encoding: "utf8" });
    if (r.error === undefined && r.status === 0) {
      goCache = cmd;
      break;
    }
  }
  return goCache || undefined;
}

/** Why the peers cannot be built here, or undefined when they can. */
export function goMissing() {
  return goCommand() === undefined ? `the Go toolchain is not installed (neither \`go\` on PATH nor ${FALLBACK_GO})` : undefined;
}

function goVersion(go) {
  return spawnSync(go, ["env", "GOVERSION"], { encoding: "utf8" }).stdout.trim();
}

function filesUnder(dir) {
  if (!existsSync(dir)) return [];
  const out = [];
  for (const e of readdirSync(dir).sort()) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) out.push(...filesUnder(p));
    else if (p.endsWith(".go")) out.push(p);
  }
  return out;
}

/** Hash of everything a peer's binary is built from. */
function sourceHash(name, version) {
  const h = createHash("sha256");
  h.update(`${version}\0`);
  const files = [join(MODULE_DIR, "go.mod"), join(MODULE_DIR, "go.sum"), ...filesUnder(join(MODULE_DIR, "internal")), ...filesUnder(join(MODULE_DIR, name))];
  for (const f of files) {
    h.update(`${relative(MODULE_DIR, f)}\0`);
    h.update(readFileSync(f));
    h.update("\0");
  }
  return h.digest("hex");
}

/**
 * Builds one peer if its binary is missing or its sources changed.
 * Returns its path, whether it was built, and how long that took (ms).
 * Throws with the compiler's output when the build fails.
 */
export function buildPeer(name) {
  if (!PEERS.includes(name)) throw new Error(`unknown peer ${JSON.stringify(name)} (known: ${PEERS.join(", ")})`);
  const go = goCommand();
  if (go === undefined) throw new Error(goMissing());
  const dir = peersCacheDir();
  const binary = join(dir, name);
  const stampFile = `${binary}.stamp`;
  const started = performance.now();
  const hash = sourceHash(name, goVersion(go));
  if (existsSync(binary) && existsSync(stampFile) && readFileSync(stampFile, "utf8").trim() === hash) {
    return { name, path: binary, built: false, ms: performance.now() - started };
  }
  mkdirSync(dir, { recursive: true });
  // Build to a temporary name and rename: a concurrent run never sees half a binary.
  const tmp = `${binary}.tmp-${process.pid}`;
  const pkg = TOOLS[name] ?? `./${name}`;
  const r = spawnSync(go, ["build", "-trimpath", "-o", tmp, pkg], {
    cwd: MODULE_DIR,
    encoding: "utf8",
    env: {
      ...process.env,
      GO111MODULE: "on",
      GOFLAGS: "-mod=readonly -buildvcs=false",
      GOTOOLCHAIN: "local",
      CGO_ENABLED: "0",
    },
  });
  if (r.error !== undefined || r.status !== 0) {
    rmSync(tmp, { force: true });
    throw new Error(`building Go peer ${name} (go build ${pkg} in test/peers) failed:\n${r.error?.message ?? ""}${r.stderr}${r.stdout}`);
  }
  renameSync(tmp, binary);
  writeFileSync(stampFile, `${hash}\n`);
  return { name, path: binary, built: true, ms: performance.now() - started };
}

/** Builds the named peers (default: all), one after the other. */
export function buildPeers(names = PEERS) {
  return names.map((n) => buildPeer(n));
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const names = process.argv.slice(2);
  const started = performance.now();
  try {
    const go = goCommand();
    if (go === undefined) throw new Error(goMissing());
    console.log(`# Go peers (test/peers) with ${goVersion(go)} into ${peersCacheDir()}`);
    for (const name of names.length > 0 ? names : PEERS) {
      const r = buildPeer(name);
      console.log(`${r.built ? "built" : "up to date"}: ${name} (${(r.ms / 1000).toFixed(1)} s) ${r.path}`);
    }
    console.log(`# Go peers ready in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  } catch (e) {
    console.error(e instanceof Error ? e.message : String(e));
    process.exit(1);
  }
}
