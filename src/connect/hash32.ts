/**
 * A fast 32-bit string hash for kratos-kube's own hashing policies
 * (rendezvous subsetting, ring hash): FNV-1a over the UTF-16 code units
 * (no encoding, no allocation) followed by MurmurHash3's `fmix32` finalizer,
 * which spreads strings that differ in one character (`pod-1`, `pod-2`) over
 * the whole range. Not the Kratos subset hash (that one is `fnv32a` in
 * `subset.ts`, byte-for-byte Go's), and not for security.
 *
 * @module
 */

/** MurmurHash3's 32-bit finalizer: a bijection of uint32 with full avalanche. */
export function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** 32-bit hash of `s` (FNV-1a over UTF-16 code units, then {@link fmix32}). */
export function hash32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return fmix32(h);
}
