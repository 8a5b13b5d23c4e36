/**
 * Starts the transport benchmark's Greeter servers, each in its own process:
 * grpc-go (bench/peers/greeter-go, built offline into .cache/greeter-go) when
 * `go` is available, else connect-node (bench/peers/greeter-node.ts).
 *
 * @module
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { command, haveGo, ROOT } from "./runtimes.ts";

/** Running Greeter servers. */
export interface Greeters {
  readonly kind: "grpc-go" | "connect-node";
  readonly addresses: readonly string[];
  close(): Promise<void>;
}

function buildGo(): string | undefined {
  const exe = join(ROOT, ".cache", "greeter-go");
  if (existsSync(exe)) return exe;
  mkdirSync(join(ROOT, ".cache"), { recursive: true });
  process.stderr.write("# building bench/peers/greeter-go (GOPATH mode, Debian's golang-google-grpc-dev)…\n");
  const r = spawnSync("go", ["build", "-o", exe, "./bench/peers/greeter-go"], {
    cwd: ROOT,
    stdio: "inherit",
    env: { ...process.env, GOPATH: process.env["GOPATH"] ?? "/usr/share/gocode", GO111MODULE: "off", GOFLAGS: "", GOCACHE: join(ROOT, ".cache", "go-build") },
  });
  return r.status === 0 && existsSync(exe) ? exe : undefined;
}

function start(cmd: string, args: string[]): Promise<{ child: ChildProcess; address: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: ROOT, stdio: ["ignore", "pipe", "inherit"] });
    let buf = "";
    child.stdout!.on("data", (d: Buffer) => {
      buf += d.toString();
      const m = /LISTEN (\S+)/.exec(buf);
      if (m) resolve({ child, address: m[1]! });
    });
    child.on("exit", (code) => reject(new Error(`${cmd} exited with ${code}`)));
  });
}

/** Starts `n` Greeter servers. */
export async function startGreeters(n = 3): Promise<Greeters> {
  const go = haveGo() ? buildGo() : undefined;
  const kind = go === undefined ? "connect-node" : "grpc-go";
  const procs = await Promise.all(
    Array.from({ length: n }, () => {
      if (go !== undefined) return start(go, ["-addr", "127.0.0.1:0"]);
      const [c, a] = command("node20", "bench/peers/greeter-node.ts");
      return start(c, a);
    }),
  );
  return {
    kind,
    addresses: procs.map((p) => p.address),
    close: async () => {
      await Promise.all(
        procs.map(
          (p) =>
            new Promise<void>((r) => {
              if (p.child.exitCode !== null) return r();
              p.child.removeAllListeners("exit");
              p.child.on("exit", () => r());
              p.child.kill("SIGTERM");
            }),
        ),
      );
    },
  };
}
