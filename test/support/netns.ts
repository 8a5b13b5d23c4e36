/**
 * Non-loopback addresses on this machine for tests that need them: a real
 * kube-apiserver refuses loopback addresses in EndpointSlices
 * (`ValidateEndpointIP`), so servers behind real slices listen in a network
 * namespace this helper creates, reached from the test over a veth pair it
 * creates too (10.251.a.b/30 and fd6b:6b00:a:b::/126, checked unused first).
 * Traffic stays on this machine: both ends are virtual interfaces of its
 * kernel. Everything is removed by `close()`, and leftovers of dead test
 * processes by the next `createNetns()`.
 *
 * Needs root and iproute2 (`ip netns`, veth); {@link netnsMissing} says why
 * not otherwise.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { randomInt } from "node:crypto";
import { createInterface } from "node:readline";

const PREFIX = "kks";

function ip(args: string[]): { ok: boolean; out: string } {
  const r = spawnSync("ip", args, { encoding: "utf8" });
  return { ok: r.status === 0, out: `${r.stdout ?? ""}${r.stderr ?? ""}` };
}

let missing: string | undefined | null = null;

/** Why network namespaces cannot be made here, or undefined when they can. */
export function netnsMissing(): string | undefined {
  if (missing !== null) return missing;
  if (typeof process.getuid === "function" && process.getuid() !== 0) return (missing = "needs root to create a network namespace and a veth pair");
  const probe = `${PREFIX}-probe-${process.pid}`;
  const made = ip(["netns", "add", probe]);
  if (!made.ok) return (missing = `cannot create a network namespace (ip netns add: ${made.out.trim() || "ip not found"})`);
  ip(["netns", "del", probe]);
  const veth = ip(["link", "add", `${PREFIX}p${process.pid % 100000}`, "type", "veth", "peer", "name", `${PREFIX}q${process.pid % 100000}`]);
  if (!veth.ok) return (missing = `cannot create a veth pair (${veth.out.trim()})`);
  ip(["link", "del", `${PREFIX}p${process.pid % 100000}`]);
  return (missing = undefined);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Removes namespaces left by test processes that are gone. */
function sweep(): void {
  for (const line of ip(["netns", "list"]).out.split("\n")) {
    const m = new RegExp(`^(${PREFIX}-(\\d+)-\\d+)`).exec(line.trim());
    if (m && !alive(Number(m[2]))) ip(["netns", "del", m[1]!]);
  }
}

/** A network namespace with an IPv4 and an IPv6 address the host reaches. */
export interface Netns {
  readonly name: string;
  /** The namespace's addresses (servers listen there). */
  readonly ipv4: string;
  readonly ipv6: string;
  /** Runs `command` inside the namespace. */
  spawn(command: string, args: string[]): ChildProcess;
  /** Deletes the namespace (and so the veth pair). Idempotent. */
  close(): Promise<void>;
}

let counter = 0;

/** Creates a namespace; throws with `ip`'s message when a step fails (after undoing the others). */
export function createNetns(): Netns {
  sweep();
  const used = ip(["-o", "addr"]).out;
  let a = 0;
  let b = 0;
  for (let tries = 0; tries < 50; tries++) {
    a = randomInt(1, 255);
    b = randomInt(0, 64) * 4;
    if (!used.includes(`10.251.${a}.${b + 1}/`) && !used.includes(`10.251.${a}.${b + 2}/`)) break;
  }
  const n = ++counter;
  const name = `${PREFIX}-${process.pid}-${n}`;
  const host = `${PREFIX}h${process.pid % 100000}x${n}`.slice(0, 15);
  const peer = `${PREFIX}n${process.pid % 100000}x${n}`.slice(0, 15);
  const v6 = `fd6b:6b00:${a.toString(16)}:${b.toString(16)}::`;
  const steps: string[][] = [
    ["netns", "add", name],
    ["link", "add", host, "type", "veth", "peer", "name", peer],
    ["link", "set", peer, "netns", name],
    ["addr", "add", `10.251.${a}.${b + 1}/30`, "dev", host],
    ["-6", "addr", "add", `${v6}1/126`, "dev", host, "nodad"],
    ["link", "set", host, "up"],
    ["-n", name, "addr", "add", `10.251.${a}.${b + 2}/30`, "dev", peer],
    ["-n", name, "-6", "addr", "add", `${v6}2/126`, "dev", peer, "nodad"],
    ["-n", name, "link", "set", peer, "up"],
    ["-n", name, "link", "set", "lo", "up"],
  ];
  const close = async (): Promise<void> => {
    ip(["netns", "del", name]);
    ip(["link", "del", host]);
  };
  for (const step of steps) {
    const r = ip(step);
    if (!r.ok) {
      void close();
      throw new Error(`ip ${step.join(" ")}: ${r.out.trim()}`);
    }
  }
  return {
    name,
    ipv4: `10.251.${a}.${b + 2}`,
    ipv6: `${v6}2`,
    spawn: (command, args) => spawn("ip", ["netns", "exec", name, command, ...args], { stdio: ["pipe", "pipe", "inherit"] }),
    close,
  };
}

/** Reads a child's first stdout line matching `re`; rejects when it exits first. */
export function firstLine(child: ChildProcess, re: RegExp): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    const rl = createInterface({ input: child.stdout! });
    const onExit = (code: number | null): void => reject(new Error(`process exited with ${code} before printing ${re}`));
    child.once("exit", onExit);
    rl.on("line", (line) => {
      const m = re.exec(line);
      if (m === null) return;
      rl.close();
      child.off("exit", onExit);
      resolve(m);
    });
  });
}
