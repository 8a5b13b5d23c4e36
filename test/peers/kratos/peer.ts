/**
 * Runs the Go Kratos test peer (main.go in this folder: Kratos v2 with its
 * own Kubernetes registry, built by scripts/build-peers.mjs) for the interop
 * tests, as a server in a Pod or as a client.
 *
 * The Kratos registry finds its namespace only in
 * /var/run/secrets/kubernetes.io/serviceaccount/namespace, read once when
 * the process starts. A server therefore runs in a mount namespace of its
 * own (`unshare -m`, util-linux) with a private tmpfs over /run (the target
 * of /var/run) that holds just that file: the machine's own /run is never
 * touched, and the mount disappears with the process. The process id is the
 * peer's own (unshare and sh exec), so signals reach Kratos directly.
 *
 * Every peer ends when its stdin closes, so none outlives the test process;
 * {@link KratosPeers.close} (or `await using`) stops whatever is left.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import { buildPeer, goMissing } from "../../../scripts/build-peers.mjs";

/** A service instance as Go's `registry.ServiceInstance` holds it. */
export interface GoInstance {
  id: string;
  name: string;
  version: string;
  metadata: Record<string, string> | null;
  endpoints: string[] | null;
}

/** The answer to one `call`: the reply, or the gRPC status code name and message. */
export type CallResult = { reply: string } | { code: string; message: string };

/** Builds the peer if missing or its sources changed; throws with the compiler output on failure. */
export function buildKratosPeer(): string {
  return buildPeer("kratos").path;
}

const NAMESPACE_SCRIPT = [
  "set -e",
  'd=$(readlink -f /var/run)',
  'mount -t tmpfs -o size=64k,mode=755 kratos-kube-peer "$d"',
  'mkdir -p "$d/secrets/kubernetes.io/serviceaccount"',
  'printf %s "$KRATOS_KUBE_PEER_NAMESPACE" > "$d/secrets/kubernetes.io/serviceaccount/namespace"',
  'exec "$0" "$@"',
].join("\n");

let mountProbe: string | undefined | null = null;

/** Why a Go Kratos server cannot get a namespace file here (no mount namespaces), or undefined. */
export function mountNamespaceMissing(): string | undefined {
  if (mountProbe !== null) return mountProbe;
  const r = spawnSync("unshare", ["-m", "sh", "-c", NAMESPACE_SCRIPT, "cat", "/var/run/secrets/kubernetes.io/serviceaccount/namespace"], {
    encoding: "utf8",
    env: { ...process.env, KRATOS_KUBE_PEER_NAMESPACE: "probe" },
  });
  mountProbe = r.status === 0 && r.stdout === "probe"
    ? undefined
    : `no private mount namespace for the Go Kratos peer's namespace file (\`unshare -m\` + tmpfs needs util-linux and CAP_SYS_ADMIN): ${(r.error?.message ?? r.stderr).trim()}`;
  return mountProbe;
}

/** Why the Go Kratos peers cannot run here, or undefined when they can. */
export function kratosPeerMissing(): string | undefined {
  return goMissing() ?? mountNamespaceMissing();
}

/** Options of {@link KratosPeers.server}. */
export interface KratosServerOptions {
  kubeconfig: string;
  /** The namespace the peer believes it runs in (its namespace file). */
  namespace: string;
  /** The Pod it registers (`$HOSTNAME`). */
  podName: string;
  /** gRPC listen address, e.g. `127.0.0.2:9000`; it is also the registered endpoint. */
  addr: string;
  name?: string;
  version?: string;
  metadata?: Record<string, string>;
  /** Instance id; default Kratos's own (a UUID). */
  id?: string;
}

/** A running Go Kratos server. */
export interface KratosServer {
  readonly pid: number;
  /** The endpoints Kratos registered (from its `READY` line). */
  readonly endpoints: readonly string[];
  /**
   * SIGTERM: Kratos deregisters, then health NOT_SERVING and GracefulStop.
   * Resolves once gone: true when Kratos's App.Run returned without error (`STOPPED`).
   */
  stop(): Promise<boolean>;
  /** SIGKILL; resolves once gone. */
  kill(): Promise<void>;
  /** The peer's recent stderr (Kratos and client-go logs), for failure messages. */
  log(): string;
}

/** Options of {@link KratosPeers.client}. */
export interface KratosClientOptions {
  kubeconfig: string;
  /** The namespace its registry watches. */
  namespace: string;
  /** Per-call timeout (Kratos's default: 2 s), also the resolver's. */
  timeoutMs?: number;
}

/** A running Go Kratos client: each method sends one command and awaits its JSON answer. */
export interface KratosClient {
  /** SayHello through `discovery:///<service>`, once. */
  call(service: string): Promise<CallResult>;
  /** The Go registry's `GetService(service)` (from its informer cache). */
  getService(service: string): Promise<GoInstance[]>;
  /** Starts a Go `Watch(service)`; every update goes to `onUpdate`. */
  watch(service: string, onUpdate: (instances: GoInstance[]) => void): Promise<void>;
  /** Closes stdin and resolves once the client exited. */
  close(): Promise<void>;
  log(): string;
}

interface Proc {
  child: ChildProcess;
  exited: Promise<number | null>;
  gone: boolean;
  log: () => string;
}

function launch(cmd: string, args: string[], env: Record<string, string>): Proc {
  const child = spawn(cmd, args, { stdio: ["pipe", "pipe", "pipe"], env: { ...process.env, ...env } });
  const recent: string[] = [];
  createInterface({ input: child.stderr! }).on("line", (l) => {
    recent.push(l);
    if (recent.length > 40) recent.shift();
  });
  const p: Proc = {
    child,
    gone: false,
    exited: new Promise((resolve) => {
      child.once("exit", (code, signal) => {
        p.gone = true;
        resolve(code ?? (signal === null ? null : 128));
      });
      child.once("error", () => {
        p.gone = true;
        resolve(null);
      });
    }),
    log: () => recent.join("\n"),
  };
  child.stdin!.on("error", () => {}); // EPIPE after the peer died; its exit is reported instead
  return p;
}

function signalProc(p: Proc, signal: "SIGTERM" | "SIGKILL"): void {
  if (!p.gone) p.child.kill(signal);
}

/** Resolves the first stdout line that `pick` accepts; rejects when the process exits first. Every line goes to `onLine`. */
function firstLine(p: Proc, pick: (line: string) => boolean, what: string, onLine: (line: string) => void = () => {}): Promise<string> {
  return new Promise((resolve, reject) => {
    void p.exited.then((code) => reject(new Error(`Go Kratos peer exited (${code}) before ${what}:\n${p.log()}`)));
    createInterface({ input: p.child.stdout! }).on("line", (line) => {
      onLine(line);
      if (pick(line)) resolve(line);
    });
  });
}

/**
 * A group of Go Kratos peers: everything started through it is stopped by
 * {@link close}, so a test file's `after` hook (or `await using`) leaves no
 * process behind even when a test failed half-way.
 */
export class KratosPeers implements AsyncDisposable {
  readonly #procs = new Set<Proc>();
  readonly #binary: string;

  constructor() {
    this.#binary = buildKratosPeer();
  }

  #track(p: Proc): Proc {
    this.#procs.add(p);
    void p.exited.then(() => this.#procs.delete(p));
    return p;
  }

  /** Starts a server in its Pod; resolves once Kratos registered it (`READY`). */
  async server(o: KratosServerOptions): Promise<KratosServer> {
    const args = ["server", "-kubeconfig", o.kubeconfig, "-addr", o.addr, "-name", o.name ?? "helloworld", "-version", o.version ?? "v1"];
    if (o.metadata !== undefined) args.push("-metadata", Object.entries(o.metadata).map(([k, v]) => `${k}=${v}`).join(","));
    if (o.id !== undefined) args.push("-id", o.id);
    const p = this.#track(
      launch("unshare", ["-m", "sh", "-c", NAMESPACE_SCRIPT, this.#binary, ...args], { HOSTNAME: o.podName, KRATOS_KUBE_PEER_NAMESPACE: o.namespace }),
    );
    let stopped = false;
    const ready = await firstLine(p, (l) => l.startsWith("READY"), "READY", (l) => (stopped ||= l === "STOPPED")).catch(async (e: unknown) => {
      signalProc(p, "SIGKILL");
      await p.exited;
      throw e;
    });
    return {
      pid: p.child.pid!,
      endpoints: ready.split(" ").slice(1),
      stop: async () => {
        signalProc(p, "SIGTERM");
        await p.exited;
        // Deno reports any child it signalled as killed by that signal, whatever its
        // exit status, so a clean stop is told by the peer's own last line.
        return stopped;
      },
      kill: async () => {
        signalProc(p, "SIGKILL");
        await p.exited;
      },
      log: p.log,
    };
  }

  /** Starts a client; resolves once its registry's informer synced (`READY`). */
  async client(o: KratosClientOptions): Promise<KratosClient> {
    const args = ["client", "-kubeconfig", o.kubeconfig, "-namespace", o.namespace];
    if (o.timeoutMs !== undefined) args.push("-timeout", `${o.timeoutMs}ms`);
    const p = this.#track(launch(this.#binary, args, {}));
    const lines = createInterface({ input: p.child.stdout! });
    const pending: { resolve: (v: Record<string, unknown>) => void; reject: (e: Error) => void }[] = [];
    const watchers = new Map<string, (instances: GoInstance[]) => void>();
    let ready = false;
    const readyLine = new Promise<void>((resolve, reject) => {
      lines.on("line", (line) => {
        if (!ready) {
          if (line === "READY") {
            ready = true;
            resolve();
          }
          return;
        }
        const msg = JSON.parse(line) as Record<string, unknown>;
        if (msg.event === "watch") watchers.get(String(msg.service))?.(msg.instances as GoInstance[]);
        else pending.shift()?.resolve(msg);
      });
      void p.exited.then((code) => {
        const err = new Error(`Go Kratos client exited (${code}):\n${p.log()}`);
        reject(err);
        for (const w of pending.splice(0)) w.reject(err);
      });
    });
    await readyLine.catch(async (e: unknown) => {
      signalProc(p, "SIGKILL");
      await p.exited;
      throw e;
    });
    const send = (line: string): Promise<Record<string, unknown>> =>
      new Promise((resolve, reject) => {
        if (p.gone) return reject(new Error(`Go Kratos client is gone:\n${p.log()}`));
        pending.push({ resolve, reject });
        p.child.stdin!.write(`${line}\n`);
      });
    const failed = (cmd: string, m: Record<string, unknown>): Error => new Error(`Go Kratos client: ${cmd}: ${String(m.code)} ${String(m.message)}`);
    return {
      async call(service) {
        const m = await send(`call ${service}`);
        return typeof m.reply === "string" ? { reply: m.reply } : { code: String(m.code), message: String(m.message) };
      },
      async getService(service) {
        const m = await send(`getservice ${service}`);
        if (!Array.isArray(m.instances)) throw failed(`getservice ${service}`, m);
        return m.instances as GoInstance[];
      },
      async watch(service, onUpdate) {
        watchers.set(service, onUpdate);
        const m = await send(`watch ${service}`);
        if (m.code !== undefined) throw failed(`watch ${service}`, m);
      },
      async close() {
        p.child.stdin!.end();
        await p.exited;
      },
      log: p.log,
    };
  }

  /** Ends every peer still running: stdin closed and SIGTERM, SIGKILL after `graceMs`. */
  async close(graceMs = 5_000): Promise<void> {
    const procs = [...this.#procs];
    await Promise.all(
      procs.map(async (p) => {
        p.child.stdin!.end();
        signalProc(p, "SIGTERM");
        const timer = setTimeout(() => signalProc(p, "SIGKILL"), graceMs);
        await p.exited;
        clearTimeout(timer);
      }),
    );
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
