/**
 * `KubernetesRegistry`: Kratos-compatible registration on Pods, and discovery
 * of Kratos services (Pods) and of Kubernetes Services (EndpointSlices), over
 * shared informers created on first use.
 *
 * @module
 */
import { systemClock, type Clock } from "../kube/clock.ts";
import type { KubeClient } from "../kube/client.ts";
import type { KubeConfig } from "../kube/config.ts";
import type { FetchLike } from "../kube/fetch-like.ts";
import type { Encoding } from "../kube/protobuf/negotiation.ts";
import type { Discovery, DiscoveryCallOptions, ServiceWatcher, SkippedPodHook } from "./discovery.ts";
import { createDiscoveryEngine, DEFAULT_SYNC_TIMEOUT_MS, type DiscoveryEngine } from "./discovery-engine.ts";
import type { AddressFamily } from "./endpoint-set.ts";
import { RegistryError } from "./errors.ts";
import type { Selection, ServiceInstance } from "./kratos-codec.ts";
import { checkClientEncoding, envOf, lazyClient, type LazyClient } from "./lazy-client.ts";
import { createRegistrar, type PodIdentity, type Registrar, type RegistrationInstance } from "./registrar.ts";
import type { Logger } from "../connect/logger.ts";
import type { TelemetryOptions } from "../connect/telemetry/otel-api.ts";

export { DEFAULT_SYNC_TIMEOUT_MS } from "./discovery-engine.ts";

/** Options of {@link KubernetesRegistry}. */
export interface KubernetesRegistryOptions {
  /** Where the API is; default `await KubeConfig.load()` (in-cluster, else kubeconfig). */
  config?: KubeConfig | undefined;
  /**
   * Watched namespaces of Kratos targets that name none (`discovery:///name`):
   * one, a list, or `"*"` for all; default the Pod's own namespace. Targets
   * naming a namespace (`discovery://ns/name`, `kubernetes:///svc.ns:port`)
   * watch that one.
   */
  namespace?: string | readonly string[] | "*" | undefined;
  /** The own Pod's name for `register`; default env `POD_NAME`, else `HOSTNAME`. */
  podName?: string | undefined;
  /** The own Pod's namespace; default env `POD_NAMESPACE`, else the config's (service-account) namespace. */
  podNamespace?: string | undefined;
  /** `"ready"` (default: Running, Ready, not terminating) or `"kratos"` (Running only, as Go Kratos). */
  selection?: Selection | undefined;
  /** Every error of the watch loops (already being retried). RBAC refusals arrive as `FORBIDDEN`, rejected credentials as `UNAUTHORIZED` {@link RegistryError}s. */
  onError?: ((error: Error) => void) | undefined;
  /** A pod skipped because it is malformed (bad annotation JSON, non-string metadata, no IP). */
  onSkippedPod?: SkippedPodHook | undefined;
  /**
   * OpenTelemetry instruments of the watch loops (`{ api }`, the
   * `@opentelemetry/api` module, plus an optional `meterProvider`): relists,
   * watch reconnects, events and their lag, cache size. Default: none.
   */
  telemetry?: TelemetryOptions | undefined;
  /** Log records: skipped pods and why, relists, watch reconnects, loop errors. Default: silent; `consoleLogger()` prints them. */
  logger?: Logger | undefined;
  /** Bound on waiting for a watch's first sync; default {@link DEFAULT_SYNC_TIMEOUT_MS}. */
  syncTimeoutMs?: number | undefined;
  /** EndpointSlice targets: `"IPv4"`, `"IPv6"`, or `"dual"` (default: both, IPv4 endpoints first). */
  family?: AddressFamily | undefined;
  /** EndpointSlice targets: how long an endpoint that left every slice is kept (a move between slices); default 2 000 ms. */
  moveGraceMs?: number | undefined;
  /**
   * Wire encoding of the watch's LIST and WATCH requests: `"json"`
   * (default), `"auto"` (asks for Kubernetes protobuf, decodes whichever the
   * server answers: less CPU per event, see bench/RESULTS.md) or
   * `"protobuf"`. For a `client` given, set it on that client instead
   * (`createKubeClient({ encoding })`).
   */
  encoding?: Encoding | undefined;
  /** Advanced: an existing client (not closed by the registry); overrides `config` and `fetch`. */
  client?: KubeClient | undefined;
  /** Advanced: the HTTP seam for the client the registry builds. */
  fetch?: FetchLike | undefined;
  /** Advanced: injected clock (timeouts, backoff, grace windows). */
  clock?: Clock | undefined;
  /** Advanced: the environment read for `POD_NAME`, `HOSTNAME`, `POD_NAMESPACE`; default the runtime's. */
  env?: Readonly<Record<string, string | undefined>> | undefined;
}

const nonEmpty = (v: string | undefined): string | undefined => (v === undefined || v === "" ? undefined : v);

/** The own Pod from options, else the environment, else the config's namespace. */
export function ownPod(
  client: KubeClient,
  o: { podName?: string | undefined; podNamespace?: string | undefined; env?: Readonly<Record<string, string | undefined>> | undefined },
): PodIdentity {
  const env = o.env ?? envOf(client.config);
  return {
    name: nonEmpty(o.podName) ?? nonEmpty(env["POD_NAME"]) ?? nonEmpty(env["HOSTNAME"]) ?? "",
    namespace: nonEmpty(o.podNamespace) ?? nonEmpty(env["POD_NAMESPACE"]) ?? client.config.namespace,
  };
}

/**
 * Registry and discovery for services on Kubernetes: interoperable with
 * go-kratos's `contrib/registry/kubernetes` in both directions for Kratos
 * services (`discovery:///name`), and able to find any Service through its
 * EndpointSlices (`kubernetes:///service.namespace:port`).
 *
 * No `start()` is needed: the first `getService` or `watch` starts the watch
 * it needs; `start()` only warms up the Kratos pod watch and fails early (for
 * example on missing RBAC). `close()` ends every watcher and watch.
 */
export class KubernetesRegistry implements Registrar, Discovery, AsyncDisposable {
  readonly #options: KubernetesRegistryOptions;
  readonly #client: LazyClient;
  readonly #engine: DiscoveryEngine;
  #registrar: Registrar | undefined;
  #closed = false;

  /** Creates a registry; nothing is requested until it is used. */
  constructor(options: KubernetesRegistryOptions = {}) {
    this.#options = options;
    const clock = options.clock ?? systemClock;
    checkClientEncoding(options, "KubernetesRegistry", "registry");
    this.#client = lazyClient({ client: options.client, config: options.config, fetch: options.fetch, clock, encoding: options.encoding });
    this.#engine = createDiscoveryEngine({
      client: () => this.#client.get(),
      ownNamespace: (client) => ownPod(client, options).namespace,
      namespace: options.namespace,
      selection: options.selection,
      onError: options.onError,
      onSkippedPod: options.onSkippedPod,
      telemetry: options.telemetry,
      logger: options.logger,
      syncTimeoutMs: options.syncTimeoutMs,
      clock,
      family: options.family,
      moveGraceMs: options.moveGraceMs,
      closedError: () => new RegistryError("CLOSED", "the registry was closed"),
    });
  }

  /** Starts the Kratos pod watch of the watched namespaces and waits for its first sync; rejects early on RBAC refusals (`FORBIDDEN`) and rejected credentials (`UNAUTHORIZED`). */
  async start(options?: { signal?: AbortSignal | undefined }): Promise<void> {
    if (this.#closed) throw new RegistryError("CLOSED", "the registry was closed");
    await this.#engine.start(options?.signal);
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
  getService(name: string, options?: DiscoveryCallOptions): Promise<ServiceInstance[]> {
    return this.#engine.discovery.getService(name, options);
  }

  /** See {@link Discovery.watch}. */
  watch(name: string, options?: DiscoveryCallOptions): Promise<ServiceWatcher> {
    return this.#engine.discovery.watch(name, options);
  }

  /** Stops every watcher, every watch, and the client it built. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#engine.close();
    await this.#client.close();
  }

  /** Same as {@link KubernetesRegistry.close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  async #getRegistrar(): Promise<Registrar> {
    if (this.#closed) throw new RegistryError("CLOSED", "the registry was closed");
    if (this.#registrar === undefined) {
      const client = await this.#client.get();
      this.#registrar ??= createRegistrar({ api: client, pod: () => ownPod(client, this.#options), identity: client.config.user });
    }
    return this.#registrar;
  }
}
