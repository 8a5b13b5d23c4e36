/**
 * Freezing the small arrays of cached records and discovered instances, where
 * it is cheap.
 *
 * On V8 (Node, Deno) a frozen array costs what the array costs. On
 * JavaScriptCore (Bun) freezing moves an array to its slow storage mode: a
 * one-element array grows from 48 to 208 bytes of heap. Every cached pod holds
 * one such array (its IPs) and every discovered instance another (its
 * endpoints), so on Bun they are left unfrozen: their types are read-only,
 * the objects holding them stay frozen, and nothing in kratos-kube writes to
 * them. Large arrays (index snapshots) are frozen everywhere.
 *
 * @module
 */
import { detectRuntime } from "./detect.ts";

/** Whether {@link freezeSmallArray} freezes on this runtime (false on Bun; see the module docs). */
export const FREEZES_SMALL_ARRAYS: boolean = detectRuntime() !== "bun";

/** `Object.freeze(array)`, except on Bun where a frozen array costs 160 extra bytes (see the module docs). */
export function freezeSmallArray<T>(array: T[]): readonly T[] {
  return FREEZES_SMALL_ARRAYS ? Object.freeze(array) : array;
}
