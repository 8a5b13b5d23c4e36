/**
 * Smoke test of the benchmark harnesses (`bench/`): each benchmark runs in
 * `--quick` mode (tiny sizes, one run, nothing written) with its clients on
 * the runtime running this test, so a harness cannot rot unnoticed. No
 * timing is asserted; the checks are that each run finishes and prints its
 * result table with numbers in it. The orchestrators themselves always run
 * on Node 20 with tsx, as `npm run bench` does.
 */
import { spawn } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import process from "node:process";
import { describe, it } from "node:test";
import assert from "node:assert/strict";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

declare const Bun: unknown;
declare const Deno: unknown;

function currentRuntime(): string {
  const fromRunner = process.env["KRATOS_KUBE_TEST_RUNTIME"];
  if (fromRunner) return fromRunner;
  if (typeof Bun !== "undefined") return "bun";
  if (typeof Deno !== "undefined") return "deno";
  return Number(process.versions.node.split(".")[0]) >= 24 ? "node24" : "node20";
}

function runQuick(name: string): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn("node", ["--expose-gc", "--import", "tsx", join(root, "bench", `${name}.ts`), "--quick"], {
      cwd: root,
      env: { ...process.env, BENCH_RUNTIMES: currentRuntime(), NO_COLOR: "1" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    child.stdout.on("data", (d: Uint8Array) => (out += new TextDecoder().decode(d)));
    child.stderr.on("data", (d: Uint8Array) => (err += new TextDecoder().decode(d)));
    child.on("close", (code) => resolve({ code, out, err }));
  });
}

const cases: [string, string, RegExp][] = [
  ["watch", "## 1. Watch throughput and memory", /\| \*\*kratos-kube createPodCache\*\* \| \w+ \| [\d.,]+ /],
  ["sync", "## 2. Initial sync at scale", /\| 20 \| paged LIST \(limit 500\) \| [\d.,]+ /],
  ["propagation", "## 3. Propagation", /\| quick \| [\d.,]+ /],
  ["transport", "## 4. Transport", /\| \*\*kratos-kube discovery, round_robin\*\* \| \w+ \| \d+ \| [\d.,]+ /],
  ["apiserver-load", "## 5. API server load", /\| \*\*kratos-kube createPodCache\*\* \(Node 20\) \| [\d.,]+ /],
  // Quick mode's heap per endpoint (500 endpoints) moves by a few hundred bytes between runs, and below zero at times.
  ["slices", "## 7. EndpointSlices", /\| quick: 5 × 100 \| \w+ \| -?[\d.,]+ /],
];

describe("bench harnesses (quick mode)", () => {
  for (const [name, heading, row] of cases) {
    it(`${name} runs and prints its table`, { timeout: 120_000 }, async () => {
      const r = await runQuick(name);
      assert.equal(r.code, 0, `bench/${name}.ts --quick failed:\n${r.err.slice(-3000)}`);
      assert.ok(r.out.includes(heading), `missing heading in:\n${r.out.slice(0, 2000)}`);
      assert.match(r.out, row, `no row like ${row} in:\n${r.out.slice(0, 4000)}`);
    });
  }
});
