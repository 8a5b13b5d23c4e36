/**
 * The watched services of one source (Kratos Pods or EndpointSlices): for
 * each (namespace, service, options) one incrementally kept set shared by its
 * watchers, fed by the informers of its scope.
 *
 * Changes reach a set through one router per informer, keyed by service: a
 * batch costs the records it carries, not the number of watched services.
 * Which service a record belongs to is the model's `serviceOf`, the same
 * function the informer indexes by, so membership is decided in one place.
 *
 * @module
 */
import type { InformerState, InformerView, ObjectChange } from "../kube/informer.ts";
import type { ObjectRecord } from "../kube/resource.ts";

export type { DiscoveryState, MemberSet, Scope, ScopePart, ServiceHub, ServiceHubOptions, ServiceModel, SetHandle } from "./service-types.ts";
import type { DiscoveryState, MemberSet, Scope, ServiceHub, ServiceHubOptions, SetHandle } from "./service-types.ts";

interface Entry<R extends ObjectRecord> {
  readonly key: string;
  readonly scope: Scope<R>;
  readonly set: MemberSet<R>;
  /** Replaced, never changed in place (a notification iterates the array it started with); exact size. */
  listeners: readonly (() => void)[];
  holds: number;
  /** The entry's route in each router it is filed in; exact size, emptied by teardown. */
  routes: readonly Route<R>[];
  /** Torn down: its set closed and its scope released (once). */
  gone: boolean;
}

interface Route<R extends ObjectRecord> {
  readonly entry: Entry<R>;
  readonly router: Router<R>;
  readonly service: string;
  /** Namespaces the entry takes from this informer (usually one, an array shared by the scope's routes); undefined: all. */
  readonly namespaces: readonly string[] | undefined;
}

/** A service's routes in one router: one route alone (the common case), or an array of several (replaced, never changed in place). */
type Routes<R extends ObjectRecord> = Route<R> | readonly Route<R>[];

interface Router<R extends ObjectRecord> {
  readonly view: InformerView<R>;
  readonly byService: Map<string, Routes<R>>;
  readonly unsubscribe: () => void;
}

function worst(states: Iterable<InformerState>): DiscoveryState {
  let out: DiscoveryState = "synced";
  for (const s of states) {
    if (s === "failing") return "failing";
    if (s === "unsynced") out = "unsynced";
  }
  return out;
}

function covers<R extends ObjectRecord>(route: Route<R>, record: R): boolean {
  return route.namespaces === undefined || route.namespaces.includes(record.namespace);
}

/** The records of `service` in `scope`, each informer read once. */
function scopeRecords<R extends ObjectRecord>(scope: Scope<R>, index: string, service: string): R[] {
  const out: R[] = [];
  for (const [view, namespaces] of byView(scope)) {
    for (const r of view.byIndex(index, service)) if (namespaces === undefined || namespaces.includes(r.namespace)) out.push(r);
  }
  return out;
}

/** {@link byView} of each scope, computed once: every route of a shared scope shares its namespace lists. */
const viewsOfScope = new WeakMap<Scope<ObjectRecord>, Map<InformerView<ObjectRecord>, readonly string[] | undefined>>();

/** Groups a scope's parts by informer: undefined namespaces means all. */
function byView<R extends ObjectRecord>(scope: Scope<R>): Map<InformerView<R>, readonly string[] | undefined> {
  const hit = viewsOfScope.get(scope as unknown as Scope<ObjectRecord>);
  if (hit !== undefined) return hit as unknown as Map<InformerView<R>, readonly string[] | undefined>;
  const out = new Map<InformerView<R>, readonly string[] | undefined>();
  for (const p of scope.parts) {
    if (out.has(p.view) && out.get(p.view) === undefined) continue;
    if (p.namespace === undefined) out.set(p.view, undefined);
    else {
      const list = out.get(p.view) ?? [];
      // A new exact-size array each time (routes keep it).
      if (!list.includes(p.namespace)) out.set(p.view, list.concat(p.namespace));
    }
  }
  viewsOfScope.set(scope as unknown as Scope<ObjectRecord>, out as unknown as Map<InformerView<ObjectRecord>, readonly string[] | undefined>);
  return out;
}

/** Removes `record` from (or upserts it into) the set of each route that covers it, noting the entries touched. No closure: this runs per event. */
function apply<R extends ObjectRecord>(routes: Routes<R> | undefined, record: R, remove: boolean, touched: Set<Entry<R>>): void {
  if (routes === undefined) return;
  if (!Array.isArray(routes)) applyOne(routes as Route<R>, record, remove, touched);
  else for (const r of routes as readonly Route<R>[]) applyOne(r, record, remove, touched);
}

function applyOne<R extends ObjectRecord>(route: Route<R>, record: R, remove: boolean, touched: Set<Entry<R>>): void {
  if (!covers(route, record)) return;
  if (remove) route.entry.set.remove(record);
  else route.entry.set.upsert(record);
  touched.add(route.entry);
}

/** A {@link SetHandle}: a class, not closures, as a hub holds one per watcher. */
class Hold<R extends ObjectRecord> implements SetHandle {
  readonly set: MemberSet<R>;
  readonly #entry: Entry<R>;
  readonly #teardown: (e: Entry<R>) => void;
  #listener: (() => void) | undefined;
  #released = false;

  /** A hold on `entry` (its `holds` already counts it); `teardown` runs when the last hold goes. */
  constructor(entry: Entry<R>, teardown: (e: Entry<R>) => void) {
    this.set = entry.set;
    this.#entry = entry;
    this.#teardown = teardown;
  }

  state(): DiscoveryState {
    return worst(this.#entry.scope.parts.map((p) => p.view.state));
  }

  onChange(fn: () => void): void {
    if (this.#released) return;
    const e = this.#entry;
    const old = this.#listener;
    const others = old === undefined ? e.listeners : e.listeners.filter((l) => l !== old);
    this.#listener = fn;
    e.listeners = others.concat(fn);
  }

  release(): void {
    if (this.#released) return;
    this.#released = true;
    const e = this.#entry;
    const old = this.#listener;
    if (old !== undefined) e.listeners = e.listeners.filter((l) => l !== old);
    e.holds--;
    if (e.holds === 0) this.#teardown(e);
  }
}

/** An entry's key, one flat string (a template literal would keep its pieces for the entry's life). */
function entryKey(namespace: string | undefined, service: string, optionsKey: string): string {
  return [namespace ?? "", service, optionsKey].join("\u0000");
}

/** Creates a hub for one source. */
export function createServiceHub<R extends ObjectRecord, O>(options: ServiceHubOptions<R, O>): ServiceHub<O> {
  const { model } = options;
  const entries = new Map<string, Entry<R>>();
  const opening = new Map<string, Promise<Entry<R>>>();
  const routers = new Map<InformerView<R>, Router<R>>();
  let closed = false;

  function notify(entry: Entry<R>): void {
    for (const l of entry.listeners) l();
  }

  function onChanges(router: Router<R>, changes: readonly ObjectChange<R>[]): void {
    const touched = new Set<Entry<R>>();
    for (const c of changes) {
      const old = c.type === "modified" ? c.old : c.type === "deleted" ? c.object : undefined;
      const after = c.type === "deleted" ? undefined : model.serviceOf(c.object);
      const before = old === undefined ? undefined : model.serviceOf(old);
      if (before !== undefined && before !== after) apply(router.byService.get(before), old!, true, touched);
      if (after !== undefined) apply(router.byService.get(after), c.object, false, touched);
    }
    for (const e of touched) notify(e);
  }

  function route(entry: Entry<R>, service: string): void {
    const routes: Route<R>[] = [];
    for (const [view, namespaces] of byView(entry.scope)) {
      let router = routers.get(view);
      if (router === undefined) {
        const r: Router<R> = { view, byService: new Map(), unsubscribe: view.subscribe((c) => onChanges(r, c)) };
        routers.set(view, (router = r));
      }
      const rt: Route<R> = { entry, router, service, namespaces };
      const had = router.byService.get(service);
      router.byService.set(service, had === undefined ? rt : Array.isArray(had) ? [...(had as readonly Route<R>[]), rt] : [had as Route<R>, rt]);
      routes.push(rt);
    }
    entry.routes = routes.slice();
  }

  function unroute(rt: Route<R>): void {
    const { router, service } = rt;
    const had = router.byService.get(service);
    const rest = had === rt || had === undefined ? [] : Array.isArray(had) ? (had as readonly Route<R>[]).filter((r) => r !== rt) : [had as Route<R>];
    if (rest.length === 0) router.byService.delete(service);
    else router.byService.set(service, rest.length === 1 ? rest[0]! : rest);
    if (router.byService.size === 0 && routers.get(router.view) === router) {
      routers.delete(router.view);
      router.unsubscribe();
    }
  }

  function teardown(entry: Entry<R>): void {
    if (entry.gone) return;
    entry.gone = true;
    if (entries.get(entry.key) === entry) entries.delete(entry.key);
    const routes = entry.routes;
    entry.routes = [];
    for (const rt of routes) unroute(rt);
    entry.set.close?.();
    entry.listeners = [];
    entry.scope.release();
  }

  async function open(namespace: string | undefined, service: string, o: O, key: string, signal?: AbortSignal): Promise<Entry<R>> {
    const scope = await options.scope(namespace, signal);
    if (closed) {
      scope.release();
      throw new Error("the discovery is closed");
    }
    const existing = entries.get(key);
    if (existing !== undefined) {
      // Another open won the race while this scope synced.
      scope.release();
      return existing;
    }
    // Subscribing and reading the index in the same tick: no change falls in between.
    let entry: Entry<R> | undefined;
    const set = model.createSet(service, scopeRecords(scope, model.index, service), o, () => {
      if (entry !== undefined) notify(entry);
    });
    entry = { key, scope, set, listeners: [], holds: 0, routes: [], gone: false };
    entries.set(key, entry);
    route(entry, service);
    return entry;
  }

  return {
    async watch(namespace, service, o, optionsKey, signal) {
      if (closed) throw new Error("the discovery is closed");
      const key = entryKey(namespace, service, optionsKey);
      let entry = entries.get(key);
      if (entry === undefined) {
        let p = opening.get(key);
        if (p === undefined) {
          p = open(namespace, service, o, key, signal).finally(() => opening.delete(key));
          opening.set(key, p);
        }
        entry = await p;
        if (signal?.aborted) {
          if (entry.holds === 0) teardown(entry);
          throw signal.reason;
        }
        if (entries.get(key) !== entry) return this.watch(namespace, service, o, optionsKey, signal);
      }
      entry.holds++;
      return new Hold(entry, teardown);
    },

    async get(namespace, service, o, optionsKey, signal) {
      if (closed) throw new Error("the discovery is closed");
      const key = entryKey(namespace, service, optionsKey);
      const entry = entries.get(key);
      if (entry !== undefined) return entry.set.instances();
      const scope = await options.scope(namespace, signal);
      try {
        const set = model.createSet(service, scopeRecords(scope, model.index, service), o, () => {});
        const out = set.instances();
        set.close?.();
        return out;
      } finally {
        scope.release();
      }
    },

    get size() {
      return entries.size;
    },

    close() {
      closed = true;
      for (const e of [...entries.values()]) teardown(e);
    },
  };
}
