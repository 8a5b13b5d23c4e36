/**
 * The instances a set shows, kept in yield order ({@link byIdThenEndpoints})
 * with a version bumped on every change: a sorted array, so the set finds a
 * member in the common state by id without a map entry of its own.
 *
 * @module
 */
import type { ServiceInstance } from "./kratos-codec.ts";
import { byIdThenEndpoints } from "./endpoint-slice-view.ts";

export class ShownInstances {
  #shown: ServiceInstance[];
  #version: number;

  /** Starts with `initial` (any order). */
  constructor(initial: ServiceInstance[]) {
    initial.sort(byIdThenEndpoints);
    // slice(): exact size.
    this.#shown = initial.slice();
    this.#version = initial.length;
  }

  /** Bumped on every change. */
  get version(): number {
    return this.#version;
  }

  /** A fresh array of the shown instances, in order. */
  toArray(): ServiceInstance[] {
    return this.#shown.slice();
  }

  /** The first shown instance with this id for which `skip` is false. */
  find(id: string, skip: (i: ServiceInstance) => boolean): ServiceInstance | undefined {
    const shown = this.#shown;
    for (let i = this.#lowerBound(id); i < shown.length && shown[i]!.id === id; i++) if (!skip(shown[i]!)) return shown[i];
    return undefined;
  }

  /**
   * Shows `next` instead of `prev` (either may be undefined); keeps `prev`,
   * and the version, when they show the same. Returns what is shown now.
   */
  replace(prev: ServiceInstance | undefined, next: ServiceInstance | undefined, same: (a: ServiceInstance | undefined, b: ServiceInstance | undefined) => boolean): ServiceInstance | undefined {
    if (same(prev, next)) return prev;
    const shown = this.#shown;
    if (prev !== undefined) {
      let i = this.#lowerBound(prev.id);
      while (i < shown.length && shown[i] !== prev) i++;
      // In place when nothing else shares the id (else the order among them may change).
      if (next !== undefined && next.id === prev.id && shown[i - 1]?.id !== prev.id && shown[i + 1]?.id !== prev.id) {
        shown[i] = next;
        this.#version++;
        return next;
      }
      shown.splice(i, 1);
    }
    if (next !== undefined) {
      let i = this.#lowerBound(next.id);
      while (i < shown.length && shown[i]!.id === next.id && byIdThenEndpoints(shown[i]!, next) <= 0) i++;
      shown.splice(i, 0, next);
    }
    this.#version++;
    return next;
  }

  /** First index whose id is not below `id`. */
  #lowerBound(id: string): number {
    const shown = this.#shown;
    let lo = 0;
    let hi = shown.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (shown[mid]!.id < id) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
