/**
 * An in-memory {@link EndpointSource}: set a service's instances by hand and
 * every watcher sees the change. For tests, demos and static configurations
 * without a registry.
 *
 * @module
 */
import type { EndpointInstance, EndpointSource, InstanceWatcher } from "./endpoint-source.ts";

/** An {@link EndpointSource} whose instances are set by hand. */
export interface ManualDiscovery extends EndpointSource {
  /** Replaces the instances of service `name` and wakes its watchers. */
  set(name: string, instances: readonly EndpointInstance[]): void;
  /** The current instances of `name`. */
  get(name: string): readonly EndpointInstance[];
  /** Watchers not stopped yet. */
  readonly watchers: number;
}

/** Error raised by `next()` of a stopped watcher. */
export class WatcherStoppedError extends Error {
  /** Stable code. */
  readonly code = "WATCHER_STOPPED";
  /** @param name the watched service */
  constructor(name: string) {
    super(`watcher of service "${name}" stopped`);
    this.name = "WatcherStoppedError";
  }
}

/**
 * Creates a {@link ManualDiscovery}. A watcher's first `next()` resolves at
 * once with the current list (possibly empty), later ones on each `set()`.
 * Its watchers report the state `synced`: an empty list set by hand means
 * the service has no instances (the transport drops its endpoints, unless
 * its `emptySet` option is `"keep-last"`).
 */
export function createManualDiscovery(initial: Record<string, readonly EndpointInstance[]> = {}): ManualDiscovery {
  const services = new Map<string, readonly EndpointInstance[]>(Object.entries(initial));
  const versions = new Map<string, number>();
  const wakers = new Map<string, Set<() => void>>();
  let open = 0;
  return {
    set(name, instances) {
      services.set(name, instances.slice());
      versions.set(name, (versions.get(name) ?? 0) + 1);
      const ws = wakers.get(name);
      if (ws !== undefined) for (const w of [...ws]) w();
    },
    get: (name) => services.get(name) ?? [],
    get watchers() {
      return open;
    },
    async watch(name, o = {}): Promise<InstanceWatcher> {
      o.signal?.throwIfAborted();
      open++;
      let seen = -1;
      let stopped = false;
      let wake: (() => void) | undefined;
      const set = wakers.get(name) ?? new Set<() => void>();
      wakers.set(name, set);
      const watcher: InstanceWatcher = {
        // What the user set is the truth: an empty list means no instances.
        state: "synced",
        async next() {
          for (;;) {
            if (stopped) throw new WatcherStoppedError(name);
            const v = versions.get(name) ?? 0;
            if (v !== seen) {
              seen = v;
              return services.get(name) ?? [];
            }
            await new Promise<void>((resolve) => {
              wake = resolve;
              set.add(resolve);
            });
            if (wake !== undefined) set.delete(wake);
            wake = undefined;
          }
        },
        stop() {
          if (stopped) return;
          stopped = true;
          open--;
          o.signal?.removeEventListener("abort", onAbort);
          if (wake !== undefined) {
            set.delete(wake);
            wake();
          }
        },
      };
      const onAbort = (): void => void watcher.stop();
      o.signal?.addEventListener("abort", onAbort, { once: true });
      return watcher;
    },
  };
}
