/**
 * The two sides of the differential suite: a `FakeKubeApiServer` listening on
 * loopback with the same tokens as the real control plane, and the real
 * kube-apiserver (the shared one of the run; plus, for the cases about
 * history that is gone, a private one whose etcd compacts every second and
 * whose watch cache was restarted once).
 */
import { FakeKubeApiServer } from "../../src/testing/index.ts";
import { privateControlPlane, type Cluster, type ControlPlane } from "../support/real-cluster.ts";
import { send } from "./http.ts";
import type { Target } from "./harness.ts";
import type { Who } from "./model.ts";

/** A token no server accepts. */
const STRANGER = "kratos-kube-differential-unknown-token";

function tokensOf(c: Pick<Cluster, "adminToken" | "users">): Record<Who, string | undefined> {
  return { admin: c.adminToken, alice: c.users.alice.token, nobody: undefined, stranger: STRANGER };
}

/** How long the real side may take to compact a revision away (its compactor runs every second). */
const COMPACT_DEADLINE_MS = 30_000;

async function waitCompacted(t: Target, ns: string, rv: string): Promise<void> {
  const deadline = Date.now() + COMPACT_DEADLINE_MS;
  for (;;) {
    const a = await send(t.endpoint, { method: "GET", path: `/api/v1/namespaces/${ns}/pods?resourceVersion=${rv}&resourceVersionMatch=Exact`, token: t.tokens.admin! });
    if (a.status === 410) return;
    if (Date.now() > deadline) throw new Error(`${t.name}: revision ${rv} still readable after ${COMPACT_DEADLINE_MS} ms (HTTP ${a.status})`);
    // Polls the compactor's progress; the condition above decides, not the delay.
    await new Promise((r) => setTimeout(r, 250));
  }
}

/**
 * Starts the private control plane; a second try when the first fails (its
 * free ports are picked before the processes bind them, and on a busy
 * machine another process may take one in between).
 */
async function startWithRetry(): Promise<ControlPlane> {
  const options = { apiserverArgs: ["--etcd-compaction-interval=1s"] };
  try {
    return await privateControlPlane(options);
  } catch {
    return await privateControlPlane(options);
  }
}

/** The real side. `compacting` starts the private control plane on first use. */
export function realTarget(c: Cluster, closers: (() => Promise<unknown>)[]): Target {
  let compactingPlane: Promise<Target> | undefined;
  const target: Target = {
    name: "real",
    endpoint: { url: c.url, caPem: c.caPem },
    tokens: tokensOf(c),
    async makeNamespace(name) {
      const a = await send(target.endpoint, { method: "POST", path: "/api/v1/namespaces", body: { metadata: { name } }, token: c.adminToken });
      if (a.status !== 201) throw new Error(`real: namespace ${name}: HTTP ${a.status} ${a.text}`);
    },
    compacting() {
      compactingPlane ??= (async () => {
        const plane = await startWithRetry();
        closers.push(() => plane.close());
        // The watch caches relist at the current revision: older ones are too old for them.
        await plane.restartApiserver();
        const t: Target = {
          ...realTarget(plane, closers),
          compacting: async () => t,
          compact: (ns, rv) => waitCompacted(t, ns, rv),
        };
        return t;
      })();
      return compactingPlane;
    },
    compact() {
      return Promise.reject(new Error("the shared control plane does not compact on demand; use compacting()"));
    },
  };
  return target;
}

/** The fake side, listening on loopback over plain HTTP with the real side's tokens. */
export async function fakeTarget(real: Pick<Cluster, "adminToken" | "users">, closers: (() => Promise<unknown>)[]): Promise<{ target: Target; server: FakeKubeApiServer }> {
  const tokens = tokensOf(real);
  const server = new FakeKubeApiServer({
    // The real control plane has no kubelet: terminating pods stay.
    kubelet: false,
    tokens: {
      // As in the control plane's token file (scripts/k8s/control-plane.ts).
      [tokens.admin!]: { user: "admin", uid: "admin-uid" },
      [tokens.alice!]: { user: "alice", uid: "alice-uid", verbs: [] },
    },
  });
  await server.listen({ tls: false });
  const target: Target = {
    name: "fake",
    endpoint: { url: server.url! },
    tokens,
    makeNamespace: async () => {},
    // A fresh server for each case about history: compacting one must not disturb the others.
    async compacting() {
      const own = await fakeTarget(real, closers);
      closers.push(() => own.server.close());
      return own.target;
    },
    async compact() {
      server.faults.compact();
    },
  };
  return { target, server };
}
