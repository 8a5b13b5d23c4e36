/**
 * The machinery behind `KubernetesRegistry` and `KubernetesDiscovery`: one
 * pool of shared informers (one per resource and namespace), the Kratos pod
 * source and the EndpointSlice source on top of it, sync waits bounded by the
 * sync timeout, and loop errors turned into `RegistryError`s that name what
 * is missing.
 *
 * - Kratos targets without a namespace read the watched namespaces (the
 *   `namespace` option, else the own one); their informers start on first use
 *   and run until `close()`. A target naming a namespace leases that
 *   namespace's informer (or the all-namespaces one, when watched) for as
 *   long as a watcher holds it.
 * - EndpointSlice targets lease the informer of their namespace (the own one
 *   by default) while a watcher holds it; `getService` holds it for the call.
 *
 * @module
 */
import type { Clock } from "../kube/clock.ts";
import type { KubeClient } from "../kube/client.ts";
import type { EndpointSliceRecord } from "../kube/endpoint-slice-record.ts";
import type { Informer } from "../kube/informer.ts";
import type { InformerErrorContext, InformerLease, InformerPool } from "../kube/informer-pool.ts";
import { createInformerPool } from "../kube/informer-pool.ts";
import type { PodRecord } from "../kube/pod-record.ts";
import type { ObjectRecord, ResourceDescriptor } from "../kube/resource.ts";
import { createTargetDiscovery, type ClosableDiscovery } from "./discovery.ts";
import { DEFAULT_MOVE_GRACE_MS, type AddressFamily } from "./endpoint-set.ts";
import { endpointSliceModel, serviceSliceResource, type SliceTargetOptions } from "./endpoint-slice-model.ts";
import { forbiddenError, RegistryError } from "./errors.ts";
import type { Selection } from "./kratos-codec.ts";
import { kratosPodResource } from "./kratos-pods.ts";
import { kratosPodModel, type SkippedPodHook } from "./pod-model.ts";
import { isForbidden, isUnauthorized } from "./registrar.ts";
import { createServiceHub, type Scope } from "./service-hub.ts";
import { ScopeCache, type OpenedScope } from "./scope-cache.ts";
import type { TargetScheme } from "./target.ts";
import type { Logger } from "../connect/logger.ts";
import type { TelemetryOptions } from "../connect/telemetry/otel-api.ts";
import { RegistryObserver } from "./registry-observer.ts";

/**
 * How long a first `getService`/`watch`/`start` waits for a watch's first
 * sync: 10 s, the default `WithTimeout` of go-kratos/kratos
 * `transport/grpc/resolver/discovery/builder.go`.
 */
export const DEFAULT_SYNC_TIMEOUT_MS = 10_000;

/** Options of {@link createDiscoveryEngine}. */
export interface DiscoveryEngineOptions {
  client(): Promise<KubeClient>;
  /** The own namespace (default of EndpointSlice targets and of the watched namespaces). */
  ownNamespace(client: KubeClient): string;
  /** Watched namespaces of Kratos targets without one: one, a list, or `"*"`; default the own namespace. */
  namespace?: string | readonly string[] | "*" | undefined;
  selection?: Selection | undefined;
  onError?: ((error: Error) => void) | undefined;
  onSkippedPod?: SkippedPodHook | undefined;
  /** OpenTelemetry instruments of the informers (relists, reconnects, events, lag, cache size). */
  telemetry?: TelemetryOptions | undefined;
  /** Log records: skipped pods, relists, reconnects, loop errors. */
  logger?: Logger | undefined;
  syncTimeoutMs?: number | undefined;
  clock: Clock;
  family?: AddressFamily | undefined;
  moveGraceMs?: number | undefined;
  defaultScheme?: TargetScheme | undefined;
  /** Called when a call finds the engine closed. */
  closedError(): RegistryError;
}

/** The engine: a discovery and a warm-up. */
export interface DiscoveryEngine {
  readonly discovery: ClosableDiscovery;
  /** Starts the watched namespaces' pod informers and waits for their first sync. */
  start(signal?: AbortSignal): Promise<void>;
  /** Stops every watcher and informer (not the client). */
  close(): Promise<void>;
}

function causeOf(e: unknown): unknown {
  return typeof e === "object" && e !== null && "cause" in e ? (e as { cause?: unknown }).cause : undefined;
}

/** Creates an engine; nothing is requested until it is used. */
export function createDiscoveryEngine(o: DiscoveryEngineOptions): DiscoveryEngine {
  const pods = kratosPodResource();
  const slices = serviceSliceResource();
  const failures = new Map<Informer<ObjectRecord>, Set<(e: RegistryError) => void>>();
  const lastErrors = new WeakMap<Informer<ObjectRecord>, Error>();
  let poolPromise: Promise<{ pool: InformerPool; client: KubeClient }> | undefined;
  let pinned: Promise<InformerLease<PodRecord>[]> | undefined;
  let closed = false;
  const observer = o.telemetry === undefined && o.logger === undefined ? undefined : new RegistryObserver({ telemetry: o.telemetry, logger: o.logger });
  const onSkippedPod: SkippedPodHook | undefined = observer === undefined ? o.onSkippedPod : (pod, reason) => {
    observer.skippedPod(pod, reason);
    o.onSkippedPod?.(pod, reason);
  };

  function onLoopError(e: Error, ctx: InformerErrorContext, identity: string | undefined): void {
    let reported: Error = e;
    const inner = causeOf(e) ?? e;
    if (isForbidden(inner) || isForbidden(e)) {
      const kind = (e as { kind?: unknown }).kind;
      reported = forbiddenError(
        { verb: kind === "list" ? "list" : "watch", resource: ctx.resource.resource, namespace: ctx.namespace, identity },
        isForbidden(e) ? e : inner,
      );
    } else if (isUnauthorized(inner) || isUnauthorized(e)) {
      reported = new RegistryError(
        "UNAUTHORIZED",
        `the Kubernetes API rejected the credentials${identity ? ` of ${identity}` : ""} (401 Unauthorized); check the token or kubeconfig user`,
        { cause: e },
      );
    }
    if (reported instanceof RegistryError) for (const fail of [...(failures.get(ctx.informer) ?? [])]) fail(reported);
    lastErrors.set(ctx.informer, reported);
    observer?.loopError(reported);
    try {
      o.onError?.(reported);
    } catch {
      // A throwing hook must not break the watch loop.
    }
  }

  function getPool(): Promise<{ pool: InformerPool; client: KubeClient }> {
    if (poolPromise === undefined) {
      poolPromise = (async () => {
        const client = await o.client();
        if (closed) throw o.closedError();
        const pool = createInformerPool({
          api: client,
          clock: o.clock,
          observer: observer === undefined ? undefined : (ctx) => observer.informer(ctx),
          onError: (e, ctx) => onLoopError(e, ctx, client.config.user),
        });
        return { pool, client };
      })();
      poolPromise.catch(() => (poolPromise = undefined));
    }
    return poolPromise;
  }

  function where(i: Informer<ObjectRecord>): string {
    return `${i.resource.resource} ${i.namespace === undefined ? "in all namespaces" : `in namespace ${i.namespace}`}`;
  }

  /** Waits until every informer synced, at most the sync timeout; rejects early on refusals. */
  async function waitSynced(informers: readonly Informer<ObjectRecord>[], signal: AbortSignal | undefined): Promise<void> {
    if (closed) throw o.closedError();
    signal?.throwIfAborted();
    const pending = informers.filter((i) => !i.synced);
    if (pending.length === 0) return;
    const ms = o.syncTimeoutMs ?? DEFAULT_SYNC_TIMEOUT_MS;
    const ac = new AbortController();
    const fail = (e: unknown): void => ac.abort(e);
    const timer = o.clock.setTimeout(() => {
      const late = pending.find((i) => !i.synced) ?? pending[0]!;
      const last = lastErrors.get(late);
      fail(new RegistryError("SYNC_TIMEOUT", `the watch of ${where(late)} did not finish its first sync within ${ms} ms${last ? `; last error: ${last.message}` : ""}`));
    }, ms);
    const onAbort = (): void => fail(signal?.reason);
    signal?.addEventListener("abort", onAbort, { once: true });
    for (const i of pending) {
      let set = failures.get(i);
      if (set === undefined) failures.set(i, (set = new Set()));
      set.add(fail);
    }
    try {
      for (const i of pending) await i.ready(ac.signal);
    } catch (e) {
      if (ac.signal.aborted) throw ac.signal.reason;
      if (closed) throw o.closedError();
      throw e;
    } finally {
      timer.cancel();
      signal?.removeEventListener("abort", onAbort);
      for (const i of pending) {
        const set = failures.get(i);
        set?.delete(fail);
        if (set?.size === 0) failures.delete(i);
      }
    }
  }

  function defaultNamespaces(client: KubeClient): (string | undefined)[] {
    const ns = o.namespace;
    if (ns === "*") return [undefined];
    if (typeof ns === "string" && ns !== "") return [ns];
    if (Array.isArray(ns) && ns.length > 0) return ns.includes("*") ? [undefined] : [...new Set(ns as string[])];
    return [o.ownNamespace(client)];
  }

  /** `scope` once its informers synced; on a failure the hold is given back. */
  async function syncedScope<R extends ObjectRecord>(scope: Scope<R>, signal: AbortSignal | undefined): Promise<Scope<R>> {
    try {
      await waitSynced(scope.parts.map((p) => p.view as unknown as Informer<ObjectRecord>), signal);
    } catch (e) {
      scope.release();
      throw e;
    }
    return scope;
  }

  /** The scope of `leases`: its parts, and a close that gives them back (`kept`: they stay with the engine, as the watched namespaces' do). */
  function leased<R extends ObjectRecord>(leases: readonly InformerLease<R>[], kept: boolean): OpenedScope<R> {
    return {
      parts: leases.map((l) => ({ view: l.informer, namespace: l.namespace })),
      close: kept ? () => {} : () => { for (const l of leases) l.release(); },
    };
  }

  function pinnedLeases(): Promise<InformerLease<PodRecord>[]> {
    if (pinned === undefined) {
      pinned = getPool().then(({ pool, client }) => defaultNamespaces(client).map((ns) => pool.acquire(pods, ns)));
      pinned.catch(() => (pinned = undefined));
    }
    return pinned;
  }

  // One scope per namespace and source, shared by every watched Service there.
  const podScopes = new ScopeCache<PodRecord>();
  const sliceScopes = new ScopeCache<EndpointSliceRecord>();

  const podHub = createServiceHub<PodRecord, undefined>({
    model: kratosPodModel({ selection: o.selection, onSkippedPod }),
    async scope(namespace, signal) {
      if (namespace === undefined) {
        const leases = await pinnedLeases();
        // "": the watched namespaces (a namespace name is never empty).
        return syncedScope(podScopes.acquire("", () => leased(leases, true)), signal);
      }
      const { pool } = await getPool();
      return syncedScope(podScopes.acquire(namespace, () => leased([pool.acquire(pods, namespace)], false)), signal);
    },
  });

  const sliceHub = createServiceHub<EndpointSliceRecord, SliceTargetOptions>({
    model: endpointSliceModel({ clock: o.clock, moveGraceMs: o.moveGraceMs ?? DEFAULT_MOVE_GRACE_MS }),
    async scope(namespace, signal) {
      const { pool, client } = await getPool();
      const ns = namespace ?? o.ownNamespace(client);
      return syncedScope(sliceScopes.acquire(ns, () => leased([pool.acquire(slices as ResourceDescriptor<EndpointSliceRecord>, ns)], false)), signal);
    },
  });

  const discovery = createTargetDiscovery({
    pods: podHub,
    slices: sliceHub,
    defaultScheme: o.defaultScheme,
    family: o.family,
    async onClose() {
      closed = true;
      const closing = new RegistryError("CLOSED", "the registry was closed");
      for (const set of failures.values()) for (const fail of [...set]) fail(closing);
      const p = await poolPromise?.catch(() => undefined);
      await p?.pool.close();
      observer?.close();
    },
  });

  return {
    discovery,
    async start(signal) {
      if (closed) throw o.closedError();
      const leases = await pinnedLeases();
      await waitSynced(leases.map((l) => l.informer as unknown as Informer<ObjectRecord>), signal);
    },
    async close() {
      await discovery.close();
      closed = true;
    },
  };
}
