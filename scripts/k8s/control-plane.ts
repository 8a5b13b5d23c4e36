/**
 * Starts a real etcd + kube-apiserver on free loopback ports, the way
 * controller-runtime's envtest does (pkg/internal/testing/controlplane), and
 * tears them down again. Used by the real-apiserver test suites (one shared
 * instance per `npm test` run, see scripts/k8s/serve.ts; private ones for
 * tests that restart or reconfigure the server).
 *
 * - Authentication: a static token file (`--token-auth-file`) with an admin
 *   in `system:masters` and a few plain users, plus service-account tokens
 *   from the TokenRequest API (`--service-account-signing-key-file`).
 * - Authorization: RBAC only, so 403 texts come from the real authorizer.
 * - No controller-manager, scheduler or kubelet: the ServiceAccount admission
 *   plugin is off (no controller creates default service accounts) and tests
 *   play the kubelet through the pods' status subresource (`kubelet.ts`).
 * - Serving certificate: the apiserver's self-signed one from `--cert-dir`.
 *
 * Every child runs under a small shell guard that ends it when the guard's
 * stdin closes, so nothing outlives this process even if it is killed.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createApiClient, type ApiClient } from "./api-client.ts";
import { binDir, KUBERNETES_VERSION } from "./paths.ts";

export type { ApiAnswer, ApiClient, ApiRequest } from "./api-client.ts";

/** Options of {@link startControlPlane}. */
export interface ControlPlaneOptions {
  /** Kubernetes release (binaries from `binDir(version)`); default {@link KUBERNETES_VERSION}. */
  version?: string;
  /** Extra kube-apiserver flags, e.g. `--watch-cache=false`. */
  apiserverArgs?: string[];
  /** Where a child's output goes; default: kept in a ring buffer shown when start fails. */
  log?: (source: "etcd" | "kube-apiserver", line: string) => void;
  /** How long to wait for `/readyz`; default 120 s (a cold start on 2 loaded cores). */
  readyTimeoutMs?: number;
}

/** A plain user of the static token file. */
export interface StaticUser {
  readonly token: string;
  readonly user: string;
  readonly groups: readonly string[];
}

/** A running control plane. */
export interface ControlPlane extends ApiClient, AsyncDisposable {
  /** `https://127.0.0.1:<port>`. */
  readonly url: string;
  /** The serving certificate bundle the apiserver generated (trust it as the CA). */
  readonly caPem: string;
  /** The admin's bearer token (`system:masters`). */
  readonly adminToken: string;
  /** Plain users of the token file: `alice`, `bob`, `carol` (no rights until a test grants them). */
  readonly users: Readonly<Record<"alice" | "bob" | "carol", StaticUser>>;
  /** The release these binaries claim (`/version` gitVersion). */
  readonly version: string;
  /** The temporary folder holding etcd's data, the PKI and kubeconfigs. */
  readonly dir: string;
  /** Stops kube-apiserver (SIGTERM, as a rolling control-plane restart does) and starts it again on the same port. */
  restartApiserver(): Promise<void>;
  /** Stops kube-apiserver without starting it again. */
  stopApiserver(): Promise<void>;
  /** Starts a stopped kube-apiserver again. */
  startApiserver(): Promise<void>;
  /** Stops etcd (its data stays). */
  stopEtcd(): Promise<void>;
  /** Starts a stopped etcd on the same ports and data. */
  startEtcd(): Promise<void>;
  /** Stops both and removes the temporary folder. Idempotent. */
  close(): Promise<void>;
}

/** Finds a free TCP port on 127.0.0.1. */
export async function freePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const a = s.address();
      const port = typeof a === "object" && a !== null ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

// The guard: runs the program, ends it (TERM, then KILL after 10 s) when its
// own stdin reaches EOF, i.e. when the parent closes it or dies. (A
// background list of a non-interactive shell reads /dev/null unless it
// redirects explicitly, hence fd 3.)
const GUARD = [
  "exec 3<&0",
  '"$@" </dev/null 3<&- & p=$!',
  '(cat <&3 >/dev/null; kill -TERM $p 2>/dev/null; sleep 10; kill -KILL $p 2>/dev/null) &',
  "w=$!",
  "exec 3<&-",
  "wait $p; s=$?",
  "kill $w 2>/dev/null",
  "exit $s",
].join("\n");

interface Child {
  readonly process: ChildProcess;
  readonly exited: Promise<number | null>;
  /** SIGTERM (through the guard), as an orderly shutdown; resolves on exit. */
  stop(): Promise<void>;
  /** SIGKILL to the guard's whole process group; resolves on exit. */
  kill(): Promise<void>;
}

function startChild(name: "etcd" | "kube-apiserver", exe: string, args: string[], onLine: (l: string) => void): Child {
  const p = spawn("sh", ["-c", GUARD, "guard", exe, ...args], { stdio: ["pipe", "pipe", "pipe"], detached: true });
  let buf = "";
  const take = (d: Buffer): void => {
    buf += d.toString();
    let i: number;
    while ((i = buf.indexOf("\n")) >= 0) {
      onLine(buf.slice(0, i));
      buf = buf.slice(i + 1);
    }
  };
  p.stdout!.on("data", take);
  p.stderr!.on("data", take);
  const exited = new Promise<number | null>((resolve) => p.once("exit", (code) => resolve(code)));
  p.once("error", (e) => onLine(`${name}: ${e.message}`));
  return {
    process: p,
    exited,
    async stop() {
      p.stdin!.end();
      await exited;
    },
    async kill() {
      try {
        process.kill(-p.pid!, "SIGKILL");
      } catch {
        // already gone
      }
      await exited;
    },
  };
}

/**
 * Starts etcd and kube-apiserver; resolves once `/readyz` answers 200 and
 * `default` exists. Ports are picked free and then handed to the children, so
 * another process may take one in between: a start whose child exits early
 * is tried again on new ports (three times in all).
 */
export async function startControlPlane(options: ControlPlaneOptions = {}): Promise<ControlPlane> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(options);
    } catch (e) {
      if (attempt >= 3 || !(e instanceof EarlyExit)) throw e;
    }
  }
}

/** A child exited (or etcd never became healthy) during the start: worth another try on new ports. */
class EarlyExit extends Error {}

async function startOnce(options: ControlPlaneOptions): Promise<ControlPlane> {
  const version = options.version ?? KUBERNETES_VERSION;
  const bin = binDir(version);
  const dir = mkdtempSync(join(tmpdir(), "kratos-kube-k8s-"));
  const recent: string[] = [];
  const log = (source: "etcd" | "kube-apiserver", line: string): void => {
    if (options.log) options.log(source, line);
    recent.push(`${source}: ${line}`);
    if (recent.length > 60) recent.shift();
  };
  const [etcdClient, etcdPeer, securePort] = [await freePort(), await freePort(), await freePort()];
  const url = `https://127.0.0.1:${securePort}`;
  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  writeFileSync(join(dir, "sa.key"), privateKey.export({ type: "pkcs8", format: "pem" }));
  const token = (): string => randomBytes(24).toString("hex");
  const adminToken = token();
  const users = {
    alice: { token: token(), user: "alice", groups: [] },
    bob: { token: token(), user: "bob", groups: [] },
    carol: { token: token(), user: "carol", groups: [] },
  } satisfies Record<string, StaticUser>;
  writeFileSync(
    join(dir, "tokens.csv"),
    [`${adminToken},admin,admin-uid,"system:masters"`, ...Object.values(users).map((u) => `${u.token},${u.user},${u.user}-uid`)].join("\n") + "\n",
    { mode: 0o600 },
  );
  const etcdArgs = [
    `--name=default`,
    `--data-dir=${join(dir, "etcd")}`,
    `--listen-client-urls=http://127.0.0.1:${etcdClient}`,
    `--advertise-client-urls=http://127.0.0.1:${etcdClient}`,
    `--listen-peer-urls=http://127.0.0.1:${etcdPeer}`,
    `--initial-advertise-peer-urls=http://127.0.0.1:${etcdPeer}`,
    `--initial-cluster=default=http://127.0.0.1:${etcdPeer}`,
    "--unsafe-no-fsync",
    "--log-level=warn",
  ];
  const apiArgs = [
    `--etcd-servers=http://127.0.0.1:${etcdClient}`,
    "--bind-address=127.0.0.1",
    "--advertise-address=127.0.0.1",
    `--secure-port=${securePort}`,
    `--cert-dir=${join(dir, "pki")}`,
    "--service-cluster-ip-range=10.0.0.0/24",
    `--service-account-issuer=${url}`,
    `--service-account-key-file=${join(dir, "sa.key")}`,
    `--service-account-signing-key-file=${join(dir, "sa.key")}`,
    `--token-auth-file=${join(dir, "tokens.csv")}`,
    "--authorization-mode=RBAC",
    "--disable-admission-plugins=ServiceAccount",
    "--endpoint-reconciler-type=none",
    "--v=0",
    ...(options.apiserverArgs ?? []),
  ];
  let etcd: Child | undefined;
  let apiserver: Child | undefined;
  let closed = false;
  let caPem = "";

  const client = createApiClient({
    url,
    get caPem() {
      return caPem;
    },
    adminToken,
    dir,
  });
  const request = client.request;

  const startEtcd = async (): Promise<void> => {
    const child = startChild("etcd", join(bin, "etcd"), etcdArgs, (l) => log("etcd", l));
    etcd = child;
    let gone = false;
    void child.exited.then(() => (gone = true));
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      if (gone) throw new EarlyExit(`etcd exited during start:\n${recent.join("\n")}`);
      const ok = await fetch(`http://127.0.0.1:${etcdClient}/health`).then((r) => r.ok, () => false);
      if (ok) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new EarlyExit(`etcd not healthy after 30 s:\n${recent.join("\n")}`);
  };
  const waitReady = async (): Promise<void> => {
    const deadline = Date.now() + (options.readyTimeoutMs ?? 120_000);
    let last = "no answer yet";
    const child = apiserver!;
    let gone = false;
    void child.exited.then(() => (gone = true));
    while (Date.now() < deadline) {
      if (gone) throw new EarlyExit(`kube-apiserver exited during start:\n${recent.join("\n")}`);
      try {
        if (caPem === "") caPem = readFileSync(join(dir, "pki", "apiserver.crt"), "utf8");
        const r = await request({ path: "/readyz" });
        if (r.status === 200) {
          const ns = await request({ path: "/api/v1/namespaces/default" });
          if (ns.status === 200) return;
          last = `namespace default: ${ns.status}`;
        } else last = `readyz ${r.status}: ${r.text.slice(0, 500)}`;
      } catch (e) {
        last = e instanceof Error ? e.message : String(e);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`kube-apiserver not ready after ${options.readyTimeoutMs ?? 120_000} ms (${last}):\n${recent.join("\n")}`);
  };
  const startApiserver = async (): Promise<void> => {
    apiserver = startChild("kube-apiserver", join(bin, "kube-apiserver"), apiArgs, (l) => log("kube-apiserver", l));
    await waitReady();
  };
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    await apiserver?.kill();
    await etcd?.kill();
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    await startEtcd();
    await startApiserver();
  } catch (e) {
    await close();
    throw e;
  }
  const v = await request({ path: "/version" });
  const plane: ControlPlane = {
    url,
    get caPem() {
      return caPem;
    },
    adminToken,
    users,
    version: String(v.json?.gitVersion ?? "unknown"),
    dir,
    kubeconfig: client.kubeconfig,
    request,
    async restartApiserver() {
      await apiserver?.stop();
      await startApiserver();
    },
    async stopApiserver() {
      await apiserver?.stop();
    },
    startApiserver,
    async stopEtcd() {
      await etcd?.stop();
    },
    startEtcd,
    close,
    [Symbol.asyncDispose]: close,
  };
  return plane;
}
