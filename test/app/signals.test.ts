/**
 * Signals, in a child process of the same runtime: SIGTERM runs the whole
 * stop and the process then exits by itself (no timer, listener or socket
 * left); a second SIGTERM skips the remaining waits; a pending run() keeps
 * a process with no server alive until SIGINT.
 */
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { watchdog } from "../connect/support/load.ts";

const child = fileURLToPath(new URL("./fixtures/signal-app.ts", import.meta.url));

function runner(): string[] {
  const exe = globalThis.process.execPath;
  if ("Deno" in globalThis) return [exe, "run", "-A", "--no-check", child];
  if ("Bun" in globalThis) return [exe, child];
  const [major = 0, minor = 0] = globalThis.process.versions.node.split(".").map(Number);
  const strips = major > 22 || (major === 22 && minor >= 18);
  return strips ? [exe, child] : [exe, "--import", "tsx", child];
}

interface Line {
  state?: string;
  step?: string;
  done?: string;
  cause?: { by: string; signal?: string };
  steps?: string[];
}

/** Starts the child; `on(line)` sees every JSON line; resolves with the exit code and all lines. */
function start(mode: string, on: (line: Line, kill: (s: NodeJS.Signals) => void) => void): Promise<{ code: number | null; lines: Line[]; stderr: string }> {
  const [cmd, ...args] = runner();
  const proc = spawn(cmd!, [...args, mode], { cwd: fileURLToPath(new URL("../../", import.meta.url)), stdio: ["ignore", "pipe", "pipe"] });
  const lines: Line[] = [];
  let buf = "";
  let stderr = "";
  proc.stdout.on("data", (d: Uint8Array) => {
    buf += new TextDecoder().decode(d);
    for (let i = buf.indexOf("\n"); i >= 0; i = buf.indexOf("\n")) {
      const line = JSON.parse(buf.slice(0, i)) as Line;
      buf = buf.slice(i + 1);
      lines.push(line);
      // process.kill, not proc.kill: Deno's ChildProcess sends no second signal after a first kill().
      on(line, (s) => globalThis.process.kill(proc.pid!, s));
    }
  });
  proc.stderr.on("data", (d: Uint8Array) => (stderr += new TextDecoder().decode(d)));
  // A guard, not a synchronisation: a child that hangs is killed and fails the test.
  const guard = setTimeout(() => proc.kill("SIGKILL"), 40_000);
  return new Promise((resolve) =>
    proc.on("close", (code, signal) => {
      clearTimeout(guard);
      // Deno's node:child_process reports (null, <the signal sent>) for a child that was sent
      // a signal, even when it handled it and exited with 0; the guard's SIGKILL still shows.
      const exited = code ?? ("Deno" in globalThis && signal !== "SIGKILL" && lines.at(-1)?.done !== undefined ? 0 : null);
      resolve({ code: exited, lines, stderr });
    }),
  );
}

describe("App signals (child process)", () => {
  it("SIGTERM: the whole stop runs, then the process exits by itself with code 0", watchdog, async () => {
    const { code, lines, stderr } = await start("graceful", (l, kill) => {
      if (l.state === "running") kill("SIGTERM");
    });
    assert.equal(code, 0, stderr);
    const done = lines.at(-1)!;
    assert.equal(done.done, "stopped");
    assert.deepEqual(done.cause, { by: "signal", signal: "SIGTERM" });
    assert.deepEqual(done.steps, ["beforeStart", "listen", "register", "afterStart", "notServing", "beforeStop", "deregister", "delay", "drain", "goaway", "close", "afterStop"]);
  });

  it("a second SIGTERM during the shutdown delay stops at once (the drain is skipped)", watchdog, async () => {
    let sent = 0;
    const { code, lines, stderr } = await start("force", (l, kill) => {
      if (l.state === "running" && sent === 0) (sent++, kill("SIGTERM"));
      if (l.step === "delay" && sent === 1) (sent++, kill("SIGTERM"));
    });
    assert.equal(code, 0, stderr);
    const done = lines.at(-1)!;
    assert.deepEqual(done.steps, ["beforeStart", "listen", "register", "afterStart", "notServing", "beforeStop", "deregister", "delay", "goaway", "close", "afterStop"]);
  });

  it("a pending run() keeps a process with no server alive until SIGINT", watchdog, async () => {
    const { code, lines, stderr } = await start("keepalive", (l, kill) => {
      if (l.state === "running") kill("SIGINT");
    });
    assert.equal(code, 0, stderr);
    assert.deepEqual(lines.at(-1)!.cause, { by: "signal", signal: "SIGINT" });
  });
});
