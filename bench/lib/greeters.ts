/**
 * Starts the transport benchmark's Greeter servers, each in its own process:
 * grpc-go (test/peers/greeter-bench in the Go test-peer module, built by
 * scripts/build-peers.mjs) when Go is available, else connect-node
 * (bench/peers/greeter-node.ts).
 *
 * @module
 */
import { spawn, type ChildProcess } from "node:child_process";
import process from "node:process";
import { buildPeer, goMissing } from "../../scripts/build-peers.mjs";
import { command, ROOT } from "./runtimes.ts";

/** Running Greeter servers. */
export interface Greeters {
  readonly kind: "grpc-go" | "connect-node";
  readonly addresses: readonly string[];
  close(): Promise<void>;
}

function buildGo(): string | undefined {
  try {
    const r = buildPeer("greeter-bench");
    if (r.built) process.stderr.write(`# built test/peers/greeter-bench in ${(r.ms / 1000).toFixed(1)} s\n`);
    return r.path;
  } catch (e) {
    process.stderr.write(`# ${e instanceof Error ? e.message : String(e)}\n`);
    return undefined;
  }
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
  const go = goMissing() === undefined ? buildGo() : undefined;
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
