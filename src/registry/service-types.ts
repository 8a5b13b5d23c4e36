/**
 * The contracts of a service hub (`service-hub.ts`): the sets a source's
 * model builds, the scopes they read, and the holds watchers get.
 *
 * @module
 */
import type { InformerView } from "../kube/informer.ts";
import type { ObjectRecord } from "../kube/resource.ts";
import type { ServiceInstance } from "./kratos-codec.ts";

/**
 * Where a set comes from: a synced, working watch (`synced`: an empty set is
 * authoritative), a watch that has not synced yet (`unsynced`), or one whose
 * loop failed since its last successful list or watch (`failing`: the set may
 * be stale).
 */
export type DiscoveryState = "synced" | "unsynced" | "failing";

/** The instances of one watched service, kept up to date record by record. */
export interface MemberSet<R> {
  /** Bumped on every change of the set's content. */
  readonly version: number;
  upsert(record: R): void;
  remove(record: R): void;
  /** A fresh array of the current instances. */
  instances(): ServiceInstance[];
  /** Stops the set's timers, if any. */
  close?(): void;
}

/** How a source turns records into instance sets. */
export interface ServiceModel<R extends ObjectRecord, O> {
  /** The informer index holding records by service (its function is {@link ServiceModel.serviceOf}). */
  readonly index: string;
  /** The service a record belongs to; undefined for none. */
  serviceOf(record: R): string | undefined;
  /**
   * A set over `records` (the service's records in scope). `changed` must be
   * called when the set changes by itself (a timer), not through upsert/remove.
   */
  createSet(service: string, records: readonly R[], options: O, changed: () => void): MemberSet<R>;
}

/** One informer a scope reads, and the namespace it contributes (undefined: all it holds). */
export interface ScopePart<R extends ObjectRecord> {
  readonly view: InformerView<R>;
  readonly namespace: string | undefined;
}

/** The synced informers of a namespace scope, held until `release()`. */
export interface Scope<R extends ObjectRecord> {
  readonly parts: readonly ScopePart<R>[];
  release(): void;
}

/** Options of {@link createServiceHub}. */
export interface ServiceHubOptions<R extends ObjectRecord, O> {
  readonly model: ServiceModel<R, O>;
  /**
   * The synced scope of `namespace` (undefined: the source's default). Rejects
   * on abort, on the sync timeout, or early on a refusal.
   */
  scope(namespace: string | undefined, signal: AbortSignal | undefined): Promise<Scope<R>>;
}

/** A watcher's hold on a shared set. */
export interface SetHandle {
  readonly set: { readonly version: number; instances(): ServiceInstance[] };
  state(): DiscoveryState;
  /** `fn` runs after each change of the set. */
  onChange(fn: () => void): void;
  /** Gives the hold back; the set and its scope go with the last one. Idempotent. */
  release(): void;
}

/** The watched services of one source. */
export interface ServiceHub<O> {
  /** A hold on the set of `service` in `namespace` with `options` (`optionsKey` identifies them). */
  watch(namespace: string | undefined, service: string, options: O, optionsKey: string, signal?: AbortSignal): Promise<SetHandle>;
  /** The current instances, from a watched set when there is one, else from a scope held for the call. */
  get(namespace: string | undefined, service: string, options: O, optionsKey: string, signal?: AbortSignal): Promise<ServiceInstance[]>;
  /** Number of watched sets. */
  readonly size: number;
  /** Drops every set and scope. */
  close(): void;
}
