/**
 * Running the real kubectl in tests, against the fake API server or a real
 * kube-apiserver through the same interface, so that one kubectl test runs
 * against both: a backend gives kubeconfigs for an admin, a restricted reader
 * and an unknown token, namespaces, running pods, and reads pods back.
 * Requests are observed from kubectl's own `-v=6` log, the same for both.
 */
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Pod } from "../../src/kube/wire.ts";
import { FakeKubeApiServer, makePod, type TokenGrant } from "../../src/testing/index.ts";
import { grant, runPod } from "./kubelet.ts";
import { newNamespace, type Cluster } from "./real-cluster.ts";

export const KUBECTL: string = process.env["KUBECTL"] ?? "kubectl";

/** Why kubectl tests cannot run here, or false. */
export const kubectlMissing: string | false = (() => {
  const r = spawnSync(KUBECTL, ["version", "--client"], { encoding: "utf8" });
  return r.status === 0 ? false : `kubectl is not installed (tried "${KUBECTL}"; set KUBECTL to its path)`;
})();

/** How long one kubectl invocation may take before the test kills it. */
const KUBECTL_DEADLINE_MS = 30_000;

export interface KubectlResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs kubectl asynchronously (a fake server shares this event loop) with a kill deadline; HOME is the kubeconfig's folder. */
export function kubectl(kubeconfig: string, args: string[], input?: string): Promise<KubectlResult> {
  const env = { PATH: process.env["PATH"] ?? "/usr/bin:/bin", HOME: join(kubeconfig, ".."), KUBECTL_COMMAND_HEADERS: "false" };
  return new Promise((resolve, reject) => {
    const child = spawn(KUBECTL, ["--kubeconfig", kubeconfig, "--request-timeout=20s", ...args], { env, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`kubectl ${args.join(" ")} did not finish within ${KUBECTL_DEADLINE_MS} ms; stderr: ${stderr}`));
    }, KUBECTL_DEADLINE_MS);
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(input ?? "");
  });
}

/** One request from kubectl's `-v=6` log. */
export interface LoggedCall {
  method: string;
  path: string;
  query: URLSearchParams;
  status: number;
}

/** The requests kubectl logged at `-v=6` (`round_trippers.go] GET https://… 200 OK`). */
export function loggedCalls(stderr: string): LoggedCall[] {
  return [...stderr.matchAll(/round_trippers\.go:\d+\] (\w+) (\S+) (\d{3})/g)].map((m) => {
    const u = new URL(m[2]!);
    return { method: m[1]!, path: u.pathname, query: u.searchParams, status: Number(m[3]) };
  });
}

/** A server kubectl runs against. */
export interface KubectlBackend {
  readonly name: string;
  /** Whether the server checks tokens (a reader and an unknown token exist). */
  readonly authenticates: boolean;
  /** The reader's user name in 403 messages. */
  readonly readerUser: string;
  start(): Promise<void>;
  close(): Promise<void>;
  /** A kubeconfig for `who`, defaulting to `namespace`. */
  kubeconfig(who: "admin" | "reader" | "stranger", namespace: string): string;
  /** A fresh namespace; the reader may get, list and watch pods in it. */
  namespace(prefix: string): Promise<string>;
  /** Creates a running pod (Ready, with `ip`). */
  runPod(namespace: string, name: string, app: string, ip: string): Promise<void>;
  pod(namespace: string, name: string): Promise<Pod | undefined>;
}

let counter = 0;

/** The fake API server, over plain HTTP without authentication or over TLS with tokens. */
export function fakeBackend(o: { tls: boolean }): KubectlBackend & { readonly server: FakeKubeApiServer } {
  const readerNamespaces: string[] = [];
  const tokens: Record<string, TokenGrant> | undefined = o.tls
    ? { "admin-token": { user: "admin" }, "reader-token": { user: "system:serviceaccount:default:reader", verbs: ["get", "list", "watch"], namespaces: readerNamespaces } }
    : undefined;
  const server = new FakeKubeApiServer(tokens ? { tokens } : {});
  const dir = mkdtempSync(join(tmpdir(), "kratos-kube-kubectl-"));
  return {
    name: o.tls ? "the fake API server (TLS, bearer tokens)" : "the fake API server (http, anonymous)",
    authenticates: o.tls,
    readerUser: "system:serviceaccount:default:reader",
    server,
    async start() {
      await server.listen(o.tls ? { tls: true } : {});
    },
    async close() {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
    kubeconfig(who, namespace) {
      const token = !o.tls ? undefined : who === "admin" ? "admin-token" : who === "reader" ? "reader-token" : "not-a-token";
      const path = join(dir, `${who}-${namespace}.kubeconfig`);
      writeFileSync(path, server.kubeconfig({ namespace, ...(token ? { token } : {}) }));
      return path;
    },
    async namespace(prefix) {
      const ns = `${prefix}-${++counter}`;
      readerNamespaces.push(ns);
      return ns;
    },
    async runPod(namespace, name, app, ip) {
      server.createPod(makePod({ name, namespace, app, ip }));
    },
    async pod(namespace, name) {
      return server.getPod(namespace, name);
    },
  };
}

/** A real kube-apiserver: the admin, alice as the reader (a Role per namespace), a token nobody issued. */
export function realBackend(cluster: () => Promise<Cluster>): KubectlBackend {
  let c: Cluster;
  return {
    name: "a real kube-apiserver",
    authenticates: true,
    readerUser: "alice",
    async start() {
      c = await cluster();
    },
    async close() {},
    kubeconfig(who, namespace) {
      const token = who === "admin" ? c.adminToken : who === "reader" ? c.users.alice.token : "kratos-kube-not-a-token";
      return c.kubeconfig(token, namespace);
    },
    async namespace(prefix) {
      const ns = await newNamespace(c, prefix);
      await grant(c, ns, { kind: "User", name: "alice" }, ["get", "list", "watch"]);
      return ns;
    },
    async runPod(namespace, name, app, ip) {
      await runPod(c, { namespace, name, app, ip });
    },
    async pod(namespace, name) {
      const r = await c.request({ path: `/api/v1/namespaces/${namespace}/pods/${name}` });
      return r.status === 200 ? (r.json as Pod) : undefined;
    },
  };
}
