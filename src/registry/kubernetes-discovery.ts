/**
 * `KubernetesDiscovery`: discovery on its own, without registration: Kubernetes
 * Services through their EndpointSlices and Kratos services through their
 * Pods, from one set of shared informers.
 *
 * @module
 */
import { systemClock } from "../kube/clock.ts";
import type { Discovery, DiscoveryCallOptions, ServiceWatcher } from "./discovery.ts";
import { createDiscoveryEngine, type DiscoveryEngine } from "./discovery-engine.ts";
import { RegistryError } from "./errors.ts";
import type { ServiceInstance } from "./kratos-codec.ts";
import { checkClientEncoding, lazyClient, type LazyClient } from "./lazy-client.ts";
import { ownPod, type KubernetesRegistryOptions } from "./kubernetes-registry.ts";
import type { TargetScheme } from "./target.ts";

/** Options of {@link KubernetesDiscovery}. */
export interface KubernetesDiscoveryOptions extends Omit<KubernetesRegistryOptions, "podName"> {
  /**
   * How a target without a scheme is read: `"kubernetes"` (default here:
   * kuberesolver's `service[.namespace][:port]`) or `"discovery"` (a Kratos
   * service name).
   */
  defaultScheme?: TargetScheme | undefined;
}

/**
 * A {@link Discovery} over Kubernetes: `kubernetes:///service.namespace:port`
 * (the Service's EndpointSlices; `getService("greeter.shop:grpc")` reads the
 * same) and `discovery:///name` / `discovery://namespace/name` (Kratos Pods).
 * Usable with `createDiscoveryTransport` like `KubernetesRegistry`. RBAC:
 * `list` and `watch` on `endpointslices` (group `discovery.k8s.io`) in the
 * namespaces of the targets, `list` and `watch` on `pods` for Kratos targets.
 *
 * @example
 * ```ts
 * import { KubernetesDiscovery } from "kratos-kube";
 * await using discovery = new KubernetesDiscovery();
 * const watcher = await discovery.watch("kubernetes:///greeter.shop:grpc");
 * for await (const instances of watcher) console.log(instances.map((i) => i.endpoints[0]));
 * ```
 */
export class KubernetesDiscovery implements Discovery, AsyncDisposable {
  readonly #client: LazyClient;
  readonly #engine: DiscoveryEngine;
  #closed = false;

  /** Creates a discovery; nothing is requested until it is used. */
  constructor(options: KubernetesDiscoveryOptions = {}) {
    const clock = options.clock ?? systemClock;
    checkClientEncoding(options, "KubernetesDiscovery", "discovery");
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
      defaultScheme: options.defaultScheme ?? "kubernetes",
      closedError: () => new RegistryError("CLOSED", "the discovery was closed"),
    });
  }

  /** See {@link Discovery.getService}. */
  getService(target: string, options?: DiscoveryCallOptions): Promise<ServiceInstance[]> {
    return this.#engine.discovery.getService(target, options);
  }

  /** See {@link Discovery.watch}. */
  watch(target: string, options?: DiscoveryCallOptions): Promise<ServiceWatcher> {
    return this.#engine.discovery.watch(target, options);
  }

  /** Stops every watcher, every watch, and the client it built. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#engine.close();
    await this.#client.close();
  }

  /** Same as {@link KubernetesDiscovery.close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
