/**
 * `FakeKubeApiServer.endpointSlices`: the fake API server's EndpointSlices
 * for tests (create, read, change and delete them directly, as `createPod`
 * and friends do for pods) and {@link FakeEndpointSlices.mirror}, which keeps
 * a Service's slices in step with its pods the way the control plane's
 * endpointslice controller does.
 *
 * @module
 */
import type { EndpointSlice, Pod } from "../kube/wire.ts";
import { reconcileService, type ServiceSpec } from "./endpoint-slice-controller.ts";
import { commitSliceUpdate, prepareSliceCreate, sliceWithKind, type SliceContext } from "./endpoint-slices.ts";
import { copyPod, podKey, type PodStore } from "./store.ts";

export type { ServicePortSpec, ServiceSpec } from "./endpoint-slice-controller.ts";

/** A Service whose slices follow its pods; see {@link FakeEndpointSlices.mirror}. */
export interface MirroredService {
  /** Brings the slices in step now (also done after every pod change unless `manual`). Throws when a write is refused. */
  reconcile(): void;
  /** The Service's slices, in name order. */
  readonly slices: EndpointSlice[];
  /** Writes refused while following pod changes (an address the apiserver rejects, e.g. loopback without `allowLoopbackEndpoints`). */
  readonly errors: readonly Error[];
  /** Stops following pod changes; the slices stay. */
  stop(): void;
}

function describe(body: unknown): string {
  const b = body as { message?: unknown; reason?: unknown };
  return typeof b?.message === "string" ? b.message : String(b?.reason ?? "refused");
}

/** The EndpointSlices of a fake API server. */
export class FakeEndpointSlices {
  readonly #ctx: SliceContext;
  readonly #pods: PodStore<Pod>;
  readonly #mirrors = new Set<() => void>();
  #counter = 0;

  /** Created by the server. */
  constructor(ctx: SliceContext, pods: PodStore<Pod>) {
    this.#ctx = ctx;
    this.#pods = pods;
  }

  /**
   * Stores a slice (defaults and validation as the apiserver applies them;
   * namespace `default` when unset). Throws with the apiserver's message
   * when it is refused, e.g. a loopback address without `allowLoopbackEndpoints`.
   */
  create(slice: EndpointSlice): EndpointSlice {
    const ns = slice.metadata?.namespace || "default";
    const s = prepareSliceCreate(this.#ctx, ns, slice);
    if ("code" in s) throw new Error(`endpointSlices.create: ${s.message ?? s.reason}`);
    return sliceWithKind(copyPod(this.#ctx.store.add(podKey(ns, s.metadata.name!), s)));
  }

  /** A copy of one slice. */
  get(ns: string, name: string): EndpointSlice | undefined {
    const s = this.#ctx.store.get(podKey(ns, name));
    return s && sliceWithKind(copyPod(s));
  }

  /** Copies of the slices of `ns` (or all), in key order. */
  list(ns?: string): EndpointSlice[] {
    return this.#ctx.store.sorted().filter(([, s]) => ns === undefined || s.metadata.namespace === ns).map(([, s]) => sliceWithKind(copyPod(s)));
  }

  /** Changes a slice through `mutate` (on a copy), as one update, and returns a copy of the result. Throws when missing or refused. */
  update(ns: string, name: string, mutate: (slice: EndpointSlice) => void): EndpointSlice {
    return copyPod(this.#update(ns, name, mutate));
  }

  /** {@link update} answering with the stored object's nested parts (not for callers outside). */
  #update(ns: string, name: string, mutate: (slice: EndpointSlice) => void): EndpointSlice {
    const current = this.#ctx.store.get(podKey(ns, name));
    if (current === undefined) throw new Error(`endpointSlices.update: ${ns}/${name} not found`);
    const next = copyPod(current);
    mutate(next);
    delete next.metadata.resourceVersion;
    const r = commitSliceUpdate(this.#ctx, current, next, name, false);
    if (r.status !== 200) throw new Error(`endpointSlices.update: ${describe(r.body)}`);
    return r.body as EndpointSlice;
  }

  /** Deletes a slice (DELETED). Throws when missing. */
  delete(ns: string, name: string): void {
    if (this.#ctx.store.remove(podKey(ns, name)) === undefined) throw new Error(`endpointSlices.delete: ${ns}/${name} not found`);
  }

  /**
   * Keeps the slices of the Service `spec` describes in step with the pods
   * (see `endpoint-slice-controller.ts`): at once, and after every pod change
   * unless `manual` (then call `reconcile()`). Slice writes follow the pod
   * write that caused them, each as its own watch event.
   */
  mirror(spec: ServiceSpec & { manual?: boolean }): MirroredService {
    const ns = spec.namespace ?? "default";
    const errors: Error[] = [];
    // The stored slices themselves (the controller only reads them); copies go out through `slices`.
    const own = (): EndpointSlice[] =>
      this.#ctx.store.sorted().map(([, s]) => s).filter((s) => s.metadata.namespace === ns && s.metadata.labels?.["kubernetes.io/service-name"] === spec.name);
    const slices = (): EndpointSlice[] => own().map((s) => sliceWithKind(copyPod(s)));
    const reconcile = (): void => {
      const pods = this.#pods.sorted().map(([, p]) => p);
      const writes = reconcileService(spec, pods, own(), () => `${spec.name}-${(++this.#counter).toString(36).padStart(5, "0")}`);
      for (const s of writes.create) this.create(s);
      for (const s of writes.update) this.#update(ns, s.metadata.name!, (cur) => Object.assign(cur, { endpoints: s.endpoints }));
      for (const s of writes.delete) this.delete(ns, s.metadata.name!);
    };
    let stopped = false;
    const unsubscribe = spec.manual === true
      ? () => {}
      : this.#pods.subscribe((e) => {
        if (stopped || e.object.metadata.namespace !== ns) return;
        try {
          reconcile();
        } catch (err) {
          errors.push(err instanceof Error ? err : new Error(String(err)));
        }
      });
    const stop = (): void => {
      stopped = true;
      unsubscribe();
      this.#mirrors.delete(stop);
    };
    this.#mirrors.add(stop);
    reconcile();
    return {
      reconcile,
      get slices() {
        return slices();
      },
      errors,
      stop,
    };
  }

  /** Stops every mirror (the server's `close()` calls it). */
  stopMirrors(): void {
    for (const stop of [...this.#mirrors]) stop();
  }
}

/** One endpoint of {@link makeEndpointSlice}. */
export interface MakeEndpointOptions {
  ip: string;
  /** Default true. */
  ready?: boolean;
  /** Default: `ready`. */
  serving?: boolean;
  /** Default false. */
  terminating?: boolean;
  /** `targetRef` to this Pod (same namespace). */
  pod?: string;
  nodeName?: string;
  zone?: string;
  hostname?: string;
  forZones?: string[];
  forNodes?: string[];
}

/** Options of {@link makeEndpointSlice}. */
export interface MakeEndpointSliceOptions {
  name: string;
  /** Default `default`. */
  namespace?: string;
  /** The `kubernetes.io/service-name` label. */
  service: string;
  /** Default: IPv6 when the first endpoint's IP has a colon, else IPv4. */
  addressType?: "IPv4" | "IPv6" | "FQDN";
  endpoints: MakeEndpointOptions[];
  ports?: { name?: string; port: number; protocol?: string; appProtocol?: string }[];
  /** Default the endpointslice controller's. */
  managedBy?: string;
}

/** An EndpointSlice as the endpointslice controller writes one, for `endpointSlices.create`. */
export function makeEndpointSlice(o: MakeEndpointSliceOptions): EndpointSlice {
  const ns = o.namespace ?? "default";
  return {
    metadata: {
      name: o.name,
      namespace: ns,
      labels: { "kubernetes.io/service-name": o.service, "endpointslice.kubernetes.io/managed-by": o.managedBy ?? "endpointslice-controller.k8s.io" },
    },
    addressType: o.addressType ?? (o.endpoints[0]?.ip.includes(":") ? "IPv6" : "IPv4"),
    endpoints: o.endpoints.map((e) => {
      const ready = e.ready ?? true;
      return {
        addresses: [e.ip],
        conditions: { ready, serving: e.serving ?? ready, terminating: e.terminating ?? false },
        ...(e.hostname !== undefined ? { hostname: e.hostname } : {}),
        ...(e.pod !== undefined ? { targetRef: { kind: "Pod", namespace: ns, name: e.pod } } : {}),
        ...(e.nodeName !== undefined ? { nodeName: e.nodeName } : {}),
        ...(e.zone !== undefined ? { zone: e.zone } : {}),
        ...(e.forZones !== undefined || e.forNodes !== undefined
          ? { hints: { ...(e.forZones ? { forZones: e.forZones.map((name) => ({ name })) } : {}), ...(e.forNodes ? { forNodes: e.forNodes.map((name) => ({ name })) } : {}) } }
          : {}),
      };
    }),
    ports: (o.ports ?? []).map((p) => ({ name: p.name ?? "", protocol: p.protocol ?? "TCP", port: p.port, ...(p.appProtocol ? { appProtocol: p.appProtocol } : {}) })),
  };
}
