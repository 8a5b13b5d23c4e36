/**
 * Playing the kubelet (and a little of the controllers) against a real
 * kube-apiserver that has neither: pods are created with a node name nobody
 * runs, their status is written through the `status` subresource, graceful
 * deletion leaves them terminating until the test finishes it, as a kubelet
 * would after the grace period.
 */
import type { Pod } from "../../src/kube/wire.ts";
import { makePod, type MakePodOptions } from "../../src/testing/index.ts";
import { expectOk, type Cluster } from "./real-cluster.ts";

/** The node our pods claim to run on (no kubelet: deletion stays graceful until {@link finishTermination}). */
export const FAKE_NODE = "kratos-kube-test-node";

const podsPath = (ns: string, name?: string): string => `/api/v1/namespaces/${ns}/pods${name === undefined ? "" : `/${name}`}`;

/**
 * The spec and metadata of `makePod` without what the apiserver sets itself
 * (status, uid, resourceVersion, managedFields, ownerReferences to objects
 * that do not exist).
 */
export function podForCreate(o: MakePodOptions & { nodeName?: string | null; serviceAccountName?: string }): Pod {
  const p = makePod(o);
  const { uid: _u, resourceVersion: _r, creationTimestamp: _c, managedFields: _m, ownerReferences: _o, generateName: _g, ...metadata } = p.metadata as Record<string, unknown>;
  const spec = { ...(p.spec as Record<string, unknown>) };
  if (o.nodeName === null) delete spec.nodeName;
  else spec.nodeName = o.nodeName ?? FAKE_NODE;
  if (o.serviceAccountName !== undefined) spec.serviceAccountName = o.serviceAccountName;
  return { apiVersion: "v1", kind: "Pod", metadata, spec } as unknown as Pod;
}

/** What the kubelet reports. */
export interface KubeletStatus {
  phase?: "Pending" | "Running" | "Succeeded" | "Failed";
  /** Pod IPs (first is `podIP`); none = no IP yet. */
  ips?: string[];
  ready?: boolean;
}

/** Writes status like a kubelet: phase, pod IPs, the Ready and ContainersReady conditions. */
export async function setStatus(c: Cluster, ns: string, name: string, s: KubeletStatus): Promise<Pod> {
  const now = new Date().toISOString().replace(/\.\d{3}Z$/, "Z");
  const ready = s.ready ?? true;
  const status: Record<string, unknown> = {
    phase: s.phase ?? "Running",
    conditions: [
      { type: "Initialized", status: "True", lastTransitionTime: now },
      { type: "Ready", status: ready ? "True" : "False", lastTransitionTime: now },
      { type: "ContainersReady", status: ready ? "True" : "False", lastTransitionTime: now },
      { type: "PodScheduled", status: "True", lastTransitionTime: now },
    ],
    hostIP: "127.0.0.1",
    hostIPs: [{ ip: "127.0.0.1" }],
    startTime: now,
  };
  if (s.ips !== undefined && s.ips.length > 0) {
    status.podIP = s.ips[0];
    status.podIPs = s.ips.map((ip) => ({ ip }));
  }
  const r = await expectOk(
    c.request({ method: "PATCH", path: `${podsPath(ns, name)}/status`, body: { status }, contentType: "application/merge-patch+json" }),
    `status of pod ${ns}/${name}`,
  );
  return r.json as Pod;
}

/** Creates a pod and, unless `status` is null, makes it Running (Ready, with `ip`). */
export async function runPod(
  c: Cluster,
  o: MakePodOptions & { namespace: string; nodeName?: string | null; serviceAccountName?: string },
  status: KubeletStatus | null = {},
): Promise<Pod> {
  const created = await expectOk(c.request({ method: "POST", path: podsPath(o.namespace), body: podForCreate(o) }), `create pod ${o.namespace}/${o.name}`);
  if (status === null) return created.json as Pod;
  const ips = status.ips ?? (o.ips ?? (o.ip === null || o.ip === undefined ? [] : [o.ip]));
  return await setStatus(c, o.namespace, o.name, { ...status, ips });
}

/** Graceful delete: the pod stays, with `deletionTimestamp`, until {@link finishTermination}. */
export async function terminate(c: Cluster, ns: string, name: string, graceSeconds = 30): Promise<Pod> {
  const r = await expectOk(
    c.request({ method: "DELETE", path: podsPath(ns, name), body: { kind: "DeleteOptions", apiVersion: "v1", gracePeriodSeconds: graceSeconds } }),
    `delete pod ${ns}/${name}`,
  );
  return r.json as Pod;
}

/** What the kubelet does when the containers have stopped: delete with grace 0. */
export async function finishTermination(c: Cluster, ns: string, name: string): Promise<void> {
  const r = await c.request({ method: "DELETE", path: podsPath(ns, name), body: { kind: "DeleteOptions", apiVersion: "v1", gracePeriodSeconds: 0 } });
  if (r.status !== 200 && r.status !== 404) throw new Error(`finish termination of ${ns}/${name}: HTTP ${r.status} ${r.text}`);
}

/** Merge-patches a pod's labels (null deletes a key). */
export async function patchLabels(c: Cluster, ns: string, name: string, labels: Record<string, string | null>): Promise<Pod> {
  const r = await expectOk(c.request({ method: "PATCH", path: podsPath(ns, name), body: { metadata: { labels } } }), `labels of ${ns}/${name}`);
  return r.json as Pod;
}

/** Creates (if needed) a ServiceAccount and returns a token for it from the TokenRequest API. */
export async function serviceAccountToken(
  c: Cluster,
  ns: string,
  sa: string,
  o: { expirationSeconds?: number; boundPod?: { name: string; uid: string } } = {},
): Promise<string> {
  const made = await c.request({ method: "POST", path: `/api/v1/namespaces/${ns}/serviceaccounts`, body: { metadata: { name: sa } } });
  if (made.status !== 201 && made.status !== 409) throw new Error(`create serviceaccount ${ns}/${sa}: HTTP ${made.status} ${made.text}`);
  const spec: Record<string, unknown> = { expirationSeconds: o.expirationSeconds ?? 3600 };
  if (o.boundPod) spec.boundObjectRef = { kind: "Pod", apiVersion: "v1", name: o.boundPod.name, uid: o.boundPod.uid };
  const r = await expectOk(
    c.request({ method: "POST", path: `/api/v1/namespaces/${ns}/serviceaccounts/${sa}/token`, body: { apiVersion: "authentication.k8s.io/v1", kind: "TokenRequest", spec } }),
    `token for ${ns}/${sa}`,
  );
  return String(r.json.status.token);
}

/** A subject of {@link grant}. */
export type Subject = { kind: "User"; name: string } | { kind: "ServiceAccount"; name: string; namespace: string };

/** Grants `verbs` on `resources` (core group unless `group`) in `ns` with a real Role and RoleBinding. */
export async function grant(
  c: Cluster,
  ns: string,
  subject: Subject,
  verbs: string[],
  resources: string[] = ["pods"],
  group = "",
): Promise<void> {
  const name = `grant-${subject.name}-${verbs.join("-")}`.replace(/[^a-z0-9-]/g, "-").slice(0, 60);
  await expectOk(
    c.request({
      method: "POST",
      path: `/apis/rbac.authorization.k8s.io/v1/namespaces/${ns}/roles`,
      body: { metadata: { name }, rules: [{ apiGroups: [group], resources, verbs }] },
    }),
    `role ${name}`,
  );
  const subj = subject.kind === "User" ? { kind: "User", apiGroup: "rbac.authorization.k8s.io", name: subject.name } : { kind: "ServiceAccount", name: subject.name, namespace: subject.namespace };
  await expectOk(
    c.request({
      method: "POST",
      path: `/apis/rbac.authorization.k8s.io/v1/namespaces/${ns}/rolebindings`,
      body: { metadata: { name }, roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name }, subjects: [subj] },
    }),
    `rolebinding ${name}`,
  );
  // The authorizer reads RBAC through an informer: a request right after the
  // binding may still be refused. Wait until a SubjectAccessReview allows it.
  const user = subject.kind === "User" ? subject.name : `system:serviceaccount:${subject.namespace}:${subject.name}`;
  const groups = subject.kind === "User" ? [] : ["system:serviceaccounts", `system:serviceaccounts:${subject.namespace}`, "system:authenticated"];
  for (let check = 1; ; check++) {
    const review = await expectOk(
      c.request({
        method: "POST",
        path: "/apis/authorization.k8s.io/v1/subjectaccessreviews",
        body: { apiVersion: "authorization.k8s.io/v1", kind: "SubjectAccessReview", spec: { user, groups, resourceAttributes: { namespace: ns, verb: verbs[0], group, resource: resources[0] } } },
      }),
      `access review for ${name}`,
    );
    if ((review.json as { status?: { allowed?: boolean } }).status?.allowed === true) return;
    if (check >= 300) throw new Error(`grant ${name}: the authorizer still refuses after ${check} reviews`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
