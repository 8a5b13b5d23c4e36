/**
 * Value comparisons of record parts, so a new version of an object can keep
 * the parts of the record it replaces that did not change.
 *
 * @module
 */

/** Same length, same items in order: `===`, or `same` when given (for items compared by value). */
export function sameItems<T>(a: readonly T[], b: readonly T[], same?: (x: T, y: T) => boolean): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i] && (same === undefined || !same(a[i]!, b[i]!))) return false;
  return true;
}

/** Same keys, same values (own enumerable string keys; nothing allocated). */
export function sameStringMap(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean {
  if (a === b) return true;
  let n = 0;
  for (const k in a) {
    if (a[k] !== b[k] || !Object.hasOwn(b, k)) return false;
    n++;
  }
  for (const k in b) if (Object.hasOwn(b, k)) n--;
  return n === 0;
}
