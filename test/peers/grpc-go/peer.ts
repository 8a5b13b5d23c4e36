/**
 * Runs the grpc-go test peer (main.go in this folder, part of the test/peers
 * Go module, built with current grpc-go from the Go module proxy by
 * scripts/build-peers.mjs) for the transport tests.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import { buildPeer as buildGoPeer, goMissing } from "../../../scripts/build-peers.mjs";

export { goMissing };

/** Builds the peer if missing or its sources changed; throws with the compiler output on failure. */
export function buildPeer(): string {
  return buildGoPeer("grpc-go").path;
}

export interface GoPeer {
  readonly address: string;
  /** SIGTERM: health NOT_SERVING, then GracefulStop. Resolves on exit. */
  stop(): Promise<void>;
  /** SIGKILL. Resolves on exit. */
  kill(): Promise<void>;
}

/** Starts one peer on a free loopback port. */
export async function startPeer(): Promise<GoPeer> {
  const child: ChildProcess = spawn(buildPeer(), ["-addr", "127.0.0.1:0"], { stdio: ["pipe", "pipe", "inherit"] });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const address = await new Promise<string>((resolve, reject) => {
    const rl = createInterface({ input: child.stdout! });
    rl.once("line", (line) => {
      rl.close();
      const m = /^LISTENING (\S+)$/.exec(line);
      if (m === null) reject(new Error(`unexpected peer output: ${line}`));
      else resolve(m[1]!);
    });
    child.once("exit", (code) => reject(new Error(`grpc-go peer exited with ${code}`)));
  });
  let gone = false;
  const end = async (signal: "SIGTERM" | "SIGKILL"): Promise<void> => {
    if (!gone) {
      gone = true;
      child.kill(signal);
    }
    await exited;
  };
  return { address, stop: () => end("SIGTERM"), kill: () => end("SIGKILL") };
}
