/**
 * Deterministic aperture subsetting, after Finagle's deterministic aperture
 * (https://twitter.github.io/finagle/guide/ApertureLoadBalancers.html): the
 * N clients of a service sit at equal distances on a unit ring (client `i`
 * at `i/N`), the M servers, sorted by member string, own equal slices of the
 * same ring (server `j` the slice `[j/M, (j+1)/M)`), and a client connects to
 * the servers whose slices its aperture `[i/N, i/N + width)` overlaps. The
 * width is the smallest whole number of client slices covering `size` server
 * slices, so every point of the ring is covered by the same number of
 * clients: connections per server differ by at most a couple, whatever N and
 * M, with no randomness. The price: clients must know their position
 * (`index` of `count`), and when the server list changes the slices shift,
 * so about one connection per client moves (measured in the tests beside
 * the Kratos ring and rendezvous hashing).
 *
 * All arithmetic is in integers (units of `1/(N·M)` of the ring).
 *
 * @module
 */

/** A client's position among its peers: `index` in `[0, count)`. */
export interface PeerPosition {
  readonly index: number;
  readonly count: number;
}

/**
 * The items of `items` (each identified by `member(item)`) in the aperture of
 * the client at `position`, in ring order: at least `size` of them when
 * there are more than `size` (one or two more where the aperture's edges cut
 * a server's slice). `size <= 0` or a list no longer than `size` returns
 * `items` unchanged. Duplicate members count once.
 */
export function apertureSubset<T>(position: PeerPosition, items: readonly T[], size: number, member: (item: T) => string): readonly T[] {
  if (size <= 0 || items.length <= size) return items;
  const byMember = new Map<string, T>();
  for (const item of items) {
    const m = member(item);
    if (!byMember.has(m)) byMember.set(m, item);
  }
  const ring = [...byMember.keys()].sort();
  const m = ring.length;
  if (m <= size) return [...byMember.values()];
  const n = position.count;
  const i = position.index;
  // The aperture covers `units` client slices: the fewest whose width (units/N) reaches size/M.
  const units = Math.min(n, Math.ceil((size * n) / m));
  const start = i * m;
  const end = start + units * m;
  // Server j's slice is [j·N, (j+1)·N); the first and last ones the aperture overlaps.
  const first = Math.floor(start / n);
  const last = Math.ceil(end / n) - 1;
  const k = Math.min(m, last - first + 1);
  const out: T[] = [];
  for (let x = 0; x < k; x++) out.push(byMember.get(ring[(first + x) % m]!)!);
  return out;
}

/**
 * The position of the instance `selfId` among `peerIds` (its own service's
 * instances, sorted by id; duplicates count once). When `selfId` is not
 * listed (not registered yet), the position it will have once it is:
 * its rank among the ids, of `count + 1`.
 */
export function peerPosition(peerIds: Iterable<string>, selfId: string): PeerPosition {
  const ids = new Set(peerIds);
  ids.add(selfId);
  const sorted = [...ids].sort();
  return { index: sorted.indexOf(selfId), count: sorted.length };
}
