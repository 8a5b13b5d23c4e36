/**
 * Ring hash with bounded loads: affinity by a per-call key, for caches and
 * sticky sessions. Each endpoint has `replicas` points on a 32-bit ring (at
 * the hash of `<address>#<i>`); a call's key hashes to a point and the call
 * goes to the first endpoint clockwise (Karger et al., "Consistent hashing
 * and random trees", 1997; Envoy's `ring_hash`, grpc's `ring_hash`). So the
 * same key reaches the same endpoint while it is in the picker snapshot
 * (ready, not ejected), and when endpoints come or go only the keys of the
 * arcs that change owner move. With bounded loads (Mirrokni, Thorup,
 * Zadimoghaddam, "Consistent Hashing with Bounded Loads", 2018, as HAProxy's
 * `hash-balance-factor`) no endpoint takes more than
 * `ceil(loadFactor × (calls in flight + 1) / endpoints)` calls in flight: a
 * key whose endpoint is full spills to the next endpoint clockwise, and
 * comes back when it has room.
 *
 * The key is `key(request)` or the `header` value; a call without one goes
 * to a random endpoint (as Envoy's ring hash without a hash policy). A
 * retry of a call (`request.avoid`) goes to the next endpoint clockwise.
 * Endpoint weights are not used.
 *
 * @module
 */
import { hash32 } from "../hash32.ts";
import { EndpointConfigError } from "../endpoint-source.ts";
import type { Picker, PickerNode, PickerPolicy, PickRequest } from "../picker.ts";

/** Options of {@link ringHash}. */
export interface RingHashOptions {
  /** The call's key, e.g. `(req) => req.message.userId`; `undefined` = no affinity for this call. */
  readonly key?: (request: PickRequest) => string | undefined;
  /** Or: the value of this request header is the key (the first one given is used). */
  readonly header?: string;
  /** Ring points per endpoint (default 100; 1–10 000). More points spread keys more evenly. */
  readonly replicas?: number;
  /** Bound on an endpoint's calls in flight relative to the mean, > 1 (default 1.25); `Infinity` = no bound. */
  readonly loadFactor?: number;
  /** Randomness for calls without a key (default `Math.random`). */
  readonly random?: () => number;
}

/** Default ring points per endpoint. */
export const RING_HASH_REPLICAS = 100;
/** Default bound on load relative to the mean (HAProxy `hash-balance-factor 125`). */
export const RING_HASH_LOAD_FACTOR = 1.25;

function bad(name: string, v: unknown, want: string): never {
  throw new EndpointConfigError("BAD_OPTION", `ringHash.${name} must be ${want}, got ${JSON.stringify(v)}`);
}

/** The value of header `name` (lower case) in a `HeadersInit`, or `undefined`. */
export function headerValue(header: HeadersInit | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  if (header instanceof Headers) return header.get(name) ?? undefined;
  if (Array.isArray(header)) {
    for (const [k, v] of header) if (k!.toLowerCase() === name) return v;
    return undefined;
  }
  for (const k of Object.keys(header)) if (k.toLowerCase() === name) return (header as Record<string, string>)[k];
  return undefined;
}

/**
 * A picker policy routing each call by its key over a consistent-hash ring
 * with bounded loads (see the module doc). Pass it as `balancer`:
 * `balancer: ringHash({ header: "x-session-id" })`. Throws an
 * `EndpointConfigError` (`BAD_OPTION`) naming a bad option.
 */
export function ringHash(o: RingHashOptions): PickerPolicy {
  if (typeof o !== "object" || o === null) bad("options", o, "{ key } or { header }");
  const { key, header } = o;
  if (key === undefined && header === undefined) bad("key", key, "a function of the request, or header a header name");
  if (key !== undefined && header !== undefined) bad("header", header, "unset when ringHash.key is given");
  if (key !== undefined && typeof key !== "function") bad("key", key, "a function of the request");
  if (header !== undefined && (typeof header !== "string" || header === "")) bad("header", header, "a header name");
  const replicas = o.replicas ?? RING_HASH_REPLICAS;
  if (!Number.isInteger(replicas) || replicas < 1 || replicas > 10_000) bad("replicas", replicas, "an integer in [1, 10000]");
  const loadFactor = o.loadFactor ?? RING_HASH_LOAD_FACTOR;
  if (typeof loadFactor !== "number" || !(loadFactor > 1)) bad("loadFactor", loadFactor, "a number > 1");
  const rnd = o.random ?? Math.random;
  const name = header?.toLowerCase();
  const keyOf = key ?? ((r: PickRequest) => headerValue(r.header, name!));
  /** Ring points of each address, kept while the address is in the snapshots. */
  let points = new Map<string, Uint32Array>();
  return {
    name: "ring_hash",
    build<T>(nodes: readonly PickerNode<T>[]): Picker<T> {
      const list = nodes.slice();
      const n = list.length;
      const next = new Map<string, Uint32Array>();
      let size = 0;
      for (const node of list) {
        let p = points.get(node.key);
        if (p === undefined) {
          p = new Uint32Array(replicas);
          for (let i = 0; i < replicas; i++) p[i] = hash32(`${node.key}#${i}`);
        }
        next.set(node.key, p);
        size += p.length;
      }
      points = next;
      // The ring: point hashes sorted, each with its node's index (ties broken by index, so every client agrees).
      const entries: [number, number][] = [];
      list.forEach((node, i) => {
        for (const h of next.get(node.key)!) entries.push([h, i]);
      });
      entries.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
      const hashes = new Uint32Array(size);
      const owner = new Uint32Array(size);
      entries.forEach(([h, i], x) => {
        hashes[x] = h;
        owner[x] = i;
      });
      const members = new Set<PickerNode<T>>(list);
      let total = 0;
      for (const node of list) total += node.stats.inflight - 1;
      const take = (node: PickerNode<T>): PickerNode<T> => {
        node.stats.inflight++;
        total++;
        return node;
      };
      const put = (node: PickerNode<T>): void => {
        node.stats.inflight--;
        if (members.has(node)) total--;
      };
      return {
        nodes: list,
        pick(request?: PickRequest) {
          if (n === 0) return undefined;
          const k = request === undefined ? undefined : keyOf(request);
          if (k === undefined) return take(list[Math.floor(rnd() * n)]!);
          const cap = Math.ceil((loadFactor * (total + 1)) / n);
          const avoid = request!.avoid;
          // First ring point at or after the key's hash, wrapping.
          const h = hash32(k);
          let lo = 0;
          let hi = size;
          while (lo < hi) {
            const mid = (lo + hi) >>> 1;
            if (hashes[mid]! < h) lo = mid + 1;
            else hi = mid;
          }
          // Common case first, without allocating: the key's own endpoint has room.
          const home = list[owner[lo % size]!]!;
          if (home.stats.inflight - 1 < cap && (avoid === undefined || !avoid.includes(home.value))) return take(home);
          let fallback: PickerNode<T> | undefined;
          const seen = new Uint8Array(n);
          for (let s = 0, distinct = 0; s < size && distinct < n; s++) {
            const i = owner[(lo + s) % size]!;
            if (seen[i] === 1) continue;
            seen[i] = 1;
            distinct++;
            const node = list[i]!;
            if (avoid !== undefined && avoid.includes(node.value)) continue;
            if (node.stats.inflight - 1 < cap) return take(node);
            fallback ??= node;
          }
          // Every endpoint not tried is full (or every one was tried): the first clockwise.
          return take(fallback ?? home);
        },
        done: put,
        release: put,
      };
    },
  };
}
