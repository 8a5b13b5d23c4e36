/**
 * A {@link TestServer} whose server runs in a Node child process
 * (server-child.ts). One child serves every server of a test file; it exits
 * when the last server closes, so the test process can exit.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import type { TestServer, TestServerOptions } from "./servers.ts";

interface Stats {
  calls: number;
  held: number;
  refused: number;
}

let child: ChildProcess | undefined;
let seq = 0;
let open = 0;
const pending = new Map<number, (r: unknown) => void>();
const listeners = new Map<number, (s: Stats) => void>();

function ensureChild(): ChildProcess {
  if (child !== undefined) return child;
  const script = fileURLToPath(new URL("./server-child.ts", import.meta.url));
  const root = fileURLToPath(new URL("../../../", import.meta.url));
  const c = spawn("node", ["--import", "tsx", script], { cwd: root, stdio: ["pipe", "pipe", "inherit"] });
  createInterface({ input: c.stdout! }).on("line", (line) => {
    const m = JSON.parse(line) as { seq?: number; result?: unknown; stats?: Stats & { id: number } };
    if (m.stats !== undefined) listeners.get(m.stats.id)?.(m.stats);
    else if (m.seq !== undefined) {
      pending.get(m.seq)?.(m.result);
      pending.delete(m.seq);
    }
  });
  child = c;
  return c;
}

function call(op: string, id?: number, arg?: unknown): Promise<unknown> {
  const c = ensureChild();
  const s = ++seq;
  return new Promise((resolve) => {
    pending.set(s, resolve);
    c.stdin!.write(`${JSON.stringify({ seq: s, op, id, arg })}\n`);
  });
}

async function release(): Promise<void> {
  if (--open > 0 || child === undefined) return;
  const c = child;
  child = undefined;
  const exited = new Promise<void>((resolve) => c.once("exit", () => resolve()));
  c.stdin!.end();
  await exited;
}

/** Starts a test server in the shared child process. */
export async function startChildServer(o: TestServerOptions = {}): Promise<TestServer> {
  open++;
  const { onStats: _ignored, ...opts } = o;
  const r = (await call("start", undefined, opts)) as { id: number; address: string; port: number };
  const stats: Stats = { calls: 0, held: 0, refused: 0 };
  let waiters: { n: number; resolve: () => void }[] = [];
  listeners.set(r.id, (s) => {
    Object.assign(stats, s);
    waiters = waiters.filter((w) => (stats.held >= w.n ? (w.resolve(), false) : true));
  });
  let serving = true;
  let closed = false;
  const finish = async (op: string): Promise<void> => {
    if (closed) return;
    closed = true;
    await call(op, r.id);
    listeners.delete(r.id);
    await release();
  };
  return {
    address: r.address,
    port: r.port,
    calls: {
      get total() {
        return stats.calls;
      },
    },
    refused: {
      get count() {
        return stats.refused;
      },
    },
    get held() {
      return stats.held;
    },
    waitHeld(n) {
      if (stats.held >= n) return Promise.resolve();
      return new Promise((resolve) => waiters.push({ n, resolve }));
    },
    release() {
      void call("release", r.id);
    },
    get serving() {
      return serving;
    },
    set serving(v: boolean) {
      serving = v;
      void call("serving", r.id, v);
    },
    gracefulStop: () => finish("gracefulStop"),
    kill: () => finish("kill"),
    close: () => finish("close"),
  };
}
