/**
 * The official Connect conformance suite (connectrpc.com/conformance, built
 * from the Go module proxy by scripts/build-peers.mjs) in client mode
 * against kratos-kube's transport (one endpoint, no balancing): gRPC,
 * Connect and gRPC-web over HTTP/2 (h2c and TLS, with client certificates),
 * every stream type, protobuf and JSON, identity and gzip, timeouts,
 * cancellation, errors, metadata and receive limits (config.yaml). Cases
 * that fail are listed with their reason in known-failing.txt; the runner
 * fails on any other failure and on a listed case that passes. connect-node's
 * client runs through the same runner as the baseline
 * (known-failing-connect-node.txt).
 *
 * Runs on Node 20 and Bun only, an explicit exception to the four-runtime
 * rule for its cost (the README says so): Node 24 shares Node 20's HTTP/2
 * stack, and Deno 2.9's node:http2 client aborts the process on an nghttp2
 * assertion when the reference server sends GOAWAY
 * ("find_stream_on_goaway_func: Assertion `stream->closed_next == NULL'").
 */
import { existsSync } from "node:fs";
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";
import { buildPeer, goMissing } from "../../scripts/build-peers.mjs";

declare const Bun: unknown;
declare const Deno: unknown;

const root = fileURLToPath(new URL("../../", import.meta.url));
const here = join(root, "test", "conformance");
/** Time budget of one run of the suite (about 10 s on an idle 2-core machine). */
const BUDGET_MS = 240_000;

type Runtime = "node20" | "node24" | "bun" | "deno";
function currentRuntime(): Runtime {
  const fromRunner = process.env["KRATOS_KUBE_TEST_RUNTIME"];
  if (fromRunner === "node20" || fromRunner === "node24" || fromRunner === "bun" || fromRunner === "deno") return fromRunner;
  if (typeof Bun !== "undefined") return "bun";
  if (typeof Deno !== "undefined") return "deno";
  return Number(process.versions.node.split(".")[0]) >= 22 ? "node24" : "node20";
}
const runtime = currentRuntime();

/** The command that runs the conformance client on this runtime. */
function clientCommand(impl: string): string[] {
  const client = join(here, "client.ts");
  if (runtime === "node20") return [process.execPath, "--import", "tsx", client, `--impl=${impl}`];
  return [process.execPath, client, `--impl=${impl}`];
}

const skip = goMissing() ?? (runtime === "node24" || runtime === "deno"
  ? `the conformance suite runs on Node 20 and Bun only (the README's exception to the four-runtime rule; ${runtime === "deno" ? "Deno 2.9's node:http2 client aborts on a GOAWAY from the reference server" : "Node 24 shares Node 20's HTTP/2 stack"})`
  : false);

/** Runs the suite against `impl`; resolves with the runner's exit code and output. */
function runSuite(impl: string, knownFailing: string): Promise<{ code: number | null; output: string }> {
  const runner = buildPeer("connectconformance").path;
  const flaky = join(here, knownFailing.replace("known-failing", "known-flaky"));
  const args = [
    "--mode", "client", "--conf", join(here, "config.yaml"), "--known-failing", `@${join(here, knownFailing)}`,
    ...(existsSync(flaky) ? ["--known-flaky", `@${flaky}`] : []),
    "--max-servers", "2", "--", ...clientCommand(impl),
  ];
  return new Promise((resolve) => {
    const child = spawn(runner, args, { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (d: Uint8Array) => (output += String(d)));
    child.stderr.on("data", (d: Uint8Array) => (output += String(d)));
    const timer = setTimeout(() => child.kill("SIGKILL"), BUDGET_MS);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

function summary(output: string): string {
  return output.split("\n").filter((l) => /^(Total cases|\d+ passed|\(Another|Another)/.test(l)).join("; ");
}

describe("Connect conformance (client mode)", { skip }, () => {
  it("kratos-kube's transport passes every case not listed in known-failing.txt", { timeout: BUDGET_MS + 30_000 }, async () => {
    const { code, output } = await runSuite("kratos-kube", "known-failing.txt");
    assert.equal(code, 0, `the conformance runner failed (exit ${code}):\n${output.slice(-20_000)}`);
    assert.match(output, /Total cases: \d+/);
    process.stdout.write(`# kratos-kube on ${runtime}: ${summary(output)}\n`);
  });

  it("connect-node's client, the baseline, fails only the cases in known-failing-connect-node.txt", { timeout: BUDGET_MS + 30_000, skip: runtime !== "node20" ? "the baseline runs on Node 20" : false }, async () => {
    const { code, output } = await runSuite("connect-node", "known-failing-connect-node.txt");
    assert.equal(code, 0, `the conformance runner failed (exit ${code}):\n${output.slice(-20_000)}`);
    process.stdout.write(`# connect-node on ${runtime}: ${summary(output)}\n`);
  });
});
