/**
 * `KubernetesRegistry`: Kratos-compatible registration and discovery on Pods,
 * over one shared pod cache created on first use.
 *
 * @module
 */
import { systemClock, type Clock } from "../kube/clock.ts";
import { createKubeClient, type KubeClient } from "../kube/client.ts";
import { configInternals, KubeConfig } from "../kube/config.ts";
import type { FetchLike } from "../kube/fetch-like.ts";
import { createPodCache, type PodCache } from "../kube/pod-cache.ts";
import { createDiscovery, type ClosableDiscovery, type Discovery, type ServiceWatcher, type SkippedPodHook } from "./discovery.ts";
import { forbiddenError, RegistryError } from "./errors.ts";
import type { Selection, ServiceInstance } from "./kratos-codec.ts";
import { createRegistrar, isForbidden, isUnauthorized, type PodIdentity, type Registrar, type RegistrationInstance } from "./registrar.ts";

/**
 * How long a first `getService`/`watch`/`start` waits for the pod cache's
 * first sync: 10 s, the default `WithTimeout` of go-kratos/kratos
 * `transport/grpc/resolver/discovery/builder.go`.
 */
export const DEFAULT_SYNC_TIMEOUT_MS = 10_000;

/** Options of {@link KubernetesRegistry}. */
export interface KubernetesRegistryOptions {
  /** Where the API is; default `await KubeConfig.load()` (in-cluster, else kubeconfig). */
  config?: KubeConfig | undefined;
  /** Watched namespaces: one, a list, or `"*"` for all; default the Pod's own namespace. */
  namespace?: string | readonly string[] | "*" | undefined;
  /** The own Pod's name for `register`; default env `POD_NAME`, else `HOSTNAME`. */
  podName?: string | undefined;
  /** The own Pod's namespace; default env `POD_NAMESPACE`, else the config's (service-account) namespace. */
  podNamespace?: string | undefined;
  /** `"ready"` (default: Running, Ready, not terminating) or `"kratos"` (Running only, as Go Kratos). */
  selection?: Selection | undefined;
  /** Every error of the watch loop (already being retried). RBAC refusals arrive as `FORBIDDEN`, rejected credentials as `UNAUTHORIZED` {@link RegistryError}s. */
  onError?: ((error: Error) => void) | undefined;
  /** A pod skipped because it is malformed (bad annotation JSON, non-string metadata, no IP). */
  onSkippedPod?: SkippedPodHook | undefined;
  /** Bound on waiting for the first sync; default {@link DEFAULT_SYNC_TIMEOUT_MS}. */
  syncTimeoutMs?: number | undefined;
  /** Advanced: an existing client (not closed by the registry); overrides `config` and `fetch`. */
  client?: KubeClient | undefined;
  /** Advanced: the HTTP seam for the client the registry builds. */
  fetch?: FetchLike | undefined;
  /** Advanced: injected clock (timeouts, backoff). */
  clock?: Clock | undefined;
  /** Advanced: the environment read for `POD_NAME`, `HOSTNAME`, `POD_NAMESPACE`; default the runtime's. */
  env?: Readonly<Record<string, string | undefined>> | undefined;
}

function envOf(config: KubeConfig): Record<string, string | undefined> {
  try {
    return configInternals(config).host.env();
  } catch {
    return {};
  }
}

const nonEmpty = (v: string | undefined): string | undefined => (v === undefined || v === "" ? undefined : v);

function causeOf(e: unknown): unknown {
  return typeof e === "object" && e !== null && "cause" in e ? (e as { cause?: unknown }).cause : undefined;
}

/**
 * Registry and discovery for Kratos services on Kubernetes, interoperable with
 * go-kratos's `contrib/registry/kubernetes` in both directions.
 *
 * No `start()` is needed: the first `getService` or `watch` starts one shared
 * pod watch for all services; `start()` only warms it up and fails early (for
 * example on missing RBAC). `close()` ends every watcher and the watch.
 */
export class KubernetesRegistry implements Registrar, Discovery, AsyncDisposable {
  readonly #options: KubernetesRegistryOptions;
  readonly #clock: Clock;
  readonly #discovery: ClosableDiscovery;
  #client: Promise<KubeClient> | undefined;
  #ownsClient = false;
  #cache: Promise<PodCache> | undefined;
  #registrar: Registrar | undefined;
  #closed = false;
  #lastError: Error | undefined;
  readonly #syncFailures = new Set<(e: RegistryError) => void>();

  /** Creates a registry; nothing is requested until it is used. */
  constructor(options: KubernetesRegistryOptions = {}) {
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
    this.#discovery = createDiscovery({
      synced: (signal) => this.#synced(signal),
      selection: options.selection,
      onSkippedPod: options.onSkippedPod,
    });
  }

  /** Starts the shared pod watch and waits for its first sync; rejects early on RBAC refusals (`FORBIDDEN`) and rejected credentials (`UNAUTHORIZED`). */
  async start(options?: { signal?: AbortSignal | undefined }): Promise<void> {
    await this.#synced(options?.signal);
  }

  /** See {@link Registrar.register}. */
  async register(instance: RegistrationInstance, options?: { signal?: AbortSignal | undefined }): Promise<void> {
    return (await this.#getRegistrar()).register(instance, options);
  }

  /** See {@link Registrar.deregister}. */
  async deregister(instance: RegistrationInstance, options?: { signal?: AbortSignal | undefined }): Promise<void> {
    return (await this.#getRegistrar()).deregister(instance, options);
  }

  /** See {@link Discovery.getService}. */
  getService(name: string, options?: { signal?: AbortSignal | undefined }): Promise<ServiceInstance[]> {
    return this.#discovery.getService(name, options);
  }

  /** See {@link Discovery.watch}. */
  watch(name: string, options?: { signal?: AbortSignal | undefined }): Promise<ServiceWatcher> {
    return this.#discovery.watch(name, options);
  }

  /** Stops every watcher, the pod watch, and the client it built. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const closed = new RegistryError("CLOSED", "the registry was closed");
    for (const fail of this.#syncFailures) fail(closed);
    await this.#discovery.close();
    const cache = await this.#cache?.catch(() => undefined);
    await cache?.close();
    if (this.#ownsClient) await (await this.#client?.catch(() => undefined))?.close();
  }

  /** Same as {@link KubernetesRegistry.close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #getClient(): Promise<KubeClient> {
    if (this.#client === undefined) {
      const o = this.#options;
      this.#client = (async () => {
        if (o.client !== undefined) return o.client;
        const config = o.config ?? (await KubeConfig.load());
        if (this.#closed) throw new RegistryError("CLOSED", "the registry was closed");
        this.#ownsClient = true;
        return createKubeClient({ config, fetch: o.fetch, clock: this.#clock });
      })();
      // A failed config load is retried on the next use.
      this.#client.catch(() => (this.#client = undefined));
    }
    return this.#client;
  }

  #ownPod(client: KubeClient): PodIdentity {
    const env = this.#options.env ?? envOf(client.config);
    return {
      name: nonEmpty(this.#options.podName) ?? nonEmpty(env["POD_NAME"]) ?? nonEmpty(env["HOSTNAME"]) ?? "",
      namespace: nonEmpty(this.#options.podNamespace) ?? nonEmpty(env["POD_NAMESPACE"]) ?? client.config.namespace,
    };
  }

  async #getRegistrar(): Promise<Registrar> {
    if (this.#closed) throw new RegistryError("CLOSED", "the registry was closed");
    if (this.#registrar === undefined) {
      const client = await this.#getClient();
      this.#registrar ??= createRegistrar({ api: client, pod: () => this.#ownPod(client), identity: client.config.user });
    }
    return this.#registrar;
  }

  #namespaces(client: KubeClient): readonly string[] | "*" {
    const ns = this.#options.namespace;
    if (ns === "*") return "*";
    if (typeof ns === "string" && ns !== "") return [ns];
    if (Array.isArray(ns) && ns.length > 0) return ns.includes("*") ? "*" : [...new Set(ns as string[])];
    return [this.#ownPod(client).namespace];
  }

  #onLoopError(e: Error, namespaces: readonly string[] | "*", identity: string | undefined): void {
    let reported: Error = e;
    const inner = causeOf(e) ?? e;
    if (isForbidden(inner) || isForbidden(e)) {
      const kind = (e as { kind?: unknown }).kind;
      reported = forbiddenError(
        { verb: kind === "list" ? "list" : "watch", resource: "pods", namespace: namespaces === "*" ? undefined : namespaces.join(","), identity },
        isForbidden(e) ? e : inner,
      );
      for (const fail of this.#syncFailures) fail(reported as RegistryError);
    } else if (isUnauthorized(inner) || isUnauthorized(e)) {
      reported = new RegistryError(
        "UNAUTHORIZED",
        `the Kubernetes API rejected the credentials${identity ? ` of ${identity}` : ""} (401 Unauthorized); check the token or kubeconfig user`,
        { cause: e },
      );
      for (const fail of this.#syncFailures) fail(reported as RegistryError);
    }
    this.#lastError = reported;
    try {
      this.#options.onError?.(reported);
    } catch {
      // A throwing hook must not break the watch loop.
    }
  }

  #getCache(): Promise<PodCache> {
    if (this.#cache === undefined) {
      this.#cache = (async () => {
        const client = await this.#getClient();
        if (this.#closed) throw new RegistryError("CLOSED", "the registry was closed");
        const namespaces = this.#namespaces(client);
        const cache = createPodCache({
          api: client,
          namespaces,
          clock: this.#clock,
          onError: (e) => this.#onLoopError(e, namespaces, client.config.user),
        });
        cache.start();
        return cache;
      })();
      this.#cache.catch(() => (this.#cache = undefined));
    }
    return this.#cache;
  }

  /** The synced cache, waiting at most the sync timeout; rejects early on RBAC refusals. */
  async #synced(signal: AbortSignal | undefined): Promise<PodCache> {
    if (this.#closed) throw new RegistryError("CLOSED", "the registry was closed");
    signal?.throwIfAborted();
    const cache = await this.#getCache();
    if (cache.synced) return cache;
    signal?.throwIfAborted();
    const ms = this.#options.syncTimeoutMs ?? DEFAULT_SYNC_TIMEOUT_MS;
    const ac = new AbortController();
    const fail = (e: unknown): void => ac.abort(e);
    const timer = this.#clock.setTimeout(() => {
      const last = this.#lastError ? `; last error: ${this.#lastError.message}` : "";
      fail(new RegistryError("SYNC_TIMEOUT", `the pod cache did not finish its first sync within ${ms} ms${last}`));
    }, ms);
    const onAbort = (): void => fail(signal?.reason);
    signal?.addEventListener("abort", onAbort, { once: true });
    this.#syncFailures.add(fail);
    try {
      await cache.ready(ac.signal);
      return cache;
    } catch (e) {
      if (ac.signal.aborted) throw ac.signal.reason;
      if (this.#closed) throw new RegistryError("CLOSED", "the registry was closed", { cause: e });
      throw e;
    } finally {
      timer.cancel();
      signal?.removeEventListener("abort", onAbort);
      this.#syncFailures.delete(fail);
    }
  }
}
