/**
 * Rendezvous (highest random weight) subsetting: a client keeps the `size`
 * instances with the highest score `hash(clientKey, instance)`
 * (Thaler & Ravishankar, "Using name-based mappings to increase hit rates",
 * 1998). It needs no coordination between clients, only a stable client
 * key, and moves as little as possible when instances come and go: an
 * instance that joins takes the place of one connection in the clients
 * that rank it in their top `size` (about `size/M` of them), and one that
 * leaves is replaced by each client's next best instance; no other
 * connection moves. The spread over servers is random (binomial), so it is
 * even only on average; the deterministic aperture (`subset-aperture.ts`)
 * is exactly even when clients know their position among their peers.
 *
 * @module
 */
import { fmix32, hash32 } from "./hash32.ts";

/** The score of `member` for a client whose key hashes to `clientHash`. */
export function rendezvousScore(clientHash: number, member: string): number {
  // Two mixing rounds over both hashes: scores of one client are independent across members and vice versa.
  return fmix32(Math.imul(hash32(member) ^ clientHash, 0x9e3779b1) + clientHash);
}

/**
 * The `size` items of `items` (each identified by `member(item)`) with the
 * highest rendezvous score for `clientKey`, best first. `size <= 0` or a list
 * no longer than `size` returns `items` unchanged (as the Kratos subset).
 * Duplicate members count once.
 */
export function rendezvousSubset<T>(clientKey: string, items: readonly T[], size: number, member: (item: T) => string): readonly T[] {
  if (size <= 0 || items.length <= size) return items;
  const ch = hash32(clientKey);
  const scored: { item: T; m: string; s: number }[] = [];
  const seen = new Set<string>();
  for (const item of items) {
    const m = member(item);
    if (seen.has(m)) continue;
    seen.add(m);
    scored.push({ item, m, s: rendezvousScore(ch, m) });
  }
  scored.sort((a, b) => b.s - a.s || (a.m < b.m ? -1 : a.m > b.m ? 1 : 0));
  return scored.slice(0, size).map((x) => x.item);
}
