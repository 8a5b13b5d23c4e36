/**
 * What the demo does to Pods while it plays the kubelet and the ReplicaSet:
 * on the embedded fake API server through its own methods, or on a real
 * kube-apiserver that runs no kubelet, scheduler or controllers (a test
 * control plane such as the one `npm run demo -- --apiserver real` starts)
 * through ordinary requests: create the Pod on a node no kubelet runs, write
 * its status, delete it gracefully, then finish the deletion.
 *
 * @module
 */
import { createKubeClient, KubeApiError, type KubeClient, type KubeConfig } from "../../src/kube/index.ts";
import type { Pod } from "../../src/kube/index.ts";
import { FakeKubeApiServer, makePod, type MakePodOptions } from "../../src/testing/index.ts";

/** The Pod operations of the demo. */
export interface PodControl extends AsyncDisposable {
  /** Where the API server is, e.g. `fake API server on http://127.0.0.1:…`. */
  readonly description: string;
  /** A config with the rights to do all of this (and to register). */
  readonly config: KubeConfig;
  /** Creates a Pod (not Ready yet). */
  create(o: MakePodOptions & { namespace: string }): Promise<void>;
  /** Writes the Ready condition, as the kubelet's readiness probe does. */
  setReady(namespace: string, name: string, ready: boolean): Promise<void>;
  /** Graceful deletion: the Pod stays, terminating, until {@link finishDeletion}. */
  deleteGracefully(namespace: string, name: string, graceSeconds: number): Promise<void>;
  /** The containers have stopped: the Pod goes (nothing when it is gone already). */
  finishDeletion(namespace: string, name: string): Promise<void>;
  close(): Promise<void>;
}

/**
 * The embedded fake API server on loopback. With `endpointSlices`, it also
 * keeps the EndpointSlices of Service `sayhello` (the pods labelled
 * `app.kubernetes.io/name: sayhello`, port `grpc`) in step with the pods, as
 * the endpointslice controller does, accepting the pods' loopback addresses
 * (the fake's documented `allowLoopbackEndpoints` relaxation).
 */
export async function fakePodControl(config: (url: string) => KubeConfig, o: { endpointSlices?: boolean } = {}): Promise<PodControl> {
  const fake = new FakeKubeApiServer({ allowLoopbackEndpoints: o.endpointSlices === true });
  if (o.endpointSlices === true) {
    fake.endpointSlices.mirror({ namespace: "default", name: "sayhello", selector: { "app.kubernetes.io/name": "sayhello" }, ports: [{ name: "grpc", targetPort: "grpc" }] });
  }
  const { url } = await fake.listen({ host: "127.0.0.1" });
  const close = (): Promise<void> => fake.close();
  return {
    description: `fake API server on ${url}`,
    config: config(url),
    async create(o) {
      fake.createPod(makePod(o));
    },
    async setReady(ns, name, ready) {
      fake.setReady(ns, name, ready);
    },
    async deleteGracefully(ns, name, grace) {
      fake.deletePod(ns, name, { gracePeriodSeconds: grace });
    },
    async finishDeletion(ns, name) {
      if (fake.getPod(ns, name) !== undefined) fake.finishDeletion(ns, name);
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}

const MERGE_PATCH = "application/merge-patch+json";

/** The node the demo's Pods claim to run on: no kubelet runs it, so deletion stays graceful. */
const DEMO_NODE = "kratos-kube-demo-node";

/** The Pod as a create request: what the apiserver sets itself left out. */
function forCreate(o: MakePodOptions): Pod {
  const p = makePod(o);
  const { uid: _u, resourceVersion: _r, creationTimestamp: _c, managedFields: _m, ownerReferences: _o, generateName: _g, ...metadata } = p.metadata as Record<string, unknown>;
  return { apiVersion: "v1", kind: "Pod", metadata, spec: { ...(p.spec as Record<string, unknown>), nodeName: DEMO_NODE } } as unknown as Pod;
}

/**
 * A real API server without a kubelet (its Pods would be scheduled and run by
 * real nodes otherwise), as an identity of `config` that may create, patch
 * (with `pods/status`) and delete Pods and list and watch them.
 */
export async function apiPodControl(config: KubeConfig, description: string): Promise<PodControl> {
  const client: KubeClient = createKubeClient({ config });
  const path = (ns: string, name?: string): string => `/api/v1/namespaces/${encodeURIComponent(ns)}/pods${name === undefined ? "" : `/${encodeURIComponent(name)}`}`;
  const close = (): Promise<void> => client.close();
  const status = (ready: boolean, ip: string): unknown => {
    const now = new Date().toISOString().replace(/\.\d{3}Z$/, "Z");
    const s = ready ? "True" : "False";
    return {
      status: {
        phase: "Running",
        podIP: ip,
        podIPs: [{ ip }],
        conditions: [
          { type: "Ready", status: s, lastTransitionTime: now },
          { type: "ContainersReady", status: s, lastTransitionTime: now },
        ],
      },
    };
  };
  const ips = new Map<string, string>();
  return {
    description,
    config,
    async create(o) {
      const pod = forCreate(o);
      await client.request("POST", path(o.namespace), { body: pod });
      const ip = typeof o.ip === "string" ? o.ip : "127.0.0.1";
      ips.set(`${o.namespace}/${o.name}`, ip);
      await client.request("PATCH", `${path(o.namespace, o.name)}/status`, { body: status(false, ip), contentType: MERGE_PATCH });
    },
    async setReady(ns, name, ready) {
      await client.request("PATCH", `${path(ns, name)}/status`, { body: status(ready, ips.get(`${ns}/${name}`) ?? "127.0.0.1"), contentType: MERGE_PATCH });
    },
    async deleteGracefully(ns, name, grace) {
      await client.request("DELETE", path(ns, name), { body: { kind: "DeleteOptions", apiVersion: "v1", gracePeriodSeconds: grace } });
    },
    async finishDeletion(ns, name) {
      try {
        await client.request("DELETE", path(ns, name), { body: { kind: "DeleteOptions", apiVersion: "v1", gracePeriodSeconds: 0 } });
      } catch (e) {
        if (!(e instanceof KubeApiError && e.status === 404)) throw e;
      }
      ips.delete(`${ns}/${name}`);
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}
