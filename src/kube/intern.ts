/**
 * Interning for record projections: equal strings read from many objects
 * (namespaces, zones, node names, label values) become one string.
 *
 * @module
 */

/** Caps each interning table, so a churn of unusual values clears a table instead of growing it for ever. */
export const MAX_INTERNED = 10_000;

/** A string interner with its own table of at most {@link MAX_INTERNED} entries; `undefined` passes through. */
export function createStringInterner(): <T extends string | undefined>(s: T) => T {
  const strings = new Map<string, string>();
  return <T extends string | undefined>(s: T): T => {
    if (s === undefined) return s;
    const hit = strings.get(s);
    if (hit !== undefined) return hit as T;
    if (strings.size >= MAX_INTERNED) strings.clear();
    strings.set(s, s);
    return s;
  };
}
