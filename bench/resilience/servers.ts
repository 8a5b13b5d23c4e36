/**
 * The resilience benchmark's grpc-go Greeter servers (test/peers/greeter-bench
 * with its misbehaviour flags), started by the client process itself so each
 * client gets fresh servers, and a rolling update that replaces them one at a
 * time. Each server is a slot (`A`…`E`); a replacement keeps its slot's flags
 * and adds a cold start. Stopping a server (SIGTERM: NOT_SERVING, GOAWAY,
 * calls in flight finish) yields the SayHello calls it answered, summed per slot.
 *
 * @module
 */
import { spawn, type ChildProcess } from "node:child_process";

/** One running server. */
export interface Server {
  readonly slot: number;
  readonly address: string;
  /** SIGTERM and wait for its `SERVED n` line; resolves with n. */
  stop(): Promise<number>;
}

/** Starts `bin` with `flags`; resolves once it listens. */
export function startServer(bin: string, slot: number, flags: readonly string[]): Promise<Server> {
  return new Promise((resolve, reject) => {
    const child: ChildProcess = spawn(bin, ["-addr", "127.0.0.1:0", ...flags], { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    let listening = false;
    const exited = new Promise<number>((r) =>
      child.on("exit", () => {
        const m = /SERVED (\d+)/.exec(out);
        r(m ? Number(m[1]) : 0);
      }),
    );
    child.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      const m = /LISTEN (\S+)/.exec(out);
      if (m && !listening) {
        listening = true;
        resolve({
          slot,
          address: m[1]!,
          stop: () => {
            if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
            return exited;
          },
        });
      }
    });
    child.on("exit", (code) => {
      if (!listening) reject(new Error(`greeter-bench ${flags.join(" ")} exited with ${code}`));
    });
  });
}

/** Servers by slot, with the calls answered by the ones already stopped. */
export class Fleet {
  readonly servers: Server[];
  private readonly served: number[];

  private constructor(servers: Server[]) {
    this.servers = servers;
    this.served = servers.map(() => 0);
  }

  /** Starts one server per entry of `slots` (its flags). */
  static async start(bin: string, slots: readonly (readonly string[])[]): Promise<Fleet> {
    return new Fleet(await Promise.all(slots.map((f, i) => startServer(bin, i, f))));
  }

  get addresses(): string[] {
    return this.servers.map((s) => s.address);
  }

  /**
   * Replaces slot `i` by a fresh server with `flags`: the new one is started,
   * `publish` tells the client the new list, then the old one is stopped.
   */
  async replace(bin: string, i: number, flags: readonly string[], publish: (addresses: string[]) => void): Promise<void> {
    const fresh = await startServer(bin, i, flags);
    const old = this.servers[i]!;
    this.servers[i] = fresh;
    publish(this.addresses);
    this.served[i]! += await old.stop();
  }

  /** Stops every server; SayHello calls answered per slot. */
  async stop(): Promise<number[]> {
    const n = await Promise.all(this.servers.map((s) => s.stop()));
    return this.served.map((x, i) => x + n[i]!);
  }
}
