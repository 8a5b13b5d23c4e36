#!/usr/bin/env node
// Runs the whole test suite under Node 20 (tsx), Node 24, Bun and Deno, one
// runtime after the other, and ends with one summary line per runtime and a
// final `N passed, N failed` line. Exit code 1 when any runtime fails.
//
//   npm test                         all four runtimes
//   TEST_RUNTIMES=node20,bun npm test  a subset
//   npm test -- test/kube            only some files or folders
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { readdirSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const bin = (name) => join(root, "node_modules", ".bin", process.platform === "win32" ? `${name}.cmd` : name);

function listTests(paths) {
  const out = [];
  const walk = (p) => {
    const st = statSync(p);
    if (st.isDirectory()) {
      for (const e of readdirSync(p).sort()) walk(join(p, e));
    } else if (/\.test\.ts$/.test(p)) out.push(p);
  };
  for (const p of paths) walk(resolve(root, p));
  return out.map((p) => p.slice(root.length + 1));
}

/** Finds or installs the Node 24 binary for this platform (npm `node-<os>-<arch>@24`). */
function node24() {
  const major = Number(process.versions.node.split(".")[0]);
  if (major === 24) return process.execPath;
  const os = process.platform === "win32" ? "win" : process.platform;
  const pkg = `node-${os}-${process.arch}`;
  const dir = join(root, ".cache", "node24");
  const exe = process.platform === "win32"
    ? join(dir, "node_modules", pkg, "bin", "node.exe")
    : join(dir, "node_modules", pkg, "bin", "node");
  if (!existsSync(exe)) {
    mkdirSync(dir, { recursive: true });
    console.log(`# installing ${pkg}@24 into .cache/node24 (Node 24 for the test matrix)`);
    const r = spawnSync("npm", ["install", "--no-save", "--no-package-lock", "--prefix", dir, `${pkg}@24`], {
      stdio: "inherit",
      shell: process.platform === "win32",
    });
    if (r.status !== 0 || !existsSync(exe)) return undefined;
  }
  return exe;
}

const runtimes = {
  node20: (files) => {
    const major = Number(process.versions.node.split(".")[0]);
    const exe = major === 20 ? process.execPath : "node";
    return [exe, ["--import", "tsx", "--test", "--test-reporter=spec", "--test-concurrency=1", ...files]];
  },
  node24: (files) => {
    const exe = node24();
    if (!exe) return undefined;
    return [exe, ["--test", "--test-reporter=spec", "--test-concurrency=1", ...files]];
  },
  bun: (files) => [bin("bun"), ["test", "--timeout=120000", ...files.map((f) => `./${f}`)]],
  deno: (files) => [bin("deno"), ["test", "-A", "--no-check", "--quiet", ...files]],
};

function parse(name, rawText) {
  // eslint-disable-next-line no-control-regex
  const text = rawText.replace(/\x1b\[[0-9;]*m/g, "");
  const num = (re) => {
    let m;
    let last;
    const g = new RegExp(re.source, "gm");
    while ((m = g.exec(text)) !== null) last = Number(m[1]);
    return last;
  };
  if (name.startsWith("node")) {
    return { passed: num(/^(?:#|ℹ) pass (\d+)/), failed: num(/^(?:#|ℹ) fail (\d+)/), skipped: num(/^(?:#|ℹ) skipped (\d+)/) ?? 0 };
  }
  if (name === "bun") {
    return { passed: num(/^\s*(\d+) pass/), failed: num(/^\s*(\d+) fail/) ?? 0, skipped: num(/^\s*(\d+) skip/) ?? 0 };
  }
  // Deno prints node:test `describe` blocks as containers ("name ..." alone on a
  // line, closed later by "name ... ok"); count only the leaves.
  if (!/(?:ok|FAILED) \| \d+ passed/.test(text)) return { passed: undefined, failed: undefined, skipped: 0 };
  return countDenoLeaves(text);
}

/** Counts the leaf results of Deno's test output (also of a run cut short). */
function countDenoLeaves(rawText) {
  // eslint-disable-next-line no-control-regex
  const text = rawText.replace(/\x1b\[[0-9;]*m/g, "");
  const open = new Set();
  let passed = 0;
  let failed = 0;
  let skipped = 0;
  for (const raw of text.split("\n")) {
    const line = raw.replace(/\s*\(\d+(?:\.\d+)?m?s\)\s*$/, "").trimEnd();
    const opener = /^(\s*)(.+) \.\.\.$/.exec(line);
    if (opener) {
      open.add(opener[1] + opener[2]);
      continue;
    }
    const close = /^(\s*)(.+) \.\.\. (ok|FAILED|ignored)\b/.exec(line);
    if (!close) continue;
    const key = close[1] + close[2];
    if (open.has(key)) {
      open.delete(key);
      continue;
    }
    if (close[3] === "ok") passed++;
    else if (close[3] === "FAILED") failed++;
    else skipped++;
  }
  return { passed, failed, skipped };
}

/**
 * The names of the failed tests in a runtime's output, so the summary (often
 * all a CI log keeps) says which tests failed, not only how many.
 */
function failedNames(name, rawText) {
  // eslint-disable-next-line no-control-regex
  const text = rawText.replace(/\x1b\[[0-9;]*m/g, "");
  const re = name.startsWith("node")
    ? /^\s*✖ (.+?)(?: \(\d+(?:\.\d+)?m?s\))?$/gm
    : name === "bun"
      ? /^\(fail\) (.+?)(?: \[\d+(?:\.\d+)?m?s\])?$/gm
      : /^\s*(.+?) \.\.\. FAILED\b/gm;
  const names = new Set();
  for (const m of text.matchAll(re)) {
    if (/^failing tests:?$/.test(m[1].trim())) continue;
    names.add(m[1].trim());
  }
  return [...names];
}

function run(name, cmd, args) {
  return new Promise((done) => {
    console.log(`\n# ── ${name}: ${[cmd.split(/[\\/]/).pop(), ...args.slice(0, 4)].join(" ")} …`);
    const child = spawn(cmd, args, {
      cwd: root,
      env: { ...process.env, ...plane.env, FORCE_COLOR: "0", NO_COLOR: "1", KRATOS_KUBE_TEST_RUNTIME: name },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let text = "";
    const onData = (stream) => (d) => {
      text += d.toString();
      stream.write(d);
    };
    child.stdout.on("data", onData(process.stdout));
    child.stderr.on("data", onData(process.stderr));
    child.on("close", (code) => done({ code, text }));
  });
}

/**
 * Starts the shared real control plane (scripts/k8s/serve.ts) when a selected
 * test file uses it and its binaries are built (always under CI=true, where a
 * missing binary must fail the run). Returns the env to pass and a stop().
 */
async function sharedControlPlane(files) {
  const uses = files.some((f) => /\bsharedCluster\(/.test(readFileSync(join(root, f), "utf8")));
  if (!uses) return { env: {}, stop: async () => {} };
  const child = spawn(process.execPath, ["--import", "tsx", join(root, "scripts", "k8s", "serve.ts")], {
    cwd: root,
    stdio: ["pipe", "pipe", "inherit"],
  });
  const line = await new Promise((resolve) => {
    let buf = "";
    child.stdout.on("data", (d) => {
      buf += d.toString();
      const i = buf.indexOf("\n");
      if (i >= 0) resolve(buf.slice(0, i));
    });
    child.once("exit", () => resolve(buf));
  });
  const m = /^READY (\S+) (\S+) (\d+)$/.exec(line);
  if (!m) {
    console.log(`# real kube-apiserver: not started (${line.trim().split("\n").pop() || "no output"}); its suites start their own or skip`);
    return { env: {}, stop: async () => {} };
  }
  console.log(`# real kube-apiserver ${m[2]} for this run (etcd + apiserver ready in ${(Number(m[3]) / 1000).toFixed(1)} s)`);
  return {
    env: { KRATOS_KUBE_REAL_APISERVER: m[1] },
    stop: () => new Promise((done) => {
      child.once("exit", done);
      child.stdin.end();
    }),
  };
}

async function runOnce(name, spec) {
  const { code, text } = await run(name, spec[0], spec[1]);
  return { code, text, r: parse(name, text) };
}

/**
 * Deno 2.9's node:http2 (its bundled nghttp2) can abort the whole process on
 * an internal assertion while a peer sends GOAWAY (`find_stream_on_goaway_func:
 * Assertion stream->closed_next == NULL`): rare (once in the CI runs on record,
 * never reproduced on demand) and outside any JavaScript code. One abort would
 * erase every Deno result, so when the output ends in exactly that abort, the
 * run resumes with the file that was running (re-run whole, its partial
 * results dropped) and the files not run yet, at most twice, and the summary
 * says so. Any other crash,
 * or the same one a third time, fails the run as before.
 */
const DENO_NGHTTP2_ABORT = /nghttp2_session\.c:\d+: int find_stream_on_goaway_func\(void \*, void \*\): Assertion `stream->closed_next == NULL' failed/;
async function runDeno(files) {
  let rest = files;
  const parts = [];
  const notes = [];
  let lastCode = 1;
  for (;;) {
    const spec = runtimes.deno(rest);
    const { code, text } = await run("deno", spec[0], spec[1]);
    lastCode = code;
    const clean = text.replace(/\x1b\[[0-9;]*m/g, "");
    if (code === 0 || !DENO_NGHTTP2_ABORT.test(clean) || notes.length >= 2 || /(?:ok|FAILED) \| \d+ passed/.test(clean)) {
      parts.push(text);
      break;
    }
    const started = [...clean.matchAll(/^running \d+ tests? from \.\/(\S+)$/gm)];
    const last = started.at(-1);
    if (last === undefined || !rest.includes(last[1])) {
      parts.push(text);
      break;
    }
    // Keep the leaves of the files that finished; re-run the one that aborted
    // and those not run yet (Deno picks its own order, not the arguments').
    parts.push(clean.slice(0, last.index));
    const finished = new Set(started.slice(0, -1).map((m) => m[1]));
    notes.push(`Deno aborted on its nghttp2 GOAWAY assertion in ${last[1]}; resumed with that file and the ones not run yet`);
    console.log(`\n# ── deno: ${notes.at(-1)}`);
    rest = rest.filter((f) => !finished.has(f));
  }
  const sums = parts.map((t, i) => (i < parts.length - 1 ? countDenoLeaves(t) : parse("deno", t)));
  const r = sums.reduce((a, b) => ({
    passed: a.passed === undefined || b.passed === undefined ? undefined : a.passed + b.passed,
    failed: (a.failed ?? 0) + (b.failed ?? 0),
    skipped: a.skipped + b.skipped,
  }));
  return { code: lastCode, text: parts.join("\n"), r, note: notes.join("; ") || undefined };
}

const argv = process.argv.slice(2);
const files = listTests(argv.length ? argv : ["test"]);
const wanted = (process.env.TEST_RUNTIMES ?? "node20,node24,bun,deno").split(",").map((s) => s.trim()).filter(Boolean);
const rows = [];
let failedAny = false;
const plane = await sharedControlPlane(files);
for (const name of wanted) {
  const make = runtimes[name];
  if (!make) {
    console.error(`unknown runtime ${name}; known: ${Object.keys(runtimes).join(", ")}`);
    process.exit(2);
  }
  const spec = make(files);
  if (!spec) {
    rows.push({ name, passed: 0, failed: 1, skipped: 0, note: "runtime could not be installed" });
    failedAny = true;
    continue;
  }
  const { code, text, r, note: resumed } = name === "deno" ? await runDeno(files) : await runOnce(name, spec);
  const passed = r.passed ?? 0;
  let failed = r.failed ?? 0;
  let note = resumed ?? "";
  if (r.passed === undefined) {
    note = "no test summary found in the output";
    failed = Math.max(failed, 1);
  } else if (code !== 0 && failed === 0) {
    note = `exited with code ${code}`;
    failed = 1;
  }
  if (failed > 0) failedAny = true;
  rows.push({ name, passed, failed, skipped: r.skipped, note, failedNames: failed > 0 ? failedNames(name, text) : [] });
}

await plane.stop();
console.log("\n# ── summary");
let p = 0;
let f = 0;
let s = 0;
for (const r of rows) {
  p += r.passed;
  f += r.failed;
  s += r.skipped;
  console.log(`${r.name}: ${r.passed} passed, ${r.failed} failed, ${r.skipped} skipped${r.note ? ` (${r.note})` : ""}`);
  for (const n of (r.failedNames ?? []).slice(0, 20)) console.log(`  failed: ${n}`);
}
console.log(`${p} passed, ${f} failed, ${s} skipped`);
process.exit(failedAny ? 1 : 0);
