/**
 * Runs a bench client in its own process and collects its `RESULT {json}`
 * line; other output is passed through (stderr) or kept for errors.
 *
 * @module
 */
import { spawn, type ChildProcess } from "node:child_process";
import process from "node:process";
import { command, ROOT, type RuntimeName } from "./runtimes.ts";

/** Runs `script` on `rt` and resolves with its RESULT object; rejects on a non-zero exit or a missing RESULT. */
export function runClient(
  rt: RuntimeName,
  script: string,
  args: readonly string[],
  o: { timeoutMs?: number; nodeFlags?: readonly string[]; v8Flags?: readonly string[]; env?: Record<string, string> } = {},
): Promise<Record<string, number | string>> {
  const [cmd, argv] = command(rt, script, args, o.nodeFlags ?? [], o.v8Flags ?? []);
  return new Promise((resolveP, reject) => {
    const child = spawn(cmd, argv, { cwd: ROOT, env: { ...process.env, NO_COLOR: "1", ...o.env }, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), o.timeoutMs ?? 180_000);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      const line = out.split("\n").reverse().find((l) => l.startsWith("RESULT "));
      if (code !== 0 || line === undefined) {
        reject(new Error(`${rt} ${script} ${args.join(" ")} exited with ${code ?? signal}\n${out.slice(-2000)}\n${err.slice(-3000)}`));
        return;
      }
      resolveP(JSON.parse(line.slice(7)) as Record<string, number | string>);
    });
  });
}

/** A long-lived helper process speaking JSON lines on stdin/stdout. */
export interface LineProcess {
  readonly child: ChildProcess;
  /** Waits for the next stdout JSON line. */
  next(): Promise<Record<string, unknown>>;
  send(msg: Record<string, unknown>): void;
  close(): Promise<void>;
}

/** Starts `script` on Node 20 (tsx) as a {@link LineProcess}. */
export function startLineProcess(script: string, args: readonly string[] = [], rt: RuntimeName = "node20"): LineProcess {
  const [cmd, argv] = command(rt, script, args);
  const child = spawn(cmd, argv, { cwd: ROOT, stdio: ["pipe", "pipe", "inherit"] });
  const queue: Record<string, unknown>[] = [];
  const waiters: { ok: (v: Record<string, unknown>) => void; fail: (e: Error) => void }[] = [];
  let buf = "";
  let exited = false;
  child.stdout!.on("data", (d: Buffer) => {
    buf += d.toString();
    let i: number;
    while ((i = buf.indexOf("\n")) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      if (!line.startsWith("{")) continue;
      const msg = JSON.parse(line) as Record<string, unknown>;
      const w = waiters.shift();
      if (w) w.ok(msg);
      else queue.push(msg);
    }
  });
  const closed = new Promise<void>((r) => child.on("close", () => {
    exited = true;
    for (const w of waiters.splice(0)) w.fail(new Error(`${script} exited`));
    r();
  }));
  return {
    child,
    next: () => {
      const m = queue.shift();
      if (m) return Promise.resolve(m);
      if (exited) return Promise.reject(new Error(`${script} exited`));
      return new Promise((ok, fail) => waiters.push({ ok, fail }));
    },
    send: (msg) => void child.stdin!.write(`${JSON.stringify(msg)}\n`),
    close: async () => {
      if (!exited) {
        child.stdin!.end();
        const t = setTimeout(() => child.kill("SIGKILL"), 5000);
        await closed;
        clearTimeout(t);
      }
    },
  };
}
