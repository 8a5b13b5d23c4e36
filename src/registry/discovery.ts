/**
 * The `Discovery` interface and the discovery over service hubs: a target
 * (`name`, `discovery:///name`, `discovery://ns/name`, `kubernetes:///svc.ns:port`)
 * is parsed, sent to the source of its scheme, and answered from that
 * source's shared, incrementally kept sets (see `service-hub.ts`).
 *
 * `getService` answers from the set in time proportional to that service;
 * watchers yield the current set as soon as the scope is synced (also `[]`),
 * then each change, coalesced (see `service-watcher.ts`). Changes that leave
 * every instance as it was (resourceVersion, status fields) do not count.
 *
 * @module
 */
import type { InformerState, InformerView, ObjectChange } from "../kube/informer.ts";
import type { PodRecord } from "../kube/pod-record.ts";
import type { AddressFamily } from "./endpoint-set.ts";
import type { SliceTargetOptions } from "./endpoint-slice-model.ts";
import { RegistryError } from "./errors.ts";
import type { ServiceInstance } from "./kratos-codec.ts";
import type { Selection } from "./kratos-codec.ts";
import { SERVICE_INDEX } from "./kratos-pods.ts";
import type { PodCacheView, PodChange } from "./pod-cache-view.ts";
import { kratosPodModel, type SkippedPodHook } from "./pod-model.ts";
import { createServiceHub, type Scope, type ServiceHub } from "./service-hub.ts";
import { CoalescingWatcher, type ServiceWatcher } from "./service-watcher.ts";
import { formatTarget, parseDiscoveryTarget, type DiscoveryTarget, type TargetScheme } from "./target.ts";

export type { ServiceWatcher } from "./service-watcher.ts";
export type { DiscoveryState } from "./service-hub.ts";
export type { SkippedPodHook } from "./pod-model.ts";

/** Options of {@link Discovery.getService} and {@link Discovery.watch}. */
export interface DiscoveryCallOptions {
  signal?: AbortSignal | undefined;
  /**
   * The full target, when the caller parsed the service name out of it (the
   * balancing transport passes `discovery://ns/svc` or `kubernetes:///…` here
   * and the service name as `name`); it takes precedence over `name`.
   */
  target?: string | undefined;
}

/** Finds service instances (Go Kratos's `registry.Discovery`, namespace-aware). */
export interface Discovery {
  /**
   * The instances of a target: a Kratos service name, `discovery:///name`,
   * `discovery://namespace/name`, or `kubernetes:///service.namespace:port`.
   * Waits for the first sync of the watch it needs (bounded by `signal` and
   * the sync timeout).
   */
  getService(name: string, options?: DiscoveryCallOptions): Promise<ServiceInstance[]>;
  /**
   * A watcher of a target (see {@link Discovery.getService}). Resolves once
   * the watch it needs is synced (bounded by `signal` and the sync timeout);
   * aborting `signal` later stops the watcher.
   */
  watch(name: string, options?: DiscoveryCallOptions): Promise<ServiceWatcher>;
}

/** A {@link Discovery} with a lifecycle: `close()` stops every watcher. */
export interface ClosableDiscovery extends Discovery {
  /** Stops every watcher; later calls reject with `CLOSED`. */
  close(): Promise<void>;
}

/** The sources a {@link createTargetDiscovery} dispatches to. */
export interface TargetDiscoveryOptions {
  /** Kratos services on Pods (`discovery://`). */
  readonly pods?: ServiceHub<undefined> | undefined;
  /** Kubernetes Services through EndpointSlices (`kubernetes://`). */
  readonly slices?: ServiceHub<SliceTargetOptions> | undefined;
  /** How a target without a scheme is read; default `discovery` (a Kratos service name). */
  readonly defaultScheme?: TargetScheme | undefined;
  /** Address families of EndpointSlice targets; default `dual`. */
  readonly family?: AddressFamily | undefined;
  /** Runs before every call (e.g. to start what the sources need); may throw. */
  readonly before?: (() => void) | undefined;
  /** Runs once on close, after every watcher stopped. */
  readonly onClose?: (() => Promise<void> | void) | undefined;
}

function closedError(): RegistryError {
  return new RegistryError("CLOSED", "the registry is closed");
}

/** A {@link ClosableDiscovery} over service hubs. */
export function createTargetDiscovery(o: TargetDiscoveryOptions): ClosableDiscovery {
  const watchers = new Set<CoalescingWatcher>();
  const family = o.family ?? "dual";
  let closed = false;

  function resolve(name: string, options: DiscoveryCallOptions | undefined): { t: DiscoveryTarget; hub: ServiceHub<unknown>; opts: unknown; key: string } {
    const t = parseDiscoveryTarget(options?.target ?? name, o.defaultScheme ?? "discovery");
    if (t.scheme === "discovery") {
      if (o.pods === undefined) throw new RegistryError("INVALID_TARGET", `${formatTarget(t)}: this discovery has no Kratos pod source`);
      return { t, hub: o.pods as ServiceHub<unknown>, opts: undefined, key: "" };
    }
    if (o.slices === undefined) throw new RegistryError("INVALID_TARGET", `${formatTarget(t)}: this discovery has no EndpointSlice source`);
    const opts: SliceTargetOptions = { port: t.port, family };
    return { t, hub: o.slices as ServiceHub<unknown>, opts, key: `${t.port ?? ""}\u0000${family}` };
  }

  return {
    async getService(name, options) {
      if (closed) throw closedError();
      o.before?.();
      const { t, hub, opts, key } = resolve(name, options);
      return hub.get(t.namespace, t.service, opts, key, options?.signal);
    },

    async watch(name, options) {
      if (closed) throw closedError();
      o.before?.();
      const signal = options?.signal;
      const { t, hub, opts, key } = resolve(name, options);
      const handle = await hub.watch(t.namespace, t.service, opts, key, signal);
      if (closed) {
        handle.release();
        throw closedError();
      }
      const w = new CoalescingWatcher(formatTarget(t), handle);
      handle.onChange(() => w.notify());
      watchers.add(w);
      // Only with a signal: a watcher lives as long as its Service is watched, and so does all it holds.
      const onAbort = signal === undefined ? undefined : (): void => void w.stop();
      if (onAbort !== undefined) signal?.addEventListener("abort", onAbort, { once: true });
      w.setCleanup(() => {
        if (onAbort !== undefined) signal?.removeEventListener("abort", onAbort);
        watchers.delete(w);
        handle.release();
      });
      if (signal?.aborted) {
        await w.stop();
        throw signal.reason;
      }
      return w;
    },

    async close() {
      if (closed) return;
      closed = true;
      for (const w of [...watchers]) await w.stop();
      o.pods?.close();
      o.slices?.close();
      await o.onClose?.();
    },
  };
}

/** Options of {@link createDiscovery}. */
export interface DiscoveryOptions {
  /** Resolves to the synced view, starting the shared cache if needed; rejects on timeout or abort. */
  synced(signal?: AbortSignal): Promise<PodCacheView>;
  /** Which pods count; default `"ready"`. */
  selection?: Selection | undefined;
  /** Called once per malformed pod version. */
  onSkippedPod?: SkippedPodHook | undefined;
}

/** A pod cache view seen as an informer view (the parts Kratos discovery reads). */
function asInformer(view: PodCacheView): InformerView<PodRecord> {
  const state = (): InformerState => (view as { state?: InformerState }).state ?? (view.synced ? "synced" : "unsynced");
  return {
    get synced() {
      return view.synced;
    },
    get state() {
      return state();
    },
    ready: (signal) => view.ready(signal),
    get: () => undefined,
    size: 0,
    values: () => [][Symbol.iterator](),
    byIndex: (index, value) => (index === SERVICE_INDEX ? view.byApp(value) : []),
    subscribe: (listener) =>
      view.subscribe((changes: readonly PodChange[]) =>
        listener(changes.map((c): ObjectChange<PodRecord> => (c.type === "modified" ? { type: c.type, object: c.pod, old: c.old } : { type: c.type, object: c.pod })))
      ),
  };
}

/**
 * Kratos discovery over one pod cache view (for tests and custom caches):
 * `discovery://ns/name` targets read only that namespace of the view.
 */
export function createDiscovery(options: DiscoveryOptions): ClosableDiscovery {
  const views = new WeakMap<PodCacheView, InformerView<PodRecord>>();
  const pods = createServiceHub<PodRecord, undefined>({
    model: kratosPodModel({ selection: options.selection, onSkippedPod: options.onSkippedPod }),
    async scope(namespace, signal): Promise<Scope<PodRecord>> {
      const view = await options.synced(signal);
      let iv = views.get(view);
      if (iv === undefined) views.set(view, (iv = asInformer(view)));
      return { parts: [{ view: iv, namespace }], release: () => {} };
    },
  });
  return createTargetDiscovery({ pods });
}
