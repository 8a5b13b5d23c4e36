/**
 * The real control plane for tests: a shared etcd + kube-apiserver for the
 * whole `npm test` run (started by scripts/test-all.mjs, passed in
 * KRATOS_KUBE_REAL_APISERVER), or one of this process's own when a file runs
 * alone, plus the pieces of a kubelet the suites need (see kubelet.ts).
 *
 * Skips: locally, a suite skips with the build command when the binaries are
 * missing. In CI (CI=true) it never skips: a missing binary fails the test.
 */
import { readFileSync } from "node:fs";
import { controlPlaneMissing, KUBERNETES_VERSION } from "../../scripts/k8s/paths.ts";
import { randomBytes } from "node:crypto";
import { createApiClient, type ApiAnswer } from "../../scripts/k8s/api-client.ts";
import { startControlPlane, type ControlPlane, type ControlPlaneOptions, type StaticUser } from "../../scripts/k8s/control-plane.ts";

export type { ApiAnswer, ControlPlane } from "../../scripts/k8s/control-plane.ts";

/** What scripts/k8s/serve.ts writes for the test processes. */
export interface SharedInfo {
  url: string;
  caPem: string;
  adminToken: string;
  users: Record<"alice" | "bob" | "carol", StaticUser>;
  version: string;
  dir: string;
}

/** A control plane without process control (the shared one). */
export type Cluster = Pick<ControlPlane, "url" | "caPem" | "adminToken" | "users" | "version" | "dir" | "kubeconfig" | "request">;

/**
 * Why the real-apiserver suites cannot run here, or undefined when they can.
 * Under CI=true this is always undefined: the suites run and fail loudly.
 */
export function realSkip(version: string = KUBERNETES_VERSION): string | undefined {
  if (process.env.KRATOS_KUBE_REAL_APISERVER && version === KUBERNETES_VERSION) return undefined;
  const missing = controlPlaneMissing(version);
  if (missing === undefined) return undefined;
  if (process.env.CI === "true") return undefined;
  return `real kube-apiserver v${version}: ${missing}`;
}

let shared: Promise<Cluster> | undefined;
let own: ControlPlane | undefined;

/**
 * The shared control plane of this run. Tests isolate themselves by
 * namespace (see {@link newNamespace}); a test that restarts or reconfigures
 * the server uses {@link privateControlPlane} instead.
 */
export function sharedCluster(): Promise<Cluster> {
  shared ??= (async () => {
    const file = process.env.KRATOS_KUBE_REAL_APISERVER;
    if (file) return fromInfo(JSON.parse(readFileSync(file, "utf8")) as SharedInfo);
    own = await startControlPlane();
    return own;
  })();
  return shared;
}

/** Stops this process's own control plane, if it started one (call from a file-level `after`). */
export async function releaseSharedCluster(): Promise<void> {
  const p = own;
  own = undefined;
  shared = undefined;
  await p?.close();
}

/** A control plane of this test's own, for restarts and special flags. */
export async function privateControlPlane(options: ControlPlaneOptions = {}): Promise<ControlPlane> {
  return await startControlPlane(options);
}

function fromInfo(info: SharedInfo): Cluster {
  return { ...info, ...createApiClient(info) };
}

let nsCounter = 0;

/** Creates a namespace with a unique name (`<prefix>-<random>`) and returns its name. */
export async function newNamespace(c: Cluster, prefix: string): Promise<string> {
  const name = `${prefix}-${process.pid.toString(36)}-${(++nsCounter).toString(36)}-${randomBytes(2).toString("hex")}`.slice(0, 63);
  await expectOk(c.request({ method: "POST", path: "/api/v1/namespaces", body: { metadata: { name } } }), `create namespace ${name}`);
  return name;
}

/** Throws with the apiserver's answer unless it is 2xx. */
export async function expectOk(p: Promise<ApiAnswer>, what: string): Promise<ApiAnswer> {
  const r = await p;
  if (r.status < 200 || r.status > 299) throw new Error(`${what}: HTTP ${r.status} ${r.text.slice(0, 800)}`);
  return r;
}
