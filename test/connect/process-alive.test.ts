/**
 * A pending call keeps the process alive until it settles: a child program
 * whose only work is a call waiting for endpoints ends with the call's
 * Unavailable error, not silently (Node's exit code 13 for an unsettled
 * top-level await), on every runtime.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { watchdog } from "./support/load.ts";

const child = fileURLToPath(new URL("./fixtures/pending-call.ts", import.meta.url));

function runner(): string[] {
  const exe = globalThis.process.execPath;
  if ("Deno" in globalThis) return [exe, "run", "-A", "--no-check", child];
  if ("Bun" in globalThis) return [exe, child];
  const [major = 0, minor = 0] = globalThis.process.versions.node.split(".").map(Number);
  const strips = major > 22 || (major === 22 && minor >= 18);
  return strips ? [exe, child] : [exe, "--import", "tsx", child];
}

describe("process lifetime", () => {
  it("a call waiting for endpoints keeps the process alive until it fails with Unavailable", watchdog, async () => {
    const [cmd, ...args] = runner();
    const proc = spawn(cmd!, args, { cwd: fileURLToPath(new URL("../../", import.meta.url)), stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    proc.stdout.on("data", (d: Uint8Array) => (out += new TextDecoder().decode(d)));
    proc.stderr.on("data", (d: Uint8Array) => (err += new TextDecoder().decode(d)));
    // A guard, not a synchronisation: a child that hangs is killed and fails the test.
    const guard = setTimeout(() => proc.kill("SIGKILL"), 40_000);
    const code = await new Promise<number | null>((resolve) => proc.on("close", (c) => resolve(c)));
    clearTimeout(guard);
    assert.equal(code, 0, `exit ${code}; stdout: ${out}; stderr: ${err}`);
    assert.deepEqual(JSON.parse(out.trim().split("\n").at(-1) ?? "{}"), { outcome: "Unavailable" });
  });
});
