/**
 * The App's serving status, as `grpc.health.v1` reports it: NOT_SERVING
 * until the instance is registered, SERVING while it runs, NOT_SERVING from
 * the first stop step on. No I/O: servers read it and subscribe to it.
 *
 * @module
 */

/** `grpc.health.v1.HealthCheckResponse.ServingStatus` values the App reports (grpc/grpc-proto `health.proto`). */
export const ServingStatus = {
  SERVING: 1,
  NOT_SERVING: 2,
  SERVICE_UNKNOWN: 3,
} as const;

/** A status of {@link ServingStatus}. */
export type ServingStatus = (typeof ServingStatus)[keyof typeof ServingStatus];

/** The serving status and its watchers. */
export class HealthState {
  #serving = false;
  #ended = false;
  #version = 0;
  readonly #listeners = new Set<() => void>();

  /** `true` while the App reports SERVING. */
  get serving(): boolean {
    return this.#serving;
  }

  /** Grows on every change (status or end), so a watcher can tell it missed one. */
  get version(): number {
    return this.#version;
  }

  /** `true` once {@link endWatches} was called: open watches end, new ones answer once and end. */
  get watchesEnded(): boolean {
    return this.#ended;
  }

  /** The status for the whole server (service `""`). */
  get status(): ServingStatus {
    return this.#serving ? ServingStatus.SERVING : ServingStatus.NOT_SERVING;
  }

  /** Sets the status; watchers hear of a change. */
  set(serving: boolean): void {
    if (this.#serving === serving) return;
    this.#serving = serving;
    this.#notify();
  }

  /** Ends every open Watch stream (after they were told NOT_SERVING), so they do not hold the drain. */
  endWatches(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#notify();
  }

  /** Calls `fn` on every change; returns the unsubscribe function. */
  subscribe(fn: () => void): () => void {
    this.#listeners.add(fn);
    return () => void this.#listeners.delete(fn);
  }

  /** Watchers listening now. */
  get watchers(): number {
    return this.#listeners.size;
  }

  #notify(): void {
    this.#version++;
    for (const fn of [...this.#listeners]) fn();
  }
}
