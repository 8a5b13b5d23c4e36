/**
 * Heap measurement after a forced garbage collection, on every runtime:
 * Node and Deno through `--expose-gc` set at run time (node:v8 + node:vm),
 * Bun through `Bun.gc(true)`.
 */
import v8 from "node:v8";
import vm from "node:vm";

let gc: (() => void) | undefined;
const bun = (globalThis as { Bun?: { gc(force: boolean): void } }).Bun;
if (bun !== undefined) {
  gc = () => bun.gc(true);
} else {
  try {
    v8.setFlagsFromString("--expose-gc");
    const f = vm.runInNewContext("gc") as unknown;
    if (typeof f === "function") gc = f as () => void;
  } catch {
    gc = undefined;
  }
}

/** Whether {@link heapAfterGc} can force a collection here. */
export const canForceGc: boolean = gc !== undefined;

/** Used heap bytes after a full collection (twice, so finalizers' garbage goes too). */
export function heapAfterGc(): number {
  gc?.();
  gc?.();
  return process.memoryUsage().heapUsed;
}
