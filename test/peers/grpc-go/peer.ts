/**
 * Builds (once, into .cache/) and runs the grpc-go test peer (main.go in this
 * folder) for the transport tests. The build is offline, in GOPATH mode
 * against Debian's golang-google-grpc-dev (`apt-get install golang-go
 * golang-google-grpc-dev`; .ci/run installs both).
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../../../", import.meta.url));
const source = fileURLToPath(new URL("./main.go", import.meta.url));
const binary = join(root, ".cache", "grpc-go-peer");
const GOPATH = "/usr/share/gocode";

/** Why the peer cannot run here (no `go`), or undefined when it can. */
export function goMissing(): string | undefined {
  const r = spawnSync("go", ["version"], { encoding: "utf8" });
  if (r.error !== undefined || r.status !== 0) return "the go toolchain is not installed (apt-get install golang-go golang-google-grpc-dev)";
  return undefined;
}

/** Builds the peer if missing or older than main.go; throws with the compiler output on failure. */
export function buildPeer(): string {
  if (existsSync(binary) && statSync(binary).mtimeMs >= statSync(source).mtimeMs) return binary;
  mkdirSync(join(root, ".cache"), { recursive: true });
  const r = spawnSync("go", ["build", "-o", binary, "./test/peers/grpc-go"], {
    cwd: root,
    encoding: "utf8",
    env: { ...process.env, GO111MODULE: "off", GOPATH, GOFLAGS: "", GOCACHE: join(root, ".cache", "go-build") },
  });
  if (r.status !== 0) throw new Error(`building the grpc-go peer failed (GOPATH=${GOPATH}):\n${r.stderr}${r.stdout}`);
  return binary;
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
