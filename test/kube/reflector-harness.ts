/**
 * Test helpers shared by the reflector and pod-cache tests (not a test file):
 * a manual clock, a bounded "let in-process work settle" helper, and a pod
 * cache wired to a FakeKubeApiServer through `server.fetch` (no sockets).
 */
import assert from "node:assert/strict";
import type { Clock, TimerHandle } from "../../src/kube/clock.ts";
import { KubeConfig } from "../../src/kube/config.ts";
import { createKubeClient } from "../../src/kube/client.ts";
import type { KubeClient } from "../../src/kube/client.ts";
import { createPodCache } from "../../src/registry/pod-cache.ts";
import type { PodCache, PodCacheOptions } from "../../src/registry/pod-cache.ts";
import { FakeKubeApiServer } from "../../src/testing/fake-api-server.ts";
import type { FakeKubeApiServerOptions } from "../../src/testing/fake-api-server.ts";

interface Timer {
  at: number;
  seq: number;
  fn: () => void;
  cancelled: boolean;
}

/** A clock that only moves when told; `advance()` fires due timers in order. */
export class ManualClock implements Clock {
  #now = 1_000_000;
  #seq = 0;
  #timers: Timer[] = [];

  now(): number {
    return this.#now;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const t: Timer = { at: this.#now + Math.max(0, ms), seq: this.#seq++, fn, cancelled: false };
    this.#timers.push(t);
    return { cancel: () => void (t.cancelled = true) };
  }

  /** Timers not yet fired nor cancelled. */
  get pending(): number {
    return this.#timers.filter((t) => !t.cancelled).length;
  }

  /** Moves time forward by `ms`, firing each due timer at its own time and letting work settle after each. */
  async advance(ms: number): Promise<void> {
    const target = this.#now + ms;
    for (;;) {
      this.#timers = this.#timers.filter((t) => !t.cancelled);
      let next: Timer | undefined;
      for (const t of this.#timers) if (t.at <= target && (next === undefined || t.at < next.at || (t.at === next.at && t.seq < next.seq))) next = t;
      if (next === undefined) break;
      this.#now = Math.max(this.#now, next.at);
      next.cancelled = true;
      next.fn();
      await settle();
    }
    this.#now = target;
    await settle();
  }
}

/** One macrotask turn: lets pending promise chains of in-process work run. */
export function turn(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/** A few turns: enough for in-process fetch round trips to finish. */
export async function settle(turns = 5): Promise<void> {
  for (let i = 0; i < turns; i++) await turn();
}

/**
 * Waits (in macrotask turns, no wall-clock sleeps) until `predicate` holds;
 * fails the test naming `what` when it does not within `maxTurns`.
 */
export async function until(predicate: () => boolean, what: string, maxTurns = 2000): Promise<void> {
  for (let i = 0; i < maxTurns; i++) {
    if (predicate()) return;
    await turn();
  }
  assert.fail(`timed out waiting until ${what}`);
}

/** A server, a client over `server.fetch` and a started pod cache, all on one manual clock. */
export interface Rig {
  clock: ManualClock;
  server: FakeKubeApiServer;
  client: KubeClient;
  cache: PodCache;
  errors: Error[];
  close(): Promise<void>;
}

/** Builds a {@link Rig}. */
export function rig(o: { server?: FakeKubeApiServerOptions; cache?: Partial<PodCacheOptions>; token?: string; random?: () => number } = {}): Rig {
  const clock = new ManualClock();
  const server = new FakeKubeApiServer({ clock, rechunk: 1, ...o.server });
  const config = KubeConfig.fromOptions({ server: "http://127.0.0.1:6443", namespace: "default", ...(o.token ? { token: o.token } : {}) });
  const client = createKubeClient({ config, fetch: server.fetch, clock });
  const errors: Error[] = [];
  const cache = createPodCache({ api: client, clock, random: o.random ?? (() => 0.5), onError: (e) => errors.push(e), ...o.cache });
  return {
    clock,
    server,
    client,
    cache,
    errors,
    async close() {
      await cache.close();
      await client.close();
      await server.close();
    },
  };
}

/** `ns/name` of every cached pod, sorted. */
export function cachedNames(cache: PodCache): string[] {
  return [...cache.values()].map((p) => `${p.namespace}/${p.name}`).sort();
}

/** `ns/name` of every pod on the server carrying the kratos-service-app label, sorted. */
export function serverNames(server: FakeKubeApiServer, ns?: string): string[] {
  return server
    .listPods(ns)
    .filter((p) => p.metadata.labels?.["kratos-service-app"] !== undefined)
    .map((p) => `${p.metadata.namespace}/${p.metadata.name}`)
    .sort();
}
