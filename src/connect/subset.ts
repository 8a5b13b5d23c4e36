/**
 * Kratos-compatible deterministic subsetting: each client talks to at most
 * `size` instances, chosen by consistent hashing keyed by a per-client key, so
 * a large fleet is spread evenly without every client connecting to every
 * Pod. Byte-for-byte the same choice as go-kratos `internal/subset`
 * (`aegis/subset` in v2): 160 virtual nodes per instance at FNV-32a of
 * `<i><name>-<id>`, sorted; the client key's FNV-32a finds the first virtual
 * node strictly above it, and the ring is walked collecting distinct
 * instances.
 *
 * @module
 */

/** Virtual nodes per instance (go-kratos internal/subset: `for i := 0; i < 160; i++`). */
export const SUBSET_REPLICAS = 160;
/** Default subset size of a Go Kratos gRPC client (transport/grpc `subsetSize: 25`). */
export const DEFAULT_SUBSET_SIZE = 25;

const utf8 = new TextEncoder();

/** 32-bit FNV-1a of the UTF-8 bytes of `s` (Go `hash/fnv.New32a`). */
export function fnv32a(s: string): number {
  let h = 0x811c9dc5;
  for (const b of utf8.encode(s)) {
    h ^= b;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** The member string Kratos hashes for a service instance: `name-id`. */
export function subsetMemberKey(instance: { readonly name: string; readonly id: string }): string {
  return `${instance.name}-${instance.id}`;
}

/**
 * Returns the subset of `items` (each identified by `member(item)`, the
 * Kratos `String()` of the instance) for `selectKey`. `size <= 0` or a list
 * no longer than `size` returns `items` unchanged, as Kratos does. The result
 * is in ring order, like Go's.
 */
export function subset<T>(selectKey: string, items: readonly T[], size: number, member: (item: T) => string): readonly T[] {
  if (size <= 0 || items.length <= size) return items;
  const circle = new Map<number, T>();
  const members = new Set<string>();
  for (const item of items) {
    const m = member(item);
    if (members.has(m)) continue;
    members.add(m);
    // Later instances overwrite earlier ones on a hash collision, like Go's map assignment.
    for (let i = 0; i < SUBSET_REPLICAS; i++) circle.set(fnv32a(`${i}${m}`), item);
  }
  const hashes = Uint32Array.from(circle.keys()).sort();
  const n = Math.min(size, members.size);
  const key = fnv32a(selectKey);
  // sort.Search: the first hash strictly greater than the key, wrapping to 0.
  let lo = 0;
  let hi = hashes.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (hashes[mid]! > key) hi = mid;
    else lo = mid + 1;
  }
  const offset = lo >= hashes.length ? 0 : lo;
  const out: T[] = [];
  const seen = new Set<string>();
  for (let k = 0; k < hashes.length && out.length < n; k++) {
    const item = circle.get(hashes[(offset + k) % hashes.length]!)!;
    const m = member(item);
    if (seen.has(m)) continue;
    seen.add(m);
    out.push(item);
  }
  return out;
}
